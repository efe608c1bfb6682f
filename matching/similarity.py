"""Relevance of supporters' expertise to schools' requests: thesaurus-aware TF-IDF, sparse and chunked,
with pairs that share words or topics re-weighed by the meaning of the whole text (sentence embeddings)."""

from __future__ import annotations

import json
import math
import re
import threading
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, TfidfVectorizer

__all__ = ["Weights", "RelevanceModel", "Thesaurus", "load_thesaurus", "normalise", "score", "explain"]


def _word_set(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Words every request or every supporter uses: matching on them says nothing about fit.
_DOMAIN_STOP = _word_set(
    "pupil student child children school staff teacher need needs support lead leader leads led work "
    "working use using new poor weak low lack lacks struggle many few only well help want improve "
    "improving develop developing development year years ha wa doe don dont cant isnt arent werent "
    "havent doesnt didnt wont ve ll rate result results outcome outcomes including across our "
    "specialist expert experience trust primary secondary high very good strong skill skills training "
    "trainer programme "
)
_STOP = frozenset(ENGLISH_STOP_WORDS) | _DOMAIN_STOP

# Acronyms that are also ordinary English words: they only count when written in capitals.
_CASE_SENSITIVE = (
    "SEND",
    "ARE",
    "RE",
    "PA",
    "AP",
    "PE",
    "CL",
    "TA",
    "TAS",
    "SALT",
    "PACE",
    "DT",
    "IT",
    "CIN",
    "PAN",
    "NOR",
)

_CASE_LOWER_RE = re.compile(r"\b(?:" + "|".join(w.lower() for w in _CASE_SENSITIVE) + r")\b")
_CASE_UPPER_RE = re.compile(r"\b(?:" + "|".join(_CASE_SENSITIVE) + r")\b")

_US_TO_UK = {
    "behavior": "behaviour",
    "behaviors": "behaviours",
    "behavioral": "behavioural",
    "center": "centre",
    "counseling": "counselling",
    "counselor": "counsellor",
    "color": "colour",
    "program": "programme",
    "programs": "programmes",
    "math": "maths",
    "practise": "practice",
    "practising": "practicing",
    "enrollment": "enrolment",
    "modeling": "modelling",
    "judgment": "judgement",
    "labeled": "labelled",
}

_TOKEN_RE = re.compile(r"[a-z0-9]+")
_YEAR_RE = re.compile(
    r"\b(?:years?|yrs?|y)\s*(\d{1,2})s?(?:\s*(?:-|to|/|and|&)\s*(?:years?|yrs?|y)?\s*(\d{1,2})s?)?\b"
)
_KS_RE = re.compile(r"\b(?:ks|key\s*stage)\s*([1-5])\b")
_NUMBER_WORDS = {"one": "1", "two": "2", "three": "3", "four": "4", "five": "5", "six": "6"}


def normalise(text: str, *, thesaurus_term: bool = False) -> str:
    """Lower-case text with school shorthand unified: Y1 -> year1, Key Stage 2 -> ks2, US -> UK spelling."""
    if not text:
        return ""
    text = text.replace("’", "'").replace("‘", "'")
    if not thesaurus_term:  # thesaurus data is lower case throughout, and its "pe" means PE
        text = _CASE_LOWER_RE.sub(" ", text)
        text = _CASE_UPPER_RE.sub(lambda m: m[0].lower(), text)
    text = text.lower()
    text = re.sub(r"(\w)'s\b", r"\1", text)
    text = text.replace("'", "")
    text = text.replace("&", " and ").replace("+", " plus ")
    text = re.sub(
        r"\b(year|key stage) (one|two|three|four|five|six)\b", lambda m: f"{m[1]} {_NUMBER_WORDS[m[2]]}", text
    )

    def years(m: re.Match[str]) -> str:
        a, b = int(m[1]), int(m[2]) if m[2] else None
        if b is None:
            return f" year{a} "
        if b > a and b - a <= 6:
            return " " + " ".join(f"year{y}" for y in range(a, b + 1)) + " "
        return f" year{a} year{b} "

    text = _YEAR_RE.sub(years, text)
    text = _KS_RE.sub(lambda m: f" ks{m[1]} ", text)
    text = re.sub(r"\b(\d)\s*-\s*year\s*-?\s*olds?\b", r"\1 year olds", text)
    tokens = _TOKEN_RE.findall(text.replace("-", " "))
    return " ".join(_US_TO_UK.get(t, t) for t in tokens)


# Words the suffix rules would wrongly join: "programming" (computing) is not "programme" (any scheme),
# "themes" is not "them", "languages" (MFL) is not "language" (speech and language, EAL), "SATs" is
# not "sat", "places" is not PLAC, and "sends" is not SEND.
_STEM_EXCEPTIONS = {
    "programming": "programming",
    "programmer": "programmer",
    "programmers": "programmer",
    "theme": "theme",
    "themes": "theme",
    "themed": "theme",
    "languages": "languages",
    "sats": "sats",  # SATs are tests; "sat next to" is not
    # "places" would otherwise stem to "plac", the acronym for previously looked-after children
    "place": "place",
    "places": "place",
    "placed": "place",
    "placing": "place",
    "pointing": "pointing",  # a child pointing instead of talking, not a test's points
    "paces": "paces",  # "put us through our paces" is not PACE
    "sends": "sends",  # a parent who "sends complaints" is not SEND
    "sending": "sending",
}


@lru_cache(maxsize=65536)
def stem(token: str) -> str:
    """A light English stemmer: enough to join plurals and verb forms (blending/blend, mentors/mentoring)."""
    t = token
    if len(t) <= 3 or not t.isalpha():
        return t
    if t in _STEM_EXCEPTIONS:
        return _STEM_EXCEPTIONS[t]
    if t.endswith("ies") and len(t) > 4:
        t = t[:-3] + "y"
    elif t.endswith("sses"):
        t = t[:-2]
    elif t.endswith("s") and not t.endswith(("ss", "us", "is")):
        t = t[:-1]
    if t.endswith("ing") and len(t) > 5:
        t = t[:-3]
    elif t.endswith("ed") and len(t) > 4:
        t = t[:-2]
    if t.endswith("ation") and len(t) > 7:
        t = t[:-3]
    elif t.endswith("ator") and len(t) > 6:
        t = t[:-2]
    if t.endswith("e") and len(t) > 4:
        t = t[:-1]
    if len(t) > 3 and t[-1] == t[-2] and t[-1] not in "lsz":
        t = t[:-1]
    return t


# Words inside acronym expansions that would tie unrelated acronyms together (PSC and MTC both "check",
# EHCP and RSHE both "health"); the acronym's concept carries its meaning instead.
_EXPANSION_STOP = frozenset(
    stem(w)
    for w in _word_set(
        "check level plan care education health national professional qualification team services "
        "standard review framework related leader specialist centre excellence teaching additional"
    )
)


@dataclass(frozen=True)
class Concept:
    key: str
    label: str
    parents: tuple[str, ...] = ()
    related: tuple[str, ...] = ()


@dataclass
class Thesaurus:
    """Acronym expansions and concept groups, with terms held as tuples of stems for phrase matching."""

    acronyms: dict[str, tuple[str, ...]]
    concepts: dict[str, Concept]
    display: dict[str, str] = field(default_factory=dict)  # how a token is written for a reader: RWInc
    # term stems -> [(concept key, surface term, weak)], and for each first stem the term lengths that start with it.
    # A weak term ("coaching", "impact", "mentoring") hints at a concept without naming it: it gives only the
    # concept's "broad:" token, so it links texts more weakly than a specific term ("instructional coaching").
    terms: dict[tuple[str, ...], list[tuple[str, str, bool]]] = field(default_factory=dict)
    lengths: dict[str, tuple[int, ...]] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: dict) -> Thesaurus:
        acronyms = {
            k.lower(): tuple(stem(t) for t in normalise(v, thesaurus_term=True).split())
            for k, v in data.get("acronyms", {}).items()
        }
        concepts: dict[str, Concept] = {}
        terms: dict[tuple[str, ...], list[tuple[str, str, bool]]] = {}
        lengths: dict[str, set[int]] = {}
        for key, spec in data.get("concepts", {}).items():
            concepts[key] = Concept(
                key,
                spec.get("label", key.replace("_", " ")),
                tuple(spec.get("parents", ())),
                tuple(spec.get("related", ())),
            )
            weak_terms = spec.get("weak", ())
            for term, weak in [*((t, False) for t in spec.get("terms", ())), *((t, True) for t in weak_terms)]:
                stems = tuple(stem(t) for t in normalise(term, thesaurus_term=True).split())
                if not stems:
                    continue
                entries = terms.setdefault(stems, [])
                if all(k != key for k, _, _ in entries):
                    entries.append((key, term, weak))
                lengths.setdefault(stems[0], set()).add(len(stems))
        lengths_by_stem = {s: tuple(sorted(ls)) for s, ls in lengths.items()}
        return cls(acronyms, concepts, dict(data.get("display", {})), terms, lengths_by_stem)

    def match(self, stems: Sequence[str]) -> list[tuple[str, int, int, str, bool]]:
        """(concept, start, end, term, weak) for every thesaurus term found in a stemmed token sequence."""
        found = []
        n = len(stems)
        for i, s in enumerate(stems):
            for length in self.lengths.get(s, ()):
                if i + length > n:
                    break
                for key, surface, weak in self.terms.get(tuple(stems[i : i + length]), ()):
                    found.append((key, i, i + length, surface, weak))
        return found


