"""Report the trained reader on parts never trained, fitted or chosen on, against the answerer it replaces.

    .venv/bin/python benchmarks/report_reader.py [--embedder e5-small-int8] [--limit N]

1. **Spans** on the reader data's *report* part (``data/reader/split.json``), each question over its own paragraph:
   exact match and token F1 (SQuAD normalisation) by language; no-answer precision and recall at the fitted
   ``answer_at`` over the answerable questions, IDK-MRC's unanswerables and the same questions over a foreign
   paragraph (:func:`training.reader_data.foreign_rows`).
2. **End to end** through the product's retrieval, reranking and composition (:mod:`reader_runs`): articles-qa's
   report part (by language and type) and FacQA-train's report part (each question also with its paragraph removed);
   the dev smoke test. (The sentence scorer the reader replaced was reported beside it, on the same retrieval at its
   own top_k of 5, by this script at 569a9cc, before it was removed: ``benchmarks/results/reader_report-*.json``
   of that commit.)
3. **Reranking**: hit@5 on FacQA's report part (pool = FacQA + samples): the reader's top 5 of the pool against
   the fused top 5, dense-only and BM25-only.

All with 95% bootstrap intervals over questions. Writes ``benchmarks/results/reader_report-<embedder>.json``. The
runs are cached as the fitting script caches its own (``tmp/benchmark/reader-runs-*.pkl``; ``--fresh`` reads again).
"""

from __future__ import annotations

import argparse
import re
import string
import subprocess
import sys
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from reader_runs import Run, answer, judge, root, text_of  # noqa: E402
from retrieval_data import bootstrap, gold, open_pool, write_json  # noqa: E402

from assistant.evaluation.metrics import hit_at_k  # noqa: E402
from assistant.reader_answer import load_policy, rerank_order  # noqa: E402
from assistant.reader_model import load_reader  # noqa: E402
from assistant.retrieval import legs  # noqa: E402
from assistant.settings import Settings  # noqa: E402
from training.reader_data import foreign_rows, rows_by_part  # noqa: E402

RESULTS = root() / "benchmarks" / "results"


def _norm(text: str) -> list[str]:
    text = "".join(ch for ch in text.lower() if ch not in set(string.punctuation))
    text = re.sub(r"\b(a|an|the|yang|itu|ini)\b", " ", text)
    return text.split()


def _f1(pred: str, gold: str) -> float:
    p, g = _norm(pred), _norm(gold)
    common = sum((Counter(p) & Counter(g)).values())
    if not common:
        return 0.0
    prec, rec = common / len(p), common / len(g)
    return 2 * prec * rec / (prec + rec)


def ci(values: list[float]) -> list[float]:
    return [round(x, 3) for x in bootstrap(values)] if values else []


def span_report(settings: Settings, answer_at: float, limit: int, part: str = "report", model: Any = None) -> dict:
    """Span EM / F1 by language and no-answer precision / recall on the reader data's ``part``, each question over
    its own paragraph (and the foreign paragraphs that lack its answer); ``model``: the shipped reader if None."""
    model = model or load_reader(settings.model_cache_dir.expanduser())
    rows = rows_by_part()[part]
    if limit:
        rows = rows[:limit]
    foreign = foreign_rows(rows)
    em: dict[str, list[float]] = {}
    f1: dict[str, list[float]] = {}
    pairs = []  # (has answer, predicted answer)
    for r in rows + foreign:
        spans = model.read(r.question, [r.context], n=1)[0]
        best = spans[0] if spans else None
        predicted = best is not None and best.score >= answer_at
        pairs.append((r.answerable, predicted))
        if r.answerable:
            text = r.context[best.start : best.end] if best else ""
            gold_text = r.context[r.start : r.end]
            em.setdefault(r.lang, []).append(float(_norm(text) == _norm(gold_text)))
            f1.setdefault(r.lang, []).append(_f1(text, gold_text))
    none_pred = [(a, p) for a, p in pairs if not p]
    none_true = [(a, p) for a, p in pairs if not a]
    return {
        "questions": len(rows), "foreign_paragraphs": len(foreign),
        "exact_match": {lang: ci(v) for lang, v in em.items()},
        "token_f1": {lang: ci(v) for lang, v in f1.items()},
        "n": {lang: len(v) for lang, v in em.items()},
        "no_answer_precision": ci([float(not a) for a, _ in none_pred]),
        "no_answer_recall": ci([float(not p) for _, p in none_true]),
        "no_answer_n": {"predicted": len(none_pred), "true": len(none_true)},
    }


