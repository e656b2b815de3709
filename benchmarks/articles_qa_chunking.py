"""Chunk size and overlap on articles-qa's *fit* and *choose* parts (the *report* part is not read): evidence recall
at equal character budgets for the product's retrieval over pools indexed with each chunking.

    .venv/bin/python benchmarks/articles_qa_chunking.py [--embedder e5-small-int8] [--grid 100/20,160/30,240/40]

Every chunking is ranked with the fusion and selection fitted for the default 160/30-token chunks (a chunking
without its own fitted files would otherwise fall back to plain RRF, and the comparison would be of fusions, not of
chunkings). The score is :mod:`fit_articles_retrieval`'s: recall averaged over the budgets, then per budget.
Writes ``benchmarks/results/articles_qa_chunking-<embedder>.json`` (committed) and prints a table. Ad hoc: the
default chunking changes only where these figures clearly say so, since every fitted file is tied to it.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import numpy as np  # noqa: E402
from articles_qa_data import BUDGETS, evaluate, items, open_aq_pool, product_ranked, reader_texts  # noqa: E402
from retrieval_data import ROOT, settings_for, write_json  # noqa: E402

import assistant.retrieval as retrieval  # noqa: E402
from assistant.evaluation.run_folder import git_commit  # noqa: E402
from assistant.settings import Settings  # noqa: E402

DEFAULT = (Settings.model_fields["chunk_tokens"].default, Settings.model_fields["chunk_overlap"].default)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--embedder", default="e5-small-int8")
    ap.add_argument("--grid", default="100/0,100/20,160/0,160/30,240/40,320/60")
    args = ap.parse_args()
    grid = [tuple(int(x) for x in g.split("/")) for g in args.grid.split(",")]
    fusion = retrieval.fusion_for(args.embedder, *DEFAULT)
    selection = retrieval.load_selection(args.embedder, *DEFAULT)
    retrieval.fusion_for = lambda *a: fusion  # type: ignore[assignment]  # every chunking: the default's fusion
    out: dict = {"command": "python benchmarks/articles_qa_chunking.py --embedder " + args.embedder
                            + f" --grid {args.grid}", "git_commit": git_commit(), "rows": []}
    print(f"{'chunking':<12}{'chunks':>7}{'chars/chunk':>12}{'part':>8}{'mean':>7}"
          + "".join(f"{b:>7}" for b in BUDGETS))
    for tokens, overlap in grid:
        s = settings_for(Path("unused"), embedder=args.embedder, chunk_tokens=tokens, chunk_overlap=overlap)
        reader = open_aq_pool(s)
        texts = reader_texts(reader)
        sizes = [c.end - c.start for c in reader.state.chunks.values()]
        row = {"chunk_tokens": tokens, "chunk_overlap": overlap, "chunks": len(sizes),
               "mean_chars": round(float(np.mean(sizes)))}
        for part in ("fit", "choose"):
            its = items(part)
            ranked = {it.id: product_ranked(reader, s, it.question, 40, selection) for it in its}
            per = evaluate(ranked, its, texts)
            by_b = {b: round(float(np.mean([a for a, _ in per[b]])), 4) for b in BUDGETS}
            row[part] = {"mean": round(float(np.mean(list(by_b.values()))), 4), "by_budget": by_b}
            print(f"{tokens}/{overlap:<8}{len(sizes):>7}{row['mean_chars']:>12}{part:>8}{row[part]['mean']:>7.3f}"
                  + "".join(f"{by_b[b]:>7.3f}" for b in BUDGETS), flush=True)
        out["rows"].append(row)
    write_json(ROOT / "benchmarks" / "results" / f"articles_qa_chunking-{args.embedder}.json", out)


if __name__ == "__main__":
    main()