@lru_cache(maxsize=4)
def load_thesaurus(name: str = "thesaurus.json") -> Thesaurus:
    """The thesaurus shipped in matching/data, parsed once per process."""
    raw = resources.files("matching").joinpath("data", name).read_text(encoding="utf-8")
    return Thesaurus.from_dict(json.loads(raw))


@dataclass
class Analysed:
    """One text broken into what the vectorisers need, plus surface forms for explanations."""

    words: list[str]  # stems of content words, with acronym expansions appended
    concepts: list[str]  # concept keys (parents repeated with lower weight via 'broad:' prefix)
    char_text: str
    surface: dict[str, str]  # stem -> first surface word seen
    concept_terms: dict[str, list[str]]  # concept key -> surface terms that triggered it
    weak_terms: dict[str, list[str]] = field(default_factory=dict)  # the same, for concepts only hinted at


def analyse(
    text: str,
    thesaurus: Thesaurus,
    *,
    expand_acronyms: bool = True,
    parents: bool = True,
    related: bool = True,
) -> Analysed:
    norm = normalise(text)
    tokens = norm.split()
    stems = [stem(t) for t in tokens]
    surface: dict[str, str] = {}
    words: list[str] = []
    for tok, st in zip(tokens, stems, strict=True):
        if st in _STOP or tok in _STOP or tok.isdigit() or len(tok) < 2:
            continue
        surface.setdefault(st, tok)
        words.append(st)
        if expand_acronyms and tok in thesaurus.acronyms:
            for w in thesaurus.acronyms[tok]:
                if w not in _STOP and w not in _EXPANSION_STOP and w not in words:
                    words.append(w)
                    surface.setdefault(w, tok)
    concepts: list[str] = []
    concept_terms: dict[str, list[str]] = {}
    weak_terms: dict[str, list[str]] = {}
    matches = thesaurus.match(stems)
    phrases = [(k, a, b) for k, a, b, _, _ in matches if b - a > 1]  # only these can contain another match
    for key, i, j, _term, weak in matches:
        # longest match wins: "statutory assessment" is SEND, not also "assessment and data"
        if phrases and any(k != key and a <= i and j <= b and b - a > j - i for k, a, b in phrases):
            continue
        phrase = " ".join(tokens[i:j])
        terms = (weak_terms if weak else concept_terms).setdefault(key, [])
        if phrase not in terms:
            terms.append(phrase)
            if not weak:
                concepts.append(key)
    for key in [k for k in weak_terms if k in concept_terms]:  # named as well as hinted: the hint adds nothing
        del weak_terms[key]
    if parents:
        # Every concept also emits a "broad:" token for itself and its parents, so "online safety" on one side
        # meets "safeguarding" on the other through broad:safeguarding, more weakly than an exact concept.
        for key in list(dict.fromkeys(concepts)):
            concept = thesaurus.concepts[key]
            for broad in (key, *concept.parents, *(concept.related if related else ())):
                token = "broad:" + broad
                if token not in concepts:
                    concepts.append(token)
        for key in weak_terms:  # a hint reaches the concept and its parents, not its related topics
            for broad in (key, *thesaurus.concepts[key].parents):
                token = "broad:" + broad
                if token not in concepts:
                    concepts.append(token)
    char_text = " ".join(tokens)
    return Analysed(words, concepts, char_text, surface, concept_terms, weak_terms)


