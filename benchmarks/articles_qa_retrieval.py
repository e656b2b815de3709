"""Evidence recall at an equal context budget on articles-qa's *report* part: the product against its own dense and
BM25 legs alone and the plain LangChain recipe, in one run.

    .venv/bin/python benchmarks/articles_qa_retrieval.py [--embedder e5-small-int8] [--parts report]

The pool, the budgets and the scoring are :mod:`articles_qa_data`'s: the 12 articles of ``data/articles-qa`` with the
5 samples, indexed by the product's own builder under ``tmp/benchmark/``; a question is found at a budget when every
evidence span of it lies fully inside the characters handed over. Compared, each ranking its passages best first:

* ``product``: what the assistant hands its answerer: ``assistant.retrieval.retrieve`` (fitted fusion and selection,
  scoping, sub-queries), then the trained reader's rerank of its first ``pool`` passages (the answer policy's pool,
  fitted as ``rerank_pool`` by ``benchmarks/fit_articles_retrieval.py``), cut to the budget;
* ``product (no rerank)``: the same retrieval without the reader's rerank;
* ``product (before)``: the same with the selection this issue replaced — fused order for every language and at most
  3 passages per story;
* ``dense`` / ``bm25``: one leg of the product's own index alone;
* ``langchain``: the plain recipe (the same e5 model, ``RecursiveCharacterTextSplitter(1000, 200)``, similarity top k).

Budgets: 1000, 2000, 3000 and 5000 characters, and ``default``: the product hands over its default ``top_k``
passages, and every other retriever gets the same number of characters for that question. Rows: all answerable
questions, English questions over Indonesian articles (type ``cross_lingual``), questions needing two articles
(type ``multi_doc``). Each figure with its 95% bootstrap interval over questions; the paired differences of the
product against dense-only and the recipe at the default budget. Writes
``benchmarks/results/articles_qa_retrieval-<embedder>.json`` (committed) and prints Markdown tables.
"""

from __future__ import annotations

import argparse
import platform
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import numpy as np  # noqa: E402
from articles_qa_data import (  # noqa: E402
    BUDGETS,
    POOL,
    LangChainRecipe,
    bm25_ranked,
    dense_ranked,
    evidence_found,
    handed_over,
    items,
    open_aq_pool,
    product_ranked,
    product_reranked,
    reader_texts,
    summarise,
)
from retrieval_data import ROOT, add_index_options, settings_from, write_json  # noqa: E402

from assistant.evaluation.run_folder import git_commit  # noqa: E402
from assistant.reader_answer import load_policy  # noqa: E402
from assistant.reader_model import load_reader  # noqa: E402
from assistant.retrieval import Selection, load_selection  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"
BEFORE = Selection(max_per_story=3)  # the selection before issue 25: fused order, a cap of 3 passages per story
METHODS = ("product", "product (no rerank)", "product (before)", "dense", "bm25", "langchain")
ROWS = {"all": lambda it: True, "cross_lingual": lambda it: it.type == "cross_lingual",
        "multi_doc": lambda it: it.type == "multi_doc"}


def paired(a: list[float], b: list[float], rounds: int = 2000, seed: int = 7) -> list[float]:
    """The mean of a − b with its 95% bootstrap interval (questions resampled, pairs kept)."""
    d = [x - y for x, y in zip(a, b, strict=True)]
    rng = random.Random(seed)
    draws = sorted(sum(d[rng.randrange(len(d))] for _ in d) / len(d) for _ in range(rounds))
    return [round(sum(d) / len(d), 4), round(draws[int(0.025 * rounds)], 4), round(draws[int(0.975 * rounds) - 1], 4)]


