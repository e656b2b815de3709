"""The offline answerer: quotes the retrieved sentences that answer the question, each with its [n], or refuses.

1. Every sentence of the retrieved passages is described by :mod:`assistant.sentence_features` and scored by the
   fitted sentence scorer (:mod:`assistant.answer_model`); the best one leads.
2. **Refusal**: the fitted refusal model turns what the best sentences look like into the probability that this
   answer is right; below the threshold chosen on held-out data the answer is refused.
3. More sentences where the question asks for more:
   * comparison / each-article questions: the best sentence of every other article among the passages;
   * list, reason and manner questions: the sentences that follow the best one in its passage, while each still
     scores above every sentence of the other passages (a list goes on after the sentence that introduces it; the
     reason often follows the claim);
   * multi-part questions: the best sentence for each part (:mod:`assistant.subqueries`) by the part's own terms.

No constant here is set by hand on any question set: the weights and the threshold come from the fitted file.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from assistant.answer_model import AnswerModel, question_features
from assistant.question import QuestionInfo, analyse_question
from assistant.sentence_features import Sentence, candidate_sentences, sentence_features
from assistant.subqueries import split_parts
from index.reader import IndexReader, Passage

__all__ = ["Pick", "ExtractiveResult", "answer_extractively"]

MAX_SENTENCES = 4  # the longest answer quoted (list, reason and comparison answers)
# The words around quotes in another language than the answer's (the answer-language setting governs them).
LEADS = {"en": "The articles say (in {languages}):", "id": "Menurut artikel (dalam bahasa {languages}):"}
LANGUAGE_NAMES = {"en": {"id": "Indonesian", "en": "English"}, "id": {"id": "Indonesia", "en": "Inggris"}}


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

    def answer_text(self, passages: list[Passage], language: str, by_article: bool = False) -> str:
        """The quotes with their markers; in ``language``'s words around quotes in another language
        (``The articles say (in Indonesian): "…" [1]``); each quote labelled with its outlet when ``by_article``."""
        foreign = sorted({passages[p.n - 1].language for p in self.picks} - {language})
        parts = []
        for p in self.picks:
            src = passages[p.n - 1]
            label = f"{src.outlet or src.title or src.source}: " if by_article else ""
            quote = f"“{p.text}”" if foreign else p.text
            parts.append(f"{label}{quote} [{p.n}]")
        text = " ".join(parts)
        if foreign:
            names = " / ".join(LANGUAGE_NAMES[language].get(f, f) for f in foreign)
            text = LEADS[language].format(languages=names) + " " + text
        return text


def _part_best(part: str, sents: list[Sentence], logits: np.ndarray, chosen: list[int]) -> int | None:
    terms = set(analyse_question(part).terms)
    if not terms:
        return None
    cover = [len(terms & s.terms) / len(terms) for s in sents]
    top = max(cover)
    if top == 0:
        return None
    best = max((i for i in range(len(sents)) if cover[i] == top), key=lambda i: logits[i])
    return None if best in chosen else best


def answer_extractively(info: QuestionInfo, passages: list[Passage], reader: IndexReader, query_vector: np.ndarray,
                        passage_scores: list[float], model: AnswerModel) -> ExtractiveResult:
    """Choose 1–4 sentences of ``passages`` that answer ``info`` (or refuse)."""
    sents = candidate_sentences(passages)
    if not sents:
        return ExtractiveResult([], True, 0.0, "no sentences retrieved")
    x = sentence_features(info, sents, reader, query_vector, passage_scores)
    logits = model.sentence_logits(x)
    p_right = model.answer_probability(question_features(x, logits, passage_scores))
    if p_right < model.answer_at:
        return ExtractiveResult([], True, p_right, f"P(answer right) {p_right:.2f} < {model.answer_at:.2f}")

    order = [int(i) for i in np.argsort(-logits)]
    chosen = [order[0]]
    best = sents[order[0]]
    if info.is_("compare"):
        seen = {best.passage.source}
        for i in order[1:]:
            if len(chosen) >= MAX_SENTENCES:
                break
            if sents[i].passage.source not in seen:
                seen.add(sents[i].passage.source)
                chosen.append(i)
    if info.is_("list") or info.is_("reason") or info.is_("manner"):
        elsewhere = max((logits[i] for i in order if sents[i].n != best.n), default=-np.inf)
        i = order[0] + 1
        while i < len(sents) and sents[i].n == best.n and logits[i] > elsewhere and len(chosen) < MAX_SENTENCES:
            chosen.append(i)
            i += 1
    for part in split_parts(info.text):
        j = _part_best(part, sents, logits, chosen)
        if j is not None and len(chosen) < MAX_SENTENCES:
            chosen.append(j)
    chosen.sort(key=lambda i: (sents[i].n, sents[i].start))  # reading order within a passage, passages by rank
    picks = [Pick(sents[i].n, sents[i].start, sents[i].end, sents[i].text) for i in chosen]
    return ExtractiveResult(picks, False, p_right)

