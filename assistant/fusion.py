"""Fusing the dense and BM25 legs with weights fitted on external data (never set by hand).

Each candidate (a chunk either leg returned) is described by a few score-aware features of both legs; a logistic
regression fitted by ``benchmarks/fit_retrieval.py`` on the *fit* part of FacQA-train turns them into one score. The
fitted file (``assistant/fitted/retrieval-<embedder>.json``) also holds the candidate pool size, chosen on the
*choose* part; it is tied to the embedder and chunking it was fitted with.

Another embedder without its own file falls back to plain reciprocal-rank fusion of both legs with equal weights
(the textbook default, k = 60), and :func:`load_fusion` says so in ``FusionModel.note``.

>>> model = FusionModel.rrf()
>>> ranked = model.rank([Leg("a", 0.9, 1), Leg("b", 0.8, 2)], [("b", 7.0), ("c", 3.0)], cross=set())
>>> [c for c, _ in ranked]
['b', 'a', 'c']
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from index.embedding import E5_ALIASES, E5_INT8_ALIASES

__all__ = ["FEATURES", "FusionModel", "Leg", "candidate_features", "load_fusion", "fitted_path", "fitted_stem"]

FITTED_DIR = Path(__file__).resolve().parent / "fitted"
FORMAT = 1
# The features, in the fitted weights' order. "x_" features are the BM25 ones again for passages in another language
# than the question (words rarely match there, so their evidence is weighed separately).
FEATURES = ("dense", "dense_gap", "dense_rr", "bm25_rel", "bm25_log", "bm25_rr", "both", "x_bm25_rel", "x_bm25_rr")


@dataclass(frozen=True)
class Leg:
    """One dense hit: chunk id, cosine similarity, 1-based rank."""

    id: str
    score: float
    rank: int


def candidate_features(dense: list[Leg], bm25: list[tuple[str, float]], cross: set[str]) -> tuple[list[str], np.ndarray]:
    """The union of both legs' candidates and their feature rows (columns: :data:`FEATURES`).

    A candidate missing from the dense leg gets the leg's lowest similarity (it ranks below all of them); one missing
    from BM25 gets zero. ``cross``: ids of candidates in another language than the question.
    """
    ids = list(dict.fromkeys([d.id for d in dense] + [c for c, _ in bm25]))
    dense_by = {d.id: d for d in dense}
    bm25_rank = {c: i + 1 for i, (c, _) in enumerate(bm25)}
    bm25_score = dict(bm25)
    top_d = dense[0].score if dense else 0.0
    floor_d = dense[-1].score if dense else 0.0
    top_b = bm25[0][1] if bm25 else 0.0
    rows = []
    for c in ids:
        d = dense_by.get(c)
        ds = d.score if d else floor_d
        d_rr = 1.0 / (1 + d.rank) if d else 0.0
        bs = bm25_score.get(c, 0.0)
        b_rel = bs / top_b if top_b > 0 else 0.0
        b_rr = 1.0 / (1 + bm25_rank[c]) if c in bm25_rank else 0.0
        x = c in cross
        rows.append([ds, ds - top_d, d_rr, 0.0 if x else b_rel, 0.0 if x else math.log1p(bs), 0.0 if x else b_rr,
                     float(d is not None and c in bm25_rank), b_rel if x else 0.0, b_rr if x else 0.0])
    return ids, np.asarray(rows, dtype=np.float64).reshape(len(ids), len(FEATURES))


@dataclass
class FusionModel:
    """``kind`` = ``"linear"`` (fitted weights over :data:`FEATURES`) or ``"rrf"`` (reciprocal-rank fusion)."""

    kind: str
    candidates: int
    weights: list[float] = field(default_factory=list)
    bias: float = 0.0
    rrf_k: int = 60
    bm25_weight: float = 1.0
    meta: dict[str, Any] = field(default_factory=dict)
    note: str = ""

    @classmethod
    def rrf(cls, candidates: int = 30, rrf_k: int = 60, bm25_weight: float = 1.0, note: str = "") -> FusionModel:
        return cls("rrf", candidates, rrf_k=rrf_k, bm25_weight=bm25_weight, note=note)

    def scores(self, ids: list[str], x: np.ndarray, dense: list[Leg], bm25: list[tuple[str, float]]) -> np.ndarray:
        if self.kind == "linear":
            return x @ np.asarray(self.weights) + self.bias
        rank_d = {d.id: d.rank for d in dense}
        rank_b = {c: i + 1 for i, (c, _) in enumerate(bm25)}
        return np.asarray([
            (1.0 / (self.rrf_k + rank_d[c]) if c in rank_d else 0.0)
            + (self.bm25_weight / (self.rrf_k + rank_b[c]) if c in rank_b else 0.0)
            for c in ids
        ])

    def rank(self, dense: list[Leg], bm25: list[tuple[str, float]], cross: set[str]) -> list[tuple[str, float]]:
        """Candidates best first with their fused scores."""
        ids, x = candidate_features(dense, bm25, cross)
        if not ids:
            return []
        s = self.scores(ids, x, dense, bm25)
        order = np.argsort(-s, kind="stable")
        return [(ids[i], float(s[i])) for i in order]

    def to_json(self) -> dict[str, Any]:
        return {"format": FORMAT, "kind": self.kind, "candidates": self.candidates, "features": list(FEATURES),
                "weights": self.weights, "bias": self.bias, "rrf_k": self.rrf_k, "bm25_weight": self.bm25_weight,
                "meta": self.meta}


def fitted_stem(embedder: str) -> str:
    """The name an embedder's fitted files are filed under. Every alias of multilingual-e5-small, and its int8
    export (the same weights quantized; vectors with cosine >= 0.99 to fp32), share the ``e5-small`` fits: the
    README's held-out figures are measured with both."""
    if embedder in E5_ALIASES or embedder in E5_INT8_ALIASES:
        return "e5-small"
    return "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in embedder)


def fitted_path(embedder: str, chunk_tokens: int, chunk_overlap: int) -> Path:
    return FITTED_DIR / f"retrieval-{fitted_stem(embedder)}-c{chunk_tokens}o{chunk_overlap}.json"


def load_fusion(embedder: str, chunk_tokens: int, chunk_overlap: int) -> FusionModel:
    """The fitted fusion for this embedder and chunking, or equal-weight RRF with a note saying why."""
    path = fitted_path(embedder, chunk_tokens, chunk_overlap)
    if not path.exists():
        return FusionModel.rrf(note=f"no fitted fusion for embedder {embedder!r} with {chunk_tokens}/{chunk_overlap}-token "
                                    f"chunks ({path.name}): using equal-weight RRF; fit one with "
                                    "`python benchmarks/fit_retrieval.py`")
    raw = json.loads(path.read_text(encoding="utf-8"))
    if raw.get("format") != FORMAT or (raw["kind"] == "linear" and raw.get("features") != list(FEATURES)):
        return FusionModel.rrf(note=f"{path.name} was fitted for another version of the features: using equal-weight "
                                    "RRF; refit with `python benchmarks/fit_retrieval.py`")
    return FusionModel(raw["kind"], int(raw["candidates"]), [float(w) for w in raw.get("weights", [])],
                       float(raw.get("bias", 0.0)), int(raw.get("rrf_k", 60)), float(raw.get("bm25_weight", 1.0)),
                       raw.get("meta", {}))