@dataclass(frozen=True)
class Weights:
    """Share of each block in the final score; they are normalised to sum to 1."""

    # Words 0.8, concepts 0.2 (0.45 and 0.55 until the eighth session). The old split was chosen on dev,
    # whose vocabulary the thesaurus already knew; on sets scored with the thesaurus of the day they were
    # written (before anyone read them), a concept fired by an incidental word ("governors asking", "Y10",
    # "can't afford") pulled in the wrong person, and 0.75-0.85 words did best: mean nDCG@5 over fourteen
    # such sets 0.849 -> 0.868, while the read sets stayed level (0.914 -> 0.915). docs/relevance.md.
    word: float = 0.8
    concept: float = 0.2
    # Character 3-5-grams add 0.003 nDCG@5 on dev (within noise: the stemmer already joins word forms)
    # but make every pair of texts overlap, which turns the national-scale sparse product dense.
    char: float = 0.0
    # Stem bigrams: switched off in the fourth session after three blind sets (heldout11-13) scored
    # +0.015, +0.003 and +0.017 nDCG@5 without them, then back on when the next blind set (heldout14)
    # scored 0.010 lower without them: a wash, and without them the region run has 20% more eligible
    # pairs (842,884 against 701,321).
    bigrams: bool = True
    expand_acronyms: bool = True
    parents: bool = True
    related: bool = True
    calibrate: bool = True
    # Share of the meaning block: the cosine of the two texts' sentence embeddings (all-MiniLM-L6-v2,
    # shipped in a wheel and loaded offline), counted above `meaning_floor`, mixed into pairs that
    # already share words or topics. It never creates a pair, so every match still has a `why`, and
    # the sparse pattern of national-sized runs does not change. The share (0.45 in the seventh session,
    # 0.3 in the eighth, with the word/concept split above, and 0.45 again since the tenth, when the model
    # was tuned on the labelled sets: matching/tune.py) and the floor of 0 were chosen on sets scored with
    # the thesaurus of the day they were written (docs/relevance.md).
    meaning: float = 0.45
    meaning_floor: float = 0.0

    def shares(self) -> tuple[float, float, float]:
        total = self.word + self.concept + self.char
        if total <= 0:
            raise ValueError("at least one block weight must be positive")
        return self.word / total, self.concept / total, self.char / total


