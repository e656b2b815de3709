"""The Evaluation tab's work: load a question set, run it through the assistant, tabulate the results."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from assistant.chain import Assistant
from assistant.evaluation.dataset import load_items
from assistant.evaluation.runner import run_eval

__all__ = ["BUNDLED_SET", "run_set", "metric_rows", "question_rows", "QUESTION_HEADERS"]

BUNDLED_SET = Path(__file__).resolve().parent.parent / "data" / "eval" / "dev.jsonl"
QUESTION_WIDTHS = ["7%", "5%", "7%", "25%", "25%", "13%", "4%", "4%", "4%", "6%"]
QUESTION_HEADERS = ["id", "pass", "failure", "question", "answer", "reference", "hit@k", "MRR", "F1", "latency ms"]


def _fmt(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, 3)
    return "—" if value is None else value


def metric_rows(summary: dict[str, Any]) -> tuple[list[str], list[list[Any]]]:
    """Headers and rows: one row per metric, columns overall then each question type and language."""
    metrics = summary.get("metrics") or {}
    groups: list[tuple[str, dict[str, Any]]] = [("overall", metrics.get("overall") or {})]
    for key in ("by_type", "by_lang"):
        label = "type" if key == "by_type" else "lang"
        groups += [(f"{label}: {name}", g) for name, g in (metrics.get(key) or {}).items()]
    names: list[str] = []
    for _, g in groups:
        names += [k for k, v in g.items() if k not in names and not isinstance(v, (dict, list))]
    rows = [[name, *(_fmt(g.get(name)) for _, g in groups)] for name in names]
    failures = (metrics.get("overall") or {}).get("failures")
    if isinstance(failures, dict):
        rows.append(["failures", ", ".join(f"{k} {v}" for k, v in failures.items()), *[""] * (len(groups) - 1)])
    return ["metric", *(name for name, _ in groups)], rows


def question_rows(out_dir: Path) -> list[list[Any]]:
    path = out_dir / "results.jsonl"
    if not path.is_file():
        return []
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        r = json.loads(line)
        rows.append([r.get("id"), "yes" if r.get("pass") else "NO", r.get("failure") or r.get("error") or "",
                     r.get("question"), r.get("answer"), r.get("reference"), _fmt(r.get("hit_at_k")),
                     _fmt(r.get("mrr")), _fmt(r.get("token_f1")), _fmt(r.get("latency_ms"))])
    return rows


def run_set(assistant: Assistant, path: Path, progress: Callable[[int, int], None] | None = None
            ) -> tuple[dict[str, Any], Path]:
    """Run the question set at ``path``; returns the summary and the folder holding report.html."""
    items = load_items(path)
    out_dir = Path(tempfile.mkdtemp(prefix="assistant-eval-"))
    summary = run_eval(assistant, items, out_dir, workers=1, progress=progress, dataset=path.name)
    return summary, out_dir
