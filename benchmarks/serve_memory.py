"""Cold start and resident memory of the served app at 100k passages, and cold start of `assistant ask`.

Usage: .venv/bin/python benchmarks/serve_memory.py [--passages 100000] [--embedder NAME] [--variants e5-small-int8]
Prints a table and writes benchmarks/results/serve_memory.json. Goal: cold start <= 15 s.

* ``assistant serve`` is started on a free loopback port over the cached synthetic index (see synthetic.py).
  Cold start = process start -> first answer returned by the HTTP API (``gradio_client.Client(url).predict(
  question, api_name="/ask")``); "ready" = the same client first connects. RSS = resident memory of the server
  process and all its children (psutil when installed, else /proc), after start-up, after the first answer and
  after every dev question; peak = the kernel's high-water mark (VmHWM) of the server process.
* ``assistant ask QUESTION`` cold start = process start -> answer printed (the process exits right after).
* ``assistant ask --server URL QUESTION`` = the same through the running server (no model or index loaded by the
  command): process start -> answer printed, median of 3 after the server answered its questions.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from query_latency import questions  # noqa: E402
from synthetic import CACHE, MODEL_CACHE, ROOT, default_embedder, ensure_index, unavailable  # noqa: E402

from assistant.evaluation.metrics import percentile  # noqa: E402 - the repo root is on sys.path after synthetic
from index.offline import OFFLINE_ENV  # noqa: E402

GOAL_COLD_START_S = 15.0
RESULTS = ROOT / "benchmarks" / "results"
ASSISTANT = str(Path(sys.executable).parent / "assistant")


def _children(pid: int) -> list[int]:
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            child = int(stat.parent.name)
            out += [child, *_children(child)]
    return out


def rss_mb(pid: int) -> float:
    """Resident memory of ``pid`` and all its descendants, MB."""
    try:
        import psutil

        proc = psutil.Process(pid)
        return sum(p.memory_info().rss for p in [proc, *proc.children(recursive=True)]) / 2**20
    except ImportError:
        pass
    total = 0
    for p in [pid, *_children(pid)]:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
        except OSError:
            continue
    return total / 2**20


def peak_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def env_for(folder: Path, embedder: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    env.update(OFFLINE_ENV, ASSISTANT_INDEX_DIR=str(folder), ASSISTANT_EMBEDDER=embedder,
               ASSISTANT_MODEL_CACHE_DIR=str(MODEL_CACHE))
    return env


def serve_figures(folder: Path, embedder: str, qs: list[str], timeout: float = 240.0) -> dict:
    import logging

    import httpx
    from gradio_client import Client

    logging.getLogger("httpx").setLevel(logging.WARNING)
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    CACHE.mkdir(parents=True, exist_ok=True)
    log = open(CACHE / f"serve-{embedder}.log", "w")  # noqa: SIM115 - closed below
    t0 = time.perf_counter()
    proc = subprocess.Popen([ASSISTANT, "serve", "--port", str(port)], env=env_for(folder, embedder), stdout=log,
                            stderr=subprocess.STDOUT, cwd=ROOT)
    out: dict = {"port": port}
    try:
        client = None
        while client is None:
            if proc.poll() is not None:
                raise RuntimeError(f"assistant serve exited with {proc.returncode}: see {log.name}")
            if time.perf_counter() - t0 > timeout:
                raise RuntimeError(f"assistant serve not ready after {timeout} s")
            try:
                httpx.get(url, timeout=2.0).raise_for_status()
                client = Client(url, verbose=False)
            except Exception:
                time.sleep(0.1)
        out["ready_s"] = round(time.perf_counter() - t0, 2)
        out["rss_ready_mb"] = round(rss_mb(proc.pid))
        first = client.predict(qs[0], api_name="/ask")
        out["cold_start_s"] = round(time.perf_counter() - t0, 2)
        out["first_answer_chars"] = len(first.get("answer", "")) if isinstance(first, dict) else None
        out["rss_after_first_mb"] = round(rss_mb(proc.pid))
        lat = []
        for q in qs:
            t = time.perf_counter()
            client.predict(q, api_name="/ask")
            lat.append((time.perf_counter() - t) * 1000)
        shell = []
        for q in qs[:3]:
            t = time.perf_counter()
            res = subprocess.run([ASSISTANT, "ask", "--server", url, q], env=env_for(folder, embedder),
                                 capture_output=True, text=True, cwd=ROOT, timeout=120)
            shell.append(time.perf_counter() - t)
            if res.returncode != 0:
                raise RuntimeError(f"assistant ask --server failed: {res.stderr.strip()[-400:]}")
        out["ask_server_s"] = round(sorted(shell)[len(shell) // 2], 2)
        out["rss_after_questions_mb"] = round(rss_mb(proc.pid))
        out["peak_rss_mb"] = round(peak_mb(proc.pid))
        out["questions"] = len(qs)
        lat.sort()
        out["api_p50_ms"] = round(percentile(lat, 50), 1)
        out["method"] = "gradio_client predict(api_name='/ask')"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
    return out


def ask_cold_start(folder: Path, embedder: str, question: str) -> dict:
    t0 = time.perf_counter()
    res = subprocess.run([ASSISTANT, "ask", question], env=env_for(folder, embedder), capture_output=True, text=True,
                         cwd=ROOT)
    seconds = time.perf_counter() - t0
    if res.returncode != 0:
        raise RuntimeError(f"assistant ask failed: {res.stderr.strip()[-400:]}")
    return {"ask_cold_start_s": round(seconds, 2), "ask_output_lines": len(res.stdout.splitlines())}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--passages", type=int, default=100_000)
    ap.add_argument("--embedder", default=None)
    ap.add_argument("--variants", default="e5-small-int8", help="other embedders to serve (comma-separated)")
    args = ap.parse_args()
    embedder = args.embedder or default_embedder()
    names = [embedder] + [v for v in args.variants.split(",") if v and v != embedder and not unavailable(v)]
    qs = [q["question"] for q in questions()]
    RESULTS.mkdir(parents=True, exist_ok=True)
    rows = []
    for name in names:
        folder = ensure_index(args.passages, name)
        ask = ask_cold_start(folder, name, qs[0])
        serve = serve_figures(folder, name, qs)
        rows.append({"passages": args.passages, "embedder": name, **ask, **serve,
                     "goal_cold_start_s": GOAL_COLD_START_S})
    print(f"Serving at {args.passages} passages; cold start = process start -> first answer")
    print(f"  {'':<50}" + "".join(f"{r['embedder']:>16}" for r in rows))
    lines = [
        ("`assistant serve` ready (HTTP API answers), s", "ready_s", "{:.1f}"),
        (f"`assistant serve` cold start -> first /ask answer, s (goal <= {GOAL_COLD_START_S:.0f})", "cold_start_s",
         "{:.1f}"),
        ("`assistant ask` cold start -> answer printed, s", "ask_cold_start_s", "{:.1f}"),
        ("`assistant ask --server URL` -> answer printed, s", "ask_server_s", "{:.2f}"),
        ("RSS after start-up, MB", "rss_ready_mb", "{:.0f}"),
        ("RSS after first answer, MB", "rss_after_first_mb", "{:.0f}"),
        (f"RSS after {len(qs)} more questions, MB", "rss_after_questions_mb", "{:.0f}"),
        ("peak RSS (VmHWM of the server process), MB", "peak_rss_mb", "{:.0f}"),
        ("/ask round trip p50 (warm, through HTTP), ms", "api_p50_ms", "{:.0f}"),
    ]
    for label, key, fmt in lines:
        print(f"  {label:<50}" + "".join(f"{fmt.format(r[key]):>16}" for r in rows))
    for r in rows:
        print(f"  goal cold start <= {GOAL_COLD_START_S:.0f} s with {r['embedder']}: "
              f"{'met' if r['cold_start_s'] <= GOAL_COLD_START_S else 'NOT met'}")
    print("  RSS: server process and its children; answers requested through the HTTP API "
          "(gradio_client, api_name='/ask')")
    (RESULTS / "serve_memory.json").write_text(json.dumps({"rows": rows, "goal_cold_start_s": GOAL_COLD_START_S},
                                                          indent=2))


if __name__ == "__main__":
    main()