DEFAULT_WEIGHTS = Weights()
PLAIN_TFIDF = Weights(
    word=1.0, concept=0.0, char=0.0, bigrams=False, expand_acronyms=False, parents=False, meaning=0.0
)


# The encoder's weight products run in int8 (matching.encoder); `set_meaning_precision(int8=False)` gives
# the float32 graph instead, for measuring what int8 changes (`python -m matching.evaluate --float32`).
_MEANING_INT8 = True


def _load_encoder() -> Any:
    """The meaning block's encoder (matching.encoder), with the shipped tuning."""
    from matching import encoder  # noqa: PLC0415 - only a scoring run pays for the runtime and the model

    return encoder.load(int8=_MEANING_INT8)


class _Loading:
    """The model being loaded by a background thread; `result()` waits for it, or raises what it raised."""

    def __init__(self) -> None:
        self._done = threading.Event()
        self._value: Any = None
        self._error: BaseException | None = None
        threading.Thread(target=self._run, daemon=True, name="meaning-model").start()

    def _run(self) -> None:
        try:
            self._value = _load_encoder()
        except BaseException as e:  # noqa: BLE001 - handed to whoever waits for the model
            self._error = e
        finally:
            self._done.set()

    def result(self) -> Any:
        self._done.wait()
        if self._error is not None:
            raise self._error
        assert self._value is not None
        return self._value


_ENCODER: _Loading | None = None
_ENCODER_LOCK = threading.Lock()


def start_loading_meaning_model() -> None:
    """Begin loading the model in the background (about 0.5 s), so it overlaps the word work."""
    global _ENCODER  # noqa: PLW0603 - one model per process
    with _ENCODER_LOCK:
        if _ENCODER is None:
            _ENCODER = _Loading()


def forget_meaning_model() -> None:
    """Drop the loaded model (tests that load it under other conditions)."""
    global _ENCODER  # noqa: PLW0603
    with _ENCODER_LOCK:
        _ENCODER = None


def _meaning_model() -> Any:
    start_loading_meaning_model()
    assert _ENCODER is not None
    return _ENCODER.result()


