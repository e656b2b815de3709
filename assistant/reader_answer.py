"""The default answerer: the trained reader (:mod:`assistant.reader_model`) reads the retrieved passages, reranks
them, and the answer quotes the sentences that hold its best spans, each with its ``[n]``, or refuses.

1. **Read and rerank** (:func:`read_and_rerank`): the reader reads the question over the first ``pool`` passages of
   retrieval; each passage's relevance is its best span's margin over the no-answer score; the ``top_k`` best
   (ties: retrieval order) are handed over, with their spans.
2. **Refuse** when the answer-confidence model (:mod:`assistant.answer_confidence`: the margin, the no-answer
   score, whether the span is the kind asked for, what the article holds of the question) puts the best answer's
   chance of being right below its fitted ``answer_p``; without that model, when the best margin is below
   ``answer_at``.
3. **Compose** (:func:`compose`): the sentence holding the best span leads; other spans scoring at least
   ``more_at`` and within ``more_within`` of the best add their sentences (lists, reasons, the second report of
   one event), up to ``MAX_SENTENCES``; a list question adds the sentences that carry on its list, and (``reason_next``)
   a reason question the sentence after its lead's;
   a multi-part question is read once per part (over its ``parts_pool`` best passages), and a part the reader
   cannot answer is named as not found;
   a short answer span leads the quote (``1.250 warga — “…” [1]``); a quote in another language than the answer
   is framed in the answer's language (``The articles say (in Indonesian): “…” [1]``).

``answer_at``, ``more_at``, ``more_within``, ``pool``, ``parts_pool``, ``reason_next`` and the confidence model come from
``assistant/fitted/reader-answer.json`` (written by ``benchmarks/fit_reader_answers.py``: fitted on articles-qa's
and FacQA's fit parts, chosen on their choose parts).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

from assistant.answer_confidence import Confidence, features
from assistant.question import QuestionInfo
from assistant.reader_model import ReaderModel
from assistant.reading import Span
from assistant.retrieval import RetrievalResult
from assistant.sentences import Sentence, candidate_sentences
from index.language import quote_language
from index.reader import Passage

__all__ = ["AnswerPolicy", "Pick", "ReaderAnswer", "load_policy", "read_and_rerank", "rerank", "rerank_order", "compose",
           "POLICY_PATH"]

POLICY_PATH = Path(__file__).resolve().parent / "fitted" / "reader-answer.json"
MAX_SENTENCES = 4  # set by hand: the longest answer quoted (lists, reasons, both reports of one event)
LEAD_WORDS = 8  # set by hand: a span of at most this many words leads the quote; a longer one is the quote itself
# The words around quotes in another language than the answer's (the answer-language setting governs them).
LEADS = {"en": "The articles say (in {languages}):", "id": "Menurut artikel (dalam bahasa {languages}):"}
LANGUAGE_NAMES = {"en": {"id": "Indonesian", "en": "English"}, "id": {"id": "Indonesia", "en": "Inggris"}}
NOT_FOUND = {"en": "The articles don't say: {parts}.", "id": "Artikel-artikel tidak menyebutkan: {parts}."}


@dataclass(frozen=True)
class AnswerPolicy:
    answer_at: float  # refuse when the best span's margin over no-answer is below this
    more_at: float  # further spans at least this good add their sentences
    pool: int  # passages the reader reads (and reranks) per question
    # never quote a sentence about a rival of something the question names (:func:`rival_name`): "Pulau Weh"'s
    # ferry price is not an answer about "Pulau Rubiah"; refused when no other sentence scores enough
    skip_rivals: bool = False
    # the refusal threshold for a question in another language than the passage it would quote (the reader is
    # less sure across languages: it was trained on same-language pairs only); None = ``answer_at``
    answer_at_cross: float | None = None
    # further spans must also score within this much of the best one (None: no such bound): a second sentence only
    # where the reader is nearly as sure of it as of the first
    more_within: float | None = None
    # when fitted, refusal reads the probability that the best answer is right (:mod:`assistant.answer_confidence`)
    # instead of the margin alone; ``answer_at`` still governs the parts of a multi-part question and the others
    confidence: Confidence | None = None
    # which span leads: the reader's best margin ("margin"), or the likeliest right by the confidence model
    # ("confidence": a span in the passage that names what the question names can win over a higher margin)
    lead_by: str = "margin"
    # each part of a multi-part question is read over this many of the best passages (None: all of them)
    parts_pool: int | None = None
    # a reason question ("mengapa", "why") also quotes the sentence after the lead's, same article: news states what
    # happened, then why (the reader, trained on factoids, tends to pick the statement the question restates)
    reason_next: bool = False
    figures: dict[str, Any] = field(default_factory=dict)


@lru_cache(maxsize=1)
def load_policy(path: Path = POLICY_PATH) -> AnswerPolicy:
    raw = json.loads(path.read_text(encoding="utf-8"))
    optional = {k: raw[k] for k in ("answer_at_cross", "more_within", "parts_pool", "reason_next")
                if raw.get(k) is not None}
    conf = raw.get("confidence")
    return AnswerPolicy(answer_at=float(raw["answer_at"]), more_at=float(raw["more_at"]), pool=int(raw["pool"]),
                        skip_rivals=bool(raw.get("skip_rivals", False)),
                        confidence=None if conf is None else Confidence.from_json(conf),
                        lead_by=str(raw.get("lead_by", "margin")), figures=raw.get("figures", {}), **optional)


@dataclass(frozen=True)
class Pick:
    n: int  # 1-based rank of the passage it comes from
    start: int  # offsets into the article text
    end: int
    text: str
    score: float  # the reader's margin for the span in it


@dataclass
class ReaderAnswer:
    picks: list[Pick]
    abstained: bool
    score: float  # the best span's margin over no-answer
    lead: str = ""  # the best span itself, when short enough to lead the quote
    reason: str = ""
    missing: list[str] = field(default_factory=list)  # parts of a multi-part question left unanswered

    def answer_text(self, passages: list[Passage], language: str, by_article: bool = False) -> str:
        """The quotes with their markers, the lead span first; quotes in another language than ``language`` framed
        in its words; each quote labelled with its outlet when ``by_article``."""
        foreign = sorted({quote_language(p.text, passages[p.n - 1].language) for p in self.picks} - {language})
        parts = []
        for p in self.picks:
            src = passages[p.n - 1]
            label = f"{src.outlet or _short(src.title) or src.source}: " if by_article else ""
            quote = f"“{p.text}”" if foreign else p.text
            parts.append(f"{label}{quote} [{p.n}]")
        text = " ".join(parts)
        if foreign:
            names = " / ".join(LANGUAGE_NAMES[language].get(f, f) for f in foreign)
            text = LEADS[language].format(languages=names) + " " + text
        if self.lead:
            text = f"{self.lead} — {text}"
        if self.missing:
            text += " " + NOT_FOUND[language].format(parts="; ".join(f"“{m}”" for m in self.missing))
        return text


# A sentence that continues an enumeration: an ordinal or a list marker at its start (ID and EN).
_ENUMERATES = re.compile(r"^\W*(?:\d{1,2}[.)]|[-•*–]|\(?[a-h]\)|pertama|kedua|ketiga|keempat|kelima|keenam|"
                         r"terakhir|selain itu|kemudian|lalu|juga|first|second|third|fourth|fifth|finally|also|"
                         r"then|next|another)\b", re.I)
# A sentence that is a list itself: two commas, or a comma before a final "and" ("A, B dan C"; ID and EN).
_LISTS = re.compile(r",[^,]+,|,[^,]*\b(?:dan|serta|atau|and|or)\b", re.I)


def _list_continuation(sents: list[Sentence], lead: Sentence) -> list[Sentence]:
    """The sentences after ``lead`` (same article, reading order) that carry on the list it opens: each starting
    with an ordinal or a list marker, all of them after a sentence ending in a colon, or the rest of its paragraph
    when ``lead`` opens the paragraph without listing anything itself (news paragraphs that open with a summary go
    on with its particulars)."""
    text = lead.passage.document or ""
    start_in_doc = lead.start
    opens = not text or not text[text.rfind("\n", 0, start_in_doc) + 1 : start_in_doc].strip()
    introduces = opens and not _LISTS.search(lead.text)
    after = sorted((s for s in sents if s.passage.source == lead.passage.source and s.start >= lead.end),
                   key=lambda s: s.start)
    out: list[Sentence] = []
    prev = lead
    for s in after:
        if any(o.start == s.start for o in out):
            continue
        same_paragraph = not text or "\n" not in text[prev.end : s.start]
        if not (_ENUMERATES.match(s.text) or lead.text.rstrip().endswith(":") or (introduces and same_paragraph)):
            break
        out.append(s)
        prev = s
    return out


def _next_sentence(sents: list[Sentence], lead: Sentence) -> Sentence | None:
    """The quotable sentence right after ``lead`` in its article, where a handed passage holds it."""
    after = [s for s in sents if s.passage.source == lead.passage.source and s.start >= lead.end]
    return min(after, key=lambda s: s.start, default=None)


def _short(title: str | None, words: int = 8) -> str | None:
    parts = (title or "").split()
    return None if not parts else " ".join(parts[:words]) + ("…" if len(parts) > words else "")


def read_and_rerank(model: ReaderModel, question: str, pool: list[Passage], top_k: int
                    ) -> tuple[list[int], list[list[Span]]]:
    """The reader over ``pool``: the indexes of the ``top_k`` passages by best span margin (ties: pool order) and
    every pool passage's spans."""
    spans = model.read(question, [p.text for p in pool])
    return rerank_order(spans)[:top_k], spans


