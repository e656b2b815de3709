"""Pure metric functions of the evaluator; each docstring is the metric's definition.

A *span* is ``(source, start, end)``: character offsets into the stored article text (the text citations and
passages refer to). Evidence strings are located verbatim in the article text with :func:`locate`.

>>> normalize("Sebanyak 7.644 orang!") == normalize("sebanyak 7644 orang")
True
>>> hit_at_k([("a", 10, 20)], [("a", 0, 15), ("a", 15, 30)], k=2)
True
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence

from index.analysis import normalize_number
from index.language import STOPWORDS

__all__ = [
    "Span", "normalize", "tokens", "content_words", "locate", "evidence_spans", "coverage", "hit_at_k",
    "evidence_recall_at_k", "mrr", "ndcg_at_k", "answer_correct", "token_f1", "citation_exactness",
    "citation_precision", "citation_recall", "abstention_metrics", "percentile", "COVER", "ANSWER_RECALL",
    "QUOTE_RECALL",
]

Span = tuple[str, int, int]
COVER = 0.8  # share of an evidence span's characters that retrieved passages must cover
ANSWER_RECALL = 0.6  # share of the reference's content words an answer must contain
QUOTE_RECALL = 0.8  # share of each evidence span's content words an answer must quote

_TOKEN = re.compile(r"\d+(?:[.,]\d+)*|[^\W\d_]+")


def tokens(text: str) -> list[str]:
    """Lower-case word and number tokens, punctuation dropped, thousands separators removed (7.644 = 7,644 = 7644)."""
    return [normalize_number(t) if t[0].isdigit() else t for t in _TOKEN.findall((text or "").lower())]


def normalize(text: str) -> str:
    """Text for containment tests: :func:`tokens` joined by single spaces."""
    return " ".join(tokens(text))


def content_words(text: str) -> list[str]:
    """:func:`tokens` without stopwords (Indonesian + English)."""
    return [t for t in tokens(text) if t not in STOPWORDS]


def locate(evidence: str, text: str) -> tuple[int, int] | None:
    """Offsets of ``evidence`` in ``text``: verbatim first, then tolerant of whitespace differences; else None."""
    i = text.find(evidence)
    if i >= 0:
        return i, i + len(evidence)
    parts = evidence.split()
    if not parts:
        return None
    m = re.search(r"\s+".join(re.escape(p) for p in parts), text)
    return (m.start(), m.end()) if m else None


def evidence_spans(evidence: Sequence[str], sources: Sequence[str], text_of: Callable[[str], str | None]) -> list[Span | None]:
    """Each evidence string located in the first of ``sources`` whose text contains it (None where none does)."""
    out: list[Span | None] = []
    for ev in evidence:
        found = None
        for src in sources:
            text = text_of(src)
            pos = locate(ev, text) if text is not None else None
            if pos:
                found = (src, *pos)
                break
        out.append(found)
    return out


def _overlaps(a: Span, b: Span) -> bool:
    return a[0] == b[0] and a[1] < b[2] and b[1] < a[2]


def coverage(span: Span | None, spans: Sequence[Span]) -> float:
    """Share of ``span``'s characters inside the union of ``spans`` of the same source (0 for an unlocated span)."""
    if span is None or span[2] <= span[1]:
        return 0.0
    covered, cursor = 0, span[1]
    for _, s, e in sorted(x for x in spans if x[0] == span[0]):
        s, e = max(s, cursor), min(e, span[2])
        if e > s:
            covered += e - s
            cursor = e
    return covered / (span[2] - span[1])


def evidence_recall_at_k(evidence: Sequence[Span | None], passages: Sequence[Span], k: int) -> float | None:
    """Share of evidence spans that the top-``k`` passages cover to at least ``COVER`` (None without evidence)."""
    if not evidence:
        return None
    top = list(passages[:k])
    return sum(coverage(ev, top) >= COVER for ev in evidence) / len(evidence)


def hit_at_k(evidence: Sequence[Span | None], passages: Sequence[Span], k: int) -> bool | None:
    """True when *every* evidence span is covered to at least ``COVER`` by the top-``k`` passages."""
    recall = evidence_recall_at_k(evidence, passages, k)
    return None if recall is None else recall == 1.0


def mrr(evidence: Sequence[Span | None], passages: Sequence[Span]) -> float | None:
    """Reciprocal rank of the first passage overlapping any evidence span (0 when none does)."""
    spans = [e for e in evidence if e]
    if not evidence:
        return None
    for rank, p in enumerate(passages, start=1):
        if any(_overlaps(p, e) for e in spans):
            return 1.0 / rank
    return 0.0