MEANING_DIM = 384
# Meaning vectors are rounded to multiples of 2^-12, so every product of two components is a multiple
# of 2^-24 and a 384-term dot product is exact in float64 whatever order BLAS adds it in: a pair then
# scores the same in any chunk or block. The rounding moves a cosine by less than 0.001.
_MEANING_STEP = 2.0**-12
# Vectors already worked out in this process, by text: `solve --rank-top` and a run after a run of the
# same register do not embed a text twice. It lives only as long as the process, is never written
# anywhere, and keeps at most this many texts (about 3 KB each), newest last.
_MEANING_CACHE: OrderedDict[str, np.ndarray] = OrderedDict()
_MEANING_CACHE_TEXTS = 20_000


def clear_meaning_cache() -> None:
    _MEANING_CACHE.clear()


def set_meaning_precision(*, int8: bool) -> None:
    """Run the meaning block's encoder in int8 (the default) or float32 from now on in this process.
    Asking for the precision already in use keeps the loaded model and the vectors worked out."""
    global _MEANING_INT8  # noqa: PLW0603 - one model per process
    if int8 == _MEANING_INT8:
        return
    _MEANING_INT8 = int8
    forget_meaning_model()
    clear_meaning_cache()


def meaning_vectors(texts: Sequence[str]) -> np.ndarray:
    """Unit-length embeddings (float64, rounded as above), one row per text; each distinct text once."""
    # a blank text has no meaning: it gets the zero vector
    distinct = [t for t in dict.fromkeys(t or "" for t in texts) if t.strip()]
    vectors = np.zeros((len(distinct) + 1, MEANING_DIM), dtype=np.float64)
    todo = []
    for i, text in enumerate(distinct):
        known = _MEANING_CACHE.get(text)
        if known is None:
            todo.append(i)
        else:
            vectors[i + 1] = known
            _MEANING_CACHE.move_to_end(text)
    if todo:
        # each text is embedded alone (matching.encoder), so its vector never depends on the run's other texts
        embedded = _meaning_model().encode([distinct[i] for i in todo])
        vectors[np.asarray(todo) + 1] = np.round(embedded.astype(np.float64) / _MEANING_STEP) * _MEANING_STEP
        for i in todo[:_MEANING_CACHE_TEXTS]:
            _MEANING_CACHE[distinct[i]] = vectors[i + 1].copy()
        while len(_MEANING_CACHE) > _MEANING_CACHE_TEXTS:
            _MEANING_CACHE.popitem(last=False)
    where = {t: i + 1 for i, t in enumerate(distinct)}
    return vectors[[where.get(t or "", 0) for t in texts]]


def _identity(tokens: list[str]) -> list[str]:
    return tokens


def _with_bigrams(stems: list[str]) -> list[str]:
    return stems + [f"{a} {b}" for a, b in zip(stems, stems[1:], strict=False)]


