"""Fit the retrieval fusion on FacQA-train's *fit* part, choose on its *choose* part; write the fitted file.

    .venv/bin/python benchmarks/fit_retrieval.py [--embedder e5-small]

Candidates (each scored by hit@5, then MRR, of the fused ranking on the questions of a part):

* logistic regression (scikit-learn) over :data:`assistant.fusion.FEATURES`, label = the candidate covers the
  question's evidence, for each regularisation strength C and candidate pool size n, fitted on *fit*;
* weighted reciprocal-rank fusion, for each k and BM25 weight, the best of them on *fit*;
* either leg alone.

The one with the best *choose* figures is written to ``assistant/fitted/retrieval-<embedder>-c<tokens>o<overlap>.json``
with the figures and the settings it was fitted with. The *report* part is never read here
(``benchmarks/report_retrieval.py`` reports it).
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import numpy as np  # noqa: E402
from retrieval_data import (  # noqa: E402
    ROOT,
    add_index_options,
    covers,
    gold,
    open_pool,
    part,
    score,
    settings_from,
    spans,
    write_json,
)

from assistant.evaluation.run_folder import git_commit as _git_commit  # noqa: E402
from assistant.fusion import FEATURES, FusionModel, Leg, candidate_features, fitted_path  # noqa: E402
from assistant.question import analyse_question  # noqa: E402
from assistant.retrieval import legs  # noqa: E402

POOL_SIZES = (20, 30, 50, 100)
C_GRID = (0.01, 0.1, 1.0, 10.0)
RRF_K = (10, 30, 60)
RRF_BM25 = (0.25, 0.5, 1.0, 2.0, 4.0)


def collect(reader, items, n_max: int) -> list[dict]:
    """Both legs' top ``n_max`` for each question, its gold spans, and which candidates are gold."""
    rows = []
    vectors = reader.embedder.embed_queries([it.question for it in items])  # one batched pass
    for it, vector in zip(items, vectors, strict=True):
        info = analyse_question(it.question)
        dense, lexical, cross = legs(reader, info, vector, n_max, None)
        ev = gold(reader, it)
        ids = {d.id for d in dense} | {c for c, _ in lexical}
        good = {c for c, sp in zip(ids, spans(reader, list(ids)), strict=True) if covers(ev, sp)}
        rows.append({"dense": dense, "bm25": lexical, "cross": cross, "gold": ev, "good": good})
    return rows


def collect_part(reader, name: str, n_max: int) -> list[dict]:
    """:func:`collect` for one split part, cached beside the pool index (keyed by its committed state)."""
    import hashlib
    import pickle

    from assistant.question_words import QUESTION_WORDS
    from index.analysis import ANALYZER_VERSION

    words = hashlib.sha1(" ".join(sorted(QUESTION_WORDS)).encode()).hexdigest()[:8]  # the question terms searched
    path = (reader.config.index_dir.parent
            / f"legs-{reader.state.folder.name}-a{ANALYZER_VERSION}-q{words}-n{n_max}-{name}.pkl")
    if path.exists():
        return pickle.loads(path.read_bytes())
    rows = collect(reader, part(name), n_max)
    path.write_bytes(pickle.dumps(rows))
    return rows


def cut(row: dict, n: int) -> tuple[list[Leg], list[tuple[str, float]]]:
    return row["dense"][:n], row["bm25"][:n]


def evaluate(reader, rows: list[dict], model: FusionModel) -> tuple[float, float]:
    hits, rrs = [], []
    for r in rows:
        dense, lexical = cut(r, model.candidates)
        top = [c for c, _ in model.rank(dense, lexical, r["cross"])][:10]
        h, rr = score(r["gold"], spans(reader, top))
        hits.append(h)
        rrs.append(rr)
    return float(np.mean(hits)), float(np.mean(rrs))


def leg_figures(reader, rows: list[dict]) -> dict[str, tuple[float, float]]:
    out = {}
    for name in ("dense", "bm25"):
        hits, rrs = [], []
        for r in rows:
            ids = [d.id for d in r["dense"]] if name == "dense" else [c for c, _ in r["bm25"]]
            h, rr = score(r["gold"], spans(reader, ids[:10]))
            hits.append(h)
            rrs.append(rr)
        out[name] = (float(np.mean(hits)), float(np.mean(rrs)))
    return out


