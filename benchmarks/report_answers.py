"""Report the extractive answerer on FacQA-train's *report* part (never fitted or chosen on) and the dev set.

    .venv/bin/python benchmarks/report_answers.py [--embedder e5-small]

FacQA report part, through the product's chain (``Assistant.ask``) over the pool: each question as it is
(answerable) and with its passage removed from the pool (unanswerable by construction, via a source filter). Figures
with 95% bootstrap intervals: answer accuracy on answerables (the evaluator's ``answer_correct``), citation on the
answer (a cited quote overlaps the gold span), false refusals, refusal recall (unanswerable twins refused) and
precision (refusals that were of unanswerable runs). The dev set
(smoke test, sample articles): the same figures, its unanswerable items as written. Writes
``benchmarks/results/answer_report-<embedder>.json`` and prints a Markdown table.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fit_retrieval import _git_commit  # noqa: E402
from retrieval_data import (  # noqa: E402
    DEV,
    ROOT,
    add_index_options,
    bootstrap,
    gold,
    open_pool,
    open_samples,
    part,
    settings_from,
    write_json,
)

from assistant.chain import Assistant  # noqa: E402
from assistant.evaluation.dataset import load_items  # noqa: E402
from assistant.evaluation.metrics import answer_correct  # noqa: E402
from assistant.retrieval import Filters  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"  # answer_report-<embedder>.json


def _cited(answer, ev) -> bool:
    return any(e and c.source == e[0] and c.start < e[2] and e[1] < c.end for c in answer.citations for e in ev)


def _precision(pairs: list[tuple[float, float]]) -> float:
    """Refusal precision over (answerable run refused, unanswerable run refused) pairs: refused runs that were
    unanswerable (1.0 when nothing was refused)."""
    refused = sum(a + u for a, u in pairs)
    return sum(u for _, u in pairs) / refused if refused else 1.0


def run(assistant: Assistant, answerable_items, unanswerable, all_sources: set[str] | None) -> dict:
    reader = assistant.reader
    right, cited, false_refusal, refused = [], [], [], []
    for it in answerable_items:
        a = assistant.ask(it.question)
        ev = gold(reader, it)
        right.append(float(answer_correct(a.answer, a.abstained, it.answer, it.answer_aliases, it.evidence)))
        cited.append(float(_cited(a, ev)))
        false_refusal.append(float(a.abstained))
        if all_sources is not None:  # the same question with its passage removed
            b = assistant.ask(it.question, filters=Filters(sources=frozenset(all_sources - set(it.sources))))
            refused.append(float(b.abstained))
    for it in unanswerable:
        refused.append(float(assistant.ask(it.question).abstained))
    if all_sources is not None:
        pairs = list(zip(false_refusal, refused, strict=True))
    else:  # unpaired sets: answerable and unanswerable items resampled together
        pairs = [(f, 0.0) for f in false_refusal] + [(0.0, r) for r in refused]
    return {"answerable": len(answerable_items), "unanswerable": len(refused),
            "answer_accuracy": bootstrap(right), "cites_the_answer": bootstrap(cited),
            "false_refusals": bootstrap(false_refusal), "refusal_recall": bootstrap(refused),
            "refusal_precision": bootstrap(pairs, _precision)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_index_options(ap)
    args = ap.parse_args()
    base = settings_from(args)
    pool = open_pool(base)
    samples = open_samples(base)
    dev = load_items(DEV)
    report = {
        "command": "python benchmarks/report_answers.py --embedder " + args.embedder, "embedder": args.embedder,
        "git_commit": _git_commit(),
        "sets": {
            "facqa_report": {"data": "data/external/facqa-train report part; unanswerable = the same questions with "
                                     "their passage removed from the pool",
                             **run(Assistant(base.model_copy(update={"index_dir": pool.config.index_dir}), pool),
                                   part("report"), [], {f.source for f in pool.files()})},
            "dev": {"data": "data/eval/dev.jsonl (smoke test), index = data/articles",
                    **run(Assistant(base.model_copy(update={"index_dir": samples.config.index_dir}), samples),
                          [i for i in dev if i.answerable], [i for i in dev if not i.answerable], None)},
        },
    }
    write_json(RESULTS / f"answer_report-{args.embedder}.json", report)
    print(table(report))


def table(report: dict) -> str:
    def ci(v: list[float]) -> str:
        return f"{v[0]:.3f} [{v[1]:.3f}, {v[2]:.3f}]"

    lines = ["| set | answerable / unanswerable | answer accuracy | cites the answer | false refusals | "
             "refusal recall | refusal precision |", "|---|---|---|---|---|---|---|"]
    for name, s in report["sets"].items():
        lines.append(f"| {name} | {s['answerable']} / {s['unanswerable']} | {ci(s['answer_accuracy'])} | "
                     f"{ci(s['cites_the_answer'])} | {ci(s['false_refusals'])} | {ci(s['refusal_recall'])} | "
                     f"{ci(s['refusal_precision'])} |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
