"""The evaluation report counts every question: a question that raised is not a correct answer (it stays in the
denominators), every metric shows the n behind it, and a run killed outright (``kill -9``) reads as interrupted.

The runs here go through :func:`run_eval` with a stand-in assistant (a chain that answers one question and raises on
another), in the tests' own temporary folders.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from types import SimpleNamespace

from langchain_core.runnables import RunnableLambda

from assistant.evaluation.commands import load_run
from assistant.evaluation.dataset import EvalItem
from assistant.evaluation.runner import read_summary, run_eval
from assistant.models import Answer
from tests.conftest import ROOT
from ui.eval_run import list_runs, metric_rows

ITEMS = [EvalItem(id="q1", question="Siapa yang memoderasi diskusi?", lang="id", type="factoid",
                  answer="Margarita Simonyan"),
         EvalItem(id="q2", question="Kapan pasukan tiba?", lang="id", type="factoid", answer="6 Januari")]


class _Settings:
    top_k = 5
    index_dir = Path("/nonexistent-index")

    def model_dump(self, mode: str = "json") -> dict[str, object]:
        return {"top_k": 5, "llm": "stand-in"}


def _answer(question: str) -> Answer:
    if "Kapan" in question:
        raise RuntimeError("the model server went away")
    return Answer(question=question, standalone_question=question, abstained=False, language="id",
                  answer="Diskusi dimoderasi oleh Margarita Simonyan.", timings_ms={"total": 5.0})


def _assistant() -> SimpleNamespace:
    chain = RunnableLambda(lambda inputs: _answer(inputs["question"]))
    reader = SimpleNamespace(state=SimpleNamespace(files={}), document_text=lambda source: None)
    return SimpleNamespace(settings=_Settings(), reader=reader, chain=lambda: chain)


def test_an_errored_question_counts_as_not_correct_and_every_metric_shows_its_n(tmp_path):
    summary = run_eval(_assistant(), ITEMS, tmp_path / "run", dataset="two.jsonl")
    overall = summary["metrics"]["overall"]
    assert overall["failures"]["error"] == 1 and overall["n"] == 2
    # before: 1.000 beside "error 1" (the errored row had left the denominators)
    assert overall["answer_correct"] == 0.5 and overall["n_of"]["answer_correct"] == 2
    assert overall["accuracy"] == 0.5 and overall["n_of"]["accuracy"] == 2
    assert overall["token_f1"] is not None and overall["n_of"]["token_f1"] == 2
    assert overall["pass_rate"] == 0.5 and overall["n_of"]["pass_rate"] == 2
    assert overall["answer_precision"] == 1.0 and overall["n_of"]["answer_precision"] == 1  # of the answers given
    report = (tmp_path / "run" / "report.md").read_text(encoding="utf-8")
    assert "0.500 (n=2)" in report
    assert "(n=2)" in (tmp_path / "run" / "report.html").read_text(encoding="utf-8")
    rows = {r[0]: r[1] for r in metric_rows(summary)[1]}
    assert rows["answer_correct"] == "0.500 (n=2)" and rows["accuracy"] == "0.500 (n=2)"


def test_the_cli_table_shows_the_n_of_each_metric(tmp_path, monkeypatch):
    from assistant.evaluation import commands

    monkeypatch.setattr("assistant.chain.Assistant", lambda settings: _assistant())
    questions = tmp_path / "two.jsonl"
    questions.write_text("".join(json.dumps({"id": it.id, "question": it.question, "answer": it.answer}) + "\n"
                                 for it in ITEMS), encoding="utf-8")
    settings = SimpleNamespace(eval_runs_dir=tmp_path / "runs", index_dir=Path("/nonexistent-index"),
                               top_k=5, model_dump=_Settings().model_dump)
    text = commands.run_command(settings, questions, tmp_path / "out")
    lines = {line.split()[0]: line for line in text.splitlines() if line.startswith("  ")}
    assert lines["answer_correct"].split()[1:] == ["0.500", "(n=2)"], text
    assert lines["accuracy"].split()[1:] == ["0.500", "(n=2)"], text
    assert "error 1" in text


SLOW_RUN = textwrap.dedent("""
    import sys, time
    sys.path.insert(0, {root!r})
    from tests.unit import test_eval_honest_counts as t
    from assistant.evaluation.runner import run_eval

    def slow(question):
        if "Kapan" in question:
            time.sleep(600)  # killed here
        return t._answer(question)

    assistant = t._assistant()
    chain = t.RunnableLambda(lambda inputs: slow(inputs["question"]))
    assistant.chain = lambda: chain
    run_eval(assistant, t.ITEMS, {out!r}, dataset="two.jsonl")
""")


def test_a_run_killed_outright_reads_as_interrupted(tmp_path):
    out = tmp_path / "runs" / "20260101-100000-two"
    proc = subprocess.Popen([sys.executable, "-c", SLOW_RUN.format(root=str(ROOT), out=str(out))], cwd=ROOT)
    try:
        deadline = time.monotonic() + 120
        while not ((out / "results.jsonl").is_file() and (out / "results.jsonl").read_text().count("\n") >= 1):
            assert proc.poll() is None and time.monotonic() < deadline, "the run never wrote its first row"
            time.sleep(0.05)
        assert read_summary(out)["status"] == "running"  # its process is alive
        os.kill(proc.pid, signal.SIGKILL)
        assert proc.wait(timeout=30) == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
    on_disk = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert on_disk["status"] == "running" and on_disk["pid"] == proc.pid  # what the killed process left
    assert read_summary(out)["status"] == "interrupted"
    assert load_run(out)[0]["status"] == "interrupted"
    [(label, _)] = list_runs(tmp_path / "runs")
    assert label.endswith("(interrupted)"), label


def test_a_running_summary_from_before_runs_recorded_their_process_reads_as_interrupted(tmp_path):
    (tmp_path / "summary.json").write_text(json.dumps({"status": "running", "questions": 1}), encoding="utf-8")
    assert read_summary(tmp_path)["status"] == "interrupted"
    (tmp_path / "summary.json").write_text(json.dumps({"status": "complete"}), encoding="utf-8")
    assert read_summary(tmp_path)["status"] == "complete"
