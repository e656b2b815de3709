"""The real ``assistant serve`` process: login, file serving, the ``/ask`` API under 20 concurrent questions, and an
article added through the Library while questions are being answered.

One server (with a login) runs for the module over its own index of a tmp copy of the sample articles; its output
goes to ``server.log`` under the module's tmp folder. Latencies go to ``test-artifacts/concurrency.json``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from assistant.evaluation.metrics import percentile
from tests.conftest import (
    DEV_SET,
    NEW_ARTICLE,
    NEW_TEXT,
    ROOT,
    SAMPLE,
    free_port,
    served_env,
    stop,
    wait_until_listening,
)

pytestmark = pytest.mark.server

ARTIFACTS = ROOT / "test-artifacts"
ASSISTANT = Path(sys.executable).parent / "assistant"
USER, PASSWORD = "reader", "s3cret-Pa55:with-colon"
START_TIMEOUT = 300  # the server loads the embedder before it listens; slow on a busy 2-core machine
ANSWER_TIMEOUT = 600
# answerable questions of the bundled set, Indonesian and English (cross-lingual)
QUESTION_IDS = ["dev-001", "dev-002", "dev-005", "dev-006", "dev-009",
                "dev-019", "dev-020", "dev-021", "dev-023", "dev-026"]
NEW_QUESTION = "Berapa layang-layang raksasa yang akan diterbangkan di Festival Layang-Layang Kelapa Ungu?"



def _items() -> dict[str, dict]:
    items = {}
    for line in DEV_SET.read_text(encoding="utf-8").splitlines():
        item = json.loads(line)
        if item["id"] in QUESTION_IDS:
            items[item["id"]] = item
    assert set(items) == set(QUESTION_IDS)
    return items


def _whole(answer: dict) -> bool:
    """An answer with its citations, or a refusal: never an error or a half answer (what concurrency could break;
    whether the reader is right is measured by benchmarks/report_reader.py, not here)."""
    return bool(answer["answer"]) and (answer["abstained"] or bool(answer["citations"]))


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """``assistant -v serve`` on a free loopback port with ``ASSISTANT_AUTH``; yields (url, tmp folder, log path)."""
    tmp = tmp_path_factory.mktemp("serving")
    shutil.copytree(SAMPLE, tmp / "articles")
    (tmp / "run").mkdir()
    env = served_env(tmp)
    log_path = tmp / "server.log"
    with open(tmp / "index.log", "wb") as out:
        subprocess.run([str(ASSISTANT), "index", str(tmp / "articles")], env=env, cwd=tmp / "run", stdout=out,
                       stderr=subprocess.STDOUT, check=True, timeout=900)
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    env["ASSISTANT_AUTH"] = f"{USER}:{PASSWORD}"
    with open(log_path, "wb") as out:
        proc = subprocess.Popen([str(ASSISTANT), "-v", "serve", "--port", str(port)], env=env, cwd=tmp / "run",
                                stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_until_listening(proc, url, log_path, START_TIMEOUT)
        yield url, tmp, log_path
    finally:
        stop(proc)


@pytest.fixture(scope="module")
def client(server):
    from gradio_client import Client

    return Client(server[0], auth=(USER, PASSWORD), verbose=False, download_files=False)


def test_login_is_required_and_articles_are_not_served(server, client):
    from gradio_client import Client
    from gradio_client.exceptions import AppError, AuthenticationError

    url, tmp, _ = server
    assert url.startswith("http://127.0.0.1:")
    # no login: the API, the config and files all refuse
    anon = httpx.post(url + "gradio_api/call/ask", json={"data": ["Siapa Tokayev?"]}, timeout=30)
    assert anon.status_code == 401, anon.text
    assert httpx.get(url + "config", timeout=30).status_code == 401
    article = tmp / "articles" / sorted(p.name for p in (tmp / "articles").iterdir())[0]
    assert httpx.get(f"{url}gradio_api/file={article}", timeout=30).status_code == 401
    with pytest.raises(AuthenticationError):
        Client(url, verbose=False)
    with pytest.raises((AuthenticationError, ValueError)):
        Client(url, auth=(USER, "wrong"), verbose=False)
    # logged in: asking works, but the articles folder, the index and other files are still not served
    with httpx.Client(base_url=url, timeout=30) as http:
        assert http.post("login", data={"username": USER, "password": "wrong"}).status_code == 400
        assert http.post("login", data={"username": USER, "password": PASSWORD}).status_code == 200
        manifests = sorted((tmp / "idx").rglob("manifest.json"))
        assert manifests
        for path in (article, manifests[0], Path("/etc/passwd"), tmp / "server.log"):
            got = http.get(f"gradio_api/file={path}")
            assert got.status_code == 403, (path, got.status_code, got.text[:200])
        assert http.get(f"gradio_api/file={tmp}/articles/../articles/{article.name}").status_code in (403, 404)
    answer = client.predict("Siapa yang memoderasi diskusi antara Putin dan Tokayev?", api_name="/ask")
    assert isinstance(answer, dict) and answer["answer"] and {"citations", "passages", "abstained"} <= set(answer)
    assert client.predict("Siapa Tokayev?", 2, api_name="/ask")["passages"].__len__() <= 2
    with pytest.raises(AppError, match="empty"):
        client.predict("   ", api_name="/ask")
    with pytest.raises(AppError, match="top_k"):
        client.predict("Siapa Tokayev?", 0, api_name="/ask")


def test_ask_api_filters_narrow_the_sources_and_refuse_bad_dates(server, client):
    """The /ask API's source, outlet and date filters (the CLI flags' path); a bad date is a 400 with one line."""
    dated, other = "001_7539421ef6c581f1.txt", "002_8786f87fdba344cb.txt"
    question = "Berapa orang Rusia yang memasuki Kazakhstan?"
    by_source = client.predict(question, None, [other], None, None, None, api_name="/ask")
    assert by_source["passages"] and {p["source"] for p in by_source["passages"]} == {other}
    assert by_source["filters"]["sources"] == [other]
    by_outlet = client.predict(question, outlet=["Riau24"], api_name="/ask")  # the outlet is RIAU24.COM
    assert by_outlet["passages"] and {p["source"] for p in by_outlet["passages"]} == {"000_e971559feefaf698.txt"}
    by_date = client.predict(question, date_from="2022-09-30", date_to="2022-09-30", api_name="/ask")
    assert {p["source"] for p in by_date["passages"]} == {dated}
    assert not client.predict(question, api_name="/ask").get("filters")  # no filter: all articles, none named
    with httpx.Client(base_url=server[0], timeout=30) as http:
        assert http.post("login", data={"username": USER, "password": PASSWORD}).status_code == 200
        for data, expected in ((["Siapa Tokayev?", None, None, None, "30/09/2022"], "yyyy-mm-dd"),
                               (["Siapa Tokayev?", None, None, ["Kompas"]], "outlet 'Kompas'"),
                               (["Siapa Tokayev?", None, None, None, "2022-10-01", "2022-09-01"], "range is empty")):
            refused = http.post("gradio_api/call/ask", json={"data": data})
            assert refused.status_code == 400, refused.text
            detail = refused.json()["detail"]
            assert expected in detail and "\n" not in detail and "Traceback" not in detail


def test_library_refuses_bad_uploads_on_the_server(server, client, tmp_path):
    """What a client that skips the browser's file picker gets: one clear line, nothing written."""
    from gradio_client import handle_file

    articles = server[1] / "articles"
    before = {p.name: p.read_bytes() for p in articles.iterdir()}
    existing = sorted(before)[0]
    cases = {
        "fake.pdf": ("just text", "fake.pdf is not a PDF file"),
        existing: ("Different text under a name already in the library.", "already exists with different content"),
    }
    for name, (text, message) in cases.items():
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        *_, status = client.predict([handle_file(str(path))], False, api_name="/add")
        assert status.startswith("Not added: ") and message in status and "\n" not in status, status
    (tmp_path / "tool.exe").write_bytes(b"MZ" + b"\0" * 64)
    with pytest.raises(Exception, match="(?i)invalid file type"):
        client.predict([handle_file(str(tmp_path / "tool.exe"))], False, api_name="/add")
    (tmp_path / "big.txt").write_text("kata " * 300_000, encoding="utf-8")  # 1.5 MB > ASSISTANT_UPLOAD_MAX_MB=1
    with pytest.raises(Exception, match="(?i)413|too large|exceeds"):  # Gradio's upload route, before any handler
        client.predict([handle_file(str(tmp_path / "big.txt"))], False, api_name="/add")
    assert {p.name: p.read_bytes() for p in articles.iterdir()} == before


