"""kill -9 during `assistant index` (incremental and --rebuild): the previous index keeps answering, a re-run
completes, and Chroma ends up holding exactly the committed passages (no duplicates, no orphans).

Crashes are injected two ways: at named points of the build (``ASSISTANT_FAULT``, see :mod:`index.faults`: the
process SIGKILLs itself there) and by the test sending SIGKILL while the build waits at a moment drawn from a seeded random generator.
Every build runs in a real subprocess through the real CLI.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import MODEL_CACHE, ROOT, SAMPLE

pytestmark = pytest.mark.slow

QUESTIONS = {  # dev-set questions whose source articles exist before and after the change
    "Siapa pemimpin redaksi Russia Today yang memoderasi diskusi antara Putin dan Tokayev pada 17 Juni?": "simonyan",
    "Siapa pejabat Kementerian Pertahanan Kazakhstan yang terbang ke London dan menandatangani perjanjian kerja sama "
    "dengan Kementerian Pertahanan Inggris?": "kumarbekuly",
}


def _env(index_dir: Path, fault: str | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    env.update(ASSISTANT_INDEX_DIR=str(index_dir), ASSISTANT_MODEL_CACHE_DIR=str(MODEL_CACHE), HF_HUB_OFFLINE="1",
               TRANSFORMERS_OFFLINE="1", ANONYMIZED_TELEMETRY="False", ASSISTANT_EMBED_BATCH_SIZE="8")
    if fault:
        env["ASSISTANT_FAULT"] = fault
    return env


def _index_cmd(folder: Path, rebuild: bool) -> list[str]:
    return [sys.executable, "-m", "ui", "index", str(folder), "--json", *(["--rebuild"] if rebuild else [])]


def _index(folder: Path, index_dir: Path, rebuild: bool = False, fault: str | None = None):
    return subprocess.run(_index_cmd(folder, rebuild), env=_env(index_dir, fault), cwd=ROOT, capture_output=True,
                          text=True, timeout=600)


def _check(index_dir: Path, generation: int | None = None, sources: set[str] | None = None) -> None:
    """The committed index answers the questions with verified quotes; every live chunk is in Chroma."""
    from assistant.chain import Assistant
    from assistant.settings import Settings
    from index.state import load_state, read_document

    settings = Settings(index_dir=index_dir, model_cache_dir=MODEL_CACHE, _env_file=None)
    state = load_state(index_dir)
    assert state is not None
    if generation is not None:
        assert state.generation == generation
    if sources is not None:
        assert set(state.files) == sources
    assistant = Assistant(settings)
    held = set(assistant.reader.store.existing_ids(list(state.chunks)))
    assert held == set(state.chunks)  # every committed passage can be found by dense search
    for question, expected in QUESTIONS.items():
        answer = assistant.ask(question)
        assert not answer.abstained and expected in answer.answer.lower(), (question, answer.answer)
        for c in answer.citations:
            rec = state.files[c.source]
            assert read_document(index_dir, rec.doc_id)[c.start : c.end] == c.quote


def _check_clean(index_dir: Path) -> None:
    """After a completed build: Chroma holds exactly the committed chunks, once each, and no abandoned collection."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    from index.state import load_state

    state = load_state(index_dir)
    assert state is not None and not (index_dir / "BUILDING").exists()
    client = chromadb.PersistentClient(path=str(index_dir / "chroma"), settings=ChromaSettings(anonymized_telemetry=False))
    col = client.get_collection(state.collection)
    ids = col.get(include=[])["ids"]
    assert len(ids) == len(set(ids)) == len(state.chunks)
    assert set(ids) == set(state.chunks)
    names = {c if isinstance(c, str) else c.name for c in client.list_collections()}
    assert state.collection in names and len(names) <= 2  # the live one and, after a rebuild, the one it replaced


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    """The sample (``before``) and a changed copy (``after``): one article removed, one edited, one added."""
    base = tmp_path_factory.mktemp("crash")
    before, after = base / "before", base / "after"
    shutil.copytree(SAMPLE, before)
    shutil.copytree(SAMPLE, after)
    files = sorted(after.glob("*.txt"))
    files[1].unlink()
    edited = files[3]
    edited.write_text(edited.read_text(encoding="utf-8") + "\nParagraf tambahan untuk menguji pengindeksan ulang.\n",
                      encoding="utf-8")
    text = files[2].read_text(encoding="utf-8").splitlines()
    (after / "baru sekali.txt").write_text("\n".join(reversed(text)) + "\n", encoding="utf-8")
    index_dir = base / "index-before"
    run = _index(before, index_dir)
    assert run.returncode == 0, run.stderr
    return {"before": before, "after": after, "index": index_dir,
            "after_sources": {p.name for p in after.iterdir()}, "before_sources": {p.name for p in before.iterdir()}}