def run_part(reader, settings, recipe: LangChainRecipe, part: str) -> dict:
    its = items(part)
    texts = reader_texts(reader)
    model = load_reader(settings.model_cache_dir.expanduser(), settings.threads)
    rerank_pool = load_policy().pool
    ranked = {
        "product": {it.id: product_reranked(reader, settings, model, it.question, rerank_pool) for it in its},
        "product (no rerank)": {it.id: product_ranked(reader, settings, it.question, POOL) for it in its},
        "product (before)": {it.id: product_ranked(reader, settings, it.question, POOL, BEFORE) for it in its},
        "dense": {it.id: dense_ranked(reader, it.question) for it in its},
        "bm25": {it.id: bm25_ranked(reader, it.question) for it in its},
        "langchain": {it.id: recipe.ranked(it.question) for it in its},
    }
    text_of = {m: recipe.texts if m == "langchain" else texts for m in METHODS}
    k = settings.top_k
    default_chars = {it.id: sum(e - s for _, s, e, _ in ranked["product"][it.id][:k]) for it in its}
    found: dict[str, dict[str, list[tuple[float, float]]]] = {m: {} for m in METHODS}
    for m in METHODS:
        for b in BUDGETS:
            found[m][str(b)] = [evidence_found(it, text_of[m], handed_over(ranked[m][it.id], b)) for it in its]
        found[m]["default"] = [evidence_found(it, text_of[m], handed_over(ranked[m][it.id], default_chars[it.id]))
                               for it in its]
    out: dict = {"questions": len(its), "top_k": k, "rerank_pool": rerank_pool,
                 "default_chars": summarise([float(c) for c in default_chars.values()]), "rows": {}}
    for row, keep in ROWS.items():
        idx = [i for i, it in enumerate(its) if keep(it)]
        if not idx:
            continue
        r: dict = {"questions": len(idx)}
        for m in METHODS:
            r[m] = {b: {"recall": summarise([v[i][0] for i in idx]), "spans": summarise([v[i][1] for i in idx])}
                    for b, v in found[m].items()}
        for other in ("dense", "langchain", "product (no rerank)", "product (before)"):
            r[f"product_minus_{other}_default"] = paired([found["product"]["default"][i][0] for i in idx],
                                                         [found[other]["default"][i][0] for i in idx])
        out["rows"][row] = r
    out["per_question"] = {it.id: {m: found[m]["default"][i][0] for m in METHODS} for i, it in enumerate(its)}
    return out


def table(part: str, res: dict) -> str:
    def ci(v: list[float]) -> str:
        return f"{v[0]:.2f} [{v[1]:.2f}, {v[2]:.2f}]"

    cols = [str(b) for b in BUDGETS] + ["default"]
    lines = [f"\n{part}: {res['questions']} answerable questions; default = top {res['top_k']} product passages, "
             f"{res['default_chars'][0]:.0f} characters on average (each retriever gets the same characters)"]
    for row, r in res["rows"].items():
        lines += [f"\n{row} ({r['questions']} questions): evidence recall (all spans fully inside)",
                  "| retriever | " + " | ".join(f"{c} chars" if c != "default" else "default" for c in cols) + " |",
                  "|---|" + "---|" * len(cols)]
        for m in METHODS:
            lines.append(f"| {m} | " + " | ".join(ci(r[m][c]["recall"]) for c in cols) + " |")
        lines.append("product − dense " + ci(r["product_minus_dense_default"]) + "; product − langchain "
                     + ci(r["product_minus_langchain_default"]) + "; product − no rerank "
                     + ci(r["product_minus_product (no rerank)_default"]) + "; product − before "
                     + ci(r["product_minus_product (before)_default"]) + " (default budget)")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_index_options(ap)
    ap.set_defaults(embedder="e5-small-int8")
    ap.add_argument("--parts", default="report", help="comma-separated parts of split.json (default: report)")
    args = ap.parse_args()
    settings = settings_from(args)
    reader = open_aq_pool(settings)
    recipe = LangChainRecipe(reader.embedder.inner)
    sel = load_selection(settings.embedder, settings.chunk_tokens, settings.chunk_overlap)
    report = {
        "command": "python benchmarks/articles_qa_retrieval.py --embedder " + args.embedder
                   + ("" if args.parts == "report" else f" --parts {args.parts}"),
        "embedder": args.embedder, "chunk_tokens": settings.chunk_tokens, "chunk_overlap": settings.chunk_overlap,
        "selection": {"dense_only": sorted(sel.dense_only), "names_only": sorted(sel.names_only),
                      "mmr_lambda": sel.mmr_lambda,
                      "max_per_story": sel.max_per_story, "candidates": sel.candidates, "note": sel.note},
        "langchain_chunks": len(recipe.chunks), "product_chunks": len(reader.state.chunks),
        "git_commit": git_commit(), "machine": f"{platform.machine()}, {platform.python_version()}",
        "parts": {},
    }
    for part in args.parts.split(","):
        report["parts"][part] = run_part(reader, settings, recipe, part)
        print(table(part, report["parts"][part]), flush=True)
    name = f"articles_qa_retrieval-{args.embedder}" + ("" if args.parts == "report" else "-" + args.parts.replace(",", "-"))
    write_json(RESULTS / f"{name}.json", report)
    print(f"\nwrote benchmarks/results/{name}.json")


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
