"""Whether the reader's best answer is likely right: a logistic model over a few features of the question and of the
answer it would give, so that refusal reads more than the reader's own no-answer margin.

The reader's margin alone lets through a confident span of the wrong kind ("46 barista" for *who won*), a span from
an article that lacks what the question names (a count of honorary teachers for *how many civil-servant teachers*),
and it is less sure across languages. :func:`features` measures those; :class:`Confidence` weighs them with
coefficients fitted by ``benchmarks/fit_reader_answers.py`` (logistic regression on the fit parts of articles-qa and
FacQA: label = the composed answer is right) and refuses below a probability chosen on the choose parts; both are
stored in ``assistant/fitted/reader-answer.json`` under ``"confidence"``.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from assistant.question import QuestionInfo
from assistant.question_words import QUESTION_WORDS
from assistant.reading import Span
from assistant.sentences import Sentence
from index.analysis import analyze
from index.dates import MONTH_PATTERN, WEEKDAY_PATTERN
from index.reader import Passage

__all__ = ["FEATURES", "Confidence", "features", "fit_logistic", "words_of"]

FEATURES = ("margin", "null", "type_match", "type_miss", "coverage", "sentence_coverage", "names_missing", "cross",
            "span_words", "open_ended")

# What a span that answers each kind of question holds (Indonesian and English; a general typology).
_NUMBER_WORDS = (r"satu|dua|tiga|empat|lima|enam|tujuh|delapan|sembilan|sepuluh|sebelas|\w+belas|\w+puluh|"
                 r"se(?:ratus|ribu|juta)|ratus|ribu|juta|miliar|triliun|puluhan|ratusan|ribuan|"
                 r"one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|\w+teen|\w+ty|hundreds?|"
                 r"thousands?|millions?|billions?|dozens?|half|quarter")
_EXPECTS: dict[str, re.Pattern[str]] = {
    "number": re.compile(rf"\d|\b(?:{_NUMBER_WORDS})\b", re.I),
    "date": re.compile(rf"\d|\b(?:{MONTH_PATTERN}|{WEEKDAY_PATTERN}|kemarin|besok|lusa|pekan|minggu|bulan|tahun|"
                       r"yesterday|tomorrow|week|month|year|pagi|siang|sore|malam|morning|afternoon|evening|night)\b",
                       re.I),
    "person": re.compile(r"\b[A-Z][\w.'’-]+"),
    "place": re.compile(r"\b[A-Z][\w.'’-]+"),
}


def _expected(info: QuestionInfo) -> re.Pattern[str] | None:
    if info.is_("list") or info.is_("reason") or info.is_("compare"):
        return None
    for kind, rx in _EXPECTS.items():
        if info.is_(kind):
            return rx
    return None


@lru_cache(maxsize=1024)
def _terms_of(text: str) -> frozenset[str]:
    return frozenset(analyze(text))


@lru_cache(maxsize=1024)
def words_of(text: str) -> frozenset[str]:
    """The casefolded words of ``text`` (a name is looked up as a word: "AI" is not in "sampai")."""
    return frozenset(re.findall(r"\w[\w-]*", text.casefold()))


def _share_in(terms: set[str], text: str) -> float:
    if not terms:
        return 1.0
    have = _terms_of(text)
    return sum(t in have for t in terms) / len(terms)


def features(info: QuestionInfo, span: Span, sentence: Sentence, passage: Passage) -> dict[str, float]:
    """The features of answering ``info`` with ``span`` (in ``passage``, inside ``sentence``)."""
    text = passage.text[span.start : span.end]
    rx = _expected(info)
    hit = bool(rx and rx.search(text))
    terms = set(info.terms)
    article = passage.document or passage.text
    words = words_of(article)
    names = [n.casefold() for n in dict.fromkeys(info.names)
             if not n[0].isdigit() and n.casefold() not in QUESTION_WORDS]
    return {
        "margin": max(-5.0, min(15.0, span.score)),
        "null": max(-15.0, min(15.0, span.null)),
        "type_match": float(rx is not None and hit),
        "type_miss": float(rx is not None and not hit),
        "coverage": _share_in(terms, article),
        "sentence_coverage": _share_in(terms, sentence.text),
        "names_missing": sum(n not in words for n in names) / len(names) if names else 0.0,
        "cross": float(info.language != passage.language),
        "span_words": math.log1p(len(text.split())),
        # why / list / comparison: answered by sentences, with lower span margins than a factoid's
        "open_ended": float(info.is_("reason") or info.is_("list") or info.is_("compare") or info.is_("manner")),
    }


@dataclass(frozen=True)
class Confidence:
    """A fitted logistic model over :data:`FEATURES` (standardised) and the probability below which to refuse."""

    mean: tuple[float, ...]
    scale: tuple[float, ...]
    weights: tuple[float, ...]
    bias: float
    answer_p: float

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> Confidence:
        if list(raw["features"]) != list(FEATURES):
            raise ValueError(f"the fitted confidence model reads {raw['features']}, this code {list(FEATURES)}")
        return cls(tuple(raw["mean"]), tuple(raw["scale"]), tuple(raw["weights"]), float(raw["bias"]),
                   float(raw["answer_p"]))

    def to_json(self) -> dict[str, Any]:
        return {"features": list(FEATURES), "mean": list(self.mean), "scale": list(self.scale),
                "weights": list(self.weights), "bias": self.bias, "answer_p": self.answer_p}

    def probability(self, feats: dict[str, float]) -> float:
        z = self.bias + sum(w * (feats[f] - m) / s
                            for f, m, s, w in zip(FEATURES, self.mean, self.scale, self.weights, strict=True))
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))


def fit_logistic(rows: list[dict[str, float]], labels: list[int], weights: list[float] | None = None,
                 l2: float = 1.0, answer_p: float = 0.5) -> Confidence:
    """Weighted logistic regression by Newton's method on standardised features with an L2 penalty ``l2`` (set
    by hand: the usual unit prior, on weights rescaled to the number of rows; the bias is not penalised)."""
    import numpy as np

    x = np.array([[r[f] for f in FEATURES] for r in rows], dtype=float)
    y = np.array(labels, dtype=float)
    sw = np.ones(len(x)) if weights is None else np.array(weights, dtype=float)
    sw = sw * len(x) / sw.sum()
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale < 1e-9] = 1.0
    z = np.hstack([np.ones((len(x), 1)), (x - mean) / scale])
    w = np.zeros(z.shape[1])
    penalty = np.eye(z.shape[1]) * l2
    penalty[0, 0] = 0.0
    for _ in range(50):
        p = 1.0 / (1.0 + np.exp(-np.clip(z @ w, -30, 30)))
        grad = z.T @ (sw * (p - y)) + penalty @ w
        hess = (z * (sw * p * (1 - p))[:, None]).T @ z + penalty + np.eye(z.shape[1]) * 1e-9
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    return Confidence(tuple(float(v) for v in mean), tuple(float(v) for v in scale),
                      tuple(float(v) for v in w[1:]), float(w[0]), answer_p)
