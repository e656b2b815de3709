"""The extractive answerer's fitted models: which sentence answers, and whether to answer at all.

* **Sentence scorer**: a logistic regression over :data:`assistant.sentence_features.SENTENCE_FEATURES`, fitted by
  ``benchmarks/fit_answers.py`` on FacQA-train's *fit* part (the sentence holding the answer span against the other
  sentences of the retrieved passages).
* Questions in another language than the passages use a second pair fitted without the word-match features.
* **Refusal**: a second logistic regression over :data:`QUESTION_FEATURES` (what the best sentences look like) gives
  the probability that the answer about to be given is right; it was fitted on answerable questions and the same
  questions with their passage removed from the pool (unanswerable by construction). The answerer refuses below
  ``answer_at``, chosen on the *choose* part.

The file ``assistant/fitted/answer-<embedder>-c<tokens>o<overlap>.json`` is tied to the embedder and chunking it was
fitted with. Another embedder or chunking falls back to ``answer-lexical.json``: the same models fitted without the
embedding features (dense similarity is left out, since its scale differs between models); :attr:`AnswerModel.note`
says so.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from assistant.fusion import FITTED_DIR, fitted_stem
from assistant.sentence_features import DENSE_POOL, SENTENCE_FEATURES

__all__ = ["AnswerModel", "Scorer", "QUESTION_FEATURES", "DENSE_FEATURES", "WORD_FEATURES", "question_features",
           "load_answer_model", "answer_model_path"]

FORMAT = 2
LEXICAL = FITTED_DIR / "answer-lexical.json"  # the fallback for any embedder (fitted with the default chunking)
QUESTION_FEATURES = ("best_logit", "margin", "best_dense", "best_coverage", "best_names", "best_type",
                     "top_passage_gap")
DENSE_FEATURES = ("dense", "dense_gap", "best_dense")
# Words cannot match across languages: questions in another language than the passages are scored by models fitted
# without the word-match features (names and numbers, written the same in both, are kept).
WORD_FEATURES = ("coverage", "context", "best_coverage")


@dataclass
class Scorer:
    """One fitted pair: the sentence scorer and the refusal model, with the features they were fitted without."""

    sentence_weights: list[float]
    sentence_bias: float
    refusal_weights: list[float]
    refusal_bias: float
    answer_at: float  # refuse when P(right answer) is below this
    without: tuple[str, ...] = ()  # features zeroed when fitted (and when used)
    figures: dict[str, Any] = field(default_factory=dict)

    def _mask(self, x: np.ndarray, names: tuple[str, ...]) -> np.ndarray:
        if not self.without:
            return x
        x = x.copy()
        x[..., [i for i, f in enumerate(names) if f in self.without]] = 0.0
        return x

    def sentence_logits(self, x: np.ndarray) -> np.ndarray:
        return self._mask(x, SENTENCE_FEATURES) @ np.asarray(self.sentence_weights) + self.sentence_bias

    def answer_probability(self, q: np.ndarray) -> float:
        z = float(self._mask(q, QUESTION_FEATURES) @ np.asarray(self.refusal_weights) + self.refusal_bias)
        return 1.0 / (1.0 + math.exp(-z))

    def to_json(self) -> dict[str, Any]:
        return {"sentence_weights": self.sentence_weights, "sentence_bias": self.sentence_bias,
                "refusal_weights": self.refusal_weights, "refusal_bias": self.refusal_bias,
                "answer_at": self.answer_at, "without": list(self.without), "figures": self.figures}

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> Scorer:
        return cls(raw["sentence_weights"], raw["sentence_bias"], raw["refusal_weights"], raw["refusal_bias"],
                   raw["answer_at"], tuple(raw.get("without", ())), raw.get("figures", {}))


@dataclass
class AnswerModel:
    same: Scorer  # question and passages in one language
    cross: Scorer  # question in another language than the passages
    meta: dict[str, Any] = field(default_factory=dict)
    note: str = ""
    dense_pool: int = DENSE_POOL  # sentences embedded per question (chosen with the fit; 0 when fitted without)

    def scorer(self, cross_language: bool) -> Scorer:
        return self.cross if cross_language else self.same

    def to_json(self) -> dict[str, Any]:
        return {"format": FORMAT, "sentence_features": list(SENTENCE_FEATURES),
                "question_features": list(QUESTION_FEATURES), "same": self.same.to_json(),
                "cross": self.cross.to_json(), "dense_pool": self.dense_pool, "meta": self.meta}


def question_features(x: np.ndarray, logits: np.ndarray, passage_scores: list[float]) -> np.ndarray:
    """What the best sentence looks like (columns: :data:`QUESTION_FEATURES`)."""
    col = {f: i for i, f in enumerate(SENTENCE_FEATURES)}
    order = np.argsort(-logits)
    b = order[0]
    second = logits[order[1]] if len(order) > 1 else logits[b] - 5.0
    types = [col[f] for f in SENTENCE_FEATURES if f.startswith("type_")]
    gap = (passage_scores[0] - passage_scores[1]) if len(passage_scores) > 1 else 0.0
    return np.asarray([logits[b], logits[b] - second, x[b, col["dense"]], x[b, col["coverage"]], x[b, col["names"]],
                       float(x[b, types].max()), gap])


def answer_model_path(embedder: str, chunk_tokens: int, chunk_overlap: int) -> Path:
    return FITTED_DIR / f"answer-{fitted_stem(embedder)}-c{chunk_tokens}o{chunk_overlap}.json"


def _read(path: Path) -> AnswerModel | None:
    if not path.exists():
        return None
    raw = json.loads(path.read_text(encoding="utf-8"))
    if (raw.get("format") != FORMAT or raw.get("sentence_features") != list(SENTENCE_FEATURES)
            or raw.get("question_features") != list(QUESTION_FEATURES)):
        return None
    return AnswerModel(Scorer.from_json(raw["same"]), Scorer.from_json(raw["cross"]), raw.get("meta", {}),
                       dense_pool=int(raw.get("dense_pool", DENSE_POOL)))


@lru_cache(maxsize=8)
def load_answer_model(embedder: str, chunk_tokens: int, chunk_overlap: int) -> AnswerModel:
    """The fitted models for this embedder and chunking, else the lexical fallback (with a note saying so)."""
    own = _read(answer_model_path(embedder, chunk_tokens, chunk_overlap))
    if own is not None:
        return own
    fallback = _read(LEXICAL)
    if fallback is None:
        raise FileNotFoundError(f"{LEXICAL} is missing or outdated: run `python benchmarks/fit_answers.py`")
    fallback.note = (f"no answer model fitted for embedder {embedder!r} with {chunk_tokens}/{chunk_overlap}-token "
                     "chunks: using the lexical scorer (no embedding features); fit one with "
                     "`python benchmarks/fit_answers.py --embedder NAME`")
    return fallback
