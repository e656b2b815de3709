"""`assistant eval` as a user runs it (a real subprocess on the sample corpus index): a run stopped by Ctrl-C or
SIGTERM keeps what it did and says how to continue; --resume finishes it with every question counted once; a question
set in another tool's columns is read with a note and answer-only questions are scored as answerable."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import DEV_SET, ROOT

REPEAT = 1  # copies of the dev set (30 questions, new ids): enough to stop part-way twice


def _env(settings) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT), "ASSISTANT_INDEX_DIR": str(settings.index_dir),
            "ASSISTANT_ARTICLES_DIR": str(settings.articles_dir), "ASSISTANT_MODEL_CACHE_DIR": str(settings.model_cache_dir)}


def _ctrl_c_as_in_a_terminal() -> None:
    """In the child before exec: Ctrl-C delivered as in a foreground terminal. A shell starts background jobs with
    SIGINT ignored (`(make test &)`), children inherit that, and Python then never raises KeyboardInterrupt."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _eval(settings, cwd: Path, *args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "ui", "eval", *args], cwd=cwd, env=_env(settings),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=_ctrl_c_as_in_a_terminal)


def _lines(path: Path) -> int:
    try:
        return path.read_text(encoding="utf-8").count("\n")
    except FileNotFoundError:
        return 0


def _stop_after(proc: subprocess.Popen, results: Path, rows: int, sig: int) -> tuple[int, str]:
    """Send ``sig`` once ``results`` holds ``rows`` lines; the exit code and the last stderr line."""
    deadline = time.time() + 300
    while _lines(results) < rows:
        assert proc.poll() is None, proc.communicate()
        assert time.time() < deadline, "no results written in 300 s"
        time.sleep(0.02)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=120)
    return proc.returncode, err.strip().splitlines()[-1]


def _rows(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / "results.jsonl").read_text(encoding="utf-8").splitlines()]


@pytest.mark.slow
def test_interrupted_run_keeps_its_results_and_resume_completes_it(settings, built_index, tmp_path):
    dev = [json.loads(line) for line in DEV_SET.read_text(encoding="utf-8").splitlines()]
    items = [{**it, "id": f"{it['id']}-r{r}"} for r in range(REPEAT) for it in dev]
    qfile, out = tmp_path / "big.jsonl", tmp_path / "run"
    qfile.write_text("".join(json.dumps(it, ensure_ascii=False) + "\n" for it in items), encoding="utf-8")
    total, ids = len(items), [it["id"] for it in items]

    # Ctrl-C part-way
    code, last = _stop_after(_eval(settings, tmp_path, str(qfile), "--out", str(out)), out / "results.jsonl", 3,
                             signal.SIGINT)
    m = re.fullmatch(rf"interrupted after (\d+)/{total} questions; partial results in {re.escape(str(out))}/; "
                     rf"continue with `assistant .*eval {re.escape(str(qfile))} --out {re.escape(str(out))} "
                     rf"--resume`", last)
    assert code == 130 and m, last
    first = int(m.group(1))
    assert 3 <= first < total
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert (summary["status"], summary["questions"], summary["total"]) == ("interrupted", first, total)
    assert [r["id"] for r in _rows(out)] == ids[:first]  # single worker: the first questions, in order
    assert summary["metrics"]["overall"]["n"] == first
    assert f"Partial run (interrupted): {first} of {total} questions" in (out / "report.md").read_text(encoding="utf-8")

    # a new run into the folder, or a resume with a changed question file, is refused in one line
    fresh = _eval(settings, tmp_path, str(qfile), "--out", str(out))
    _, err = fresh.communicate(timeout=120)
    assert fresh.returncode == 1 and err.strip() == (
        f"error: {out} holds an unfinished run ({first} questions done); continue it with --resume, or choose another "
        f"--out")
    changed = tmp_path / "changed.jsonl"
    changed.write_text("".join(json.dumps({**it, "question": it["question"] + " (v2)"}) + "\n" for it in items[:2])
                       + "".join(json.dumps(it) + "\n" for it in items[2:]), encoding="utf-8")
    refused = _eval(settings, tmp_path, str(changed), "--out", str(out), "--resume")
    _, err = refused.communicate(timeout=120)
    assert refused.returncode == 1 and err.count("\n") == 1
    assert err.startswith(f"error: --resume: id '{ids[0]}' was asked ") and "the file changed" in err

    # resumed with two workers, stopped again with SIGTERM
    code, last = _stop_after(_eval(settings, tmp_path, str(qfile), "--out", str(out), "--resume", "--workers", "2"),
                             out / "results.jsonl", first + 3, signal.SIGTERM)
    m = re.match(rf"interrupted after (\d+)/{total} questions; .* --workers=2 --out {re.escape(str(out))} --resume`$",
                 last)
    assert code == 130 and m, last
    second = int(m.group(1))
    assert first + 3 <= second < total
    rows = _rows(out)
    assert len(rows) == second and len({r["id"] for r in rows}) == second and set(ids[:first]) <= {r["id"] for r in rows}

    # resumed to the end: every question once, in question order
    done = _eval(settings, tmp_path, str(qfile), "--out", str(out), "--resume")
    stdout, err = done.communicate(timeout=900)
    assert done.returncode == 0, err
    assert stdout.startswith(f"{total} questions (")
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert (summary["status"], summary["questions"], summary["sessions"]) == ("complete", total, 3)
    assert summary["metrics"]["overall"]["n"] == total
    assert [r["id"] for r in _rows(out)] == ids
    assert "Partial run" not in (out / "report.md").read_text(encoding="utf-8")


