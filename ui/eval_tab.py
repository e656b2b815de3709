"""The Evaluation tab: run the bundled or an uploaded question set; see its charts (main metrics per question type,
latency histogram), metrics and rows; download the report; compare two runs of the runs folder."""

from __future__ import annotations

import json
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
    # labels at an angle: four charts side by side leave each group label less room than its text
    return gr.BarPlot(frame, x="group", y="value", title=CHART_TITLES.get(metric, metric), y_lim=[0, 1],
                      sort=list(frame["group"]) if frame is not None else None, x_title="", y_title=metric,
                      tooltip=["group", "value", "n"], height=260, visible=frame is not None, x_label_angle=-40,
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


ARTEFACTS = ("report.html", "report.md", "summary.json", "results.jsonl")  # what a run folder offers for download
EMPTY_RUNS = ("No evaluation run yet: press **Run evaluation** (the bundled set takes about a minute). Charts, "
              "metrics and per-question rows appear here.")


def _downloads(out_dir: Path) -> list[str]:
    """Copies of a run's files in Gradio's temp area (served from there, wherever the runs folder is)."""
    folder = Path(tempfile.mkdtemp(prefix="eval-run-"))
    out = []
    for name in ARTEFACTS:
        if (out_dir / name).is_file():
            shutil.copyfile(out_dir / name, folder / name)
            out.append(str(folder / name))
    return out


def _shown(summary: dict[str, Any], out_dir: Path) -> tuple[Any, ...]:
    """Charts, latency, metrics table, per-question table, downloads and the empty-state note for one run."""
    headers, rows = eval_run.metric_rows(summary)
    per_q = eval_run.question_rows(out_dir)
    return (*(_metric_plot(m, summary) for m in CHART_METRICS), _latency_plot(out_dir),
            gr.update(value=pd.DataFrame(rows, columns=headers), visible=True),
            gr.update(value=pd.DataFrame(per_q, columns=eval_run.QUESTION_HEADERS), visible=True),
            gr.update(value=_downloads(out_dir) or None, visible=True), gr.update(visible=False))


def evaluation_tab(assistant: Assistant, app: gr.Blocks | None = None) -> None:
    """Lay out the tab (inside an open ``gr.Tab``) and wire its events. Runs go to ``settings.eval_runs_dir``; with
    ``app``, each page load shows the newest run and lists the runs as they are now."""
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
            return (f"⚠️ {exc}", *[gr.skip()] * (len(CHART_METRICS) + 7))
        warn = " · ".join(summary.get("warnings") or [])
        line = (f"Ran {summary['questions']} questions from `{path.name}` in {summary['duration_s']} s; saved as "
                f"`{out_dir.name}`." + (f" ⚠️ {warn}" if warn else ""))
        previous = next((p for _, p in eval_run.list_runs(runs_dir) if p != str(out_dir)), None)
        return (line, *_shown(summary, out_dir), *_run_lists(runs_dir, previous, str(out_dir)))

    def latest() -> tuple[Any, ...]:
        """On page load: the newest run's charts and tables (if any), and the run lists as they are now."""
        runs = eval_run.list_runs(runs_dir)
        lists = _run_lists(runs_dir)
        for _, folder in runs:
            try:
                summary = json.loads((Path(folder) / "summary.json").read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue
            note = f"Showing the newest run, `{Path(folder).name}`."
            return (note, *_shown(summary, Path(folder)), *lists)
        return (gr.skip(), *[gr.skip()] * (len(CHART_METRICS) + 4), gr.update(visible=True), *lists)

    def compare(run_a: str | None, run_b: str | None) -> tuple[Any, str]:
        try:
            rows, flipped = eval_run.compare_runs(run_a or "", run_b or "", runs_dir)
        except UserError as exc:
            return gr.skip(), f"⚠️ {exc}"
        return gr.update(value=pd.DataFrame(rows, columns=eval_run.COMPARE_HEADERS), visible=True), flipped

    gr.Markdown(f"Runs a question set through the assistant with the current settings and saves the run under "
                f"`{runs_dir}`. Without an upload it uses the bundled set `{eval_run.BUNDLED_SET.name}`. Format: one "
                "JSON object per line with id, question, lang, type, answer, answer_aliases, sources, evidence (or "
                "a CSV with those columns).")
    with gr.Row():
        qset = gr.File(label="Question set (.jsonl / .csv, optional)", file_types=[".jsonl", ".json", ".csv"],
                       elem_id="eval-upload", scale=2)
        with gr.Column(scale=1):
            run_btn = gr.Button("Run evaluation", variant="primary", elem_id="eval-run")
            report = gr.File(label="Run files (report.html, report.md, summary.json, results.jsonl)",
                             file_count="multiple", interactive=False, elem_id="eval-report", visible=False)
    # never empty, so the progress bar drawn on it shows from the first run on
    eval_status = gr.Markdown("Ready to run.", elem_id="eval-status", min_height=40)
    empty = gr.Markdown(EMPTY_RUNS, elem_id="eval-empty")
    with gr.Row(elem_classes=["eval-charts"]):
        charts = [_metric_plot(m) for m in CHART_METRICS]
    latency = _latency_plot()
    # hidden until a run is shown: no placeholder headers "1 2 3"
    metrics = gr.Dataframe(label="Metrics", interactive=False, elem_id="eval-metrics", max_height=420,
                           elem_classes=[NUMBERS], visible=False)
    per_question = gr.Dataframe(label="Per question", interactive=False, wrap=True, elem_id="eval-questions",
                                column_widths=eval_run.QUESTION_WIDTHS, max_height=420, elem_classes=["eval-rows"],
                                visible=False)
    with gr.Accordion("Compare two runs", open=True, elem_id="eval-compare"):
        runs, a, b = _pick_runs(runs_dir)
        with gr.Row():
            run_a = gr.Dropdown(choices=runs, value=a, label="Run A (before)", elem_id="eval-run-a", scale=3)
            run_b = gr.Dropdown(choices=runs, value=b, label="Run B (after)", elem_id="eval-run-b", scale=3)
            with gr.Column(scale=1, min_width=140):
                compare_btn = gr.Button("Compare", elem_id="eval-compare-btn")
                refresh_btn = gr.Button("Refresh lists", size="sm", elem_id="eval-refresh")
        deltas = gr.Dataframe(headers=eval_run.COMPARE_HEADERS, label="Metrics, B − A", interactive=False,
                              elem_id="eval-deltas", max_height=420, elem_classes=[NUMBERS], visible=False)
        flipped = gr.Markdown(elem_id="eval-flipped")
    # one progress bar, on the status line (not one over every output)
    shown = [*charts, latency, metrics, per_question, report, empty, run_a, run_b]
    run_btn.click(run, qset, [eval_status, *shown], show_progress_on=[eval_status])
    if app is not None:
        app.load(latest, None, [eval_status, *shown], show_progress="hidden")
    compare_btn.click(compare, [run_a, run_b], [deltas, flipped], show_progress_on=[flipped])
    refresh_btn.click(lambda a, b: _run_lists(runs_dir, a, b), [run_a, run_b], [run_a, run_b],
                      show_progress="hidden")
