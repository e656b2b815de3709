"""The Evaluation tab: run the bundled or an uploaded question set; see its charts (main metrics per question type,
latency histogram), metrics and rows; download the report; compare two runs of the runs folder."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

import gradio as gr
import pandas as pd

from assistant.chain import Assistant
from assistant.errors import UserError
from assistant.evaluation.charts import CHART_METRICS
from ui import eval_run

__all__ = ["evaluation_tab", "EVAL_CSS_PATH"]

EVAL_CSS_PATH = Path(__file__).resolve().parent / "eval_tab.css"
CHART_TITLES = {"hit_at_k": "hit@k", "answer_correct": "answer correct", "token_f1": "token F1", "pass_rate": "pass rate"}
NUMBERS = "eval-numbers"  # tables of numbers: cells never wrap (see eval_tab.css)


def _metric_plot(metric: str, summary: dict[str, Any] | None = None) -> gr.BarPlot:
    frame = eval_run.metric_chart(summary, metric) if summary else None
    return gr.BarPlot(frame, x="group", y="value", title=CHART_TITLES.get(metric, metric), y_lim=[0, 1],
                      sort=list(frame["group"]) if frame is not None else None, x_title="", y_title=metric,
                      tooltip=["group", "value", "n"], height=220, visible=frame is not None,
                      elem_id=f"eval-chart-{metric}", elem_classes=["eval-chart"])


def _latency_plot(out_dir: Path | None = None) -> gr.BarPlot:
    frame = eval_run.latency_chart(out_dir) if out_dir else None
    return gr.BarPlot(frame, x="ms", y="questions", title="Latency per question (ms)", x_title="milliseconds",
                      y_title="questions", sort=list(frame["ms"]) if frame is not None else None, height=240,
                      x_label_angle=-30, y_axis_format="d", visible=frame is not None, elem_id="eval-chart-latency",
                      elem_classes=["eval-chart"])


def _pick_runs(runs_dir: Path, a: str | None = None, b: str | None = None
               ) -> tuple[list[tuple[str, str]], str | None, str | None]:
    """The runs to list and the two to select: ``a``/``b`` when still listed, else the two newest (B the newest)."""
    runs = eval_run.list_runs(runs_dir)
    paths = [p for _, p in runs]
    b = b if b in paths else (paths[0] if paths else None)
    a = a if a in paths else next((p for p in paths if p != b), None)
    return runs, a, b


def _run_lists(runs_dir: Path, a: str | None = None, b: str | None = None) -> tuple[gr.Dropdown, gr.Dropdown]:
    runs, a, b = _pick_runs(runs_dir, a, b)
    return gr.Dropdown(choices=runs, value=a), gr.Dropdown(choices=runs, value=b)


def evaluation_tab(assistant: Assistant) -> None:
    """Lay out the tab (inside an open ``gr.Tab``) and wire its events. Runs go to ``settings.eval_runs_dir``."""
    runs_dir = Path(assistant.settings.eval_runs_dir)

    def run(uploaded: str | None, progress: gr.Progress = gr.Progress()) -> tuple[Any, ...]:
        path = Path(uploaded) if uploaded else eval_run.BUNDLED_SET
        progress(0, desc=f"Loading {path.name}…")

        def cb(done: int, total: int) -> None:
            progress((done, total), desc=f"Question {done}/{total}", unit="questions")

        try:
            summary, out_dir = eval_run.run_set(assistant, path, runs_dir, cb)
        except UserError as exc:
            gr.Warning(str(exc))
            return (f"⚠️ {exc}", *[gr.skip()] * (len(CHART_METRICS) + 6))
        headers, rows = eval_run.metric_rows(summary)
        per_q = eval_run.question_rows(out_dir)
        report = out_dir / "report.html"
        download = None
        if report.is_file():  # served from Gradio's temp area, wherever the runs folder is
            download = Path(tempfile.mkdtemp(prefix="eval-report-")) / "report.html"
            shutil.copyfile(report, download)
        warn = " · ".join(summary.get("warnings") or [])
        line = (f"Ran {summary['questions']} questions from `{path.name}` in {summary['duration_s']} s; saved as "
                f"`{out_dir.name}`." + (f" ⚠️ {warn}" if warn else ""))
        previous = next((p for _, p in eval_run.list_runs(runs_dir) if p != str(out_dir)), None)
        return (line, *(_metric_plot(m, summary) for m in CHART_METRICS), _latency_plot(out_dir),
                pd.DataFrame(rows, columns=headers), pd.DataFrame(per_q, columns=eval_run.QUESTION_HEADERS),
                str(download) if download else None, *_run_lists(runs_dir, previous, str(out_dir)))

    def compare(run_a: str | None, run_b: str | None) -> tuple[Any, str]:
        try:
            rows, flipped = eval_run.compare_runs(run_a or "", run_b or "", runs_dir)
        except UserError as exc:
            return gr.skip(), f"⚠️ {exc}"
        return pd.DataFrame(rows, columns=eval_run.COMPARE_HEADERS), flipped

    gr.Markdown(f"Runs a question set through the assistant with the current settings and saves the run under "
                f"`{runs_dir}`. Without an upload it uses the bundled set `{eval_run.BUNDLED_SET.name}`. Format: one "
                "JSON object per line with id, question, lang, type, answer, answer_aliases, sources, evidence (or "
                "a CSV with those columns).")
    with gr.Row():
        qset = gr.File(label="Question set (.jsonl / .csv, optional)", file_types=[".jsonl", ".json", ".csv"],
                       elem_id="eval-upload", scale=2)
        with gr.Column(scale=1):
            run_btn = gr.Button("Run evaluation", variant="primary", elem_id="eval-run")
            report = gr.File(label="report.html", interactive=False, elem_id="eval-report")
    eval_status = gr.Markdown(elem_id="eval-status")
    with gr.Row(elem_classes=["eval-charts"]):
        charts = [_metric_plot(m) for m in CHART_METRICS]
    latency = _latency_plot()
    metrics = gr.Dataframe(label="Metrics", interactive=False, elem_id="eval-metrics", max_height=420,
                           elem_classes=[NUMBERS])
    per_question = gr.Dataframe(label="Per question", interactive=False, wrap=True, elem_id="eval-questions",
                                column_widths=eval_run.QUESTION_WIDTHS, max_height=420, elem_classes=["eval-rows"])
    with gr.Accordion("Compare two runs", open=True, elem_id="eval-compare"):
        runs, a, b = _pick_runs(runs_dir)
        with gr.Row():
            run_a = gr.Dropdown(choices=runs, value=a, label="Run A (before)", elem_id="eval-run-a", scale=3)
            run_b = gr.Dropdown(choices=runs, value=b, label="Run B (after)", elem_id="eval-run-b", scale=3)
            with gr.Column(scale=1, min_width=140):
                compare_btn = gr.Button("Compare", elem_id="eval-compare-btn")
                refresh_btn = gr.Button("Refresh lists", size="sm", elem_id="eval-refresh")
        deltas = gr.Dataframe(headers=eval_run.COMPARE_HEADERS, label="Metrics, B − A", interactive=False,
                              elem_id="eval-deltas", max_height=420, elem_classes=[NUMBERS])
        flipped = gr.Markdown(elem_id="eval-flipped")
    # one progress bar, on the status line (not one over every output)
    run_btn.click(run, qset, [eval_status, *charts, latency, metrics, per_question, report, run_a, run_b],
                  show_progress_on=[eval_status])
    compare_btn.click(compare, [run_a, run_b], [deltas, flipped], show_progress_on=[flipped])
    refresh_btn.click(lambda a, b: _run_lists(runs_dir, a, b), [run_a, run_b], [run_a, run_b],
                      show_progress="hidden")