def test_twenty_concurrent_questions_all_answered(server, client):
    items = _items()
    batch = [items[i] for i in QUESTION_IDS] * 2  # 10 questions (5 id, 5 en), each twice: 20 at once
    start = threading.Barrier(len(batch))

    def one(item: dict) -> tuple[dict, float]:
        start.wait(timeout=60)
        t0 = time.perf_counter()
        answer = client.predict(item["question"], api_name="/ask")
        return answer, time.perf_counter() - t0

    t0 = time.perf_counter()
    with ThreadPoolExecutor(len(batch)) as pool:
        results = list(pool.map(one, batch, timeout=ANSWER_TIMEOUT))
    wall = time.perf_counter() - t0
    latencies = [dt for _, dt in results]
    report = {
        "questions": len(batch), "distinct": len(items), "wall_s": round(wall, 2),
        "p50_s": round(percentile(latencies, 50), 2), "p95_s": round(percentile(latencies, 95), 2),
        "max_s": round(max(latencies), 2), "min_s": round(min(latencies), 2),
        "server_total_ms_p50": round(percentile([a["timings_ms"]["total"] for a, _ in results], 50), 1),
        "concurrency_limit": 4, "cpus": os.cpu_count(), "via": "gradio_client predict(api_name='/ask')",
    }
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "concurrency.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print("\nconcurrency:", json.dumps(report))
    alone = {item["id"]: client.predict(item["question"], api_name="/ask")["answer"] for item in items.values()}
    for item, (answer, _) in zip(batch, results, strict=True):
        assert answer["question"] == item["question"], "an answer came back for another question"
        assert _whole(answer), (item["id"], answer["answer"][:300])
        # asked at once with 19 others, a question gets the answer it gets alone
        assert answer["answer"] == alone[item["id"]], item["id"]


