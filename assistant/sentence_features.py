"""What the extractive answerer knows about each candidate sentence: the features its fitted scorer weighs.

Every sentence of the retrieved passages (sentences that address an AI withheld, see :mod:`assistant.injection`) gets

* ``dense``: similarity between the question and the sentence with the configured embedder;
* ``coverage`` / ``context``: IDF-weighted share of the question's terms in the sentence / in it and its neighbours;
* ``names``: share of the question's names and numbers (as written) found in the sentence;
* ``new_names``: names and numbers in the sentence that the question does not hold (a factoid answer brings one);
* ``type_*``: the question type (:mod:`assistant.question`'s typology) times a sign of that type in the sentence —
  a number for berapa/how many, a date for kapan/when, a name for siapa/who, a place name for di mana/where, a
  causal connective for mengapa/why, a manner phrase for bagaimana/how;
* ``first`` / ``position``: first sentence of its passage / relative position; ``rank_rr`` / ``passage_score``: the
  passage's rank (1/rank) and fused retrieval score; ``length``: log characters.

>>> [f for f in SENTENCE_FEATURES][:3]
['dense', 'dense_gap', 'coverage']
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np

from assistant.injection import inside, passage_withheld
from assistant.question import QuestionInfo
from index.analysis import analyze, normalize_number
from index.chunking import split_sentences
from index.dates import MONTHS, WEEKDAY_PATTERN
from index.reader import IndexReader, Passage

__all__ = ["SENTENCE_FEATURES", "Sentence", "candidate_sentences", "sentence_features", "DENSE_POOL", "POOL_GRID"]

SENTENCE_FEATURES = ("dense", "dense_gap", "coverage", "context", "names", "new_names", "type_number", "type_date",
                     "type_person", "type_place", "type_reason", "type_manner", "first", "position", "rank_rr",
                     "passage_score", "length")
# Sentences embedded per question (the answerer's main cost): the best-covering ones, in passage-rank order on ties;
# sentences beyond the pool get the pool's lowest similarity. The product uses the pool chosen with its fitted answer
# model (``dense_pool`` in assistant/fitted/answer-*.json, chosen on FacQA-train's choose part by
# benchmarks/fit_answers.py among POOL_GRID); DENSE_POOL is the largest, the default for files fitted before.
POOL_GRID = (6, 12, 18, 24)
DENSE_POOL = max(POOL_GRID)

_MONTH_WORDS = "|".join(sorted((m for m in MONTHS if len(m) > 3), key=len, reverse=True))
_NUMBER = re.compile(r"\b\d+(?:[.,]\d+)*\b|\b(?:satu|dua|tiga|empat|lima|enam|tujuh|delapan|sembilan|sepuluh|"
                     r"sebelas|puluh\w*|ratus\w*|ribu\w*|juta\w*|miliar\w*|setengah|separuh|sepertiga|seperempat|"
                     r"one|two|three|four|five|six|seven|eight|nine|ten|hundred\w*|thousand\w*|million\w*|"
                     r"billion\w*|half|third|quarter)\b", re.I)
_DATE = re.compile(rf"\b(?:{_MONTH_WORDS})\b|\b(?:19|20)\d{{2}}\b|\b{WEEKDAY_PATTERN}\b|\b(?:kemarin|yesterday|"
                   r"tahun lalu)\b", re.I)
_NAME = re.compile(r"(?<!^)(?<![.!?]\s)\b[A-Z][\w'’-]+")
_PLACE = re.compile(r"\b(?:di|ke|dari|in|at|from|to|near|dekat)\s+(?:kota\s+|provinsi\s+|kabupaten\s+|desa\s+)?[A-Z]")
_REASON = re.compile(r"\b(?:karena|sebab|disebabkan|akibat|lantaran|oleh karena|alasan|sehingga|dampak|"
                     r"because|due to|owing to|as a result|reason|caused|since)\b", re.I)
_MANNER = re.compile(r"\b(?:dengan cara|caranya|melalui|dengan|secara|by|through|using|via)\b", re.I)
_TOKEN = re.compile(r"\d+(?:[.,]\d+)*|[A-Z][\w'’-]+")


@dataclass
class Sentence:
    n: int  # 1-based rank of the passage it comes from
    passage: Passage
    start: int  # offsets into the article text
    end: int
    text: str
    terms: set[str]
    index: int  # position among its passage's candidate sentences
    count: int  # candidate sentences in its passage


def candidate_sentences(passages: list[Passage]) -> list[Sentence]:
    """Every sentence of ``passages`` (15+ characters), except those addressing an AI and the article's headline
    (it restates the topic; it never answers)."""
    out: list[Sentence] = []
    for n, p in enumerate(passages, start=1):
        withheld = passage_withheld(p)  # decided on the whole paragraph, wherever the chunk starts
        headline = " ".join((p.title or "").split()).casefold()
        mine = []
        for s in split_sentences(p.text):
            text = p.text[s.start : s.end]
            if len(text) < 15 or inside(withheld, s.start, s.end) or " ".join(text.split()).casefold() == headline:
                continue
            mine.append(Sentence(n, p, p.start + s.start, p.start + s.end, text, set(analyze(text)), 0, 0))
        for i, sent in enumerate(mine):
            sent.index, sent.count = i, len(mine)
        out.extend(mine)
    return out


def _names(text: str) -> set[str]:
    return {normalize_number(t) if t[0].isdigit() else t.lower() for t in _TOKEN.findall(text)}


def _coverage(weights: dict[str, float], terms: set[str]) -> float:
    total = sum(weights.values())
    return sum(w for t, w in weights.items() if t in terms) / total if total > 0 else 0.0


def sentence_features(info: QuestionInfo, sents: list[Sentence], reader: IndexReader, query_vector: np.ndarray,
                      passage_scores: list[float], vectors: dict[str, np.ndarray] | None = None,
                      pool: int = DENSE_POOL) -> np.ndarray:
    """One row of :data:`SENTENCE_FEATURES` per sentence; ``vectors`` (sentence text → vector) saves re-embedding
    sentences already embedded for this question (it is filled in). ``pool``: sentences embedded (0 = none, the
    dense columns are 0: for models fitted without them)."""
    if not sents:
        return np.zeros((0, len(SENTENCE_FEATURES)))
    weights = {t: reader.bm25.idf(t) for t in set(info.terms)}
    q_names = {n for n in _names(info.text) if n not in {info.text.split()[0].lower()}}
    cov = [_coverage(weights, s.terms) for s in sents]
    ctx = []
    for i, s in enumerate(sents):
        terms = set(s.terms)
        for j in (i - 1, i + 1):
            if 0 <= j < len(sents) and sents[j].n == s.n:
                terms |= sents[j].terms
        ctx.append(_coverage(weights, terms))
    order = sorted(range(len(sents)), key=lambda i: (-cov[i], sents[i].n, sents[i].index))[:pool]
    known = {} if vectors is None else vectors
    missing = list(dict.fromkeys(sents[i].text for i in order if sents[i].text not in known))
    if missing:
        known.update(zip(missing, reader.embedder.embed_documents(missing), strict=True))
    vecs = np.stack([known[sents[i].text] for i in order]) if order else np.zeros((0, len(query_vector)))
    dense = np.full(len(sents), float(np.min(vecs @ query_vector)) if len(order) else 0.0)
    if order:
        dense[order] = vecs @ query_vector
    top = float(dense.max())
    top_score = max(passage_scores) if passage_scores else 0.0
    rows = []
    for i, s in enumerate(sents):
        names = _names(s.text)
        rows.append([
            dense[i], dense[i] - top, cov[i], ctx[i],
            len(q_names & names) / len(q_names) if q_names else 0.0,
            math.log1p(len(names - q_names)),
            float(info.is_("number") and bool(_NUMBER.search(s.text))),
            float(info.is_("date") and bool(_DATE.search(s.text))),
            float(info.is_("person") and bool(_NAME.search(s.text))),
            float(info.is_("place") and bool(_PLACE.search(s.text))),
            float(info.is_("reason") and bool(_REASON.search(s.text))),
            float(info.is_("manner") and bool(_MANNER.search(s.text))),
            float(s.index == 0), s.index / max(1, s.count - 1),
            1.0 / s.n, passage_scores[s.n - 1] - top_score if passage_scores else 0.0,
            math.log(len(s.text)),
        ])
    return np.asarray(rows, dtype=np.float64)
