"""Scoring one question of a run: locate its evidence, compare the answer with the reference, score retrieval and
citations, and say why it failed; the row it becomes in ``results.jsonl``."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from assistant.evaluation import metrics as m
from assistant.evaluation.dataset import EvalItem

__all__ = ["evaluate_item", "error_row", "missing_sources", "text_getter", "METRIC_KEYS"]

# per-question metric values, averaged over the questions where they are defined
METRIC_KEYS = ("hit_at_k", "evidence_recall_at_k", "mrr", "ndcg_at_10", "answer_correct", "token_f1",
               "citation_exactness", "citation_precision", "citation_recall")


def text_getter(assistant: Any) -> Callable[[str], str | None]:
    def text_of(source: str) -> str | None:
        try:
            return assistant.reader.document_text(source)
        except KeyError:
            return None
    return text_of


def missing_sources(assistant: Any, items: Sequence[EvalItem]) -> list[str]:
    """Sources named by the question set that the index does not hold."""
    files = assistant.reader.state.files
    return sorted({s for it in items for s in it.sources if s not in files})


def _locate(item: EvalItem, passages: Sequence[m.Span], text_of: Callable[[str], str | None],
            corpus: Sequence[str]) -> list[m.Span | None]:
    """Evidence spans in the item's sources; without sources, in the retrieved articles first, then in the rest of
    the corpus (metrics only count passages of the same article, so where an unretrieved span lies does not change
    them; the whole-corpus search only tells "not retrieved" from "not in the corpus")."""
    if item.sources or not item.evidence:
        return m.evidence_spans(item.evidence, item.sources, text_of)
    retrieved = list(dict.fromkeys(p[0] for p in passages))
    spans = m.evidence_spans(item.evidence, retrieved, text_of)
    if None in spans:
        seen = set(retrieved)
        rest = [s for s in corpus if s not in seen]
        spans = [s or m.evidence_spans([e], rest, text_of)[0] for e, s in zip(item.evidence, spans, strict=True)]
    return spans


def evaluate_item(item: EvalItem, answer: Any, latency_ms: float, text_of: Callable[[str], str | None],
                  k: int, corpus: Sequence[str] = ()) -> dict[str, Any]:
    """One ``results.jsonl`` row: the answer, its metric values, pass/fail and the failure attribution.

    Retrieval is scored on the evidence spans, or per article when only ``sources`` are given (a passage is relevant
    when it comes from a listed source), and not at all (None) with neither; the answer is scored when there is a
    reference answer or evidence. An answerable question with sources only passes when its sources are retrieved.
    """
    public = answer.public_dict()
    passages = [(p["source"], p["start"], p["end"]) for p in public["passages"]]
    ev = _locate(item, passages, text_of, corpus) if item.answerable else []
    cites = public["citations"]
    level = "evidence" if ev else "source" if item.answerable and item.sources else None
    if level == "source":  # article level: every span of a listed source counts
        ev = [(s, 0, 1) for s in item.sources]
        ret_passages = [(p[0], 0, 1) for p in passages]
        ret_cites = [{**c, "start": 0, "end": 1} for c in cites]
    else:
        ret_passages, ret_cites = passages, cites
    correct = m.answer_correct(answer.answer, answer.abstained, item.answer, item.answer_aliases,
                               item.evidence) if item.scores_answer else None
    hit = m.hit_at_k(ev, ret_passages, k)
    row = {
        "id": item.id, "question": item.question, "type": item.type, "lang": item.lang,
        "answerable": item.answerable, "reference": item.answer, "retrieval_level": level,
        "answer": answer.answer, "abstained": answer.abstained, "citations": cites,
        "passages": public["passages"], "latency_ms": round(latency_ms, 1), "timings_ms": answer.timings_ms,
        "evidence_located": sum(e is not None for e in ev) if level == "evidence" else 0,
        "evidence_total": len(ev) if level == "evidence" else 0,
        "hit_at_k": hit, "evidence_recall_at_k": m.evidence_recall_at_k(ev, ret_passages, k),
        "mrr": m.mrr(ev, ret_passages), "ndcg_at_10": m.ndcg_at_k(ev, ret_passages, 10),
        "answer_correct": correct,
        "token_f1": None if not (item.answerable and item.answer) else
        0.0 if answer.abstained else m.token_f1(answer.answer, item.answer),
        "citation_exactness": m.citation_exactness(cites, text_of),
        "citation_precision": m.citation_precision(ret_cites, ev), "citation_recall": m.citation_recall(ret_cites, ev),
    }
    row.update(_turn_fields(item, answer.standalone_question))
    row["pass"] = bool(answer.abstained) if not item.answerable else bool(correct) if item.scores_answer else bool(hit)
    row["failure"] = None if row["pass"] else (
        "abstention" if not item.answerable else "retrieval" if hit is False else "answer")
    row["error"] = None
    return row


def _turn_fields(item: EvalItem, standalone: str | None) -> dict[str, Any]:
    """The conversation columns of a row: what was searched, and whether the rewrite decision was the expected one."""
    rewritten = None if standalone is None else standalone != item.question
    return {"history": list(item.history), "standalone_question": standalone, "follow_up": item.follow_up,
            "rewritten": rewritten,
            "rewrite_correct": None if item.follow_up is None or rewritten is None else rewritten == item.follow_up}


def error_row(item: EvalItem, exc: Exception, latency_ms: float) -> dict[str, Any]:
    """The row of a question that raised: every metric its question is scored on counts as failed (an error is
    not a correct answer, nor a hit), so it stays in every denominator."""
    row: dict[str, Any] = {"id": item.id, "question": item.question, "type": item.type, "lang": item.lang,
                           "answerable": item.answerable, "reference": item.answer, "retrieval_level": None,
                           "answer": "", "abstained": False,
                           "citations": [], "passages": [], "latency_ms": round(latency_ms, 1), "timings_ms": {},
                           "evidence_located": 0, "evidence_total": 0}
    row.update(dict.fromkeys(METRIC_KEYS))
    if item.evidence or (item.answerable and item.sources):  # what evaluate_item scores retrieval on
        row.update({"hit_at_k": False, "evidence_recall_at_k": 0.0, "mrr": 0.0, "ndcg_at_10": 0.0,
                    "citation_recall": 0.0})
    if item.scores_answer:
        row["answer_correct"] = False
    if item.answerable and item.answer:
        row["token_f1"] = 0.0
    row.update(_turn_fields(item, None))
    row.update({"pass": False, "failure": "error", "error": f"{type(exc).__name__}: {exc}"})
    return row