CASES = [
    ("after-upsert", False), ("before-commit", False), ("after-state-written", False), ("after-commit", False),
    ("after-upsert", True), ("after-commit", True),
]


@pytest.mark.parametrize(("fault", "rebuild"), CASES, ids=[f"{f}{'-rebuild' if r else ''}" for f, r in CASES])
def test_kill_at_named_point_keeps_previous_index(folders, tmp_path, fault, rebuild):
    index_dir = tmp_path / "index"
    shutil.copytree(folders["index"], index_dir)
    crashed = _index(folders["after"], index_dir, rebuild=rebuild, fault=fault)
    assert crashed.returncode == -signal.SIGKILL, crashed.stderr
    if fault == "after-commit":  # the new state was committed before the kill: readers see it
        _check(index_dir, generation=2, sources=folders["after_sources"])
    else:  # the previous state answers, untouched
        _check(index_dir, generation=1, sources=folders["before_sources"])
    rerun = _index(folders["after"], index_dir, rebuild=rebuild)
    assert rerun.returncode == 0, rerun.stderr
    _check(index_dir, sources=folders["after_sources"])
    _check_clean(index_dir)


# moments a build can be paused at, by phase: (fault point, how many passes of it before the pause)
PHASES = {
    "parse": [("after-file", k) for k in range(1, 6)],  # after reading the k-th of the 5 articles
    "embed": [("after-embed-batch", k) for k in range(1, 4)] + [("after-upsert", 1)],
    "commit": [("before-commit", 1), ("after-state-written", 1), ("after-commit", 1)],
}


def _generation(index_dir: Path) -> int:
    from index.state import load_state

    state = load_state(index_dir)
    assert state is not None
    return state.generation


def test_kill_at_random_moments_of_rebuild(folders, tmp_path):
    """Three SIGKILLs in a row, one while a --rebuild parses, one while it embeds, one while it commits, each at a
    moment drawn from a seeded generator. The build pauses there (``ASSISTANT_FAULT_PAUSE``, see
    :mod:`index.faults`) and says so, so the kill lands mid-build whatever the machine's speed."""
    rng = random.Random(20261122)
    index_dir = tmp_path / "index"
    shutil.copytree(folders["index"], index_dir)
    phases = list(PHASES)
    rng.shuffle(phases)
    for n, phase in enumerate(phases):
        point, k = rng.choice(PHASES[phase])
        generation = _generation(index_dir)
        flag = tmp_path / f"paused-{n}"
        env = _env(index_dir) | {"ASSISTANT_FAULT_PAUSE": f"{point}:{k}:{flag}"}
        err = tmp_path / f"stderr-{n}"
        with err.open("w") as fh:
            proc = subprocess.Popen(_index_cmd(folders["after"], rebuild=True), env=env, cwd=ROOT,
                                    stdout=subprocess.DEVNULL, stderr=fh)
        deadline = time.monotonic() + 300
        while not flag.exists():
            if proc.poll() is not None:
                pytest.fail(f"the build ended (exit {proc.returncode}) before it reached {point} #{k}: "
                            f"{err.read_text()}")
            assert time.monotonic() < deadline, f"the build never reached {point} #{k}"
            time.sleep(0.02)
        assert flag.read_text() == str(proc.pid)
        assert proc.poll() is None and (index_dir / "BUILDING").exists()  # mid-build: paused, not finished
        proc.send_signal(signal.SIGKILL)
        assert proc.wait(timeout=30) == -signal.SIGKILL, (phase, point, k)
        assert (index_dir / "BUILDING").exists()  # the kill landed before the build finished
        assert _generation(index_dir) == generation + (point == "after-commit")  # the swap is the commit
        _check(index_dir)  # whatever state is committed answers
    rerun = _index(folders["after"], index_dir, rebuild=True)
    assert rerun.returncode == 0, rerun.stderr
    summary = json.loads(rerun.stdout)
    assert summary["files"] == len(folders["after_sources"])
    _check(index_dir, sources=folders["after_sources"])
    _check_clean(index_dir)


