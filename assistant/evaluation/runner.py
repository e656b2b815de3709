"""Run a question set through an :class:`~assistant.chain.Assistant`: ask every question through the one QA chain
(``workers`` at a time, replaying each conversation's earlier turns), write each scored row as it finishes, and on
the end or on Ctrl-C write the summary and reports. Scoring is :mod:`~assistant.evaluation.scoring`'s, the summary
:mod:`~assistant.evaluation.summary`'s, the run folder's files :mod:`~assistant.evaluation.run_folder`'s."""

from __future__ import annotations

import json
import os
import signal
import socket
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from langchain_core.runnables import Runnable, RunnableLambda

from assistant.evaluation.dataset import EvalItem
from assistant.evaluation.report import write_reports
from assistant.evaluation.run_folder import (
    RESULTS,
    SUMMARY,
    new_run_dir,
    prepare_run,
    process_start,
    read_results,
    read_summary,
    settings_snapshot,
    with_live_status,
    write_atomic,
)
from assistant.evaluation.scoring import METRIC_KEYS, error_row, evaluate_item, missing_sources, text_getter
from assistant.evaluation.summary import conversation_summary, summarize
from assistant.models import Answer, Turn

__all__ = ["run_eval", "new_run_dir", "evaluate_item", "summarize", "settings_snapshot", "missing_sources", "prepare_run",
           "read_results", "read_summary", "with_live_status", "EvalInterrupted", "METRIC_KEYS", "replay",
           "conversation_summary"]

Progress = Callable[[int, int], None]


class EvalInterrupted(KeyboardInterrupt):
    """A run stopped by Ctrl-C (or SIGTERM, see :func:`assistant.evaluation.commands.run_command`) after its partial
    results, summary and reports were written."""

    def __init__(self, done: int, total: int, out_dir: Path) -> None:
        super().__init__(f"interrupted after {done}/{total} questions")
        self.done, self.total, self.out_dir = done, total, out_dir


def replay(chain: Runnable[dict[str, Any], Answer], item: EvalItem) -> list[Turn]:
    """The item's earlier questions asked through the same chain, each with the turns before it: the history the
    item's own question is asked with."""
    history: list[Turn] = []
    for question in item.history:
        history.append(Turn(question=question, answer=chain.invoke({"question": question, "history": history}).answer))
    return history


@contextmanager
def _signals_held() -> Iterator[None]:
    """Ignore Ctrl-C and SIGTERM while the partial run is written (main thread only; elsewhere a no-op)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    old = {s: signal.signal(s, signal.SIG_IGN) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for s, handler in old.items():
            signal.signal(s, handler)


def run_eval(assistant: Any, items: Sequence[EvalItem], out_dir: Path, workers: int = 1,
             progress: Progress | None = None, dataset: str = "", resume: bool = False,
             notes: Sequence[str] = ()) -> dict[str, Any]:
    """Ask every question (``workers`` threads when > 1) and return the summary.

    Each row is appended to ``out_dir/results.jsonl`` and flushed as soon as it is scored; at the end the rows are
    rewritten in question order and ``summary.json``, ``report.md`` and ``report.html`` written. On Ctrl-C
    (KeyboardInterrupt) the same files are written for the questions done, with ``status: interrupted``, and
    :class:`EvalInterrupted` is raised. ``resume=True`` continues such a run: ids already in ``results.jsonl`` are
    skipped (see :func:`prepare_run` for what is refused).
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    snapshot = settings_snapshot(assistant.settings)
    done, before = prepare_run(out_dir, items, snapshot, resume)
    text_of = text_getter(assistant)
    k = assistant.settings.top_k
    corpus = sorted(assistant.reader.state.files)
    missing = missing_sources(assistant, items)
    started, t0 = time.time(), time.perf_counter()
    meta = {"dataset": dataset, "k": k, "workers": workers, "pid": os.getpid(), "host": socket.gethostname(),
            "process_started": process_start(os.getpid()),
            "started": before.get("started") or time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(started)),
            "sessions": int(before.get("sessions", 1)) + 1 if resume else 1, "notes": list(notes),
            "settings": snapshot}

    def finish(status: str) -> dict[str, Any]:
        rows = [done[it.id] for it in items if it.id in done]
        write_atomic(out_dir / RESULTS, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
        unlocated = [r["id"] for r in rows if r["evidence_total"] and r["evidence_located"] < r["evidence_total"]]
        summary = {
            **meta, "status": status, "questions": len(rows), "total": len(items),
            "duration_s": round(float(before.get("duration_s", 0.0)) + time.perf_counter() - t0, 1),
            "warnings": ([f"sources not in the index: {', '.join(missing)}"] if missing else [])
            + ([f"evidence not found verbatim in the article text: {', '.join(unlocated)}"] if unlocated else []),
            "metrics": summarize(rows),
        }
        write_atomic(out_dir / SUMMARY, json.dumps(summary, ensure_ascii=False, indent=2))
        if status != "running":
            write_reports(out_dir, summary, rows)
        return summary

    finish("running")  # a run killed outright is still recognisable, and resumable
    fh = open(out_dir / RESULTS, "a", encoding="utf-8")
    chain = assistant.chain()

    def asked(item: EvalItem) -> dict[str, Any]:
        return {"question": item.question, "history": replay(chain, item)}

    # every question through the one QA chain, ``workers`` at a time; rows are written as questions finish
    todo = [it for it in items if it.id not in done]
    runs = (RunnableLambda(asked, name="replay history") | chain).batch_as_completed(
        todo, config={"max_concurrency": max(1, workers)}, return_exceptions=True)
    try:
        if progress and done:  # a resumed run starts part-way
            progress(len(done), len(items))
        for i, answer in runs:
            item = todo[i]
            if isinstance(answer, Exception):  # one broken question must not lose the run; it is reported
                row = error_row(item, answer, 0.0)
            else:  # the latency of the scored question alone, as the chain measured it
                row = evaluate_item(item, answer, answer.timings_ms.get("total", 0.0), text_of, k, corpus)
            done[item.id] = row  # first: a Ctrl-C after the line is written must still count it
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
            fh.flush()
            if progress:
                progress(len(done), len(items))
    except KeyboardInterrupt:
        with _signals_held():
            runs.close()  # cancels the questions not started
            fh.close()
            finish("interrupted")
        raise EvalInterrupted(len(done), len(items), out_dir) from None
    finally:
        fh.close()
    return finish("complete")
