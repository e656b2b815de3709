"""The real ``assistant serve`` process with a login, against bodies that do not parse, uploads that are never added,
and forged dropdown values: a clear one-line refusal each, one log line, never a traceback.

One server (login on, ``-v`` so that warnings are logged, uploads of at most 1 MB) runs for the module over its own index of a tmp copy of
the sample articles; its output goes to ``server.log`` under the module's tmp folder.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.conftest import SAMPLE, free_port, served_env, stop, wait_until_listening

pytestmark = pytest.mark.server

ASSISTANT = Path(sys.executable).parent / "assistant"
USER, PASSWORD = "reader", "hardening-Pa55"
MB = 1024 * 1024
CALL_ROUTES = ("gradio_api/call/ask", "gradio_api/queue/join", "gradio_api/run/ask", "gradio_api/api/ask")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """``assistant -v serve`` with ``ASSISTANT_AUTH`` on a free loopback port; yields (url, log path)."""
    tmp = tmp_path_factory.mktemp("hardening")
    shutil.copytree(SAMPLE, tmp / "articles")
    (tmp / "run").mkdir()
    env = served_env(tmp)
    with open(tmp / "index.log", "wb") as out:
        subprocess.run([str(ASSISTANT), "index", str(tmp / "articles")], env=env, cwd=tmp / "run", stdout=out,
                       stderr=subprocess.STDOUT, check=True, timeout=900)
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    env["ASSISTANT_AUTH"] = f"{USER}:{PASSWORD}"
    log_path = tmp / "server.log"
    with open(log_path, "wb") as out:
        proc = subprocess.Popen([str(ASSISTANT), "-v", "serve", "--port", str(port)], env=env, cwd=tmp / "run",
                                stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_until_listening(proc, url, log_path, 300)
        yield url, log_path
    finally:
        stop(proc)


@contextmanager
def _logged_in(url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=url, timeout=60) as http:
        assert http.post("login", data={"username": USER, "password": PASSWORD}).status_code == 200
        yield http


def _log_since(log_path: Path, offset: int) -> str:
    time.sleep(1)
    return log_path.read_bytes()[offset:].decode("utf-8", errors="replace")


def test_bodies_that_do_not_parse_are_401_without_a_login_and_422_with_one(server):
    """3 KB of "[" once gave an unauthenticated 500 and a 41-line traceback: the body was parsed before the login
    check and only ValueError was caught."""
    url, log_path = server
    offset = log_path.stat().st_size
    bodies = {"nested": b"[" * 3000, "nested in data": b'{"data": ' + b"[" * 3000, "not json": b"{data: ]",
              "not utf-8": b'{"data": ["\xff\xfe"]}'}
    headers = {"content-type": "application/json"}
    with httpx.Client(base_url=url, timeout=60) as anonymous:
        for route in CALL_ROUTES:
            for name, body in bodies.items():
                got = anonymous.post(route, content=body, headers=headers)
                assert got.status_code == 401, (route, name, got.status_code, got.text[:300])
    with _logged_in(url) as http:
        for route in CALL_ROUTES:
            for name, body in bodies.items():
                got = http.post(route, content=body, headers=headers)
                assert got.status_code == 422, (route, name, got.status_code, got.text[:300])
                detail = got.json()["detail"]
                assert "\n" not in detail and detail.startswith("the request body is "), detail
        # a well-formed call still works
        posted = http.post("gradio_api/call/ask", json={"data": ["Siapa yang memoderasi diskusi Putin dan Tokayev?"]})
        assert posted.status_code == 200, posted.text[:300]
    log = _log_since(log_path, offset)
    assert "Traceback" not in log and " 500" not in log, log[-3000:]
    refused = [line for line in log.splitlines() if "refused an API call" in line]
    assert len(refused) == len(CALL_ROUTES) * len(bodies), log[-3000:]


def test_uploads_never_added_are_deleted_within_a_minute_and_capped_per_client(server):
    """Each upload request could hold 10 files in the temp folder until Gradio's hourly clean-up."""
    url, log_path = server
    offset = log_path.stat().st_size
    with _logged_in(url) as http:
        files = [("files", (f"held{i}.txt", b"kata " * (180 * 1024), "text/plain")) for i in range(10)]  # 9 MB
        t0 = time.monotonic()
        got = http.post("gradio_api/upload", files=files)
        assert got.status_code == 200, got.text[:300]
        stored = [Path(p) for p in got.json()]
        assert len(stored) == 10 and all(p.is_file() for p in stored)
        # the quota is one full batch (10 files of --upload-max-mb = 1 MB, plus 1 MB): 9 MB are held, 3 more refused
        more = [("files", (f"more{i}.txt", b"kata " * (200 * 1024), "text/plain")) for i in range(3)]
        refused = http.post("gradio_api/upload", files=more)
        assert refused.status_code == 429, (refused.status_code, refused.text[:300])
        assert "per client" in refused.json()["detail"] and refused.headers.get("retry-after")
        with httpx.Client(base_url=url, timeout=60) as anonymous:  # without a login: not this client's quota
            assert anonymous.post("gradio_api/upload", files=more[:1]).status_code != 429
        while any(p.exists() for p in stored):
            assert time.monotonic() - t0 < 60, [p for p in stored if p.exists()]
            time.sleep(1)
        # deleted: the client's quota is free again
        again = http.post("gradio_api/upload", files=more)
        assert again.status_code == 200, (again.status_code, again.text[:300])
    log = _log_since(log_path, offset)
    assert "Traceback" not in log, log[-3000:]


def test_forged_dropdown_value_costs_one_log_line(server):
    """A value outside a dropdown's choices once wrote a ~30-line traceback with the value and every choice."""
    url, log_path = server
    offset = log_path.stat().st_size
    marker = "zz-forged-choice"
    with _logged_in(url) as http:
        config = http.get("config").json()
        kinds = {c["id"]: c.get("type") for c in config["components"]}
        candidates = [d for d in config["dependencies"]
                      if d["inputs"] and all(kinds.get(i) == "dropdown" for i in d["inputs"])]
        assert candidates, "no event takes only dropdowns"
        dep = min(candidates, key=lambda d: len(d["inputs"]))
        session = "forged-session"
        joined = http.post("gradio_api/queue/join", json={"data": [marker] * len(dep["inputs"]),
                                                          "fn_index": dep["id"], "session_hash": session})
        assert joined.status_code == 200, joined.text[:300]
        completed = None
        with http.stream("GET", "gradio_api/queue/data", params={"session_hash": session}) as events:
            for line in events.iter_lines():
                if line.startswith("data:"):
                    event = json.loads(line[5:])
                    if event.get("msg") == "process_completed":
                        completed = event
                        break
    assert completed is not None and completed.get("success") is False, completed
    shown = json.dumps(completed)
    assert "not one of its choices" in shown and marker not in shown, shown[:500]
    log = _log_since(log_path, offset)
    assert "Traceback" not in log and marker not in log, log[-3000:]
    assert sum("not among the choices" in line for line in log.splitlines()) == 1, log[-3000:]