def rerank_order(spans: list[list[Span]]) -> list[int]:
    """Passage indexes by their best span's margin, best first (ties: pool order; a passage without spans last).

    >>> rerank_order([[], [Span(0, 1, 0.5, 0.0)], [Span(0, 1, 2.0, 0.0)]])
    [2, 1, 0]
    """
    best = [s[0].score if s else float("-inf") for s in spans]
    return sorted(range(len(spans)), key=lambda i: (-best[i], i))


# Two capitalised words in a row ("Pulau Rubiah", "Dinas Kesehatan"): a name and the word that tells it apart.
_NAME_PAIR = re.compile(r"(?<![\w'’-])(?=([A-Z][\w'’-]*)\s+([A-Z][\w'’-]*))")


def rival_name(question: str, sentence: str) -> str | None:
    """The name ``sentence`` puts where the question has one of its own ("Pulau Weh" for a question about
    "Pulau Rubiah"), or None: the sentence holds the first word of a two-word name of the question (not the
    question's opening word) followed by a capitalised word the question does not have, and lacks the name's second
    word altogether (a question naming two ministries, "Keuangan Malaysia" and "Keuangan Singapura", has no rival
    in either).

    >>> rival_name("Berapa harga tiket ke Pulau Rubiah?", "Tiket ke Pulau Weh naik menjadi Rp 42.000.")
    'Pulau Weh'
    >>> rival_name("Berapa harga tiket ke Pulau Rubiah?", "Dari Pulau Weh ke Pulau Rubiah tarifnya Rp 60.000.")
    """
    opening = re.match(r"\W*", question)
    own = {w.casefold() for w in re.findall(r"[\w'’-]+", question)}
    for m in _NAME_PAIR.finditer(question):
        if m.start() == (opening.end() if opening else 0):
            continue
        head, name = m.group(1), m.group(2)
        if re.search(rf"(?<!\w){re.escape(name)}(?!\w)", sentence, re.I):
            continue
        for other in re.finditer(rf"(?<!\w){re.escape(head)}\s+([A-Z][\w'’-]*)", sentence):
            if other.group(1).casefold() not in own:
                return f"{head} {other.group(1)}"
    return None


