"""Padding and encoding time of the int8 encoder's batches when the texts are sorted by characters (the product
until 2026-11-28) or by tokens (since): same texts, same batch size (32), same session.

Usage: .venv/bin/python benchmarks/batch_order.py [--rounds N]
Prints a table and writes benchmarks/results/batch_order-<date>-<time>.json. Ad hoc; not part of ``make bench``.

Texts: the chunk texts of the two workloads of ``benchmarks/index_throughput.py`` (849 real FacQA passages; the
five sample articles under 4 names each). **padding** = share of the padded batch positions that hold no token;
**encode s** = encoding every batch through the product's int8 backend (every core), the two orders alternately.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from index_throughput import chunk_texts, workload  # noqa: E402
from synthetic import MODEL_CACHE, write_adhoc_result  # noqa: E402

BATCH = 32


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args()
    from index.e5_int8 import ensure_int8_model
    from index.embedding import _OnnxBackend

    backend = _OnnxBackend(ensure_int8_model(MODEL_CACHE), os.cpu_count() or 1)
    rows = []
    for name in ("short", "long"):
        folder = Path(tempfile.mkdtemp(prefix="bench-order-")) / "articles"
        workload(name, folder, None)
        texts = chunk_texts(folder)
        ids, tokens = backend.prepare(texts, "passage")
        orders = {"characters": sorted(range(len(texts)), key=lambda i: len(texts[i])),
                  "tokens": sorted(range(len(texts)), key=tokens.__getitem__)}
        batches = {k: [o[b : b + BATCH] for b in range(0, len(o), BATCH)] for k, o in orders.items()}
        padded = {k: sum(max(tokens[i] for i in batch) * len(batch) for batch in bs) for k, bs in batches.items()}
        backend.run([ids[i] for i in batches["tokens"][-1]], "passage")  # warm-up
        seconds: dict[str, list[float]] = {k: [] for k in orders}
        for r in range(args.rounds):
            for key in (list(orders) if r % 2 == 0 else list(reversed(orders))):
                t = time.perf_counter()
                for batch in batches[key]:
                    backend.run([ids[i] for i in batch], "passage")
                seconds[key].append(round(time.perf_counter() - t, 3))
        for key in orders:
            rows.append({"workload": name, "chunks": len(texts), "sorted_by": key, "tokens": sum(tokens),
                         "padded_positions": padded[key], "padding": round(1 - sum(tokens) / padded[key], 3),
                         "encode_s": seconds[key]})
    print(f"\n{os.cpu_count()} cores, batches of {BATCH}, {args.rounds} rounds (median encode time)\n")
    print("| workload | chunks | sorted by | padding | encode s |")
    print("|---|---|---|---|---|")
    for row in rows:
        print(f"| {row['workload']} | {row['chunks']} | {row['sorted_by']} | {row['padding']:.1%} | "
              f"{statistics.median(row['encode_s']):.2f} |")
    write_adhoc_result("batch_order", {"rows": rows})


if __name__ == "__main__":
    main()