def test_article_added_while_questions_are_answered(server, client, tmp_path):
    from gradio_client import handle_file

    items = list(_items().values())
    stop = threading.Event()
    done: list[tuple[float, float, str, dict]] = []
    errors: list[str] = []
    lock = threading.Lock()

    def asker(offset: int) -> None:
        i = offset
        while not stop.is_set():
            item = items[i % len(items)]
            i += 1
            t0 = time.monotonic()
            try:
                answer = client.predict(item["question"], api_name="/ask")
            except Exception as exc:
                with lock:
                    errors.append(f"{item['id']}: {type(exc).__name__}: {exc}")
                continue
            with lock:
                done.append((t0, time.monotonic(), item["id"], answer))

    new = tmp_path / NEW_ARTICLE
    new.write_text(NEW_TEXT, encoding="utf-8")
    threads = [threading.Thread(target=asker, args=(k * 3,), daemon=True) for k in range(4)]
    for t in threads:
        t.start()
    try:
        time.sleep(2)  # questions are in flight before the upload starts
        b0 = time.monotonic()
        _, _, _, status = client.predict([handle_file(str(new))], False, api_name="/add")
        b1 = time.monotonic()
        while not any(start > b1 for start, *_ in done) and time.monotonic() - b1 < ANSWER_TIMEOUT:
            time.sleep(0.5)  # at least one question asked after the new generation is live
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=ANSWER_TIMEOUT)
    assert "Added: " + NEW_ARTICLE in status, status
    assert not errors, errors
    assert len(done) >= 4
    by_id = {item["id"]: item for item in items}
    for _, _, item_id, answer in done:
        assert answer["question"] == by_id[item_id]["question"] and _whole(answer), (item_id, answer["answer"][:300])
    overlapping = [d for d in done if d[0] < b1 and d[1] > b0]
    print(f"\nbuild took {b1 - b0:.1f} s; {len(done)} answers, {len(overlapping)} overlapping the build")
    assert overlapping, "no question was being answered while the article was indexed"
    # the running server answers from the new article
    answer = client.predict(NEW_QUESTION, api_name="/ask")
    assert "412" in answer["answer"] and any(c["source"] == NEW_ARTICLE for c in answer["citations"]), answer["answer"]


def test_log_holds_no_password_and_only_short_questions(server, client):
    long_question = "Siapa yang memoderasi diskusi antara Putin dan Tokayev? " + " ".join(
        f"kata{i}" for i in range(150))
    client.predict(long_question, api_name="/ask")
    log = server[2].read_text(encoding="utf-8", errors="replace")
    assert "serving on 127.0.0.1:" in log and "login required" in log
    assert "api ask (" in log  # questions are logged (at -v) …
    assert long_question not in log and "kata149" not in log  # … but cut short
    assert PASSWORD not in log and PASSWORD.split(":")[1] not in log
    assert NEW_TEXT.splitlines()[4] not in log  # no article text


def test_cancel_and_reset_need_the_login(server):
    url = server[0]
    cancel = {"session_hash": "s1", "fn_index": 0, "event_id": "e1"}
    assert httpx.post(url + "gradio_api/cancel", json=cancel, timeout=30).status_code == 401
    assert httpx.post(url + "gradio_api/reset", json={"event_id": "e1"}, timeout=30).status_code == 401
    with httpx.Client(base_url=url, timeout=30) as http:
        assert http.post("login", data={"username": USER, "password": PASSWORD}).status_code == 200
        assert http.post("gradio_api/cancel", json=cancel).status_code == 200
        assert http.post("gradio_api/reset", json={"event_id": "e1"}).status_code == 200
        # a queue call naming no function of the app: a 4xx with the reason, not a 500
        got = http.post("gradio_api/queue/join", json={"data": [], "fn_index": -1, "session_hash": "s1"})
        assert got.status_code == 422 and "fn_index -1" in got.text, got.text


