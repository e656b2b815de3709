"""Server mode: the real `assistant` CLI against a real `chroma run` server on loopback (ASSISTANT_CHROMA_URL).

One server per module (its own folder under tmp_path, log in chroma-server.log, always terminated); the index folder
then holds only the manifest, BM25 and stored texts, and the vectors live on the server. The tests run in file order
and share the index: build, ask, re-run incrementally, rebuild, then the error for a server that is down.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import DEV_SET, MODEL_CACHE, SAMPLE, free_port, read_exact, stop

pytestmark = pytest.mark.server

BIN = Path(sys.executable).parent
QUESTION_ID = "dev-006"  # "Berapa orang yang tercatat meninggalkan Kazakhstan sejak 21 September…?" → 64.234 orang



def _exe(name: str) -> str:
    path = BIN / name
    found = str(path) if path.exists() else shutil.which(name)
    if not found:
        pytest.fail(f"`{name}` is not installed next to {sys.executable}: run `pip install -e .[dev]`")
    return found


def _heartbeat(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/api/v2/heartbeat", timeout=2) as resp:
            return resp.status == 200 and b"nanosecond heartbeat" in resp.read()
    except OSError:
        return False


@pytest.fixture(scope="module")
def chroma_url(tmp_path_factory) -> Iterator[str]:
    """A real Chroma server on a free loopback port; terminated (then killed if need be) in teardown."""
    base = tmp_path_factory.mktemp("server")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log_path = base / "chroma-server.log"
    env = {**os.environ, "ANONYMIZED_TELEMETRY": "False"}
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [_exe("chroma"), "run", "--host", "127.0.0.1", "--port", str(port), "--path", str(base / "chroma-server")],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
        )
        try:
            deadline = time.monotonic() + 60
            while not _heartbeat(url):
                if proc.poll() is not None or time.monotonic() > deadline:
                    tail = log_path.read_text(errors="replace")[-2000:]
                    pytest.fail(f"chroma server did not come up on {url} (exit {proc.poll()}); log:\n{tail}")
                time.sleep(0.2)
            yield url
        finally:
            stop(proc, timeout=15)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    """Articles (a copy of the samples) and an empty index folder; commands run here, away from any .env."""
    base = tmp_path_factory.mktemp("served")
    shutil.copytree(SAMPLE, base / "articles")
    return base


def _env(workdir: Path, chroma_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    env.update(
        ASSISTANT_INDEX_DIR=str(workdir / "index"), ASSISTANT_MODEL_CACHE_DIR=str(MODEL_CACHE),
        ASSISTANT_CHROMA_URL=chroma_url, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", ANONYMIZED_TELEMETRY="False",
    )
    return env


def _cli(workdir: Path, chroma_url: str, *args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
    res = subprocess.run([_exe("assistant"), *args], cwd=workdir, env=_env(workdir, chroma_url),
                         capture_output=True, text=True, timeout=300)
    if ok:
        assert res.returncode == 0, f"assistant {' '.join(args)} failed ({res.returncode}):\n{res.stderr[-3000:]}"
    return res


def _index(workdir: Path, chroma_url: str, *flags: str) -> dict:
    res = _cli(workdir, chroma_url, "index", str(workdir / "articles"), "--json", *flags)
    return json.loads(next(line for line in res.stdout.splitlines() if line.startswith("{")))


def _server(chroma_url: str):
    import chromadb
    from chromadb.config import Settings

    port = int(chroma_url.rsplit(":", 1)[1])
    return chromadb.HttpClient(host="127.0.0.1", port=port, settings=Settings(anonymized_telemetry=False))


def _collections(chroma_url: str) -> set[str]:
    return {c if isinstance(c, str) else c.name for c in _server(chroma_url).list_collections()}


def _server_ids(chroma_url: str, name: str) -> set[str]:
    return set(_server(chroma_url).get_collection(name).get(include=[])["ids"])


def _state(workdir: Path):
    from index.state import load_state

    state = load_state(workdir / "index")
    assert state is not None
    return state


def _config(workdir: Path, chroma_url: str):
    from index.config import IndexConfig

    return IndexConfig(index_dir=workdir / "index", model_cache_dir=MODEL_CACHE, chroma_url=chroma_url)


def _assert_no_local_chroma(workdir: Path) -> None:
    index_dir = workdir / "index"
    assert not (index_dir / "chroma").exists()
    assert not list(index_dir.rglob("chroma.sqlite3"))


@pytest.fixture(scope="module")
def first_build(workdir, chroma_url) -> dict:
    return _index(workdir, chroma_url)


def test_index_writes_vectors_to_the_server_only(workdir, chroma_url, first_build):
    assert first_build["files"] == 5 and first_build["indexed"] == 5
    assert first_build["chunks"] > 0 and first_build["embedded"] == first_build["chunks"]
    _assert_no_local_chroma(workdir)
    state = _state(workdir)
    assert _collections(chroma_url) == {state.collection}
    assert _server_ids(chroma_url, state.collection) == set(state.chunks)
    meta = _server(chroma_url).get_collection(state.collection).metadata
    assert json.loads(meta["signature"]) == state.signature


def test_ask_through_the_server_is_cited_and_correct(workdir, chroma_url, first_build):
    item = next(i for i in map(json.loads, DEV_SET.read_text(encoding="utf-8").splitlines()) if i["id"] == QUESTION_ID)
    res = _cli(workdir, chroma_url, "ask", "--json", item["question"])
    answer = json.loads(res.stdout)
    assert not answer["abstained"] and answer["citations"]

    def norm(t: str) -> str:
        return re.sub(r"(\d)[.,](\d{3})", r"\1\2", t.lower())

    assert any(norm(ref) in norm(answer["answer"]) for ref in [item["answer"], *item["answer_aliases"]])
    for c in answer["citations"]:
        assert read_exact(workdir / "articles" / c["source"])[c["start"] : c["end"]] == c["quote"]
        assert f"[{c['n']}]" in answer["answer"]
    assert {c["source"] for c in answer["citations"]} & set(item["sources"])
    _assert_no_local_chroma(workdir)


def test_search_within_some_articles_reads_their_vectors_from_the_server(workdir, chroma_url, first_build):
    from index.reader import open_index

    reader = open_index(_config(workdir, chroma_url))
    first, second = reader.files()[:2]
    allowed = set(first.chunk_ids) | set(second.chunk_ids)
    v = reader.embedder.embed_query("Berapa orang Rusia memasuki Kazakhstan?")
    exact = reader.dense(v, 5, allowed)  # exact over the stored vectors, read from the server
    chroma = reader.store.search(v, 5, {"source": {"$in": sorted({first.source, second.source})}})
    assert [h.id for h in exact] == [h.id for h in chroma] and {h.id for h in exact} <= allowed
    _assert_no_local_chroma(workdir)


def test_second_run_embeds_nothing(workdir, chroma_url, first_build):
    again = _index(workdir, chroma_url)
    assert again["embedded"] == 0 and again["indexed"] == 0 and again["unchanged"] == 5
    assert again["chunks"] == first_build["chunks"]
    state = _state(workdir)
    assert _collections(chroma_url) == {state.collection}
    assert _server_ids(chroma_url, state.collection) == set(state.chunks)


def test_rebuild_swaps_collections_and_old_readers_keep_answering(workdir, chroma_url, first_build):
    from index.errors import IndexMissing
    from index.reader import open_index

    old = _state(workdir).collection
    replica = open_index(_config(workdir, chroma_url))  # a replica that opened the index before the rebuild
    vector = replica.embedder.embed_query("Berapa orang Rusia memasuki Kazakhstan sejak 21 September?")
    assert replica.dense(vector, 5)

    rebuilt = _index(workdir, chroma_url, "--rebuild")
    state = _state(workdir)
    new = state.collection
    assert new != old and rebuilt["embedded"] == rebuilt["chunks"] == first_build["chunks"]
    # the replaced collection is kept until the next build, so the replica still on it keeps answering
    assert _collections(chroma_url) == {old, new}
    assert _server_ids(chroma_url, new) == set(state.chunks)
    assert replica.dense(vector, 5)

    after = _index(workdir, chroma_url)  # the next build drops the replaced collection
    assert after["embedded"] == 0
    assert _collections(chroma_url) == {new}
    with pytest.raises(IndexMissing, match="gone from the Chroma server"):
        replica.dense(vector, 5)
    fresh = open_index(_config(workdir, chroma_url))  # what refresh() does on the next question
    assert fresh.store.settings.collection == new and fresh.dense(vector, 5)
    _assert_no_local_chroma(workdir)


def test_unreachable_server_is_one_clear_line(workdir, first_build):
    down = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    res = _cli(workdir, down, "ask", "Siapa pemimpin redaksi Russia Today?", ok=False)
    assert res.returncode == 1
    lines = [line for line in res.stderr.splitlines() if line.strip() and not line.startswith("DEBUG")]
    assert len(lines) == 1 and lines[0].startswith(f"error: cannot reach the Chroma server at {down}")
    assert "Traceback" not in res.stderr and not res.stdout.strip()
    _assert_no_local_chroma(workdir)
