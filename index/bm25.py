"""BM25 over the live chunks with bm25s (sparse matrices: no per-query Python pass over every passage)."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["BM25Index"]


_quieted = False


def _bm25s() -> Any:
    """The bm25s module, imported on first use: importing this module changes nothing global."""
    global _quieted
    import bm25s

    if not _quieted:  # once, so a level set later by the application stands
        logging.getLogger("bm25s").setLevel(logging.WARNING)  # it sets itself to DEBUG on import
        _quieted = True
    return bm25s


class BM25Index:
    """A bm25s model plus the chunk ids in its row order."""

    def __init__(self, ids: list[str], model) -> None:  # model: bm25s.BM25 | None
        self.ids = ids
        self.model = model
        self._row = {cid: i for i, cid in enumerate(ids)}

    @classmethod
    def build(cls, ids: list[str], terms: list[list[str]]) -> BM25Index:
        if not ids:
            return cls([], None)
        model = _bm25s().BM25(k1=1.2, b=0.75)
        model.index([t if t else ["\u2205"] for t in terms], show_progress=False)
        return cls(ids, model)

    def save(self, folder: Path) -> None:
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "ids.json").write_text(json.dumps(self.ids))
        if self.model is not None:
            self.model.save(str(folder / "model"))

    @classmethod
    def load(cls, folder: Path) -> BM25Index:
        folder = Path(folder)
        ids = json.loads((folder / "ids.json").read_text())
        model = _bm25s().BM25.load(str(folder / "model")) if ids else None
        return cls(ids, model)

    def idf(self, term: str) -> float:
        """Inverse document frequency of an analysed term over the live chunks (unknown terms: the maximum)."""
        import math

        n = len(self.ids)
        tid = self.model.vocab_dict.get(term) if self.model is not None else None
        if tid is None:
            return math.log(1 + n)
        indptr = self.model.scores["indptr"]
        df = int(indptr[tid + 1] - indptr[tid])
        return math.log(1 + (n - df + 0.5) / (df + 0.5))

    def search(self, query_terms: list[str], k: int, allowed: set[str] | None = None) -> list[tuple[str, float]]:
        """Best ``k`` (chunk id, BM25 score) pairs with a positive score, optionally within ``allowed`` ids."""
        if self.model is None or not query_terms:
            return []
        vocab = self.model.vocab_dict
        known = [t for t in query_terms if t in vocab]
        if not known:
            return []
        scores = np.asarray(self.model.get_scores(known), dtype=np.float32)
        if allowed is not None:
            mask = np.zeros(len(self.ids), dtype=bool)
            for cid in allowed:
                row = self._row.get(cid)
                if row is not None:
                    mask[row] = True
            scores = np.where(mask, scores, 0.0)
        k = min(k, len(self.ids))
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top])]
        return [(self.ids[i], float(scores[i])) for i in top if scores[i] > 0]
