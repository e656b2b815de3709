"""How the int8 encoder should use 2 cores: one ONNX Runtime run across both (the product) or one single-threaded
run per core, fed batches from a thread each; alone, and beside Python work in another thread (an index build's
lexical side).

Usage: .venv/bin/python benchmarks/encoder_runs.py [--rounds N] [--python-seconds S]
Prints a table and writes benchmarks/results/encoder_runs-<date>-<time>.json. Ad hoc; not part of ``make bench``.

Texts: the chunks of the 849 real FacQA passages (as in ``benchmarks/index_throughput.py``), encoded as passages in
length-sorted batches of 32. **alone** = encoding them; **beside Python** = the same while another thread runs a
fixed amount of pure-Python work (calibrated to S seconds alone), timed until both are done. The two set-ups run
alternately, round after round, in one process. Also: one query, and 24 sentences in one call (what a question
costs), for each set-up.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from index_throughput import SHORT, chunk_texts  # noqa: E402
from synthetic import MODEL_CACHE, write_adhoc_result  # noqa: E402


def _session(folder: Path, threads: int):
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3
    return ort.InferenceSession(str(folder / "model_int8.onnx"), options, providers=["CPUExecutionProvider"])


class PerCoreRuns:
    """The product's backend with a single-threaded session, ``runs`` batches at a time on a thread pool."""

    def __init__(self, backend, folder: Path, runs: int) -> None:
        self.backend = backend
        backend.session = _session(folder, 1)
        self.pool = ThreadPoolExecutor(runs)
        self.runs = runs

    def encode(self, texts: list[str], kind: str) -> np.ndarray:
        n = max(self.runs, -(-len(texts) // 32))
        bounds = [len(texts) * k // n for k in range(n + 1)]
        parts = [texts[a:b] for a, b in zip(bounds, bounds[1:], strict=False) if b > a]
        return np.vstack(list(self.pool.map(lambda p: self.backend.run(self.backend.prepare(p, kind)[0], kind),
                                             parts)))


class OneRun:
    """The product's backend as it is: one session whose every run uses all ``threads`` cores."""

    def __init__(self, backend) -> None:
        self.backend = backend

    def encode(self, texts: list[str], kind: str) -> np.ndarray:
        return self.backend.run(self.backend.prepare(texts, kind)[0], kind)


def _python_work(n: int) -> None:
    x = 0
    for i in range(n):
        x += i * i % 7


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--python-seconds", type=float, default=3.0)
    args = ap.parse_args()
    from index.e5_int8 import ensure_int8_model
    from index.embedding import _OnnxBackend

    folder = ensure_int8_model(MODEL_CACHE)
    cores = os.cpu_count() or 1
    setups = {"one run on every core (product)": OneRun(_OnnxBackend(folder, cores)),
              "one single-threaded run per core": PerCoreRuns(_OnnxBackend(folder, cores), folder, cores)}
    texts = sorted(chunk_texts(SHORT), key=len)
    batches = [texts[i : i + 32] for i in range(0, len(texts), 32)]
    t = time.perf_counter()
    _python_work(5_000_000)
    n_work = int(5_000_000 * args.python_seconds / (time.perf_counter() - t))

    def encode_all(setup) -> float:
        t0 = time.perf_counter()
        for b in range(0, len(batches), cores):  # each call gets `cores` batches: both set-ups can use every core
            setup.encode([t for batch in batches[b : b + cores] for t in batch], "passage")
        return time.perf_counter() - t0

    rows: dict[str, dict[str, list[float]]] = {name: {"alone_s": [], "beside_python_s": [], "query_ms": [],
                                                       "sentences_24_ms": []} for name in setups}
    question = "Siapa yang meresmikan jembatan baru di kota itu?"
    sentences = texts[:24]
    for setup in setups.values():
        setup.encode(batches[0], "passage")
    for r in range(args.rounds):
        for name in (list(setups) if r % 2 == 0 else list(reversed(setups))):
            setup, got = setups[name], rows[name]
            got["alone_s"].append(encode_all(setup))
            worker = threading.Thread(target=_python_work, args=(n_work,))
            t0 = time.perf_counter()
            worker.start()
            encode_all(setup)
            worker.join()
            got["beside_python_s"].append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            for _ in range(20):
                setup.encode([question], "query")
            got["query_ms"].append((time.perf_counter() - t0) / 20 * 1000)
            t0 = time.perf_counter()
            setup.encode(sentences, "passage")
            got["sentences_24_ms"].append((time.perf_counter() - t0) * 1000)
            print(f"round {r + 1}, {name}: alone {got['alone_s'][-1]:.2f} s, beside {args.python_seconds:.0f} s "
                  f"of Python {got['beside_python_s'][-1]:.2f} s", flush=True)
    print(f"\n{len(texts)} chunk texts (FacQA), {cores} cores, {args.rounds} rounds; medians (min-max)\n")
    print(f"| set-up | alone s | beside {args.python_seconds:.0f} s of Python, s | extra s | one query ms | "
          "24 sentences ms |")
    print("|---|---|---|---|---|---|")

    def cell(values: list[float], fmt: str) -> str:
        return f"{statistics.median(values):{fmt}} ({min(values):{fmt}}-{max(values):{fmt}})"

    for name, got in rows.items():
        extra = [b - a for a, b in zip(got["alone_s"], got["beside_python_s"], strict=True)]
        print(f"| {name} | {cell(got['alone_s'], '.2f')} | {cell(got['beside_python_s'], '.2f')} | "
              f"{cell(extra, '.2f')} | {cell(got['query_ms'], '.1f')} | {cell(got['sentences_24_ms'], '.0f')} |")
    write_adhoc_result("encoder_runs", {"texts": len(texts), "python_seconds": args.python_seconds, "rows": rows})


if __name__ == "__main__":
    main()
