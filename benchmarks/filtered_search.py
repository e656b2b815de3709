"""Dense search restricted to some chunks: Chroma's filtered ANN query against exact similarity over stored vectors.

Usage: .venv/bin/python benchmarks/filtered_search.py [--passages 100000]
Prints a table and writes benchmarks/results/filtered_search.json.

A question that names its article, an each-article sub-query and a narrow source/date filter search only some
chunks. Chroma answers a query with a ``where`` filter by walking its metadata index, which at 100k passages costs
100+ ms even for one article's eight chunks; reading those chunks' stored vectors and comparing them with the
question takes a few ms (:meth:`index.store.ChunkStore.nearest_among`). This measures both on the synthetic pool
(its passages are recombined sample sentences, see :mod:`benchmarks.synthetic`; only the sizes matter here) for
sets of whole articles of growing size; :data:`index.reader.EXACT_SEARCH_MAX` (the largest set searched exactly)
is read from it. Each cell: the median over the questions, each question's time the faster of two runs after one
warm-up query.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from synthetic import APPROXIMATION, MODEL_CACHE, ROOT, default_embedder, ensure_index  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"
SIZES = (1, 12, 62, 125, 250, 625, 2500)  # articles (8 chunks each in the synthetic pool)
QUESTIONS = ("Berapa panjang perbatasan darat antara Kazakhstan dan Rusia?",
             "Kapan pasukan CSTO tiba di Kazakhstan?",
             "How many Russians entered Kazakhstan after the mobilisation?",
             "Siapa yang memimpin diskusi di forum ekonomi?",
             "What did the foreign ministry say about the troops?")


def _ms(fn) -> float:
    best = float("inf")
    for _ in range(2):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best * 1000


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--passages", type=int, default=100_000)
    args = ap.parse_args()
    from index import IndexConfig
    from index.reader import EXACT_SEARCH_MAX, open_index

    embedder = default_embedder()
    reader = open_index(IndexConfig(index_dir=ensure_index(args.passages, embedder), embedder=embedder,
                                    model_cache_dir=MODEL_CACHE))
    vectors = reader.embedder.embed_queries(list(QUESTIONS))
    reader.store.search(vectors[0], 30)  # warm-up: the HNSW index loaded
    files = sorted(reader.state.files.values(), key=lambda f: f.source)
    rng = random.Random(20261127)
    rows = []
    for n in SIZES:
        chosen = rng.sample(files, min(n, len(files)))
        ids = sorted(c for f in chosen for c in f.chunk_ids)
        where = {"source": {"$in": sorted(f.source for f in chosen)}}
        filtered, exact, same = [], [], []
        for v in vectors:
            filtered.append(_ms(lambda v=v, w=where: reader.store.search(v, 46, w)))  # k + 16, as IndexReader.dense
            exact.append(_ms(lambda v=v, i=ids: reader.store.nearest_among(v, i, 30)))
            a = [h.id for h in reader.store.search(v, 30, where)]
            b = [h.id for h in reader.store.nearest_among(v, ids, 30)]
            same.append(len(set(a[:10]) & set(b[:10])) / max(1, min(10, len(b))))
        rows.append({"articles": len(chosen), "chunks": len(ids),
                     "chroma_filtered_ms": round(statistics.median(filtered), 1),
                     "exact_ms": round(statistics.median(exact), 1),
                     "top10_overlap": round(statistics.mean(same), 3)})
        print(f"  {len(ids):>6} chunks: filtered {rows[-1]['chroma_filtered_ms']:>7.1f} ms, exact "
              f"{rows[-1]['exact_ms']:>7.1f} ms", file=sys.stderr, flush=True)
    out = {"passages": args.passages, "embedder": embedder, "questions": len(QUESTIONS),
           "exact_search_max": EXACT_SEARCH_MAX, "rows": rows, "note": APPROXIMATION}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "filtered_search.json").write_text(json.dumps(out, indent=2))
    print(f"Dense search over some chunks of the synthetic* {args.passages // 1000}k pool ({embedder}); median ms "
          f"over {len(QUESTIONS)} questions; the product searches sets of <= {EXACT_SEARCH_MAX} chunks exactly")
    print(f"{'chunks':>8} {'articles':>9} {'Chroma filtered':>16} {'exact':>8} {'top-10 overlap':>15}")
    for r in rows:
        print(f"{r['chunks']:>8} {r['articles']:>9} {r['chroma_filtered_ms']:>13.1f} ms {r['exact_ms']:>5.1f} ms "
              f"{r['top10_overlap']:>15.3f}")


if __name__ == "__main__":
    main()
