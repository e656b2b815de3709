"""The files of an evaluation run folder: its name, ``results.jsonl`` and ``summary.json`` read back (a run whose
process is gone reads as interrupted), what produced the run (settings, commit, corpus hash), and the checks
``--resume`` makes before continuing a run."""

from __future__ import annotations

import hashlib
import json
import os
import socket
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from assistant.errors import BadInput
from assistant.evaluation.dataset import EvalItem
from index.state import load_state

__all__ = ["new_run_dir", "git_commit", "corpus_hash", "settings_snapshot", "read_results", "read_summary",
           "with_live_status", "prepare_run", "process_start", "write_atomic", "RESULTS", "SUMMARY"]

RESULTS, SUMMARY = "results.jsonl", "summary.json"


def new_run_dir(runs_dir: Path, dataset: Path) -> Path:
    """A new folder for a run of ``dataset`` under ``runs_dir``: ``<yyyymmdd-hhmmss>-<set name>`` (``-2``… when taken).
    The CLI's default ``--out`` and the Evaluation tab both name runs so, in ``ASSISTANT_EVAL_RUNS_DIR``, where the
    tab lists them."""
    stem = "".join(c if c.isalnum() or c in "-_" else "_" for c in Path(dataset).stem)[:40] or "set"
    base = Path(runs_dir) / f"{time.strftime('%Y%m%d-%H%M%S')}-{stem}"
    out, n = base, 1
    while out.exists():
        n += 1
        out = base.with_name(f"{base.name}-{n}")
    return out


def git_commit() -> str | None:
    """The commit the code runs at (None outside a git checkout)."""
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5,
                             cwd=Path(__file__).resolve().parent)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


def corpus_hash(index_dir: Path) -> str | None:
    """sha256 over the sorted ``source:content_hash`` lines of the index manifest (None without an index)."""
    state = load_state(index_dir)
    if state is None:
        return None
    lines = "\n".join(f"{s}:{f.content_hash}" for s, f in sorted(state.files.items()))
    return hashlib.sha256(lines.encode()).hexdigest()


def settings_snapshot(settings: Any) -> dict[str, Any]:
    """What produced a run: backends, prompt versions, chunking, top_k, git commit, corpus manifest hash."""
    d = settings.model_dump(mode="json")
    keys = ("embedder", "llm", "qa_prompt", "condense_prompt", "chunk_tokens", "chunk_overlap", "top_k",
            "candidates", "max_per_story", "answer_language", "index_dir")
    return {**{k: d.get(k) for k in keys}, "git_commit": git_commit(), "corpus_hash": corpus_hash(settings.index_dir),
            "corpus_files": len(state.files) if (state := load_state(settings.index_dir)) else 0}


def read_results(out_dir: Path) -> list[dict[str, Any]]:
    """The rows of ``results.jsonl`` (none when absent); a last line cut short by a kill is dropped."""
    path = Path(out_dir) / RESULTS
    if not path.is_file():
        return []
    lines = path.read_text(encoding="utf-8").split("\n")
    rows = []
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            if n == len(lines):  # no line end: the process died while writing it
                continue
            row = None
        if not isinstance(row, dict) or not isinstance(row.get("id"), str):
            raise BadInput(f"{path} line {n}: not a result row; start a new run with another --out")
        rows.append(row)
    return rows


def process_start(pid: int) -> str | None:
    """When process ``pid`` started (clock ticks since boot, from /proc), to tell it from a later process that got
    the same id; None where /proc cannot say."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[-1].split()
    return fields[19] if len(fields) > 19 else None


def _still_running(summary: dict[str, Any]) -> bool:
    """Whether the process that wrote a ``running`` summary is alive (another host's runs are taken at their word)."""
    pid = summary.get("pid")
    if summary.get("host") not in (None, socket.gethostname()):
        return True
    if not isinstance(pid, int) or isinstance(pid, bool) or pid <= 0:
        return False  # written before runs recorded their process: nothing says it is still running
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # alive, another user's
    started = summary.get("process_started")
    return started is None or process_start(pid) in (None, started)


def with_live_status(summary: dict[str, Any]) -> dict[str, Any]:
    """``summary`` as read from disk, with ``status: running`` turned to ``interrupted`` when the process that wrote
    it is gone (a ``kill -9``, a power cut): such a run will never finish, and ``--resume`` continues it."""
    if isinstance(summary, dict) and summary.get("status") == "running" and not _still_running(summary):
        return {**summary, "status": "interrupted"}
    return summary


def read_summary(out_dir: Path) -> dict[str, Any]:
    """``summary.json`` of a run folder ({} when absent or unreadable), with :func:`with_live_status` applied."""
    try:
        summary = json.loads((Path(out_dir) / SUMMARY).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return with_live_status(summary) if isinstance(summary, dict) else {}


def _short(text: str) -> str:
    return text if len(text) <= 60 else text[:57] + "..."


def prepare_run(out_dir: Path, items: Sequence[EvalItem], snapshot: dict[str, Any], resume: bool
                ) -> tuple[dict[str, dict[str, Any]], dict[str, Any]]:
    """The rows already done (by id) and the summary of the run in ``out_dir`` that ``--resume`` continues, after
    checking they belong to these questions and settings; for a new run, refuse a folder holding an unfinished run."""
    out_dir = Path(out_dir)
    rows, summary = read_results(out_dir), read_summary(out_dir)
    if not resume:
        if rows and summary.get("status", "complete") != "complete":
            raise BadInput(f"{out_dir} holds an unfinished run ({len(rows)} questions done); continue it with "
                           f"--resume, or choose another --out")
        return {}, {}
    if not rows:
        raise BadInput(f"--resume: {out_dir} holds no results to continue; run without --resume")
    by_id = {it.id: it for it in items}
    done: dict[str, dict[str, Any]] = {}
    for row in rows:
        item = by_id.get(row["id"])
        if item is None:
            raise BadInput(f"--resume: {out_dir} has a result for id '{row['id']}', which the question set no longer "
                           f"holds (the file changed); start a new run with another --out")
        if row.get("question") != item.question:
            raise BadInput(f"--resume: id '{item.id}' was asked \"{_short(str(row.get('question')))}\" but the question "
                           f"set now has \"{_short(item.question)}\" (the file changed); start a new run with another --out")
        done.setdefault(row["id"], row)
    before = summary.get("settings") or {}
    for key, value in snapshot.items():
        if key != "git_commit" and key in before and before[key] != value:
            raise BadInput(f"--resume: setting {key} was {before[key]} in the interrupted run and is {value} now; "
                           f"resume with the same settings, or start a new run with another --out")
    return done, summary


def write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
