"""Dense search restricted to some chunks: Chroma's filtered ANN query against exact similarity over stored vectors.

Usage: .venv/bin/python benchmarks/filtered_search.py [--passages 100000]
Prints a table and writes benchmarks/results/filtered_search.json.

A question that names its article, an each-article sub-query and a narrow source/date filter search only some
chunks. Chroma answers a query with a ``where`` filter by walking its metadata index, which at 100k passages costs
100+ ms even for one article's eight chunks; reading those chunks' stored vectors and comparing them with the
question takes a few ms (:meth:`index.store.ChunkStore.nearest_among`), and for a set that is a large share of the
index an unfiltered query for more hits, filtered afterwards, is quicker still. This measures Chroma's filtered
query, the exact search and the product's choice among the three (:func:`index.reader.search_plan`) on the
synthetic pool (its passages are recombined sample sentences, see :mod:`benchmarks.synthetic`; only the sizes
matter here) for sets of whole articles of growing size, with how far the similarities each finds fall short of the exact top 10's. Each time:
the median over the questions, each question's time the faster of two runs after one warm-up query.
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
SIZES = (1, 12, 62, 125, 250, 625, 2500, 6250)  # articles (8 chunks each in the synthetic pool)
QUESTIONS = ("Berapa panjang perbatasan darat antara Kazakhstan dan Rusia?",
             "Kapan pasukan CSTO tiba di Kazakhstan?",
             "How many Russians entered Kazakhstan after the mobilisation?",
             "Siapa yang memimpin diskusi di forum ekonomi?",
             "What did the foreign ministry say about the troops?")


def _mean_score(hits) -> float:
    return statistics.mean(h.score for h in hits) if hits else 0.0


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
    from index.reader import EXACT_SEARCH_MAX, STALE_MARGIN, open_index, search_plan

    embedder = default_embedder()
    reader = open_index(IndexConfig(index_dir=ensure_index(args.passages, embedder), embedder=embedder,
                                    model_cache_dir=MODEL_CACHE))
    vectors = reader.embedder.embed_queries(list(QUESTIONS))
    reader.store.search(vectors[0], 30)  # warm-up: the HNSW index loaded
    files = sorted(reader.state.files.values(), key=lambda f: f.source)
    rng = random.Random(20261127)
    rows = []
    live = len(reader.state.chunks)
    for n in SIZES:
        chosen = rng.sample(files, min(n, len(files)))
        ids = sorted(c for f in chosen for c in f.chunk_ids)
        allowed = set(ids)
        where = {"source": {"$in": sorted(f.source for f in chosen)}}
        filtered, exact, product, f_overlap, p_overlap = [], [], [], [], []
        for v in vectors:
            filtered.append(_ms(lambda v=v, w=where: reader.store.search(v, 30 + STALE_MARGIN, w)))  # as reader.dense
            exact.append(_ms(lambda v=v, i=ids: reader.store.nearest_among(v, i, 30)))
            product.append(_ms(lambda v=v, a=allowed: reader.dense(v, 30, a)))
            best = _mean_score(reader.store.nearest_among(v, ids, 10))
            f_overlap.append(best - _mean_score(reader.store.search(v, 10, where)))
            p_overlap.append(best - _mean_score(reader.dense(v, 10, allowed)))
        rows.append({"articles": len(chosen), "chunks": len(ids), "plan": search_plan(len(ids), live, 30)[0],
                     "chroma_filtered_ms": round(statistics.median(filtered), 1),
                     "exact_ms": round(statistics.median(exact), 1),
                     "product_ms": round(statistics.median(product), 1),
                     "chroma_filtered_shortfall": round(statistics.mean(f_overlap), 4),
                     "product_shortfall": round(statistics.mean(p_overlap), 4)})
        print(f"  {len(ids):>6} chunks: filtered {rows[-1]['chroma_filtered_ms']:>7.1f} ms, exact "
              f"{rows[-1]['exact_ms']:>7.1f} ms, product ({rows[-1]['plan']}) {rows[-1]['product_ms']:>7.1f} ms",
              file=sys.stderr, flush=True)
    out = {"passages": args.passages, "embedder": embedder, "questions": len(QUESTIONS),
           "exact_search_max": EXACT_SEARCH_MAX, "rows": rows, "note": APPROXIMATION}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "filtered_search.json").write_text(json.dumps(out, indent=2))
    print(f"Dense search (k = 30) within some chunks of the synthetic* {args.passages // 1000}k pool ({embedder}); "
          f"median ms over {len(QUESTIONS)} questions; shortfall = mean similarity of the exact top 10 minus that of "
          f"the top 10 found (0 = as good as exact; the synthetic pool is full of near-ties, so the hits themselves "
          f"differ even where the similarities do not)")
    print(f"{'chunks':>8} {'articles':>9} {'Chroma filtered':>16} {'shortfall':>9} {'exact':>9} {'product':>9} "
          f"{'shortfall':>9}  product's way")
    for r in rows:
        print(f"{r['chunks']:>8} {r['articles']:>9} {r['chroma_filtered_ms']:>13.1f} ms "
              f"{r['chroma_filtered_shortfall']:>9.4f} {r['exact_ms']:>6.1f} ms {r['product_ms']:>6.1f} ms "
              f"{r['product_shortfall']:>9.4f}  {r['plan']}")


if __name__ == "__main__":
    main()