def fit_linear(rows: list[dict], n: int, c: float) -> FusionModel:
    from sklearn.linear_model import LogisticRegression

    xs, ys = [], []
    for r in rows:
        dense, lexical = cut(r, n)
        ids, x = candidate_features(dense, lexical, r["cross"])
        xs.append(x)
        ys.extend(int(i in r["good"]) for i in ids)
    lr = LogisticRegression(C=c, max_iter=2000).fit(np.vstack(xs), np.asarray(ys))
    return FusionModel("linear", n, [float(w) for w in lr.coef_[0]], float(lr.intercept_[0]), meta={"C": c})


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_index_options(ap)
    args = ap.parse_args()
    settings = settings_from(args)
    import sklearn

    reader = open_pool(settings)
    fit_rows = collect_part(reader, "fit", max(POOL_SIZES))
    choose_rows = collect_part(reader, "choose", max(POOL_SIZES))
    key = lambda fig: (round(fig[0], 6), round(fig[1], 6))  # noqa: E731 - hit@5 first, then MRR

    tried: list[dict] = []
    best_rrf = max((FusionModel.rrf(n, k, w) for n in POOL_SIZES for k in RRF_K for w in RRF_BM25),
                   key=lambda m: key(evaluate(reader, fit_rows, m)))
    candidates = [best_rrf] + [fit_linear(fit_rows, n, c) for n in POOL_SIZES for c in C_GRID]
    for m in candidates:
        fig_fit, fig_choose = evaluate(reader, fit_rows, m), evaluate(reader, choose_rows, m)
        tried.append({"kind": m.kind, "candidates": m.candidates, "C": m.meta.get("C"), "rrf_k": m.rrf_k,
                      "bm25_weight": m.bm25_weight, "fit_hit5": fig_fit[0], "fit_mrr": fig_fit[1],
                      "choose_hit5": fig_choose[0], "choose_mrr": fig_choose[1], "model": m})
    legs_choose = leg_figures(reader, choose_rows)
    best = max(tried, key=lambda t: key((t["choose_hit5"], t["choose_mrr"])))
    model: FusionModel = best["model"]
    model.meta = {
        "fitted_on": "data/external/facqa-train fit part (split.json), pool = FacQA-train passages + data/articles",
        "chosen_on": "choose part", "command": "python benchmarks/fit_retrieval.py --embedder " + args.embedder,
        "embedder": args.embedder, "chunk_tokens": settings.chunk_tokens, "chunk_overlap": settings.chunk_overlap,
        "C": best["C"], "questions": {"fit": len(fit_rows), "choose": len(choose_rows)},
        "choose": {"hit5": best["choose_hit5"], "mrr": best["choose_mrr"],
                   "dense_hit5": legs_choose["dense"][0], "bm25_hit5": legs_choose["bm25"][0]},
        "scikit_learn": sklearn.__version__, "git_commit": _git_commit(), "date": dt.date.today().isoformat(),
    }
    path = fitted_path(args.embedder, settings.chunk_tokens, settings.chunk_overlap)
    write_json(path, model.to_json())

    print(f"{'fusion':<34}{'fit hit@5':>10}{'fit MRR':>9}{'choose hit@5':>14}{'choose MRR':>12}")
    for name, (h, rr) in legs_choose.items():
        print(f"{name + ' alone':<34}{'':>10}{'':>9}{h:>14.3f}{rr:>12.3f}")
    for t in tried:
        label = (f"RRF k={t['rrf_k']} bm25×{t['bm25_weight']} n={t['candidates']}" if t["kind"] == "rrf"
                 else f"logistic C={t['C']} n={t['candidates']}")
        mark = " ←" if t is best else ""
        print(f"{label:<34}{t['fit_hit5']:>10.3f}{t['fit_mrr']:>9.3f}{t['choose_hit5']:>14.3f}{t['choose_mrr']:>12.3f}{mark}")
    print(f"wrote {path.relative_to(ROOT)} ({model.kind}, {len(FEATURES)} features, n={model.candidates})")


if __name__ == "__main__":
    main()
