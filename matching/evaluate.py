"""Measure relevance methods on labelled sets: `python -m matching.evaluate [--set dev|heldout]`."""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from sklearn.decomposition import TruncatedSVD
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.preprocessing import normalize

from matching import similarity
from matching.similarity import DEFAULT_WEIGHTS, RelevanceModel, Weights

DATA_DIR = Path(__file__).resolve().parent.parent / "tests" / "data" / "relevance"
K = 5


@dataclass(frozen=True)
class LabelledSet:
    supporter_ids: list[str]
    supporter_texts: list[str]
    request_ids: list[str]
    request_texts: list[str]
    grades: list[dict[str, int]]


def load_set(name_or_path: str) -> LabelledSet:
    path = Path(name_or_path)
    if not path.exists():
        path = DATA_DIR / f"{name_or_path}.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    sups, reqs = data["supporters"], data["requests"]
    return LabelledSet(
        [s["id"] for s in sups],
        [s["text"] for s in sups],
        [r["id"] for r in reqs],
        [r["text"] for r in reqs],
        [{k: int(v) for k, v in r["relevant"].items()} for r in reqs],
    )


def ndcg_at_k(ranked: Sequence[str], grades: dict[str, int], k: int = K) -> float:
    """nDCG with gain 2^grade - 1 and a log2 discount; the ideal ranking uses every labelled supporter."""
    dcg = sum((2 ** grades.get(s, 0) - 1) / math.log2(i + 2) for i, s in enumerate(ranked[:k]))
    ideal = sorted(grades.values(), reverse=True)[:k]
    idcg = sum((2**g - 1) / math.log2(i + 2) for i, g in enumerate(ideal))
    return dcg / idcg if idcg > 0 else 0.0


def rank(scores: np.ndarray, supporter_ids: Sequence[str]) -> list[list[str]]:
    # stable sort: ties keep the register's order, as a person reading the list would see them
    order = np.argsort(-scores, axis=1, kind="stable")
    return [[supporter_ids[j] for j in row] for row in order]


def evaluate(scores: np.ndarray, data: LabelledSet) -> dict[str, float]:
    rankings = rank(scores, data.supporter_ids)
    ndcg = [ndcg_at_k(r, g) for r, g in zip(rankings, data.grades, strict=True)]
    p1 = [1.0 if g.get(r[0], 0) >= 2 else 0.0 for r, g in zip(rankings, data.grades, strict=True)]
    return {"ndcg@5": float(np.mean(ndcg)), "p@1": float(np.mean(p1)), "per_request": ndcg}


# --- methods -------------------------------------------------------------------------------------


def plain_tfidf(requests: Sequence[str], supporters: Sequence[str]) -> np.ndarray:
    """The baseline: scikit-learn's word TF-IDF with English stop words, cosine similarity."""
    vec = TfidfVectorizer(stop_words="english", sublinear_tf=True).fit(list(requests) + list(supporters))
    return (vec.transform(requests) @ vec.transform(supporters).T).toarray()


def meaning_only(requests: Sequence[str], supporters: Sequence[str]) -> np.ndarray:
    """The meaning block on its own: cosine of the texts' sentence embeddings (all-MiniLM-L6-v2), over every pair."""
    return np.clip(similarity.meaning_vectors(requests) @ similarity.meaning_vectors(supporters).T, 0, 1)


def ours(weights: Weights) -> Callable[[Sequence[str], Sequence[str]], np.ndarray]:
    def run(requests: Sequence[str], supporters: Sequence[str]) -> np.ndarray:
        return similarity.score(requests, supporters, weights=weights).toarray()

    return run


def with_lsa(
    weights: Weights, dims: int = 60, mix: float = 0.3
) -> Callable[[Sequence[str], Sequence[str]], np.ndarray]:
    """Our blocks plus latent semantic analysis over them, mixed in at `mix`."""

    def run(requests: Sequence[str], supporters: Sequence[str]) -> np.ndarray:
        model = RelevanceModel(weights).fit(list(requests) + list(supporters))
        req, sup = model.transform(requests), model.transform(supporters)
        import scipy.sparse as sp

        both = sp.vstack([req, sup])
        svd = TruncatedSVD(n_components=min(dims, both.shape[0] - 1), random_state=0).fit(both)
        lr, ls = normalize(svd.transform(req)), normalize(svd.transform(sup))
        raw = (1 - mix) * (req @ sup.T).toarray() + mix * np.clip(lr @ ls.T, 0, 1)
        return model.calibrate(raw)

    return run