@pytest.mark.parametrize(("text", "message"), [
    ('id,question,answer\nq1,"' + "x" * 1_100_000 + '",a\n', "set.csv line 2: a field is longer than 1,000,000"),
    ("id,question,answer\nq1,Siapa?,a\nq2,\"Kapan?,b\nq3,Apa?,c\n", "set.csv line 3: a quote \" opened in this row"),
    ("id,question,question\nq1,Siapa?,a\n", "set.csv line 1: column 'question' appears twice in the header"),
])
def test_broken_csv_is_one_line_at_the_cli(settings, tmp_path, text, message):
    (tmp_path / "set.csv").write_text(text, encoding="utf-8")
    proc = _eval(settings, tmp_path, "set.csv", "--out", str(tmp_path / "run"))
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 1 and out == "" and err.startswith(f"error: {message}") and err.count("\n") == 1, err
    assert not (tmp_path / "run").exists()


@pytest.mark.slow
def test_answer_only_set_in_ragas_columns_is_scored_as_answerable(settings, built_index, tmp_path):
    dev = {d["id"]: d for d in map(json.loads, DEV_SET.read_text(encoding="utf-8").splitlines())}
    qfile = tmp_path / "ragas.csv"
    qfile.write_text("user_input,reference\n" + "".join(
        f'"{dev[i]["question"]}","{dev[i]["answer"]}"\n' for i in ("dev-001", "dev-003")), encoding="utf-8")
    proc = _eval(settings, tmp_path, str(qfile), "--out", str(tmp_path / "run"))
    stdout, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, err
    assert "note: read columns user_input→question, reference→answer" in err
    assert "note: no id column: questions are numbered row-1 to row-2 in file order" in err
    assert stdout.startswith("2 questions (2 answerable)")
    summary = json.loads((tmp_path / "run" / "summary.json").read_text(encoding="utf-8"))
    ov = summary["metrics"]["overall"]
    assert ov["answer_correct"] == 1.0 and ov["accuracy"] == 1.0 and ov["failures"]["abstention"] == 0
    assert ov["hit_at_k"] is None  # no evidence, no sources: retrieval is not scored
    assert summary["notes"][0] == "read columns user_input→question, reference→answer"