def _no_rivals(question: str, scored: list[tuple[float, Span, Sentence]]) -> list[tuple[float, Span, Sentence]]:
    return [t for t in scored if rival_name(question, t[2].text) is None]


def _sentence_of(sents: list[Sentence], n: int, p: Passage, span: Span) -> Sentence | None:
    at = p.start + span.start
    for s in sents:
        if s.n == n and s.start <= at < s.end:
            return s
    return None


def _scored(sents: list[Sentence], passages: list[Passage], spans: list[list[Span]]
            ) -> list[tuple[float, Span, Sentence]]:
    out = []
    for n, (p, mine) in enumerate(zip(passages, spans, strict=True), start=1):
        for sp in mine:
            s = _sentence_of(sents, n, p, sp)
            if s is not None:  # a span outside the quotable sentences (withheld, headline) is never an answer
                out.append((sp.score, sp, s))
    out.sort(key=lambda t: -t[0])
    return out


def compose(info: QuestionInfo, passages: list[Passage], spans: list[list[Span]], policy: AnswerPolicy,
            model: ReaderModel | None = None, sents: list[Sentence] | None = None) -> ReaderAnswer:
    """The answer from the reader's spans over ``passages`` (see the module docstring); ``model`` reads each part
    of a multi-part question (without it, parts are not read separately); ``sents``: ``passages``' candidate
    sentences when the caller has them already."""
    sents = candidate_sentences(passages) if sents is None else sents
    scored = _scored(sents, passages, spans)
    if policy.skip_rivals:
        scored = _no_rivals(info.text, scored)
    if scored and policy.confidence is not None and policy.lead_by == "confidence":
        conf = policy.confidence
        probs = [conf.probability(features(info, sp, st, st.passage)) for _, sp, st in scored]
        first = max(range(len(scored)), key=lambda i: (probs[i], -i))
        scored = [scored[first], *scored[:first], *scored[first + 1 :]]
    if scored and policy.answer_at_cross is not None and scored[0][2].passage.language != info.language:
        policy = replace(policy, answer_at=policy.answer_at_cross)
    asks = list(info.asks) if model is not None and len(info.asks) > 1 else []
    part_best: list[tuple[str, tuple[float, Span, Sentence] | None]] = []
    ask_over = passages[: policy.parts_pool] if policy.parts_pool else passages
    for ask in asks:
        mine = _scored(sents, ask_over, model.read(ask.text, [p.text for p in ask_over]))  # type: ignore[union-attr]
        if policy.skip_rivals:
            mine = _no_rivals(ask.text, mine)
        part_best.append((ask.text, mine[0] if mine else None))
    answered = [(t, b) for t, b in part_best if b is not None and b[0] >= policy.answer_at]
    best = scored[0][0] if scored else float("-inf")
    top_ok, why = best >= policy.answer_at, f"reader margin {best:.2f} < {policy.answer_at:.2f}"
    if scored and policy.confidence is not None:
        prob = policy.confidence.probability(features(info, scored[0][1], scored[0][2], scored[0][2].passage))
        top_ok, why = prob >= policy.confidence.answer_p, f"confidence {prob:.2f} < {policy.confidence.answer_p:.2f}"
    if not top_ok and not answered:
        return ReaderAnswer([], True, best, reason=why)
    missing: list[str] = []
    chosen: list[tuple[float, Span, Sentence]] = []
    if top_ok:
        chosen.append(scored[0])
    else:  # refused as a whole, not in every part: the parts that pass lead, the others are named
        missing = [t for t, b in part_best if b is None or b[0] < policy.answer_at]
    for _, b in answered:
        if b is not None and all(b[2] is not c[2] for c in chosen):
            chosen.append(b)
    def add(item: tuple[float, Span, Sentence]) -> None:
        if len(chosen) < MAX_SENTENCES and all(item[2].start != c[2].start or item[2].n != c[2].n for c in chosen):
            chosen.append(item)

    if info.is_("compare"):  # each other article's best span, where that article would be answered on its own
        seen = {chosen[0][2].passage.source} if chosen else set()
        for item in scored:
            src = item[2].passage.source
            if src not in seen and item[0] >= policy.answer_at:
                add(item)
            seen.add(src)
    if info.is_("list") and chosen:  # the items that follow the sentence introducing them
        for s in _list_continuation(sents, chosen[0][2]):
            add((chosen[0][0], chosen[0][1], s))
    if policy.reason_next and info.is_("reason") and chosen:
        nxt = _next_sentence(sents, chosen[0][2])
        if nxt is not None:
            add((chosen[0][0], chosen[0][1], nxt))
    for item in scored[1:]:
        if item[0] < policy.more_at or (policy.more_within is not None and item[0] < best - policy.more_within):
            break
        add(item)
    lead_span, lead_sent = chosen[0][1], chosen[0][2]
    p = lead_sent.passage
    lead = p.text[lead_span.start : lead_span.end].strip()
    if (len(lead.split()) > LEAD_WORDS or info.is_("list") or info.is_("reason")
            or lead.casefold() == lead_sent.text.strip().casefold()):
        lead = ""
    chosen.sort(key=lambda c: (c[2].n, c[2].start))
    picks = [Pick(s.n, s.start, s.end, s.text, round(sc, 4)) for sc, _, s in chosen]
    return ReaderAnswer(picks, False, max(best, max((b[0] for _, b in answered if b), default=best)), lead,
                        missing=missing)


def rerank(model: ReaderModel, result: RetrievalResult, top_k: int) -> RetrievalResult:
    """``result`` with its passages replaced by the reader's ``top_k`` best of its pool (the pool: what retrieval
    ran on to; the passages themselves without one), each with its spans in ``spans``."""
    pool = result.pool or result.passages
    reasons = result.pool_reasons or result.reasons
    scores = result.scores + [result.scores[-1] if result.scores else 0.0] * (len(pool) - len(result.scores))
    if result.pool:
        scores = [c.score for c in reasons]
    order, spans = read_and_rerank(model, result.question.text, pool, top_k)
    return replace(result, passages=[pool[i] for i in order], scores=[scores[i] for i in order],
                   reasons=[reasons[i] for i in order] if reasons else [], spans=[spans[i] for i in order])
