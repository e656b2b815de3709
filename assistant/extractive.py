"""The offline answerer: picks the retrieved sentences that answer the question and quotes them, each with its [n].

Every sentence of the given passages is scored by

* **coverage**: the IDF-weighted share of the question's terms it contains (stemmed; names and numbers as written
  count double), plus a little from its neighbours in the passage (a sentence's subject is often one sentence back);
* **relevance**: the dense similarity between the question and the sentence (always for a question in another
  language than the article, where words cannot match; otherwise for the top passages' sentences);
* **fit to the question type**: a number for berapa/how many, a date for kapan/when, a name for siapa/who, a
  causal connective for mengapa/why.

The best sentence leads; list, reason and comparison questions take up to three more (comparisons one per
article). **Abstention**: the answer is refused when the best sentence neither covers enough of the question's
key terms nor is close enough in meaning, or when a number/date question finds no number/date where the evidence
is. The thresholds were set on the dev set's answerable vs unanswerable items as a whole (see README, "Abstention").
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np

from assistant.injection import inside, instruction_spans
from assistant.question import QuestionInfo
from index.analysis import analyze, normalize_number
from index.chunking import split_sentences
from index.reader import IndexReader, Passage

__all__ = ["Pick", "ExtractiveResult", "answer_extractively", "ABSTAIN_RULE"]

_NUMBER = re.compile(r"\b\d+(?:[.,]\d+)*\b|\b(?:satu|dua|tiga|empat|lima|enam|tujuh|delapan|sembilan|sepuluh|"
                     r"puluhan|ratusan|ribuan|jutaan|sepertiga|setengah|separuh|seperempat|lebih dari separuh|"
                     r"hundreds|thousands|millions|half|third|quarter)\b", re.I)
_DATE = re.compile(r"\b(?:\d{1,2}\s+)?(?:januari|februari|maret|april|mei|juni|juli|agustus|september|oktober|"
                   r"november|desember|january|february|march|may|june|july|august|october|december)\b|\b(?:19|20)\d{2}\b|"
                   r"\b(?:senin|selasa|rabu|kamis|jumat|sabtu|minggu)\b", re.I)
_NAME = re.compile(r"(?<![.!?]\s)(?<!^)\b[A-Z][a-z]+(?:[\s-][A-Z][a-z]+)+")
_REASON = re.compile(r"\b(?:karena|sebab|disebabkan|akibat|sehingga|agar|supaya|alasan|oleh karena itu|"
                     r"because|since|due to|so that)\b", re.I)

# Abstention rule (see module docstring). Same language: words can match, so answer when the best sentences cover
# >= COVERAGE of the question's weighted terms, or are very close in meaning (>= DENSE_SAME). Across languages only
# meaning can be compared: answer when dense >= DENSE_CROSS. Number/date questions also need a number/date there.
COVERAGE = 0.4
DENSE_SAME = 0.905
DENSE_CROSS = 0.80
# Sentences embedded per question (the answerer's main cost): the best-covering ones when words can match, the
# first ones of the top passages across languages.
POOL_SAME = 6
POOL_CROSS = 12
ABSTAIN_RULE = (f"same language: answer if key-term coverage >= {COVERAGE:.0%} or dense similarity >= {DENSE_SAME}; "
                f"other language: answer if dense similarity >= {DENSE_CROSS}; number/date questions also need a "
                "number/date in the chosen sentence")


@dataclass(frozen=True)
class Pick:
    n: int  # 1-based rank of the passage it comes from
    start: int  # offsets into the article text
    end: int
    text: str
    score: float


@dataclass
class ExtractiveResult:
    picks: list[Pick]
    abstained: bool
    best_coverage: float
    best_dense: float
    reason: str = ""

    def answer_text(self) -> str:
        return " ".join(f"{p.text} [{p.n}]" for p in self.picks)


@dataclass
class _Sent:
    n: int
    passage: Passage
    start: int
    end: int
    text: str
    terms: set[str]
    coverage: float = 0.0
    dense: float = 0.0
    type_fit: float = 0.0
    score: float = 0.0


def _coverage(q_weights: dict[str, float], names: set[str], terms: set[str], raw: str) -> float:
    total = sum(q_weights.values()) + sum(q_weights.get(n, 1.0) for n in names)
    if total <= 0:
        return 0.0
    got = sum(w for t, w in q_weights.items() if t in terms)
    raw_l = raw.lower()
    got += sum(q_weights.get(n, 1.0) for n in names if n in raw_l)
    return got / total


def _type_fit(info: QuestionInfo, text: str) -> float:
    fit = 0.0
    if info.is_("number") and _NUMBER.search(text):
        fit += 1.0
    if info.is_("date") and _DATE.search(text):
        fit += 1.0
    if info.is_("person") and _NAME.search(text):
        fit += 0.6
    if info.is_("reason") and _REASON.search(text):
        fit += 1.0
    return fit


def answer_extractively(info: QuestionInfo, passages: list[Passage], reader: IndexReader,
                        query_vector: np.ndarray) -> ExtractiveResult:
    """Choose 1–4 sentences of ``passages`` that answer ``info`` (or abstain)."""
    if not passages:
        return ExtractiveResult([], True, 0.0, 0.0, "nothing retrieved")
    q_weights = {t: reader.bm25.idf(t) for t in set(info.terms)}
    names = {normalize_number(n.lower()) if n[0].isdigit() else n.lower() for n in info.names}
    names = {n for n in names if n not in q_weights}  # exact anchors not already counted as terms
    sents: list[_Sent] = []
    for n, p in enumerate(passages, start=1):
        withheld = instruction_spans(p.text)  # article text addressing an AI is never an answer
        for s in split_sentences(p.text):
            text = p.text[s.start : s.end]
            if len(text) < 15 or inside(withheld, s.start, s.end):
                continue
            sents.append(_Sent(n, p, p.start + s.start, p.start + s.end, text, set(analyze(text))))
    if not sents:
        return ExtractiveResult([], True, 0.0, 0.0, "no sentences")

    for i, s in enumerate(sents):
        own = _coverage(q_weights, names, s.terms, s.text)
        ctx_terms = set(s.terms)
        for j in (i - 1, i + 1):
            if 0 <= j < len(sents) and sents[j].n == s.n:
                ctx_terms |= sents[j].terms
        ctx = _coverage(q_weights, names, ctx_terms, s.text)
        s.coverage = own + 0.25 * max(0.0, ctx - own)
        s.type_fit = _type_fit(info, s.text)

    # dense similarity for a few sentences (the answerer's main cost, see POOL_SAME / POOL_CROSS), one batch
    cross = any(p.language != info.language for p in passages)
    pool = sorted(sents, key=lambda s: -s.coverage)[:POOL_SAME] if not cross else sents[:POOL_CROSS]
    if pool:
        vecs = reader.embedder.embed_documents([s.text for s in pool])
        for s, v in zip(pool, vecs, strict=True):
            s.dense = float(np.dot(query_vector, v))
    w_cov, w_dense = (0.35, 1.0) if cross else (1.0, 0.6)
    for s in sents:
        rank_prior = 1.0 / math.sqrt(s.n)
        s.score = w_cov * s.coverage + w_dense * max(0.0, s.dense - 0.75) * 4 + 0.15 * s.type_fit + 0.05 * rank_prior

    ranked = sorted(sents, key=lambda s: -s.score)
    best = ranked[0]
    best_cov = max(s.coverage for s in ranked[:3])
    best_dense = max(s.dense for s in ranked[:3])
    needs_type = info.is_("number") or info.is_("date")
    dense_needed = DENSE_CROSS if cross else DENSE_SAME
    if best_cov < COVERAGE and best_dense < dense_needed:
        return ExtractiveResult([], True, best_cov, best_dense, "evidence too weak")
    if needs_type and best.type_fit == 0 and best_cov < 0.8:
        return ExtractiveResult([], True, best_cov, best_dense, "no number/date where the evidence is")

    chosen = [best]
    multi = info.is_("list") or info.is_("reason") or info.is_("compare")
    limit = 4 if multi else 2
    threshold = 0.6 if multi else 0.85
    if info.is_("compare"):
        for s in ranked[1:]:
            if len(chosen) >= limit:
                break
            if s.passage.source not in {c.passage.source for c in chosen} and s.score >= 0.5 * best.score:
                chosen.append(s)
    # an answer often continues in the next sentences of the same passage (the second half of a two-part
    # question, the items of a list, the reason after the claim)
    idx = sents.index(best)
    follow = 2 if (info.is_("list") or info.is_("reason")) else 1
    for nxt in sents[idx + 1 : idx + 1 + follow]:
        if nxt.n != best.n or len(chosen) >= limit or nxt in chosen:
            break
        if nxt.type_fit > 0 or nxt.score >= 0.5 * best.score:
            chosen.append(nxt)
    for s in ranked[1:]:
        if len(chosen) >= limit:
            break
        if s in chosen or s.score < threshold * best.score:
            continue
        if any(s.text == c.text for c in chosen):
            continue
        chosen.append(s)
    # present in reading order within a passage, passages by rank
    chosen.sort(key=lambda s: (s.n, s.start))
    picks = [Pick(s.n, s.start, s.end, s.text, round(s.score, 4)) for s in chosen]
    return ExtractiveResult(picks, False, best_cov, best_dense)
