"""The Evaluation tab's work: run a question set into the runs folder, tabulate and chart a run, compare two runs.

Everything here returns plain values (rows of strings, pandas frames); :mod:`ui.eval_tab` lays them out.
Numbers are formatted once, here, with the report's :func:`~assistant.evaluation.report.fmt` (3 decimals).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from assistant.chain import Assistant
from assistant.evaluation.charts import latency_bins, metric_bars
from assistant.evaluation.commands import compare
from assistant.evaluation.dataset import load_items
from assistant.evaluation.report import fmt, fmt_n
from assistant.evaluation.runner import new_run_dir, run_eval, with_live_status

__all__ = ["BUNDLED_SET", "QUESTION_HEADERS", "QUESTION_WIDTHS", "run_set", "metric_rows", "question_rows",
           "metric_chart", "latency_chart", "list_runs", "compare_runs"]

BUNDLED_SET = Path(__file__).resolve().parent.parent / "data" / "eval" / "dev.jsonl"
QUESTION_WIDTHS: list[str | int] = ["7%", "5%", "7%", "22%", "24%", "11%", 64, 64, 64, 64]  # numbers: px
QUESTION_HEADERS = ["id", "pass", "failure", "question", "answer", "reference", "hit@k", "MRR", "F1", "ms"]
COMPARE_HEADERS = ["metric", "A", "B", "B − A"]


def _cell(value: Any) -> Any:
    """A table cell: numbers as fixed-decimal text (never ``0.16666``), missing as ``-``."""
    return fmt(value) if value is None or isinstance(value, (int, float)) else value


def _metric_cell(group: dict[str, Any], name: str) -> Any:
    """A metric's cell with the number of questions behind it (``0.500 (n=2)``) where the run recorded it."""
    value = group.get(name)
    return fmt_n(group, name) if isinstance(value, (int, float)) and not isinstance(value, bool) else _cell(value)


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
    rows = [[name, *(_metric_cell(g, name) for _, g in groups)] for name in names]
    failures = (metrics.get("overall") or {}).get("failures")
    if isinstance(failures, dict):
        rows.append(["failures", ", ".join(f"{k} {v}" for k, v in failures.items()), *[""] * (len(groups) - 1)])
    return ["metric", *(name for name, _ in groups)], rows


def _results(out_dir: Path) -> list[dict[str, Any]]:
    path = Path(out_dir) / "results.jsonl"
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def question_rows(out_dir: Path) -> list[list[Any]]:
    return [[r.get("id"), "yes" if r.get("pass") else "NO", r.get("failure") or r.get("error") or "",
             r.get("question"), r.get("answer"), r.get("reference"), _cell(r.get("hit_at_k")), _cell(r.get("mrr")),
             _cell(r.get("token_f1")), _cell(r.get("latency_ms"))] for r in _results(out_dir)]


def metric_chart(summary: dict[str, Any], metric: str) -> pd.DataFrame:
    """Bars of one main metric: overall, then each question type (columns ``group``, ``value``, ``n``)."""
    rows = metric_bars(summary, (metric,))
    return pd.DataFrame({"group": [r["group"] for r in rows], "value": [round(r["value"], 3) for r in rows],
                         "n": [r["n"] for r in rows]})


def latency_chart(out_dir: Path) -> pd.DataFrame:
    """The latency histogram of a run (columns ``ms`` = bin label, ``questions`` = count), lowest bin first."""
    bins = latency_bins([float(r["latency_ms"]) for r in _results(out_dir) if r.get("latency_ms") is not None])
    return pd.DataFrame({"ms": [b["label"] for b in bins], "questions": [b["count"] for b in bins]})


def run_set(assistant: Assistant, path: Path, runs_dir: Path, progress: Callable[[int, int], None] | None = None
            ) -> tuple[dict[str, Any], Path]:
    """Run the question set at ``path`` into a new folder under ``runs_dir``; returns the summary and the folder."""
    items = load_items(path)
    out_dir = new_run_dir(runs_dir, path)
    summary = run_eval(assistant, items, out_dir, workers=1, progress=progress, dataset=path.name)
    return summary, out_dir


def list_runs(runs_dir: Path) -> list[tuple[str, str]]:
    """The run folders under ``runs_dir`` (those holding summary.json and results.jsonl), newest first, as
    ``(label, path)`` pairs: ``20261127-141502-dev — dev.jsonl, 30 q, pass 0.633``."""
    root = Path(runs_dir)
    if not root.is_dir():
        return []
    found = []
    for folder in root.iterdir():
        summary_path = folder / "summary.json"
        if not (summary_path.is_file() and (folder / "results.jsonl").is_file()):
            continue
        try:
            s = with_live_status(json.loads(summary_path.read_text(encoding="utf-8")))
            label = (f"{folder.name} — {s.get('dataset') or '?'}, {s.get('questions', '?')} q, pass "
                     f"{fmt(((s.get('metrics') or {}).get('overall') or {}).get('pass_rate'))}")
            if s.get("status", "complete") != "complete":
                label += f" ({s['status']})"
        except (OSError, ValueError, AttributeError):
            continue
        found.append((summary_path.stat().st_mtime, folder.name, label, str(folder)))
    found.sort(reverse=True)
    return [(label, path) for _, _, label, path in found]


def compare_runs(run_a: str, run_b: str, runs_dir: Path) -> tuple[list[list[str]], str]:
    """Metric deltas (rows for :data:`COMPARE_HEADERS`, B minus A) and a markdown list of the questions that flipped,
    through the same code as ``assistant eval compare A B``. Only folders under ``runs_dir`` are read."""
    from assistant.errors import BadInput

    root = Path(runs_dir).resolve()
    for run in (run_a, run_b):
        if not run or root not in Path(run).resolve().parents:
            raise BadInput("pick two runs from the lists (refresh them after a run made elsewhere)")
    c = compare(Path(run_a), Path(run_b))
    rows = [[k, fmt(d["a"]), fmt(d["b"]), "-" if d["delta"] is None else
             (f"{d['delta']:+.0f}" if k.startswith("latency") else f"{d['delta']:+.3f}")]
            for k, d in c["metrics"].items()]
    broken = ", ".join(f"{b['id']} ({b['failure']})" for b in c["broken"])
    lines = [f"**Fixed** (fail → pass, {len(c['fixed'])}): {', '.join(c['fixed']) or 'none'}",
             f"**Broken** (pass → fail, {len(c['broken'])}): {broken or 'none'}"]
    if c["only_in_a"] or c["only_in_b"]:
        lines.append(f"Only in A: {len(c['only_in_a'])} questions · only in B: {len(c['only_in_b'])} questions")
    lines += [f"Setting `{k}`: `{a}` → `{b}`" for k, (a, b) in c["settings_changed"].items()]
    return rows, "\n\n".join(lines)