class RelevanceModel:
    """Fit on the texts of one run, then give blocks of weighted, L2-normalised sparse vectors."""

    def __init__(self, weights: Weights = DEFAULT_WEIGHTS, thesaurus: Thesaurus | None = None):
        self.weights = weights
        self.thesaurus = thesaurus or load_thesaurus()
        self._word: TfidfVectorizer | None = None
        self._concept: TfidfVectorizer | None = None
        self._char: TfidfVectorizer | None = None

    def analyse(self, texts: Iterable[str]) -> list[Analysed]:
        """Each distinct text is analysed once (registers repeat phrases; the results are read-only)."""
        w = self.weights
        seen: dict[str, Analysed] = {}
        out = []
        for t in texts:
            key = t or ""
            done = seen.get(key)
            if done is None:
                done = seen[key] = analyse(
                    key,
                    self.thesaurus,
                    expand_acronyms=w.expand_acronyms,
                    parents=w.parents,
                    related=w.related,
                )
            out.append(done)
        return out

    def _word_tokens(self, a: Analysed) -> list[str]:
        return _with_bigrams(a.words) if self.weights.bigrams else a.words

    def fit(self, texts: Sequence[str] | Sequence[Analysed]) -> RelevanceModel:
        docs = self._as_docs(texts)
        word_share, concept_share, char_share = self.weights.shares()
        # token_pattern=None: the analyser is ours, so sklearn must not warn about an unused pattern
        common = {"analyzer": _identity, "lowercase": False, "sublinear_tf": True, "token_pattern": None}
        self._word = self._fit_or_none(
            word_share, TfidfVectorizer(**common), [self._word_tokens(d) for d in docs]
        )
        self._concept = self._fit_or_none(
            concept_share, TfidfVectorizer(**common), [d.concepts for d in docs]
        )
        self._char = self._fit_or_none(
            char_share,
            TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True, min_df=1),
            [d.char_text for d in docs],
        )
        return self

    def _as_docs(self, texts: Sequence[str] | Sequence[Analysed]) -> list[Analysed]:
        if texts and isinstance(texts[0], Analysed):
            return list(texts)  # type: ignore[arg-type]
        return self.analyse(texts)  # type: ignore[arg-type]

    @staticmethod
    def _fit_or_none(share: float, vec: TfidfVectorizer, data: list) -> TfidfVectorizer | None:
        if share <= 0:
            return None
        try:
            return vec.fit(data)
        except ValueError:  # empty vocabulary: every text was blank or stop words only
            return None

    def transform(self, texts: Sequence[str] | Sequence[Analysed]) -> sp.csr_matrix:
        """Rows whose dot products are the weighted sum of word, concept and character cosines."""
        docs = self._as_docs(texts)
        word_share, concept_share, char_share = self.weights.shares()
        blocks = []
        if self._word is not None:
            blocks.append(math.sqrt(word_share) * self._word.transform([self._word_tokens(d) for d in docs]))
        if self._concept is not None:
            blocks.append(math.sqrt(concept_share) * self._concept.transform([d.concepts for d in docs]))
        if self._char is not None:
            blocks.append(math.sqrt(char_share) * self._char.transform([d.char_text for d in docs]))
        if not blocks:
            return sp.csr_matrix((len(docs), 1), dtype=np.float64)
        return sp.hstack(blocks, format="csr", dtype=np.float64)

    def fit_transform_pair(
        self, requests: Sequence[str], supporters: Sequence[str]
    ) -> tuple[sp.csr_matrix, sp.csr_matrix]:
        """Fit on both sides together (each text analysed once) and return both sides' rows."""
        req_docs, sup_docs = self.analyse(requests), self.analyse(supporters)
        self.fit(req_docs + sup_docs)
        return self.transform(req_docs), self.transform(sup_docs)

    def meaning(self, texts: Sequence[str]) -> np.ndarray | None:
        """The meaning block's vectors, or None when its share is 0."""
        return meaning_vectors(texts) if self.weights.meaning > 0 else None

    def mix(self, lexical: np.ndarray, cosine: np.ndarray | None) -> np.ndarray:
        """Raw (uncalibrated) scores: the meaning block re-weighs pairs with a lexical score only."""
        if cosine is None:
            return lexical
        share, floor = self.weights.meaning, self.weights.meaning_floor
        meaning = np.clip((cosine - floor) / (1.0 - floor), 0.0, 1.0)
        return np.where(lexical > 0, (1.0 - share) * lexical + share * meaning, 0.0)

    def calibrate(self, raw: np.ndarray) -> np.ndarray:
        # Short texts give modest cosines even for a perfect match; a square root spreads them over
        # [0, 1] so the allocator's min_score reads naturally, without changing any ranking.
        return np.sqrt(np.clip(raw, 0.0, 1.0)) if self.weights.calibrate else np.clip(raw, 0.0, 1.0)


