"""The real ``assistant serve`` process without a login (the default), against what a client can send it: builds made
by another process, oversized bodies, raw API calls with missing or bad values; and what reaches its log.

One server (no login, no ``-v``) runs for the module over its own index of a tmp copy of the sample articles; its
output goes to ``server.log`` under the module's tmp folder.
"""

from __future__ import annotations

import json
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests.conftest import (
    NEW_ARTICLE,
    NEW_TEXT,
    SAMPLE,
    free_port,
    served_env,
    stop,
    wait_until_listening,
)

pytestmark = pytest.mark.server

ASSISTANT = Path(sys.executable).parent / "assistant"
START_TIMEOUT = 300
NEW_QUESTION = "Berapa layang-layang raksasa yang akan diterbangkan di Festival Layang-Layang Kelapa Ungu?"
CHANGED_PARAGRAPH = ("\n\nDalam kabar terpisah, Museum Perahu Layar Sungai Kapuas mencatat 9.317 pengunjung "
                     "selama libur panjang, jumlah tertinggi sejak museum itu dibuka.\n")
CHANGED_QUESTION = "Berapa pengunjung yang dicatat Museum Perahu Layar Sungai Kapuas selama libur panjang?"
KNOWN_QUESTION = "Siapa yang memoderasi diskusi antara Putin dan Tokayev?"
MB = 1024 * 1024


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """``assistant serve`` (no login, not verbose) on a free loopback port; yields (url, tmp, log path, pid, env)."""
    tmp = tmp_path_factory.mktemp("guarded")
    shutil.copytree(SAMPLE, tmp / "articles")
    (tmp / "run").mkdir()
    env = served_env(tmp)
    with open(tmp / "index.log", "wb") as out:
        subprocess.run([str(ASSISTANT), "index", str(tmp / "articles")], env=env, cwd=tmp / "run", stdout=out,
                       stderr=subprocess.STDOUT, check=True, timeout=900)
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    log_path = tmp / "server.log"
    with open(log_path, "wb") as out:
        proc = subprocess.Popen([str(ASSISTANT), "serve", "--port", str(port)], env=env, cwd=tmp / "run",
                                stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_until_listening(proc, url, log_path, START_TIMEOUT)
        yield url, tmp, log_path, proc.pid, env
    finally:
        stop(proc)


@pytest.fixture(scope="module")
def client(server):
    from gradio_client import Client

    return Client(server[0], verbose=False, download_files=False)


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def _raw_call(url: str, body: bytes | dict, timeout: float = 120) -> tuple[str, object]:
    """POST to /gradio_api/call/ask, then read the result stream: ("complete"|"error", data)."""
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    posted = httpx.post(url + "gradio_api/call/ask", content=content, headers={"content-type": "application/json"},
                        timeout=timeout)
    assert posted.status_code == 200, (posted.status_code, posted.text[:300])
    events = httpx.get(url + "gradio_api/call/ask/" + posted.json()["event_id"], timeout=timeout).text
    found = re.findall(r"^event: (\w+)\ndata: (.*)$", events, flags=re.M)
    assert found, events[:500]
    kind, data = found[-1]
    return kind, json.loads(data)


def test_build_by_another_process_is_answered_by_the_running_server(server, client):
    """`assistant index` in its own process adds one article and changes another while the server answers; the
    next questions find the new paragraphs through dense retrieval too, and questions in flight keep working."""
    url, tmp, _, _, env = server
    before = client.predict(NEW_QUESTION, api_name="/ask")
    assert "412" not in before["answer"]
    (tmp / "articles" / NEW_ARTICLE).write_text(NEW_TEXT, encoding="utf-8")
    changed = sorted((tmp / "articles").glob("00*.txt"))[1]
    with open(changed, "a", encoding="utf-8") as fh:
        fh.write(CHANGED_PARAGRAPH)

    stop_asking = threading.Event()
    answers: list[dict] = []
    errors: list[str] = []

    def asker() -> None:
        while not stop_asking.is_set():
            try:
                answers.append(client.predict(KNOWN_QUESTION, api_name="/ask"))
            except Exception as exc:  # any failure of a question in flight fails the test
                errors.append(f"{type(exc).__name__}: {exc}")

    thread = threading.Thread(target=asker, daemon=True)
    thread.start()
    try:
        out = subprocess.run([str(ASSISTANT), "index", str(tmp / "articles")], env=env, cwd=tmp / "run",
                             capture_output=True, text=True, timeout=900)
    finally:
        stop_asking.set()
        thread.join(timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "2 indexed" in out.stdout, out.stdout
    assert not errors, errors
    assert answers and all("Simonyan" in a["answer"] for a in answers), [a["answer"][:200] for a in answers]

    answer = client.predict(NEW_QUESTION, api_name="/ask")
    assert "412" in answer["answer"] and any(c["source"] == NEW_ARTICLE for c in answer["citations"]), answer["answer"]
    new = [p for p in answer["passages"] if p["source"] == NEW_ARTICLE]
    assert new and "dense" in new[0]["legs"], new  # found by the vector search, not by BM25 alone
    answer = client.predict(CHANGED_QUESTION, api_name="/ask")
    assert "9.317" in answer["answer"] and any(c["source"] == changed.name for c in answer["citations"]), \
        answer["answer"]
    assert any(p["source"] == changed.name and "dense" in p["legs"] and "9.317" in p["text"]
               for p in answer["passages"])


def test_oversized_bodies_are_refused_before_they_are_read(server):
    """Four 250 MB bodies at once (two with a Content-Length, two chunked): 413 each, server memory unchanged."""
    url, _, _, pid, _ = server
    target = url + "gradio_api/call/ask"
    size = 250 * MB

    def body():
        chunk = b"x" * MB
        yield b'{"data": ["'
        for _ in range(size // MB):
            yield chunk
        yield b'"]}'

    def send(declared: bool) -> httpx.Response:
        headers = {"content-type": "application/json"}
        if declared:
            headers["content-length"] = str(size + 14)
        return httpx.post(target, content=body(), headers=headers, timeout=120)

    rss_before = _rss_mb(pid)
    t0 = time.monotonic()
    with ThreadPoolExecutor(4) as pool:
        responses = list(pool.map(send, [True, False, True, False]))
    elapsed = time.monotonic() - t0
    rss_after = _rss_mb(pid)
    for r in responses:
        assert r.status_code == 413, (r.status_code, r.text[:200])
        assert "request body too large" in r.json()["detail"] and "8 MB" in r.json()["detail"]
    assert rss_after - rss_before < 100, (rss_before, rss_after)
    assert elapsed < 60
    # a Content-Length over the limit is refused before a byte of the body is read
    with socket.create_connection(("127.0.0.1", int(url.rsplit(":", 1)[1].strip("/")))) as sock:
        sock.sendall(b"POST /gradio_api/call/ask HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     b"Content-Length: 262144014\r\n\r\n{\"data\": [\"")
        sock.settimeout(30)
        assert sock.recv(200).startswith(b"HTTP/1.1 413 ")
    # the server still answers
    kind, data = _raw_call(url, {"data": [KNOWN_QUESTION, 3]})
    assert kind == "complete" and data[0]["answer"]


def test_upload_route_takes_a_batch_over_the_body_limit(server):
    """Uploads have their own limit: files of --upload-max-mb (1 MB here), up to 10 in one request."""
    url = server[0]
    files = [("files", (f"batch{i}.txt", b"kata " * (180 * 1024), "text/plain")) for i in range(10)]  # 9 MB > 8 MB
    got = httpx.post(url + "gradio_api/upload", files=files, timeout=120)
    assert got.status_code == 200, (got.status_code, got.text[:300])
    assert len(got.json()) == 10
    files = [("files", (f"over{i}.txt", b"kata " * (180 * 1024), "text/plain")) for i in range(13)]  # 11.4 MB
    got = httpx.post(url + "gradio_api/upload", files=files, timeout=120)
    assert got.status_code == 413 and "upload-max-mb" in got.json()["detail"], got.text[:300]


def test_raw_api_calls_and_what_the_log_keeps(server):
    """``top_k`` is optional over plain HTTP; bad calls get a 4xx with a reason; the log (no -v) holds no question
    and no request body, whatever was sent."""
    url, _, log_path, _, _ = server
    size_before = log_path.stat().st_size
    kind, data = _raw_call(url, {"data": [KNOWN_QUESTION]})  # no top_k
    assert kind == "complete" and "Simonyan" in data[0]["answer"], data
    marker = "zzpertanyaanpanjang"
    long_question = "Siapa\x00 Tokayev? " + marker + "y" * 100_000
    kind, data = _raw_call(url, {"data": [long_question]})
    assert kind == "error" and data and "100,0" in str(data["error"]), data  # the reason, not {"error": null}
    kind, data = _raw_call(url, {"data": [12]})
    assert kind == "error" and "question must be a string" in str(data)
    # a 7 MB body (under the limit) with a question in it: answered with a reason, not logged
    kind, data = _raw_call(url, {"data": [marker + "z" * (7 * MB)]})
    assert kind == "error" and data["error"]
    # a 20 MB body: refused before it is read
    assert httpx.post(url + "gradio_api/call/ask", content=b'{"data": ["' + b"z" * (20 * MB) + b'"]}',
                      headers={"content-type": "application/json"}, timeout=120).status_code == 413
    # queue calls naming no function of this app, or too few values: 422 with a reason, never a 500
    with httpx.Client(base_url=url, timeout=60) as http:
        got = http.post("gradio_api/queue/join", json={"data": [], "fn_index": -1, "session_hash": "s1"})
        assert got.status_code == 422 and "fn_index -1" in got.json()["detail"], got.text
        got = http.post("gradio_api/queue/join", json={"data": [], "fn_index": "ask", "session_hash": "s1"})
        assert 400 <= got.status_code < 500, got.text
        config = http.get("config").json()
        respond = max(config["dependencies"], key=lambda d: len(d["inputs"]))  # the chat's answer (9 inputs)
        wanted = len(respond["inputs"])
        assert wanted > 1
        got = http.post("gradio_api/queue/join",
                        json={"data": [marker], "fn_index": respond["id"], "session_hash": "s1"})
        assert got.status_code == 422 and f"takes {wanted} input values, got 1" in got.json()["detail"], got.text
    time.sleep(1)
    log = log_path.read_bytes()[size_before:]
    assert len(log) < 20_000, len(log)
    text = log.decode("utf-8", errors="replace")
    assert marker not in text and "Tokayev" not in text and "yyyyyyyyyy" not in text
    assert b"\x00" not in log
    assert "Traceback" not in text and "Received inputs" not in text, text[-3000:]
