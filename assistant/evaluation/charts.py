"""Chart data of an evaluation run, as plain records: per-type bars of the main metrics and a latency histogram.

``report.html`` draws them as SVG and the UI's Evaluation tab with Gradio plots, from the same records:

>>> latency_bins([100.0, 110.0, 300.0], bins=2)[0]
{'from_ms': 100.0, 'to_ms': 200.0, 'label': '100–200', 'count': 2}
"""

from __future__ import annotations

from typing import Any

__all__ = ["CHART_METRICS", "metric_bars", "latency_bins"]

CHART_METRICS = ("hit_at_k", "answer_correct", "token_f1", "pass_rate")
"""The main metrics drawn per question type."""


def metric_bars(summary: dict[str, Any], metrics: tuple[str, ...] = CHART_METRICS) -> list[dict[str, Any]]:
    """One record ``{metric, group, n, value}`` per metric for ``overall`` and then each question type (a metric
    undefined for a group, such as hit@k of unanswerable questions, is left out)."""
    met = summary.get("metrics") or {}
    groups = {"overall": met.get("overall") or {}, **(met.get("by_type") or {})}
    return [{"metric": m, "group": name, "n": g.get("n", 0), "value": float(g[m])}
            for m in metrics for name, g in groups.items() if isinstance(g, dict) and g.get(m) is not None]


def latency_bins(values: list[float], bins: int = 12) -> list[dict[str, Any]]:
    """A histogram of latencies as ``{from_ms, to_ms, label, count}`` records, lowest first (empty for no values;
    one bin when all values are equal)."""
    if not values:
        return []
    lo, hi = min(values), max(values)
    if hi == lo:
        return [{"from_ms": lo, "to_ms": hi, "label": f"{lo:.0f}", "count": len(values)}]
    step = (hi - lo) / bins
    counts = [0] * bins
    for v in values:
        counts[min(bins - 1, int((v - lo) / step))] += 1
    return [{"from_ms": lo + i * step, "to_ms": lo + (i + 1) * step,
             "label": f"{lo + i * step:.0f}–{lo + (i + 1) * step:.0f}", "count": c} for i, c in enumerate(counts)]
