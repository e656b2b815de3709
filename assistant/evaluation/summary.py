"""Summing up a run's rows: every metric's mean (with the number of questions it is over), overall, per question
type, per language and per conversation kind."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from assistant.evaluation import metrics as m
from assistant.evaluation.scoring import METRIC_KEYS

__all__ = ["summarize", "conversation_summary"]


def _metric_value(row: dict[str, Any], key: str) -> Any:
    value = row.get(key)
    if value is None and key == "answer_correct" and row.get("error") and row["answerable"] and row["reference"]:
        return False  # an error row written before errors were scored as failures
    return value


def _group(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The metrics of ``rows``; ``n_of`` gives, per metric, how many questions it is the mean over. A question that
    raised counts as not correct in answer_correct, accuracy and pass_rate (and as a miss in retrieval metrics);
    the abstention rates and answer_precision are over the questions that got an answer or a refusal."""
    out: dict[str, Any] = {"n": len(rows), "n_answerable": sum(r["answerable"] for r in rows)}
    out["n_unanswerable"] = out["n"] - out["n_answerable"]
    n_of: dict[str, int] = {}
    for key in METRIC_KEYS:
        vals = [float(v) for r in rows if (v := _metric_value(r, key)) is not None]
        out[key] = round(sum(vals) / len(vals), 4) if vals else None
        n_of[key] = len(vals)
    ran = [r for r in rows if not r.get("error")]
    shares = m.abstention_metrics([(r["answerable"], r["abstained"], bool(r["pass"])) for r in ran])
    shares["accuracy"] = m.abstention_metrics(  # every question: one that raised was not answered right
        [(r["answerable"], r["abstained"] and not r.get("error"), bool(r["pass"])) for r in rows])["accuracy"]
    out.update({k: None if v is None else round(v, 4) for k, v in shares.items()})
    n_of.update({"abstention_rate": sum(not r["answerable"] for r in ran),
                 "false_abstention_rate": sum(bool(r["answerable"]) for r in ran),
                 "answer_precision": sum(not r["abstained"] for r in ran), "accuracy": len(rows),
                 "pass_rate": len(rows)})
    out["n_of"] = n_of
    lat = [r["latency_ms"] for r in rows]
    for p in (50, 95):
        v = m.percentile(lat, p)
        out[f"latency_p{p}_ms"] = None if v is None else round(v, 1)
    out["pass_rate"] = round(sum(r["pass"] for r in rows) / len(rows), 4) if rows else None
    out["failures"] = {f: sum(r["failure"] == f for r in rows) for f in ("retrieval", "answer", "abstention", "error")}
    return out


def _rate(values: Sequence[Any]) -> float | None:
    known = [bool(v) for v in values if v is not None]
    return round(sum(known) / len(known), 4) if known else None


def conversation_summary(rows: Sequence[dict[str, Any]]) -> dict[str, Any] | None:
    """For the rows tagged follow-up or topic switch: the share of right rewrite decisions (a follow-up rewritten, a
    topic switch searched as typed) and the answers' accuracy, overall and per kind; None when no row is tagged."""
    tagged = [r for r in rows if r.get("follow_up") is not None]
    if not tagged:
        return None

    def group(rs: list[dict[str, Any]]) -> dict[str, Any]:
        return {"n": len(rs), "rewrite_decision_accuracy": _rate([r.get("rewrite_correct") for r in rs]),
                "rewritten_rate": _rate([r.get("rewritten") for r in rs]),
                "answer_correct": _rate([r.get("answer_correct") for r in rs]),
                "pass_rate": _rate([r.get("pass") for r in rs]),
                "wrong_decisions": [r["id"] for r in rs if r.get("rewrite_correct") is False]}

    return {**group(tagged), "follow_up": group([r for r in tagged if r["follow_up"]]),
            "topic_switch": group([r for r in tagged if not r["follow_up"]])}


def summarize(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Every metric overall, per question type and per language (and per conversation kind, when tagged)."""
    by = lambda key: {v: _group([r for r in rows if r[key] == v]) for v in sorted({r[key] for r in rows})}  # noqa: E731
    out = {"overall": _group(rows), "by_type": by("type"), "by_lang": by("lang")}
    conversation = conversation_summary(rows)
    if conversation is not None:
        out["conversation"] = conversation
    return out