def test_raw_question_is_logged_cut_and_escaped(server):
    """A plain-HTTP call without ``top_k`` (optional) holding control characters and 150,000 characters: a clear
    error for the caller; one log line (at -v) with the question escaped and cut to 80 characters."""
    url, _, log_path = server
    size_before = log_path.stat().st_size
    question = "Siapa\x00 Tokayev?\x1b[31m zzkontrol " + "kata " * 30_000
    with httpx.Client(base_url=url, timeout=120) as http:
        assert http.post("login", data={"username": USER, "password": PASSWORD}).status_code == 200
        for data, expected in (([question], "event: error"), (["Siapa Tokayev?"], "event: complete")):
            posted = http.post("gradio_api/call/ask", json={"data": data})
            assert posted.status_code == 200, posted.text[:300]
            events = http.get("gradio_api/call/ask/" + posted.json()["event_id"]).text
            assert expected in events and '"error": null' not in events, events[:300]
            if expected == "event: error":
                assert "150,0" in events, events[:300]  # the reason: too long
    time.sleep(1)
    log = log_path.read_bytes()[size_before:]
    assert b"\x00" not in log and b"\x1b" not in log
    lines = log.decode("utf-8").splitlines()
    asked = [line for line in lines if "zzkontrol" in line]
    assert len(asked) == 1 and asked[0].startswith("INFO api ask (1500"), asked
    logged = asked[0].split("): ", 1)[1]
    assert len(logged) <= 80 and logged.startswith("Siapa\\x00 Tokayev?\\x1b[31m zzkontrol kata"), logged
    assert all(len(line) <= 500 for line in lines), max(lines, key=len)[:300]
    assert "Traceback" not in log.decode("utf-8") and len(log) < 5000


def test_ask_from_the_shell_through_the_running_server(server, client):
    """`assistant ask --server URL` answers through the resident server (login from ASSISTANT_AUTH) with the same
    answer object as the /ask API; without the login, or with a bad filter, it is one line and exit 1."""
    url, tmp, _ = server
    env = served_env(tmp)
    env["ASSISTANT_AUTH"] = f"{USER}:{PASSWORD}"
    question = "Berapa orang Rusia yang memasuki Kazakhstan?"
    cmd = [str(ASSISTANT), "ask", "--server", url, question]
    res = subprocess.run([*cmd, "--json"], env=env, capture_output=True, text=True, timeout=ANSWER_TIMEOUT)
    assert res.returncode == 0, res.stderr[-2000:]
    got = json.loads(res.stdout)
    direct = client.predict(question, api_name="/ask")
    assert (got["answer"], got["citations"]) == (direct["answer"], direct["citations"]) and got["citations"]
    shown = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=ANSWER_TIMEOUT)
    assert shown.returncode == 0 and got["answer"] in shown.stdout and "[1] " in shown.stdout, shown.stderr[-2000:]
    for extra, expected in (([], "needs a login"), (["--from", "30/09/2022"], "yyyy-mm-dd")):
        bad_env = {k: v for k, v in env.items() if k != "ASSISTANT_AUTH" or extra}
        bad = subprocess.run([*cmd, *extra], env=bad_env, capture_output=True, text=True, timeout=ANSWER_TIMEOUT)
        assert bad.returncode == 1 and expected in bad.stderr, bad.stderr[-2000:]
        assert len(bad.stderr.strip().splitlines()) == 1 and "Traceback" not in bad.stderr


def test_repeated_wrong_logins_are_slowed_down(server):
    """30 wrong passwords in a row: after 5, each try waits a doubling delay (429 + Retry-After) — then the right
    password works again. (Runs last: the module's other logins come from the same address.)"""
    url = server[0]
    with httpx.Client(base_url=url, timeout=30) as http:
        answers = [http.post("login", data={"username": USER, "password": "wrong-guess"}) for _ in range(30)]
        codes = [r.status_code for r in answers]
        assert codes[:5] == [400] * 5 and codes.count(400) <= 8 and codes.count(429) >= 22, codes
        assert set(codes) <= {400, 429}
        slowed = [r for r in answers if r.status_code == 429]
        assert all("too many failed logins" in r.json()["detail"] and int(r.headers["retry-after"]) >= 1
                   for r in slowed)
        time.sleep(int(slowed[-1].headers["retry-after"]) + 0.5)
        assert http.post("login", data={"username": USER, "password": PASSWORD}).status_code == 200
        assert http.post("login", data={"username": USER, "password": "wrong-guess"}).status_code == 400  # reset
