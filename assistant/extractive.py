"""The offline answerer: quotes the retrieved sentences that answer the question, each with its [n], or refuses.

1. Every sentence of the retrieved passages is described by :mod:`assistant.sentence_features` and scored by the
   fitted sentence scorer (:mod:`assistant.answer_model`); the best one leads.
2. **Refusal**: the fitted refusal model turns what the best sentences look like into the probability that this
   answer is right; below the threshold chosen on held-out data the answer is refused.
3. More sentences where the question asks for more:
   * when the best sentence lacks the sign the question type asks for (a cause for why, a number for how many…),
     the best-scored sentence next to it (two either side, same passage) that carries it;
   * comparison / each-article questions: the best sentence of every other article among the passages that
     would be answered on its own (its probability judged within its article);
   * list questions: the sentences after the best one (in its article, across passages) that continue its
     enumeration ("Pertama, …", "Kedua, …", "- …", or anything after a sentence ending in a colon), and, when the
     best one opens its paragraph without listing anything itself, the rest of that paragraph (news paragraphs
     that open with a summary go on with its particulars);
   * multi-part questions: the best sentence for each part (:mod:`assistant.subqueries`), scored for the part alone
     and judged by the refusal model on its own; a part it would refuse gets no quote. A question refused as a whole
     is still answered for the parts that pass, and the others are named as not found ("The articles don't say:
     …"): the refusal it would have had, narrowed to them. (When the whole passes, nothing is said about a failing
     part: the quotes chosen for the whole may answer it.)

No constant here is set by hand on any question set: the weights and the threshold come from the fitted file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from assistant.answer_model import AnswerModel, question_features
from assistant.question import QuestionInfo
from assistant.sentence_features import SENTENCE_FEATURES, Sentence, candidate_sentences, sentence_features
from index.language import quote_language
from index.reader import IndexReader, Passage

__all__ = ["Pick", "ExtractiveResult", "answer_extractively"]

MAX_SENTENCES = 4  # the longest answer quoted (list, reason and comparison answers)
# The words around quotes in another language than the answer's (the answer-language setting governs them).
LEADS = {"en": "The articles say (in {languages}):", "id": "Menurut artikel (dalam bahasa {languages}):"}
LANGUAGE_NAMES = {"en": {"id": "Indonesian", "en": "English"}, "id": {"id": "Indonesia", "en": "Inggris"}}
# The parts of a multi-part question the articles do not answer, named after the quotes for the others.
NOT_FOUND = {"en": "The articles don't say: {parts}.", "id": "Artikel-artikel tidak menyebutkan: {parts}."}


@dataclass(frozen=True)
class Pick:
    n: int  # 1-based rank of the passage it comes from
    start: int  # offsets into the article text
    end: int
    text: str


@dataclass
class ExtractiveResult:
    picks: list[Pick]
    abstained: bool
    probability: float  # P(the answer is right) by the fitted refusal model
    reason: str = ""
    missing: list[str] = field(default_factory=list)  # the parts of a multi-part question left unanswered

    def answer_text(self, passages: list[Passage], language: str, by_article: bool = False) -> str:
        """The quotes with their markers; in ``language``'s words around quotes in another language
        (``The articles say (in Indonesian): "…" [1]``); each quote labelled with its outlet when ``by_article``."""
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
        if self.missing:
            text += " " + NOT_FOUND[language].format(parts="; ".join(f"“{m}”" for m in self.missing))
        return text


def _short(title: str | None, words: int = 8) -> str | None:
    parts = (title or "").split()
    return None if not parts else " ".join(parts[:words]) + ("…" if len(parts) > words else "")


# A sentence that continues an enumeration: an ordinal or a list marker at its start (ID and EN).
_ENUMERATES = re.compile(r"^\W*(?:\d{1,2}[.)]|[-•*–]|\(?[a-h]\)|pertama|kedua|ketiga|keempat|kelima|keenam|"
                         r"terakhir|selain itu|kemudian|lalu|juga|first|second|third|fourth|fifth|finally|also|"
                         r"then|next|another)\b", re.I)


# A sentence that is a list itself: two commas, or a comma before a final "and" ("A, B dan C"; ID and EN).
_LISTS = re.compile(r",[^,]+,|,[^,]*\b(?:dan|serta|atau|and|or)\b", re.I)


@dataclass(frozen=True)
class _Ask:
    """One ask of a multi-part question, judged alone: its sentence scores and the refusal model's probability."""

    text: str
    logits: np.ndarray
    p_right: float


def _opens_paragraph(text: str, start: int) -> bool:
    """True when only white space stands between the paragraph's start (a line break) and ``start``."""
    return not text[text.rfind("\n", 0, start) + 1 : start].strip()