def end_to_end(rs: list[Run], top_k: int, by_type: bool) -> dict:
    """The shipped policy ("reader") and, when it refuses by the confidence model, the same policy refusing by the
    margin alone ("margin_only"), on the same runs."""
    shipped = load_policy()
    policies = {"reader": shipped}
    if shipped.confidence is not None:
        policies["margin_only"] = replace(shipped, confidence=None)
    rows: dict[str, list[tuple[Run, dict[str, float]]]] = {}
    for who, policy in policies.items():
        for r in rs:
            a, passages = answer(r, policy, top_k)
            rows.setdefault(who, []).append((r, judge(r, text_of(a, passages, r), a.abstained,
                                                      [p.text for p in a.picks])))

    def figures(keep) -> dict:
        out: dict = {}
        for who, mine in rows.items():
            sel = [x for x in mine if keep(x[0])]
            ans = [s for _, s in sel if s["answerable"]]
            una = [s for _, s in sel if not s["answerable"]]
            refused = [s for _, s in sel if s["refused"]]
            out.update({"n_answerable": len(ans), "n_unanswerable": len(una)})
            out[who] = {
                "answer_accuracy": ci([s["right"] for s in ans]),
                "answerable_refused": ci([s["refused"] for s in ans]),
                "unanswerable_refused": ci([s["refused"] for s in una]),
                "refusal_precision": ci([float(not s["answerable"]) for s in refused]),
                # of the right answers' quoted sentences, the share that hold evidence (citation precision)
                "quotes_supported": ci([s["supported"] for s in ans if s["right"]]),
            }
        return out

    out = {"all": figures(lambda r: True)}
    for lang in ("id", "en"):
        out[f"lang={lang}"] = figures(lambda r, lang=lang: r.item.lang == lang)
    if by_type:
        for t in sorted({r.item.type for r in rs}):
            out[f"type={t}"] = figures(lambda r, t=t: r.item.type == t)
    return out


def rerank_hits(rs: list[Run], settings: Settings, top_k: int = 5) -> dict:
    reader = open_pool(settings)
    hits: dict[str, list[float]] = {"reader_rerank": [], "fused": [], "dense": [], "bm25": []}
    for r in rs:
        if r.removed:
            continue
        ev = gold(reader, r.item)
        order = rerank_order(r.spans)[:top_k]
        as_span = [(p.source, p.start, p.end) for p in r.pool]
        hits["reader_rerank"].append(float(bool(hit_at_k(ev, [as_span[i] for i in order], top_k))))
        hits["fused"].append(float(bool(hit_at_k(ev, as_span[:top_k], top_k))))
        dense, lexical, _ = legs(reader, r.info, reader.embedder.embed_query(r.item.question), top_k, None)
        for name, ids in (("dense", [d.id for d in dense]), ("bm25", [c for c, _ in lexical])):
            ps = [reader.passage(c) for c in ids]
            hits[name].append(float(bool(hit_at_k(ev, [(p.source, p.start, p.end) for p in ps], top_k))))
    return {k: ci(v) for k, v in hits.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--embedder", default="e5-small-int8")
    ap.add_argument("--limit", type=int, default=0, help="span part: first N report questions only")
    ap.add_argument("--fresh", action="store_true", help="read the questions again (new reader weights or index)")
    args = ap.parse_args()
    settings = Settings(embedder=args.embedder)
    policy = load_policy()
    from fit_reader_answers import runs

    sets = {name: runs(name, settings, args.fresh) for name in ("aq-report", "facqa-report", "dev")}
    report = {
        "command": "python benchmarks/report_reader.py --embedder " + args.embedder
                   + (f" --limit {args.limit}" if args.limit else ""),
        "git_commit": subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                                     cwd=root()).stdout.strip(),
        "policy": {"answer_at": policy.answer_at, "more_at": policy.more_at, "pool": policy.pool,
                   "top_k": settings.top_k,
                   "confidence": None if policy.confidence is None else policy.confidence.to_json()},
        "spans": span_report(settings, policy.answer_at, args.limit),
        "articles_qa_report": end_to_end(sets["aq-report"], settings.top_k, by_type=True),
        "facqa_report": end_to_end(sets["facqa-report"], settings.top_k, by_type=False),
        "dev": end_to_end(sets["dev"], settings.top_k, by_type=True),
        "rerank_hit_at_5_facqa_report": rerank_hits(sets["facqa-report"], settings),
    }
    write_json(RESULTS / f"reader_report-{args.embedder}.json", report)
    print(table(report))


def table(report: dict) -> str:
    def f(v: list[float]) -> str:
        return f"{v[0]:.2f} [{v[1]:.2f}, {v[2]:.2f}]" if v else "–"

    s = report["spans"]
    lines = ["| spans (reader report part) | EM | F1 | n |", "|---|---|---|---|"]
    for lang in s["exact_match"]:
        lines.append(f"| {lang} | {f(s['exact_match'][lang])} | {f(s['token_f1'][lang])} | {s['n'][lang]} |")
    lines.append(f"| no-answer precision / recall | {f(s['no_answer_precision'])} | {f(s['no_answer_recall'])} | "
                 f"{s['no_answer_n']} |")
    lines += ["", "| set | rows | who | accuracy | answerable refused | unanswerable refused | refusal precision "
              "| quotes holding evidence |", "|---|---|---|---|---|---|---|---|"]
    for name in ("articles_qa_report", "facqa_report", "dev"):
        for row, figs in report[name].items():
            for who in ("reader", "margin_only", "sentence_scorer"):
                if who in figs:
                    g = figs[who]
                    lines.append(f"| {name} | {row} ({figs['n_answerable']}+{figs['n_unanswerable']}) | {who} | "
                                 f"{f(g['answer_accuracy'])} | {f(g['answerable_refused'])} | "
                                 f"{f(g['unanswerable_refused'])} | {f(g['refusal_precision'])} | "
                                 f"{f(g.get('quotes_supported', []))} |")
    lines += ["", "| hit@5, FacQA report part | " + " | ".join(report["rerank_hit_at_5_facqa_report"]) + " |",
              "|---|" + "---|" * len(report["rerank_hit_at_5_facqa_report"]),
              "| | " + " | ".join(f(v) for v in report["rerank_hit_at_5_facqa_report"].values()) + " |"]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