def ndcg_at_k(evidence: Sequence[Span | None], passages: Sequence[Span], k: int = 10) -> float | None:
    """nDCG@k with binary relevance (a passage is relevant when it overlaps an evidence span).

    The ideal ranking puts max(relevant passages retrieved, evidence spans) relevant passages first (capped at k), so
    missing evidence lowers the score even when nothing irrelevant was ranked above the relevant passages.
    """
    if not evidence:
        return None
    spans = [e for e in evidence if e]
    rels = [any(_overlaps(p, e) for e in spans) for p in passages[:k]]
    dcg = sum(1 / math.log2(i + 2) for i, r in enumerate(rels) if r)
    ideal = min(k, max(sum(rels), len(evidence)))
    idcg = sum(1 / math.log2(i + 2) for i in range(ideal))
    return dcg / idcg if idcg else 0.0


def answer_correct(answer: str, abstained: bool, reference: str, aliases: Sequence[str] = (),
                   evidence: Sequence[str] = ()) -> bool:
    """Not abstained and one of: the normalised answer contains the normalised reference or an alias; it contains
    >= ``ANSWER_RECALL`` of the reference's content words; or it contains >= ``QUOTE_RECALL`` of the content words
    of every evidence span."""
    if abstained or not (answer or "").strip():
        return False
    norm = f" {normalize(answer)} "
    if any(normalize(r) and f" {normalize(r)} " in norm for r in (reference, *aliases)):
        return True
    have = set(content_words(answer))
    ref = set(content_words(reference))
    if ref and len(ref & have) / len(ref) >= ANSWER_RECALL:
        return True
    ev_words = [set(content_words(e)) for e in evidence]
    return bool(ev_words) and all(w and len(w & have) / len(w) >= QUOTE_RECALL for w in ev_words)


def token_f1(answer: str, reference: str) -> float:
    """Harmonic mean of token precision and recall of the answer's content words against the reference's
    (bag of words, counts clipped)."""
    a, r = content_words(answer), content_words(reference)
    if not a or not r:
        return 0.0
    pool = list(r)
    common = 0
    for t in a:
        if t in pool:
            pool.remove(t)
            common += 1
    if not common:
        return 0.0
    p, rec = common / len(a), common / len(r)
    return 2 * p * rec / (p + rec)


def citation_exactness(citations: Sequence[dict], text_of: Callable[[str], str | None]) -> float | None:
    """Share of citations whose ``quote`` equals ``article_text[start:end]`` (None without citations)."""
    if not citations:
        return None
    ok = 0
    for c in citations:
        text = text_of(c["source"])
        ok += text is not None and text[c["start"]:c["end"]] == c["quote"]
    return ok / len(citations)


def _cspan(c: dict) -> Span:
    return c["source"], c["start"], c["end"]


def citation_precision(citations: Sequence[dict], evidence: Sequence[Span | None]) -> float | None:
    """Share of citations overlapping some evidence span (None without citations or without evidence)."""
    if not citations or not evidence:
        return None
    spans = [e for e in evidence if e]
    return sum(any(_overlaps(_cspan(c), e) for e in spans) for c in citations) / len(citations)


def citation_recall(citations: Sequence[dict], evidence: Sequence[Span | None]) -> float | None:
    """Share of evidence spans overlapped by some citation (None without evidence)."""
    if not evidence:
        return None
    return sum(e is not None and any(_overlaps(_cspan(c), e) for c in citations) for e in evidence) / len(evidence)


def abstention_metrics(rows: Sequence[tuple[bool, bool, bool]]) -> dict[str, float | None]:
    """From ``(answerable, abstained, correct)`` per question:

    - ``abstention_rate``: abstained / unanswerable questions;
    - ``false_abstention_rate``: abstained / answerable questions;
    - ``answer_precision``: correct / answered (an answered unanswerable counts as wrong);
    - ``accuracy``: correct / all, where an unanswerable is correct iff abstained.
    """
    un = [r for r in rows if not r[0]]
    an = [r for r in rows if r[0]]
    answered = [r for r in rows if not r[1]]

    def share(n: int, d: int) -> float | None:
        return n / d if d else None

    return {
        "abstention_rate": share(sum(r[1] for r in un), len(un)),
        "false_abstention_rate": share(sum(r[1] for r in an), len(an)),
        "answer_precision": share(sum(r[0] and r[2] for r in answered), len(answered)),
        "accuracy": share(sum(r[2] if r[0] else r[1] for r in rows), len(rows)),
    }


def percentile(values: Sequence[float], p: float) -> float | None:
    """The ``p``-th percentile (0..100) with linear interpolation between closest ranks (None when empty)."""
    if not values:
        return None
    xs = sorted(values)
    pos = (len(xs) - 1) * p / 100
    lo, hi = math.floor(pos), math.ceil(pos)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)