def _next_in_article(sents: list[Sentence], i: int) -> int | None:
    """The candidate sentence that follows sentence ``i`` in its article (across passages of that article)."""
    after = [j for j in range(len(sents)) if sents[j].passage.source == sents[i].passage.source
             and sents[j].start >= sents[i].end]
    return min(after, key=lambda j: sents[j].start) if after else None


def answer_extractively(info: QuestionInfo, passages: list[Passage], reader: IndexReader, query_vector: np.ndarray,
                        passage_scores: list[float], model: AnswerModel) -> ExtractiveResult:
    """Choose 1–4 sentences of ``passages`` that answer ``info`` (or refuse)."""
    sents = candidate_sentences(passages)
    if not sents:
        return ExtractiveResult([], True, 0.0, "no sentences retrieved")
    vectors: dict[str, np.ndarray] = {}
    x = sentence_features(info, sents, reader, query_vector, passage_scores, vectors, model.dense_pool)
    scorer = model.scorer(cross_language=any(p.language != info.language for p in passages))
    logits = scorer.sentence_logits(x)
    if info.is_("compare"):  # each article is expected to answer: each one's best is judged within its article
        article_p = {}
        for src in dict.fromkeys(s.passage.source for s in sents):
            own = np.asarray([s.passage.source == src for s in sents])
            article_p[src] = scorer.answer_probability(question_features(x[own], logits[own], passage_scores))
        p_right = max(article_p.values())
    else:
        p_right = scorer.answer_probability(question_features(x, logits, passage_scores))
    # each ask of a multi-part question: its best sentence and the refusal model's verdict on it alone
    asks = []
    for part in info.asks:
        px = sentence_features(part, sents, reader, reader.embedder.embed_query(part.text), passage_scores, vectors,
                               model.dense_pool)
        part_logits = scorer.sentence_logits(px)
        asks.append(_Ask(part.text, part_logits,
                         scorer.answer_probability(question_features(px, part_logits, passage_scores))))
    answered = [a for a in asks if a.p_right >= scorer.answer_at]
    missing: list[str] = []
    if p_right < scorer.answer_at and not answered:
        return ExtractiveResult([], True, p_right, f"P(answer right) {p_right:.2f} < {scorer.answer_at:.2f}")
    if p_right < scorer.answer_at:  # refused as a whole, not in every part: lead with the surest part's answer
        missing = [a.text for a in asks if a.p_right < scorer.answer_at]
        surest = max(answered, key=lambda a: a.p_right)
        logits, p_right = surest.logits, surest.p_right

    order = [int(i) for i in np.argsort(-logits)]
    if info.is_("compare"):  # lead with the best sentence of an article that answers
        order = [i for i in order if article_p[sents[i].passage.source] >= scorer.answer_at] + [
            i for i in order if article_p[sents[i].passage.source] < scorer.answer_at]
    chosen = [order[0]]
    best = sents[order[0]]
    # The sign the question asks for (a cause for mengapa/why, a number for berapa…) is often in the sentence next
    # to the claim that matches the question best: take the best-scored neighbour that carries it.
    typed = [i for i, f in enumerate(SENTENCE_FEATURES) if f.startswith("type_")]
    if x[order[0], typed].max() == 0:
        near = [i for i in range(len(sents)) if sents[i].n == best.n and 0 < abs(sents[i].index - best.index) <= 2
                and x[i, typed].max() > 0]
        if near:
            chosen.append(max(near, key=lambda i: logits[i]))
    if info.is_("compare"):  # each other article's best sentence, where that article would be answered on its own
        seen = {best.passage.source}
        for i in order[1:]:
            src = sents[i].passage.source
            if len(chosen) < MAX_SENTENCES and src not in seen and article_p[src] >= scorer.answer_at:
                chosen.append(i)
            seen.add(src)
    if info.is_("list"):  # the items that follow the sentence introducing them, across its article's passages
        text = reader.document_text(best.passage.source)
        # a sentence that opens its paragraph without listing anything itself introduces the rest of the paragraph
        introduces = _opens_paragraph(text, best.start) and not _LISTS.search(best.text)
        nxt = _next_in_article(sents, order[0])
        while (nxt is not None and len(chosen) < MAX_SENTENCES
               and (_ENUMERATES.match(sents[nxt].text) or best.text.rstrip().endswith(":")
                    or (introduces and "\n" not in text[best.end : sents[nxt].start]))):
            chosen.append(nxt)
            nxt = _next_in_article(sents, nxt)
    for ask in answered:  # a quote for each ask the refusal model would answer on its own
        if len(chosen) >= MAX_SENTENCES:
            break
        j = int(np.argmax(ask.logits))
        if all(sents[j].text != sents[c].text for c in chosen):
            chosen.append(j)
    chosen.sort(key=lambda i: (sents[i].n, sents[i].start))  # reading order within a passage, passages by rank
    picks = [Pick(sents[i].n, sents[i].start, sents[i].end, sents[i].text) for i in chosen]
    return ExtractiveResult(picks, False, p_right, missing=missing)

