"""Placeholder relevance: word TF-IDF cosine, chunked sparse top-k (the relevance branch replaces it)."""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, TfidfVectorizer

_CHUNK_CELLS = 4_000_000
_WORD = re.compile(r"[a-z][a-z0-9\-]+")


def score(
    request_texts: Sequence[str], supporter_texts: Sequence[str], *, top_k: int | None = None
) -> sp.csr_matrix:
    """(n_requests x n_supporters) relevance in [0,1]; with top_k only each request's top_k are kept.

    Works in chunks so 60,000 x 50,000 never builds a dense matrix.
    """
    n_req, n_sup = len(request_texts), len(supporter_texts)
    if n_req == 0 or n_sup == 0:
        return sp.csr_matrix((n_req, n_sup))
    vectoriser = TfidfVectorizer(stop_words="english", sublinear_tf=True)
    try:
        matrix = vectoriser.fit_transform(list(request_texts) + list(supporter_texts))
    except ValueError:  # every text is empty or stop words only
        return sp.csr_matrix((n_req, n_sup))
    req, sup_t = matrix[:n_req], matrix[n_req:].T.tocsc()
    rows = max(1, _CHUNK_CELLS // n_sup)
    blocks = []
    for start in range(0, n_req, rows):
        dense = (req[start : start + rows] @ sup_t).toarray()
        np.clip(dense, 0.0, 1.0, out=dense)
        if top_k is not None and top_k < n_sup:
            cut = np.argpartition(-dense, top_k - 1, axis=1)[:, top_k:]
            np.put_along_axis(dense, cut, 0.0, axis=1)
        blocks.append(sp.csr_matrix(dense))
    return sp.vstack(blocks, format="csr")


def explain(request_text: str, supporter_text: str, limit: int = 5) -> list[str]:
    """Human-readable terms/topics that made the match (for the `why` field)."""
    wanted = [w for w in _WORD.findall(request_text.lower()) if w not in ENGLISH_STOP_WORDS]
    offered = set(_WORD.findall(supporter_text.lower()))
    out: list[str] = []
    for word in wanted:
        if word in offered and word not in out:
            out.append(word)
            if len(out) == limit:
                break
    return out
