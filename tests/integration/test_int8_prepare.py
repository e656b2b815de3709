"""`assistant models prepare e5-small-int8` on a machine that has never built the int8 model: it says what it does
(a line before, one per step, one after), and `ASSISTANT_EMBEDDER=e5-small-int8` then indexes and answers end to end.

The model cache is a fresh folder holding links to the already converted fp32 models and the reader only, so the real one-time
export runs (~30 s on 2 cores) without touching the shared cache.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import MODEL_CACHE, SAMPLE, served_env

pytestmark = pytest.mark.slow

ASSISTANT = Path(sys.executable).parent / "assistant"


def test_int8_prepared_ahead_with_progress_then_used_end_to_end(tmp_path):
    cache = tmp_path / "models"
    cache.mkdir()
    for entry in MODEL_CACHE.iterdir():
        # the fp32 conversion and the (already built) reader; not the int8 embedder, whose export is under test
        if entry.is_dir() and "e5-small-int8" not in entry.name and not entry.name.startswith("."):
            (cache / entry.name).symlink_to(entry)
    shutil.copytree(SAMPLE, tmp_path / "articles")
    env = served_env(tmp_path)
    env.update(ASSISTANT_MODEL_CACHE_DIR=str(cache), ASSISTANT_EMBEDDER="e5-small-int8")

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([str(ASSISTANT), *args], env=env, cwd=tmp_path, capture_output=True, text=True,
                              timeout=900)

    first = run("models", "prepare")
    assert first.returncode == 0, first.stderr[-2000:]
    lines = [line.strip() for line in first.stderr.splitlines() if line.strip()]
    assert lines[0].startswith("preparing the int8 embedder") and lines[-1].startswith("int8 embedder ready in")
    assert [line[:3] for line in lines[1:-1]] == ["1/3", "2/3", "3/3"], lines
    assert first.stdout.startswith("e5-small-int8: ready (") and "int8" in first.stdout
    again = run("models", "prepare")
    assert again.returncode == 0 and again.stderr.strip() == "", again.stderr  # nothing left to do

    built = run("index", str(tmp_path / "articles"), "--json")
    assert built.returncode == 0, built.stderr[-2000:]
    assert json.loads(built.stdout)["embedded"] > 20 and "preparing" not in built.stderr
    asked = run("ask", "--json", "Berapa orang Rusia yang memasuki Kazakhstan sejak 21 September?")
    assert asked.returncode == 0, asked.stderr[-2000:]
    answer = json.loads(asked.stdout)
    assert not answer["abstained"] and answer["citations"]
    other = run("--embedder", "e5-small", "ask", "Siapa Tokayev?")  # the index knows its embedder
    assert other.returncode == 1 and "e5-small-int8" in other.stderr and "Traceback" not in other.stderr
    # `make run` (index --if-stale) with settings naming another embedder rebuilds instead of failing
    switched = run("--embedder", "e5-small", "index", str(tmp_path / "articles"), "--if-stale")
    assert switched.returncode == 0 and "rebuilding" in switched.stderr, switched.stderr[-2000:]
    assert run("--embedder", "e5-small", "ask", "Siapa Tokayev?").returncode == 0
