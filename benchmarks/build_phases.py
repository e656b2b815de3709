"""Where a first `assistant index` build spends its time beside the encoder: each phase of ``build_index`` timed
against the raw encoder on the same chunk texts, in a new process per run.

Usage: .venv/bin/python benchmarks/build_phases.py [--workload short|long] [--runs N] [--code DIR ...]
Prints a table and writes benchmarks/results/build_phases-<date>-<time>.json.

Each run is a new Python process with an empty stem cache on disk (a first build on this machine), the model loaded
and warmed up first, like **index** in ``benchmarks/index_throughput.py`` (same workloads, same helpers): **raw** =
``Embedder.embed_documents`` on the chunk texts; **build** = ``build_index`` of the folder into a new index folder;
the phases are the builder's own functions, timed by wrapping them (``embed+store`` = encoding and Chroma upserts,
with the lexical worker running beside them; ``before encoding`` = what the first chunk waits for).

``--code DIR`` (repeatable) times the ``index`` package of another checkout of this repository (e.g. a
``git worktree`` of an earlier commit) with this script's helpers; several ``--code`` folders are run alternately,
run after run, so that a busy moment of the machine hits them alike. Ad hoc; not part of ``make bench``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
PHASES = ("_classify_files", "_chunk_new_documents", "_embed_and_store", "_commit", "_clean_up")


def one_run(workload_name: str) -> dict:
    """In this process: the workload's raw encode, then one timed first build with its phases."""
    from index_throughput import _loaded_embedder, chunk_texts, fresh_model_cache, workload

    import index.builder as builder
    from index import IndexConfig, build_index

    work = Path(tempfile.mkdtemp(prefix="bench-phases-"))
    try:
        folder = work / "articles"
        workload(workload_name, folder, None)
        cache = fresh_model_cache(work)
        texts = chunk_texts(folder)
        emb = _loaded_embedder("e5-small-int8", cache, texts)
        t = time.perf_counter()
        emb.embed_documents(texts)
        raw = time.perf_counter() - t
        phases: dict[str, float] = {}
        for name in PHASES:
            original = getattr(builder, name)

            def timed(*args, _fn=original, _name=name, **kwargs):
                t0 = time.perf_counter()
                try:
                    return _fn(*args, **kwargs)
                finally:
                    phases[_name] = phases.get(_name, 0.0) + time.perf_counter() - t0

            setattr(builder, name, timed)
        t = time.perf_counter()
        first_chunk_wait = [0.0]
        original_embed = emb.embed_documents

        def embed_documents(texts_, progress=None, on_batch=None, _t=t):
            if not first_chunk_wait[0]:
                first_chunk_wait[0] = time.perf_counter() - _t
            return original_embed(texts_, progress=progress, on_batch=on_batch)

        emb.embed_documents = embed_documents  # type: ignore[method-assign]
        build_index(folder, IndexConfig(index_dir=work / "index", embedder="e5-small-int8", model_cache_dir=cache))
        build = time.perf_counter() - t
        return {"chunks": len(texts), "raw_s": round(raw, 3), "build_s": round(build, 3),
                "ratio": round(raw / build, 3), "before_encoding_s": round(first_chunk_wait[0], 3),
                "phases_s": {k.strip("_"): round(v, 3) for k, v in phases.items()}}
    finally:
        shutil.rmtree(work, ignore_errors=True)


def run_in_new_process(code: Path, workload_name: str) -> dict:
    res = subprocess.run([sys.executable, __file__, "--child", workload_name], capture_output=True, text=True,
                         cwd=code, timeout=1800)
    if res.returncode != 0:
        raise SystemExit(f"run failed ({code}):\n{res.stderr[-3000:]}")
    return json.loads(res.stdout.strip().splitlines()[-1])


def _commit(code: Path) -> str:
    out = subprocess.run(["git", "rev-parse", "--short=10", "HEAD"], cwd=code, capture_output=True, text=True)
    return out.stdout.strip() or "?"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--workload", choices=("short", "long"), default="short")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--code", type=Path, action="append", help="checkout whose index package to time (repeatable)")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        code = Path.cwd()
        sys.path.insert(0, str(code))
        import index  # bound to that checkout before the helpers put this one on sys.path

        assert Path(index.__file__).resolve().is_relative_to(code), (index.__file__, code)
        print(json.dumps(one_run(args.child)))
        return
    codes = [c.resolve() for c in (args.code or [HERE.parent])]
    runs: dict[str, list[dict]] = {str(c): [] for c in codes}
    for r in range(args.runs):
        for code in codes:
            got = run_in_new_process(code, args.workload)
            runs[str(code)].append(got)
            print(f"run {r + 1} {_commit(code)}: raw {got['raw_s']:.2f} s, build {got['build_s']:.2f} s, "
                  f"ratio {got['ratio']:.3f}, before encoding {got['before_encoding_s']:.2f} s", flush=True)
    print("\n| code | commit | runs | build s (median) | raw s (median) | build / raw (median) | before encoding s |")
    print("|---|---|---|---|---|---|---|")
    for code, got in runs.items():
        med = {k: statistics.median(g[k] for g in got) for k in ("build_s", "raw_s", "ratio", "before_encoding_s")}
        print(f"| {code} | {_commit(Path(code))} | {len(got)} | {med['build_s']:.2f} | {med['raw_s']:.2f} | "
              f"{med['ratio']:.3f} | {med['before_encoding_s']:.2f} |")
    from synthetic import write_adhoc_result  # here, not at the top: it imports this checkout's index package

    write_adhoc_result("build_phases", {"workload": args.workload,
                                        "runs": {f"{c} ({_commit(Path(c))})": g for c, g in runs.items()}})


if __name__ == "__main__":
    main()
