"""`make bench`: run every benchmark script in this folder, then print one combined table of figures vs goals.

Each script prints its own table and writes benchmarks/results/<name>.json; this writes
benchmarks/results/summary.json. Helper modules (synthetic.py) are not benchmarks. Goal for the whole run: under
15 minutes on 2 cores (the first run also builds the synthetic indexes into benchmarks/cache/; later runs reuse them).
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
HELPERS = {"run_all.py", "synthetic.py"}
GOAL_TOTAL_MIN = 15.0


def _load(name: str) -> dict:
    path = RESULTS / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else {}


def _fmt(v: object, unit: str) -> str:
    if v is None:
        return "n/a"
    if isinstance(v, float):
        digits = 2 if abs(v) < 10 else 1 if abs(v) < 100 else 0
        return f"{v:.{digits}f} {unit}".strip()
    return f"{v} {unit}".strip()


def summary(durations: dict[str, float]) -> list[dict]:
    emb, lat, srv, st = _load("embed_throughput"), _load("query_latency"), _load("serve_memory"), _load("startup")
    rows: list[dict] = []

    def add(figure: str, value: object, unit: str = "", goal: str = "", ok: bool | None = None, note: str = ""):
        rows.append({"figure": figure, "value": value, "unit": unit, "goal": goal,
                     "status": "" if ok is None else ("met" if ok else "NOT met"), "note": note})

    for name, v in emb.get("rows", {}).items():
        add(f"embedder throughput: {name}", round(v, 2), "passages/s", note="~200-token passages, batch 32")
    if emb.get("int8_speedup"):
        add("int8 / fp32 embedder speed-up", round(emb["int8_speedup"], 2), "x")
    if emb:
        add(f"`assistant index` / raw embedder throughput ({emb['default']})", round(emb["ratio"], 2), "",
            f">= {emb['goal_ratio']}", emb["ratio"] >= emb["goal_ratio"])
    goal_ms = lat.get("goal_e2e_p50_ms", 150.0)
    top = max((r["passages"] for r in lat.get("rows", [])), default=0)
    for r in lat.get("rows", []):
        tag = f"{r['passages'] // 1000}k passages, {r['embedder']}"
        add(f"retrieval p50 / p95 ({tag})", f"{r['retrieval_p50_ms']:.0f} / {r['retrieval_p95_ms']:.0f}", "ms")
        is_top = r["passages"] == top
        add(f"end-to-end p50 / p95 ({tag})", f"{r['e2e_p50_ms']:.0f} / {r['e2e_p95_ms']:.0f}", "ms",
            f"p50 <= {goal_ms:.0f}" if is_top else "", (r["e2e_p50_ms"] <= goal_ms) if is_top else None,
            "synthetic corpus*")
    for r in lat.get("rows", []):
        if "components_ms" in r:
            parts = r["components_ms"]
            biggest = max((k for k in parts if k != "total"), key=lambda k: parts[k])
            add(f"largest part of one question ({top // 1000}k, {r['embedder']}): {biggest}",
                round(parts[biggest], 1), "ms", note=f"of {parts['total']:.0f} ms")
    for r in srv.get("rows", []):
        tag = f"{r['passages'] // 1000}k passages, {r['embedder']}"
        add(f"`assistant serve` cold start -> first /ask answer ({tag})", r["cold_start_s"], "s",
            f"<= {r['goal_cold_start_s']:.0f} s", r["cold_start_s"] <= r["goal_cold_start_s"])
        add(f"`assistant ask` cold start -> answer printed ({tag})", r["ask_cold_start_s"], "s")
        add(f"`assistant serve` RSS after start-up / after {r['questions'] + 1} questions ({tag})",
            f"{r['rss_ready_mb']} / {r['rss_after_questions_mb']}", "MB", note=f"peak {r['peak_rss_mb']} MB")
    if st:
        c = st["commands"]
        for key, r in c.items():
            cmd, _, name = key.partition(" ")
            if cmd == "index":
                add(f"`assistant index` start -> first 32 passages embedded ({name})", r.get("first_embed_s"), "s",
                    note=f"done in {r['seconds']} s (sample: 54 passages)")
            elif cmd == "ask":
                add(f"`assistant ask` start -> answer printed (sample index, {name})", r["seconds"], "s")
        add("`assistant --help` process start -> exit", c["help"]["seconds"], "s")
        add("lazy imports (no gradio outside serve, no torch in --help)",
            "OK" if not st["problems"] else "problems: " + ", ".join(st["problems"]), "", "OK", not st["problems"])
    total = sum(durations.values()) / 60
    add("`make bench` total run time", round(total, 1), "min", f"< {GOAL_TOTAL_MIN:.0f} min", total < GOAL_TOTAL_MIN,
        "first run includes building the synthetic indexes")
    return rows


def main() -> None:
    durations: dict[str, float] = {}
    failed = []
    for script in sorted(HERE.glob("*.py")):
        if script.name in HELPERS:
            continue
        print(f"\n== {script.name}", flush=True)
        t = time.perf_counter()
        res = subprocess.run([sys.executable, str(script)])
        durations[script.name] = round(time.perf_counter() - t, 1)
        if res.returncode != 0:
            failed.append(script.name)
    rows = summary(durations)
    print("\n== Summary (markdown)\n")
    print("| figure | value | goal | status | note |\n|---|---:|---|---|---|")
    for r in rows:
        print(f"| {r['figure']} | {_fmt(r['value'], r['unit'])} | {r['goal']} | {r['status']} | {r['note']} |")
    note = _load("query_latency").get("note")
    if note:
        print(f"* {note}")
    print("scripts: " + ", ".join(f"{k} {v:.0f} s" for k, v in durations.items()))
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "summary.json").write_text(json.dumps({
        "rows": rows, "durations_s": durations, "failed": failed, "machine": {
            "cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "note": note,
    }, indent=2))
    if failed:
        print(f"FAILED: {', '.join(failed)}")
        sys.exit(1)


if __name__ == "__main__":
    main()
