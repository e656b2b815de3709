"""What a Chroma upsert costs with and without the chunk texts, on the 849 real FacQA paragraphs.

Usage: .venv/bin/python benchmarks/chroma_upsert.py [--repeats 3]
Prints a table and writes benchmarks/results/chroma_upsert.json.

The index stores each chunk's vector and metadata in Chroma, not its text (``index.store.ChunkStore.upsert``):
quotes are read from the index folder's stored articles, and Chroma would index a second copy of every text for
full-text search that nothing queries. This measures that choice: one upsert of all paragraphs into a fresh local
collection (the builder upserts a build's new chunks in one call per 1,000), with the builder's metadata, with and
without ``documents=``. Vectors are random unit vectors (labelled: their values do not change what Chroma does with
the texts); the texts are the real paragraphs. Median of ``--repeats`` runs, each in a fresh folder.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from synthetic import ROOT  # noqa: E402

SHORT = ROOT / "data" / "external" / "facqa-train" / "articles"
RESULTS = ROOT / "benchmarks" / "results"


def one_upsert(texts: list[str], with_texts: bool) -> float:
    import chromadb
    import numpy as np
    from chromadb.config import Settings

    rng = np.random.default_rng(0)
    vectors = rng.standard_normal((len(texts), 384)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    metas = [{"source": f"p{i}.txt", "doc_id": f"d{i}", "start": 0, "end": len(t), "position": 0,
              "title": t[:80], "outlet": "", "date": "", "language": "id"} for i, t in enumerate(texts)]
    with tempfile.TemporaryDirectory(prefix="bench-upsert-") as folder:
        client = chromadb.PersistentClient(path=folder, settings=Settings(anonymized_telemetry=False))
        col = client.create_collection("bench-upsert", embedding_function=None, metadata={"hnsw:space": "cosine"})
        extra = {"documents": texts} if with_texts else {}
        t = time.perf_counter()
        col.upsert(ids=[f"c{i}" for i in range(len(texts))], embeddings=vectors.tolist(), metadatas=metas, **extra)
        return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    texts = [p.read_text(encoding="utf-8") for p in sorted(SHORT.glob("*.txt"))]
    one_upsert(texts[:50], True)  # chromadb's import and first client out of the timings
    rows = []
    for with_texts in (True, False):
        runs = [one_upsert(texts, with_texts) for _ in range(args.repeats)]
        rows.append({"texts_stored": with_texts, "chunks": len(texts), "median_s": round(statistics.median(runs), 3),
                     "runs_s": [round(r, 3) for r in runs]})
    print(f"Chroma upsert of {len(texts)} real FacQA paragraphs (random unit vectors, the builder's metadata), "
          f"median of {args.repeats}")
    print(f"{'texts stored in Chroma':<24} {'seconds':>8} {'ms per chunk':>13}")
    for r in rows:
        print(f"{'yes' if r['texts_stored'] else 'no (the product)':<24} {r['median_s']:>8.2f} "
              f"{1000 * r['median_s'] / r['chunks']:>13.2f}")
    RESULTS.mkdir(parents=True, exist_ok=True)
    commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    (RESULTS / "chroma_upsert.json").write_text(json.dumps(
        {"git_commit": commit, "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "rows": rows,
         "vectors": "random unit vectors (384 dimensions)"}, indent=2))


if __name__ == "__main__":
    main()