def test_second_build_on_the_same_index_is_refused(folders, tmp_path):
    index_dir = tmp_path / "index"
    shutil.copytree(folders["index"], index_dir)
    import fcntl

    with open(index_dir / "LOCK", "a+") as fh:  # what a running build holds
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        run = _index(folders["after"], index_dir)
    assert run.returncode == 1
    assert run.stderr.strip().count("\n") == 0 and "another `assistant index`" in run.stderr
    _check(index_dir, generation=1, sources=folders["before_sources"])


def test_killed_first_build_names_its_folder_and_the_rerun_reuses_the_vectors_written(tmp_path):
    """`kill -9` while the first build of a folder embeds: asking then names that folder (not data/articles), and
    the re-run embeds only the chunks whose vectors the killed build had not written yet."""
    from index.builder import SAVE_EVERY

    articles = tmp_path / "my articles"
    shutil.copytree(SAMPLE, articles)
    index_dir = tmp_path / "index"
    flag = tmp_path / "paused"
    batches = SAVE_EVERY // 8 + 1  # ASSISTANT_EMBED_BATCH_SIZE=8: one save of SAVE_EVERY vectors is behind it
    env = _env(index_dir) | {"ASSISTANT_FAULT_PAUSE": f"after-embed-batch:{batches}:{flag}"}
    proc = subprocess.Popen(_index_cmd(articles, rebuild=False), env=env, cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    while not flag.exists():
        assert proc.poll() is None, "the build ended before it was paused"
        assert time.monotonic() < deadline, "the build never reached the pause"
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    assert proc.wait(timeout=30) == -signal.SIGKILL

    for configured in (articles, tmp_path / "elsewhere"):  # the killed build's folder wins over the setting
        ask = subprocess.run([sys.executable, "-m", "ui", "ask", "Siapa Tokayev?"], cwd=ROOT, capture_output=True,
                             text=True, timeout=300,
                             env=_env(index_dir) | {"ASSISTANT_ARTICLES_DIR": str(configured)})
        assert ask.returncode == 1, ask.stderr[-2000:]
        line = ask.stderr.strip()
        assert "\n" not in line and "Traceback" not in line, line
        assert "data/articles" not in line and f"assistant index '{articles}'" in line, line
        assert "stopped before it finished" in line, line
    never_built = subprocess.run([sys.executable, "-m", "ui", "ask", "Siapa Tokayev?"], cwd=ROOT,
                                 capture_output=True, text=True, timeout=300,
                                 env=_env(tmp_path / "empty-index") | {"ASSISTANT_ARTICLES_DIR": str(articles)})
    assert never_built.returncode == 1 and f"build it with `assistant index '{articles}'`" in never_built.stderr, \
        never_built.stderr[-2000:]

    rerun = _index(articles, index_dir)
    assert rerun.returncode == 0, rerun.stderr
    summary = json.loads(rerun.stdout)
    assert summary["chunks"] > SAVE_EVERY
    assert summary["embedded"] <= summary["chunks"] - SAVE_EVERY, summary  # the saved vectors were reused
    _check_clean(index_dir)
