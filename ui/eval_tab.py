"""The Evaluation tab: run the bundled or an uploaded question set and show metrics, rows and the report."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gradio as gr
import pandas as pd

from assistant.chain import Assistant
from assistant.errors import UserError
from ui import eval_run

__all__ = ["evaluation_tab"]


def evaluation_tab(assistant: Assistant) -> None:
    """Lay out the tab (inside an open ``gr.Tab``) and wire its events."""

    def run(uploaded: str | None, progress: gr.Progress = gr.Progress()) -> tuple[Any, ...]:
        path = Path(uploaded) if uploaded else eval_run.BUNDLED_SET
        progress(0, desc=f"Loading {path.name}…")

        def cb(done: int, total: int) -> None:
            progress((done, total), desc=f"Question {done}/{total}", unit="questions")

        try:
            summary, out_dir = eval_run.run_set(assistant, path, cb)
        except UserError as exc:
            gr.Warning(str(exc))
            return gr.skip(), gr.skip(), None, f"⚠️ {exc}"
        headers, rows = eval_run.metric_rows(summary)
        per_q = eval_run.question_rows(out_dir)
        report = out_dir / "report.html"
        warn = " · ".join(summary.get("warnings") or [])
        line = (f"Ran {summary['questions']} questions from `{path.name}` in {summary['duration_s']} s."
                + (f" ⚠️ {warn}" if warn else ""))
        return (pd.DataFrame(rows, columns=headers), pd.DataFrame(per_q, columns=eval_run.QUESTION_HEADERS),
                str(report) if report.is_file() else None, line)

    gr.Markdown(f"Runs a question set through the assistant with the current settings. Without an upload it uses "
                f"the bundled set `{eval_run.BUNDLED_SET.name}`. Format: one JSON object per line with id, "
                "question, lang, type, answer, answer_aliases, sources, evidence (or a CSV with those columns).")
    with gr.Row():
        qset = gr.File(label="Question set (.jsonl / .csv, optional)", file_types=[".jsonl", ".json", ".csv"],
                       elem_id="eval-upload", scale=2)
        with gr.Column(scale=1):
            run_btn = gr.Button("Run evaluation", variant="primary", elem_id="eval-run")
            report = gr.File(label="report.html", interactive=False, elem_id="eval-report")
    eval_status = gr.Markdown(elem_id="eval-status")
    metrics = gr.Dataframe(label="Metrics", interactive=False, elem_id="eval-metrics", max_height=420)
    per_question = gr.Dataframe(label="Per question", interactive=False, wrap=True, elem_id="eval-questions",
                                column_widths=eval_run.QUESTION_WIDTHS,
                                max_height=420)
    run_btn.click(run, qset, [metrics, per_question, report, eval_status])
