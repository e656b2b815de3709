"""Report retrieval on FacQA-train's *report* part (never fitted or chosen on) and on the sample dev set (smoke test).

    .venv/bin/python benchmarks/report_retrieval.py [--embedder e5-small]

For each question set: hit@5 and MRR@10 of the dense leg alone, BM25 alone and the product's retrieval
(``assistant.retrieval.retrieve``: fitted fusion, scoping, sub-queries, diversity), each with its 95% bootstrap
interval, and the paired difference between the product and its better leg. Writes
``benchmarks/results/retrieval_report-<embedder>.json`` (committed: the README's retrieval table comes from it) and prints a
Markdown table.
"""

from __future__ import annotations

import argparse
import platform
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from retrieval_data import (  # noqa: E402
    ROOT,
    add_index_options,
    bootstrap,
    dev_items,
    gold,
    open_pool,
    open_samples,
    part,
    score,
    settings_from,
    spans,
    write_json,
)

from assistant.evaluation.metrics import normalize  # noqa: E402
from assistant.evaluation.run_folder import git_commit  # noqa: E402
from assistant.question import analyse_question  # noqa: E402
from assistant.retrieval import fusion_for, legs, retrieve  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"  # retrieval_report-<embedder>.json


def holds_answer(text: str, item) -> bool:
    """The passage states the reference answer or an alias (normalised containment, as the evaluator checks answers)."""
    norm = f" {normalize(text)} "
    return any(normalize(a) and f" {normalize(a)} " in norm for a in (item.answer, *item.answer_aliases))


def run(reader, settings, items) -> dict:
    fusion = fusion_for(settings.embedder, settings.chunk_tokens, settings.chunk_overlap)
    per: dict[str, list[tuple[float, float]]] = {"dense": [], "bm25": [], "product": []}
    by_answer: dict[str, list[float]] = {"dense": [], "bm25": [], "product": []}
    multi = []
    vectors = reader.embedder.embed_queries([it.question for it in items])  # one batched pass
    for it, vector in zip(items, vectors, strict=True):
        ev = gold(reader, it)
        info = analyse_question(it.question)
        dense, lexical, _ = legs(reader, info, vector, fusion.candidates, None)
        per["dense"].append(score(ev, spans(reader, [d.id for d in dense[:10]])))
        per["bm25"].append(score(ev, spans(reader, [c for c, _ in lexical[:10]])))
        result = retrieve(reader, settings, it.question, top_k=10)
        per["product"].append(score(ev, [(p.source, p.start, p.end) for p in result.passages]))
        if it.answer:
            for name, ids in (("dense", [d.id for d in dense[:5]]), ("bm25", [c for c, _ in lexical[:5]]),
                              ("product", [p.id for p in result.passages[:5]])):
                by_answer[name].append(float(any(holds_answer(reader.passage(c).text, it) for c in ids)))
        if len(set(it.sources)) > 1:
            multi.append({"id": it.id, "all_evidence_in_top5": bool(per["product"][-1][0])})
    out: dict = {"questions": len(items)}
    for name, vals in per.items():
        out[name] = {"hit5": bootstrap([h for h, _ in vals]), "mrr10": bootstrap([rr for _, rr in vals])}
        if by_answer[name]:
            out[name]["answer_in_top5"] = bootstrap(by_answer[name])
    best = max(("dense", "bm25"), key=lambda n: out[n]["hit5"][0])
    diffs = [p[0] - b[0] for p, b in zip(per["product"], per[best], strict=True)]
    out["best_leg"] = best
    out["product_minus_best_leg_hit5"] = bootstrap(diffs)
    if multi:
        out["multi_article"] = multi
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_index_options(ap)
    args = ap.parse_args()
    settings = settings_from(args)
    fusion = fusion_for(settings.embedder, settings.chunk_tokens, settings.chunk_overlap)
    report = {
        "command": "python benchmarks/report_retrieval.py --embedder " + args.embedder,
        "embedder": args.embedder, "fusion": fusion.kind, "candidates": fusion.candidates, "git_commit": git_commit(),
        "machine": f"{platform.machine()}, {platform.python_version()}",
        "sets": {
            "facqa_report": {"data": "data/external/facqa-train report part (split.json), pool = FacQA-train + "
                                     "data/articles", **run(open_pool(settings), settings, part("report"))},
            "dev": {"data": "data/eval/dev.jsonl answerable items, index = data/articles (smoke test)",
                    **run(open_samples(settings), settings, dev_items())},
        },
    }
    write_json(RESULTS / f"retrieval_report-{args.embedder}.json", report)
    print(table(report))


def table(report: dict) -> str:
    def ci(v: list[float]) -> str:
        return f"{v[0]:.3f} [{v[1]:.3f}, {v[2]:.3f}]"

    lines = ["| set | questions | dense hit@5 | BM25 hit@5 | product hit@5 | product − best leg | product MRR@10 |",
             "|---|---:|---|---|---|---|---|"]
    for name, s in report["sets"].items():
        lines.append(f"| {name} | {s['questions']} | {ci(s['dense']['hit5'])} | {ci(s['bm25']['hit5'])} | "
                     f"{ci(s['product']['hit5'])} | {ci(s['product_minus_best_leg_hit5'])} ({s['best_leg']}) | "
                     f"{ci(s['product']['mrr10'])} |")
    lines += ["", "| set | dense: answer in top 5 | BM25: answer in top 5 | product: answer in top 5 |", "|---|---|---|---|"]
    for name, s in report["sets"].items():
        if "answer_in_top5" in s["product"]:
            lines.append(f"| {name} | {ci(s['dense']['answer_in_top5'])} | {ci(s['bm25']['answer_in_top5'])} | "
                         f"{ci(s['product']['answer_in_top5'])} |")
    multi = report["sets"]["dev"].get("multi_article", [])
    if multi:
        lines.append(f"\nDev multi-article questions with all evidence in the top 5: "
                     f"{sum(m['all_evidence_in_top5'] for m in multi)}/{len(multi)}")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