def _top_k_rows(block: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Row, column, value of each row's k largest positive entries (ties broken by lower column)."""
    n_rows, n_cols = block.shape
    k = min(k, n_cols)
    if k < n_cols:
        part = np.argpartition(-block, k - 1, axis=1)[:, :k]
    else:
        part = np.broadcast_to(np.arange(n_cols), (n_rows, n_cols))
    vals = np.take_along_axis(block, part, axis=1)
    rows = np.repeat(np.arange(n_rows), part.shape[1])
    cols = part.ravel()
    vals = vals.ravel()
    keep = vals > 0
    return rows[keep], cols[keep], vals[keep]


def score(
    request_texts: Sequence[str],
    supporter_texts: Sequence[str],
    *,
    top_k: int | None = None,
    weights: Weights = DEFAULT_WEIGHTS,
    chunk_rows: int | None = None,
) -> sp.csr_matrix:
    """(n_requests x n_supporters) relevance in [0,1]; with top_k only each request's top_k are kept.

    Works in chunks of requests, so 60,000 x 50,000 never builds a dense matrix.
    """
    n_req, n_sup = len(request_texts), len(supporter_texts)
    if n_req == 0 or n_sup == 0:
        return sp.csr_matrix((n_req, n_sup), dtype=np.float64)
    if weights.meaning > 0:
        start_loading_meaning_model()  # while the words are analysed
    model = RelevanceModel(weights)
    req, sup = model.fit_transform_pair(request_texts, supporter_texts)
    req_m, sup_m = model.meaning(request_texts), model.meaning(supporter_texts)
    r, c, v = _product(model, (req, req_m), (sup, sup_m), top_k, chunk_rows)
    result = sp.csr_matrix((v, (r, c)), shape=(n_req, n_sup), dtype=np.float64)
    result.sort_indices()
    return result


def score_blocks(
    request_texts: Sequence[str],
    supporter_texts: Sequence[str],
    blocks: Iterable[tuple[np.ndarray, np.ndarray]],
    *,
    top_k: int | None = None,
    weights: Weights = DEFAULT_WEIGHTS,
) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
    """`score` restricted to blocks of (request indices, supporter indices), for national-sized runs.

    Every text is analysed once and the TF-IDF blocks are fitted once on all of them, exactly as
    `score` does, so a pair scores the same whichever block it falls in; only the products are done
    block by block. Yields (requests, supporters, row, col, value) with row and col local to the block.
    """
    if weights.meaning > 0:
        start_loading_meaning_model()  # while the words are analysed
    model = RelevanceModel(weights)
    req, sup = model.fit_transform_pair(request_texts, supporter_texts)
    req_m, sup_m = model.meaning(request_texts), model.meaning(supporter_texts)
    for reqs, sups in blocks:
        if len(reqs) == 0 or len(sups) == 0:
            continue
        k = top_k if top_k is not None and top_k < len(sups) else None
        r, c, v = _product(
            model,
            (req[reqs], None if req_m is None else req_m[reqs]),
            (sup[sups], None if sup_m is None else sup_m[sups]),
            k,
            None,
        )
        yield reqs, sups, r, c, v


def _product(model: RelevanceModel, requests, supporters, top_k, chunk_rows):
    """Calibrated scores of request x supporter rows, in chunks of requests; with top_k, each row's best.

    `requests` and `supporters` are (sparse TF-IDF rows, meaning vectors or None)."""
    (req, req_m), (sup, sup_m) = requests, supporters
    n_req, n_sup = req.shape[0], sup.shape[0]
    sup_t = sup.T.tocsc()
    sup_m_t = None if sup_m is None or req_m is None else np.ascontiguousarray(sup_m.T)
    # Rows per chunk so a dense chunk of scores stays near 64 MB whatever the number of supporters.
    rows = chunk_rows or max(1, min(n_req, 8_000_000 // max(n_sup, 1)))
    out_rows, out_cols, out_vals = [], [], []
    for start in range(0, n_req, rows):
        block = (req[start : start + rows] @ sup_t).toarray()
        if sup_m_t is not None:
            block = model.mix(block, req_m[start : start + rows] @ sup_m_t)
        if top_k is not None:
            r, c, v = _top_k_rows(block, top_k)
        else:
            r, c = np.nonzero(block > 0)
            v = block[r, c]
        # calibrating is monotone, so it is applied to the kept entries only (cheaper than the block)
        out_rows.append(r + start)
        out_cols.append(c)
        out_vals.append(model.calibrate(v))
    if not out_rows:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)
    return np.concatenate(out_rows), np.concatenate(out_cols), np.concatenate(out_vals)


def _display(phrase: str, thesaurus: Thesaurus) -> str:
    """A normalised phrase as a headteacher writes it: PSC, KS2, Year 1."""
    out = []
    for tok in phrase.split():
        if tok in thesaurus.display:
            out.append(thesaurus.display[tok])
        elif m := re.fullmatch(r"year(\d{1,2})", tok):
            out.append(f"Year {m[1]}")
        elif re.fullmatch(r"ks\d", tok) or tok in thesaurus.acronyms:
            out.append(tok.upper())
        else:
            out.append(tok)
    return " ".join(out)


def _outermost(terms: list[str]) -> list[str]:
    # "multiplication" adds nothing next to "multiplication tables check"
    return [t for t in terms if not any(t != o and f" {t} " in f" {o} " for o in terms)]


def _readable_concept(label: str, req_terms: list[str], sup_terms: list[str], thesaurus: Thesaurus) -> str:
    req_terms, sup_terms = _outermost(req_terms), _outermost(sup_terms)
    shared = [t for t in req_terms if t in sup_terms]
    req_only = [t for t in req_terms if t not in shared][:2]
    sup_only = [t for t in sup_terms if t not in shared][:2]
    parts = []
    if shared:
        parts.append(", ".join(_display(t, thesaurus) for t in shared[:2]))
    if req_only and sup_only:
        left = ", ".join(_display(t, thesaurus) for t in req_only)
        right = ", ".join(_display(t, thesaurus) for t in sup_only)
        parts.append(f"{left} ~ {right}")
    detail = "; ".join(parts)
    return f"{label}: {detail}" if detail and detail.lower() != label.lower() else label


def _links(key: str, weak: bool, thesaurus: Thesaurus) -> set[str]:
    """Concepts whose "broad:" tokens a match emits: a hint reaches its parents, a named concept also related ones."""
    concept = thesaurus.concepts[key]
    return {key, *concept.parents} if weak else {key, *concept.parents, *concept.related}


@lru_cache(maxsize=16384)
def _analysed(text: str) -> Analysed:
    """`analyse` with the shipped thesaurus, once per distinct text: a national answer explains 45,000
    allocations, and one supporter's expertise or one templated need comes up in many of them."""
    return analyse(text, load_thesaurus())


def explain(request_text: str, supporter_text: str, limit: int = 5) -> list[str]:
    """Human-readable terms/topics that made the match (for the `why` field)."""
    if limit <= 0:
        return []
    thesaurus = load_thesaurus()
    req = _analysed(request_text or "")
    sup = _analysed(supporter_text or "")
    items: list[tuple[float, str]] = []
    covered: set[str] = set()
    req_all = {**req.weak_terms, **req.concept_terms}  # a concept is in one or the other, never both
    sup_all = {**sup.weak_terms, **sup.concept_terms}
    for key, req_terms in req_all.items():
        sup_terms = sup_all.get(key)
        if not sup_terms:
            continue
        label = thesaurus.concepts[key].label
        # specific concepts (fewer trigger terms) explain more than broad ones such as "English",
        # and a concept named on both sides more than one only hinted at ("coaching")
        exact = key in req.concept_terms and key in sup.concept_terms
        weight = 2.0 + len(req_terms) + len(sup_terms) if exact else 1.5
        items.append((weight, _readable_concept(label, req_terms, sup_terms, thesaurus)))
        covered.update(stem(w) for t in req_terms + sup_terms for w in t.split())
    # Topics linked only through a broader or related concept: say which two they are.
    shared = set(req_all) & set(sup_all)
    req_links = {k: _links(k, k in req.weak_terms, thesaurus) for k in req_all}
    sup_links = {k: _links(k, k in sup.weak_terms, thesaurus) for k in sup_all}
    distant: list[str] = []
    for a, a_links in req_links.items():
        for b, b_links in sup_links.items():
            if a in shared or b in shared or not a_links & b_links:
                continue
            siblings = set(thesaurus.concepts[a].parents) & set(thesaurus.concepts[b].parents)
            if not (b in a_links or a in b_links or siblings):
                # two hops apart: true for the score but weak for a reader, so only a last resort
                distant.append(f"{thesaurus.concepts[a].label} ~ {thesaurus.concepts[b].label}")
                continue
            label_a, label_b = thesaurus.concepts[a].label, thesaurus.concepts[b].label
            items.append((1.0, label_a if a == b else f"{label_a} ~ {label_b}"))
    sup_words = set(sup.words)
    for st in dict.fromkeys(req.words):
        # an acronym's expansion ("PSC" -> phonics) is already told by the concept it triggered
        if (
            st in sup_words
            and st not in covered
            and st in req.surface
            and stem(req.surface[st]) not in covered
        ):
            items.append((0.5 + len(st) / 100, _display(req.surface[st], thesaurus)))
            covered.add(st)
    if not items:
        items = [(0.1, text) for text in distant]
    items.sort(key=lambda x: -x[0])
    seen: list[str] = []
    for _, text in items:
        if text not in seen:
            seen.append(text)
    return seen[:limit]
