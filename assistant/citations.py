"""Citations: every [n] maps to the n-th passage given to the answerer, with the exact quoted span of the article.

For generated answers, markers that point to no passage are removed and reported, and each cited sentence is checked
against its passage: its support is the probability, by a logistic regression fitted with
``benchmarks/fit_support.py`` on FacQA-train's fit part (:data:`SUPPORT_FEATURES`: term overlap with the passage
and with its closest sentence, the sentence's names and numbers found in the passage, dense similarity to the
closest sentence), that the passage backs the sentence. Below one half — more likely unsupported than supported —
the sentence is kept but flagged ``supported=False``. Another embedder uses the fit without the dense feature.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path

import numpy as np

from assistant.fusion import FITTED_DIR, fitted_stem
from assistant.models import Citation
from assistant.reader_answer import Pick
from index.analysis import analyze, normalize_number
from index.chunking import split_sentences
from index.embedding import Embedder
from index.reader import Passage

__all__ = ["citations_from_picks", "verify_generated", "SUPPORT_THRESHOLD", "SUPPORT_FEATURES", "support_features",
           "load_support_model", "split_answer", "strip_markers"]

SUPPORT_THRESHOLD = 0.5  # a probability: supported when more likely than not (the fitted model is calibrated)
SUPPORT_FEATURES = ("lexical_passage", "lexical_sentence", "names", "dense")
_NAMES = re.compile(r"\d+(?:[.,]\d+)*|[A-Z][\w'’-]+")
_MARKER = re.compile(r"\s*\[(\d{1,3})\]")


def strip_markers(text: str) -> str:
    """``text`` without its ``[n]`` citation markers."""
    return _MARKER.sub("", text).strip()


def _citation(n: int, p: Passage, start: int, end: int, sentence: str, support: float = 1.0) -> Citation:
    quote = p.text[start - p.start : end - p.start]
    return Citation(n=n, source=p.source, title=p.title, outlet=p.outlet, date=p.date, start=start, end=end,
                    quote=quote, supported=support >= SUPPORT_THRESHOLD, support=round(support, 3), sentence=sentence)


def citations_from_picks(picks: list[Pick], passages: list[Passage]) -> list[Citation]:
    """Citations for the extractive answer: each quote is the picked sentence itself."""
    return [_citation(pk.n, passages[pk.n - 1], pk.start, pk.end, pk.text) for pk in picks]


def split_answer(text: str) -> list[tuple[str, list[int]]]:
    """Answer sentences with the markers that close each one: ``"A. [1] B [2][3]."`` → ``[("A.", [1]), …]``."""
    out: list[tuple[str, list[int]]] = []
    for para in text.split("\n"):
        pos = 0
        buf = ""
        for m in re.finditer(r"(?:\s*\[\d{1,3}\])+[.!?]?|[.!?](?=\s|$)", para):
            piece = para[pos : m.end()]
            buf += piece
            pos = m.end()
            markers = [int(x) for x in re.findall(r"\[(\d{1,3})\]", piece)]
            if markers or m.group().strip() in ".!?":
                sentence = strip_markers(buf)
                if sentence or markers:
                    if not sentence and out:
                        out[-1][1].extend(markers)
                    else:
                        out.append((sentence, markers))
                buf = ""
        rest = (buf + para[pos:]).strip()
        if rest:
            out.append((strip_markers(rest), []))
    return out


def verify_generated(
    answer: str, passages: list[Passage], embedder: Embedder | None, support: SupportModel | None = None
) -> tuple[str, list[Citation], list[int]]:
    """Clean ``answer``'s markers and check each cited sentence; returns (answer, citations, removed markers)."""
    removed: list[int] = []
    citations: list[Citation] = []
    parts: list[str] = []
    for sentence, markers in split_answer(answer):
        valid = []
        for n in markers:
            if 1 <= n <= len(passages):
                if n not in valid:
                    valid.append(n)
            else:
                removed.append(n)
        parts.append(sentence + "".join(f" [{n}]" for n in valid))
        for n in valid:
            citations.append(_support(n, sentence, passages[n - 1], embedder, support))
    return " ".join(p for p in parts if p).strip(), citations, removed


def _names(text: str) -> set[str]:
    return {normalize_number(t) if t[0].isdigit() else t.lower() for t in _NAMES.findall(text)}


def support_features(sentence: str, passage_text: str, embedder: Embedder | None) -> tuple[np.ndarray, int, int]:
    """(:data:`SUPPORT_FEATURES` row, start, end of the passage sentence that backs ``sentence`` best)."""
    sents = split_sentences(passage_text) or []
    if not sents:
        return np.zeros(len(SUPPORT_FEATURES)), 0, len(passage_text)
    s_terms = set(analyze(sentence))
    best_i, best_lex = 0, 0.0
    for i, s in enumerate(sents):
        terms = set(analyze(passage_text[s.start : s.end]))
        lex = len(s_terms & terms) / len(s_terms) if s_terms else 0.0
        if lex > best_lex:
            best_i, best_lex = i, lex
    lexical = len(s_terms & set(analyze(passage_text))) / len(s_terms) if s_terms else 0.0
    names = _names(sentence)
    found = len(names & _names(passage_text)) / len(names) if names else 1.0
    dense = 0.0
    if embedder is not None and sentence.strip():
        q = embedder.embed_documents([sentence])[0]
        sims = embedder.embed_documents([passage_text[s.start : s.end] for s in sents]) @ q
        j = int(np.argmax(sims))
        dense = float(sims[j])
        if best_lex == 0.0:
            best_i = j
    s = sents[best_i]
    return np.asarray([lexical, best_lex, found, dense]), s.start, s.end


class SupportModel:
    """P(the passage backs the sentence) from :data:`SUPPORT_FEATURES` (weights from the fitted file)."""

    def __init__(self, weights: list[float], bias: float, without: tuple[str, ...] = (), note: str = "") -> None:
        self.weights = np.asarray(weights)
        self.bias = bias
        self.without = without
        self.note = note

    def probability(self, x: np.ndarray) -> float:
        x = np.where([f in self.without for f in SUPPORT_FEATURES], 0.0, x)
        return float(1.0 / (1.0 + np.exp(-(x @ self.weights + self.bias))))


def support_model_path(embedder: str) -> Path:
    return FITTED_DIR / f"support-{fitted_stem(embedder)}.json"


@lru_cache(maxsize=8)
def load_support_model(embedder: str) -> SupportModel:
    """The fitted support model for ``embedder``, else the one fitted without the dense feature (with a note)."""
    for name, note in ((embedder, ""), ("lexical", f"no support model fitted for embedder {embedder!r}: using the "
                                                    "one fitted without embedding similarity")):
        path = support_model_path(name)
        if path.exists():
            raw = json.loads(path.read_text(encoding="utf-8"))
            if raw.get("features") == list(SUPPORT_FEATURES):
                return SupportModel(raw["weights"], raw["bias"], tuple(raw.get("without", ())), note)
    raise FileNotFoundError(f"{support_model_path('lexical')} is missing: run `python benchmarks/fit_support.py`")


def _support(n: int, sentence: str, p: Passage, embedder: Embedder | None, model: SupportModel | None) -> Citation:
    x, start, end = support_features(sentence, p.text, embedder)
    support = model.probability(x) if model is not None else float(x[0])
    return _citation(n, p, p.start + start, p.start + end, sentence, support)