W = DEFAULT_WEIGHTS
NO_MEANING = replace(W, meaning=0.0)
WORDS_NORMALISED = Weights(
    word=1, concept=0, char=0, bigrams=False, expand_acronyms=False, parents=False, meaning=0.0
)
METHODS: dict[str, Callable[[Sequence[str], Sequence[str]], np.ndarray]] = {
    "tfidf": plain_tfidf,
    "words_normalised": ours(WORDS_NORMALISED),
    "words+acronyms": ours(replace(WORDS_NORMALISED, expand_acronyms=True)),
    "words+acronyms+bigrams": ours(replace(WORDS_NORMALISED, expand_acronyms=True, bigrams=True)),
    "char_ngrams": ours(Weights(word=0, concept=0, char=1, meaning=0.0)),
    "concepts_only": ours(Weights(word=0, concept=1, char=0, meaning=0.0)),
    "meaning_only": meaning_only,
    "words+char": ours(replace(NO_MEANING, word=0.8, concept=0, char=0.2)),
    "words+concepts+char": ours(replace(NO_MEANING, word=0.64, concept=0.16, char=0.2)),
    "words+concepts, no meaning block": ours(NO_MEANING),
    "words+concepts+meaning (default)": ours(W),
    "default, no acronym expansion": ours(replace(W, expand_acronyms=False)),
    "default, no bigrams": ours(replace(W, bigrams=False)),
    "default, no related concepts": ours(replace(W, related=False)),
    "default, no parent or related concepts": ours(replace(W, parents=False, related=False)),
    "default+lsa": with_lsa(NO_MEANING),
}


def run_methods(data: LabelledSet, names: Sequence[str]) -> list[tuple[str, dict[str, float], float]]:
    rows = []
    for name in names:
        t0 = time.perf_counter()
        scores = METHODS[name](data.request_texts, data.supporter_texts)
        rows.append((name, evaluate(scores, data), time.perf_counter() - t0))
    return rows


def grid(data: LabelledSet) -> list[tuple[float, float, Weights]]:
    """Block weights tried on the development set; the best few are printed, never the held-out set."""
    results = []
    steps = [i / 20 for i in range(21)]
    for wc in steps:
        for wch in steps:
            ww = 1 - wc - wch
            if ww < -1e-9:
                continue
            weights = replace(W, word=max(ww, 0.0), concept=wc, char=wch)
            if weights.word + weights.concept + weights.char == 0:
                continue
            m = evaluate(ours(weights)(data.request_texts, data.supporter_texts), data)
            results.append((m["ndcg@5"], m["p@1"], weights))
    results.sort(key=lambda r: (-r[0], -r[1]))
    return results


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m matching.evaluate", description=__doc__)
    parser.add_argument(
        "--set",
        default="dev",
        help="dev, heldout, heldout2..4, a path to a labelled JSON set, or a comma list",
    )
    parser.add_argument("--method", action="append", choices=sorted(METHODS), help="repeat to pick several")
    parser.add_argument("--grid", action="store_true", help="search block weights on this set (dev only!)")
    parser.add_argument("--worst", type=int, default=0, help="also list the N worst requests of the default")
    parser.add_argument(
        "--float32", action="store_true", help="run the meaning block's encoder in float32 instead of int8"
    )
    args = parser.parse_args(argv)
    if args.float32:
        similarity.set_meaning_precision(int8=False)
    if "," in args.set:
        for name in args.set.split(","):
            main([*(a for a in (argv or sys.argv[1:]) if a not in (args.set, "--set")), "--set", name])
            print()
        return 0
    data = load_set(args.set)
    print(f"set {args.set}: {len(data.request_ids)} requests x {len(data.supporter_ids)} supporters")
    if args.grid:
        for ndcg, p1, w in grid(data)[:10]:
            print(
                f"ndcg@5 {ndcg:.3f} p@1 {p1:.3f} word {w.word:.2f} concept {w.concept:.2f} char {w.char:.2f}"
            )
        return 0
    names = args.method or list(METHODS)
    print(f"{'method':36s} {'nDCG@5':>7s} {'P@1':>6s} {'time s':>7s}")
    for name, m, secs in run_methods(data, names):
        print(f"{name:36s} {m['ndcg@5']:7.3f} {m['p@1']:6.3f} {secs:7.3f}")
    if args.worst:
        m = evaluate(ours(W)(data.request_texts, data.supporter_texts), data)
        scores = ours(W)(data.request_texts, data.supporter_texts)
        rankings = rank(scores, data.supporter_ids)
        worst = np.argsort(m["per_request"])[: args.worst]
        for i in worst:
            top = ", ".join(f"{s}:{data.grades[i].get(s, 0)}" for s in rankings[i][:5])
            print(f"{m['per_request'][i]:.2f} {data.request_ids[i]} {data.request_texts[i][:70]!r} -> {top}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
