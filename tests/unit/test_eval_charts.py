"""Chart data of a run, the Evaluation tab's tables (fixed decimals) and its run list and comparison, on run folders
written here in the shape ``assistant eval`` writes them."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from assistant.errors import BadInput
from assistant.evaluation.charts import latency_bins, metric_bars
from assistant.evaluation.report import _histogram
from ui import eval_run

SUMMARY = {
    "dataset": "tiny.jsonl", "questions": 3,
    "metrics": {
        "overall": {"n": 3, "hit_at_k": 2 / 3, "answer_correct": 0.5, "token_f1": 0.16666, "pass_rate": 1 / 3,
                    "abstention_rate": None, "latency_p50_ms": 812.25, "failures": {"answer": 2}},
        "by_type": {"factoid": {"n": 2, "hit_at_k": 1.0, "answer_correct": 0.5, "token_f1": 0.25, "pass_rate": 0.5},
                    "unanswerable": {"n": 1, "hit_at_k": None, "answer_correct": None, "token_f1": 0.0,
                                     "pass_rate": 0.0}},
        "by_lang": {"id": {"n": 3, "hit_at_k": 2 / 3}},
    },
    "settings": {"top_k": 5},
}


def test_metric_bars_overall_first_then_types_skipping_undefined():
    bars = metric_bars(SUMMARY, ("hit_at_k", "pass_rate"))
    assert [(b["metric"], b["group"]) for b in bars] == [
        ("hit_at_k", "overall"), ("hit_at_k", "factoid"),
        ("pass_rate", "overall"), ("pass_rate", "factoid"), ("pass_rate", "unanswerable")]
    assert bars[0]["value"] == pytest.approx(2 / 3) and bars[0]["n"] == 3


def test_latency_bins():
    assert latency_bins([]) == []
    assert latency_bins([500.0, 500.0]) == [{"from_ms": 500.0, "to_ms": 500.0, "label": "500", "count": 2}]
    bins = latency_bins([100.0, 150.0, 199.0, 1300.0], bins=4)
    assert [b["count"] for b in bins] == [3, 0, 0, 1] and bins[0]["label"] == "100–400"
    assert bins[-1]["to_ms"] == 1300.0


def test_report_histogram_draws_the_same_bins():
    svg = _histogram([100.0, 150.0, 199.0, 1300.0])
    assert svg.count("<rect") == 12 and "1300 ms" in svg and "max count 3" in svg
    assert "no latencies" in _histogram([])


def test_tab_tables_show_fixed_decimals():
    headers, rows = eval_run.metric_rows(SUMMARY)
    assert headers == ["metric", "overall", "type: factoid", "type: unanswerable", "lang: id"]
    by_name = {r[0]: r[1:] for r in rows}
    assert by_name["token_f1"][:3] == ["0.167", "0.250", "0.000"]
    assert by_name["hit_at_k"] == ["0.667", "1.000", "-", "0.667"]
    assert by_name["n"][0] == "3" and by_name["latency_p50_ms"][0] == "812"
    assert by_name["failures"][0] == "answer 2"


def _write_run(folder: Path, results: list[tuple[str, bool, str | None]], pass_rate: float, top_k: int,
               mtime: float) -> Path:
    folder.mkdir(parents=True)
    summary = {**SUMMARY, "settings": {"top_k": top_k},
               "metrics": {**SUMMARY["metrics"], "overall": {**SUMMARY["metrics"]["overall"], "pass_rate": pass_rate}}}
    (folder / "summary.json").write_text(json.dumps(summary), encoding="utf-8")
    (folder / "results.jsonl").write_text("".join(
        json.dumps({"id": i, "pass": ok, "failure": why, "latency_ms": 800.0}) + "\n" for i, ok, why in results),
        encoding="utf-8")
    os.utime(folder / "summary.json", (mtime, mtime))
    return folder


@pytest.fixture
def runs(tmp_path):
    root = tmp_path / "runs"
    a = _write_run(root / "20260101-100000-tiny", [("q1", False, "answer"), ("q2", True, None), ("q3", True, None)],
                   2 / 3, 1, 1_000)
    b = _write_run(root / "20260101-110000-tiny", [("q1", True, None), ("q2", False, "retrieval"), ("q4", True, None)],
                   1 / 3, 5, 2_000)
    (root / "not-a-run").mkdir()
    (root / "broken").mkdir()
    (root / "broken" / "summary.json").write_text("{", encoding="utf-8")
    (root / "broken" / "results.jsonl").write_text("", encoding="utf-8")
    return root, a, b


def test_run_list_newest_first_with_labels(runs):
    root, a, b = runs
    listed = eval_run.list_runs(root)
    assert [p for _, p in listed] == [str(b), str(a)]
    assert listed[0][0] == "20260101-110000-tiny — tiny.jsonl, 3 q, pass 0.333"
    assert eval_run.list_runs(root / "missing") == []


def test_compare_two_runs_gives_signed_deltas_and_flipped_questions(runs):
    root, a, b = runs
    rows, flipped = eval_run.compare_runs(str(a), str(b), root)
    by_metric = {r[0]: r[1:] for r in rows}
    assert by_metric["pass_rate"] == ["0.667", "0.333", "-0.333"]
    assert by_metric["latency_p50_ms"] == ["812", "812", "+0"]
    assert "**Fixed** (fail → pass, 1): q1" in flipped
    assert "**Broken** (pass → fail, 1): q2 (retrieval)" in flipped
    assert "Only in A: 1 questions · only in B: 1 questions" in flipped
    assert "Setting `top_k`: `1` → `5`" in flipped


@pytest.mark.parametrize("bad", ["", "/etc", "../outside"])
def test_compare_reads_only_runs_of_the_runs_folder(runs, bad):
    root, a, _ = runs
    with pytest.raises(BadInput, match="pick two runs"):
        eval_run.compare_runs(str(a), bad if bad != "../outside" else str(root / ".." / "outside"), root)


def test_compare_of_a_folder_that_is_not_a_run_is_one_line(runs):
    root, a, _ = runs
    with pytest.raises(BadInput) as err:
        eval_run.compare_runs(str(a), str(root / "not-a-run"), root)
    assert "not an eval run folder" in str(err.value) and "\n" not in str(err.value)
