"""Fit the reader's answer policy (pool, ``answer_at``, ``more_at``) on the fit parts, choose on the choose parts.

    .venv/bin/python benchmarks/fit_reader_answers.py [--embedder e5-small-int8]

* Runs (:mod:`reader_runs`): articles-qa's fit part (every question type, unanswerables included) and a sample of
  FacQA-train's fit part (each question also with its paragraph removed from the pool); then the same for the
  choose parts.
* Grid: ``answer_at`` (refusal threshold on the best span's margin) ×
  ``more_at`` (further sentences), scored by :func:`reader_runs.objective` (the share of runs handled right: answerable
  ones answered correctly, half of that credit for the share of their quoted sentences that hold evidence,
  unanswerable ones refused), articles-qa and FacQA weighted equally, over the pool of passages the reader reads and
  reranks that the retrieval fit chose (``rerank_pool`` in ``assistant/fitted/retrieval-selection-*.json``, by the
  evidence recall of the passages handed over: ``benchmarks/fit_articles_retrieval.py``), among settings whose refusals are at
  least ``MIN_REFUSAL_PRECISION`` unanswerable runs on FacQA's fit part (the issue's bar).
* The ``KEEP`` best on fit go to choose, where the best is kept; then ``answer_at_cross`` (the threshold for a
  question in another language than its quote) is fitted on articles-qa's fit part alone, the rest fixed, and
  chosen among the ``CROSS_KEEP`` best on its choose part; then ``more_at`` with ``more_within`` (how close to the
  best span a further one must score to add its sentence) together, fitted on both fit sets and the ``KEEP`` best
  chosen on both choose sets; written to ``assistant/fitted/reader-answer.json`` with its fit and choose figures.
* Then the answer-confidence model (:mod:`assistant.answer_confidence`): every fit run answered under the chosen
  policy with refusal switched off, labelled right / not right, a logistic regression over its features (each
  question set weighted equally); its refusal probability ``answer_p`` and ``lead_by`` (whether the span with the
  best margin leads, or the one the model finds likeliest right) on the same grid-then-choose protocol. It
  replaces the margin threshold only when it scores higher on the choose parts. Last ``parts_pool``: over how many
  of the best passages each part of a multi-part question is read (ties: the fewest), fit then choose; then
  ``skip_rivals`` (never quote a sentence naming a rival of a name in the question), kept only when it scores
  higher on fit and on choose; then ``reason_next`` (a reason question also quotes the sentence after its lead's),
  by the same rule. Last the confidence model is refitted on the final composition's answers (its labels), kept
  when it scores higher on the choose parts.
* ``--aq-fit-folds D0 D1``: articles-qa's fit part read out of fold (fold k by the reader whose articles-qa training
  stage held fold k out, ``make train`` writes them to ``training/folds/``): the shipped reader trained on those
  questions, and a policy fitted on its own training questions trusts it where it has not earned it.
"""

from __future__ import annotations

import argparse
import itertools
import json
import pickle
import subprocess
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from reader_runs import Run, answer, collect, collect_aq_fit_out_of_fold, judge, objective, root, text_of  # noqa: E402
from retrieval_data import write_json  # noqa: E402

from assistant.answer_confidence import FEATURES, Confidence, features, fit_logistic  # noqa: E402
from assistant.reader_answer import POLICY_PATH, AnswerPolicy, _scored  # noqa: E402
from assistant.retrieval import selection_path  # noqa: E402
from assistant.settings import Settings  # noqa: E402

ANSWER_AT = tuple(float(x) for x in np.round(np.arange(-3.0, 8.01, 0.5), 2))
MORE_AT_OFFSETS = (0.0, 1.0, 2.0, 3.0, 5.0, float("inf"))  # above answer_at
MIN_REFUSAL_PRECISION = 0.9
KEEP = 10
CROSS_KEEP = 3
MORE_WITHIN = (None, 0.5, 1.0, 2.0, 3.0, 5.0)
PARTS_POOLS = (None, 1, 2, 4)  # None: every passage handed over
ANSWER_P = tuple(float(x) for x in np.round(np.arange(0.05, 0.951, 0.025), 3))
# a confidence model that answers every question (the fit's labels are read with refusal off)
ALWAYS = Confidence((0.0,) * len(FEATURES), (1.0,) * len(FEATURES), (0.0,) * len(FEATURES), 0.0, 0.0)
CACHE = root() / "tmp" / "benchmark"


def cached(name: str, settings: Settings, fresh: bool, make: Callable[[], list[Run]]) -> list[Run]:
    path = CACHE / f"reader-runs-{name}-{settings.embedder}.pkl"
    if path.exists() and not fresh:
        return pickle.loads(path.read_bytes())
    out = make()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(pickle.dumps(out))
    return out


def runs(name: str, settings: Settings, fresh: bool) -> list[Run]:
    return cached(name, settings, fresh, lambda: collect(name, settings))


def evaluate(sets: dict[str, list[Run]], policy: AnswerPolicy, top_k: int) -> dict[str, dict[str, float]]:
    out = {}
    for name, rs in sets.items():
        scores = []
        for r in rs:
            a, passages = answer(r, policy, top_k)
            scores.append(judge(r, text_of(a, passages, r), a.abstained, [p.text for p in a.picks]))
        refused = [s for s in scores if s["refused"]]
        ans = [s for s in scores if s["answerable"]]
        una = [s for s in scores if not s["answerable"]]
        out[name] = {
            "objective": objective(scores),
            "answer_accuracy": sum(s["right"] for s in ans) / max(1, len(ans)),
            "quotes_supported": (sum(s["supported"] for s in ans if s["right"])
                                 / max(1, sum(1 for s in ans if s["right"]))),
            "unanswerable_refused": sum(s["refused"] for s in una) / max(1, len(una)),
            "answerable_refused": sum(s["refused"] for s in ans) / max(1, len(ans)),
            "refusal_precision": (sum(1 for s in refused if not s["answerable"]) / len(refused)) if refused else 1.0,
            "n_answerable": len(ans), "n_unanswerable": len(una),
        }
    return out


def _score(figs: dict[str, dict[str, float]]) -> float:
    return float(np.mean([f["objective"] for f in figs.values()]))


def confidence_rows(sets: dict[str, list[Run]], policy: AnswerPolicy, top_k: int
                    ) -> tuple[list[dict[str, float]], list[int], list[float]]:
    """Each run's features and label (its answer, refusal off, is right), weighted so each set sums to 1."""
    rows, labels, weights = [], [], []
    always = replace(policy, confidence=ALWAYS)
    for rs in sets.values():
        mine = []
        for r in rs:
            a, passages = answer(r, always, top_k)
            passages, spans, sents = r.views[(max(policy.pool, top_k), top_k)]
            scored = _scored(sents, passages, spans)
            if a.abstained or not scored:
                continue
            _, span, sent = scored[0]
            mine.append((features(r.info, span, sent, sent.passage), int(judge(r, text_of(a, passages, r), False)
                                                                          ["right"])))
        rows += [m[0] for m in mine]
        labels += [m[1] for m in mine]
        weights += [1.0 / max(1, len(mine))] * len(mine)
    return rows, labels, weights


def fit_confidence(fit: dict[str, list[Run]], choose: dict[str, list[Run]], policy: AnswerPolicy, top_k: int
                   ) -> AnswerPolicy:
    """``policy`` with the confidence model when it beats the margin threshold on choose (module docstring)."""
    rows, labels, weights = confidence_rows(fit, policy, top_k)
    model = fit_logistic(rows, labels, weights=weights)
    grid = []
    for lead_by, p in itertools.product(("margin", "confidence"), ANSWER_P):
        cand = replace(policy, confidence=replace(model, answer_p=p), lead_by=lead_by)
        figs = evaluate(fit, cand, top_k)
        if figs["facqa-fit"]["refusal_precision"] >= MIN_REFUSAL_PRECISION:
            grid.append((_score(figs), cand))
    grid.sort(key=lambda g: -g[0])
    scored = [(_score(evaluate(choose, c, top_k)), c) for _, c in grid[:KEEP]]
    margin_only = _score(evaluate(choose, policy, top_k))
    print(f"confidence model: {len(rows)} fit answers ({sum(labels)} right); choose: margin only "
          f"{margin_only:.3f}, " + ", ".join(f"{c.lead_by} p {c.confidence.answer_p:.3f}: {sc:.3f}"  # type: ignore[union-attr]
                                             for sc, c in scored))
    if scored and max(scored, key=lambda t: t[0])[0] > margin_only:
        return max(scored, key=lambda t: t[0])[1]
    return policy


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--embedder", default="e5-small-int8")
    ap.add_argument("--fresh", action="store_true", help="read the questions again (new reader weights)")
    ap.add_argument("--aq-fit-folds", nargs="+", type=Path, metavar="DELTA_DIR",
                    help="read articles-qa's fit part out of fold: fold k by the reader trained with "
                         "--hold-out-fold k (needed when the shipped reader trained on those questions)")
    args = ap.parse_args()
    settings = Settings(embedder=args.embedder)
    top_k = settings.top_k
    selection = json.loads(selection_path(settings.embedder, settings.chunk_tokens, settings.chunk_overlap)
                           .read_text(encoding="utf-8"))
    pool = max(top_k, int(selection.get("rerank_pool") or top_k))
    fit = {n: runs(n, settings, args.fresh) for n in ("aq-fit", "facqa-fit")}
    if args.aq_fit_folds:
        missing = [str(d) for d in args.aq_fit_folds if not (d / "reader-delta.safetensors").exists()]
        if missing:
            sys.exit(f"no held-out-fold reader in {', '.join(missing)}: run `make train` (it writes them)")
        fit["aq-fit"] = cached(f"aq-fit-oof-{'-'.join(d.name for d in args.aq_fit_folds)}", settings, args.fresh,
                               lambda: collect_aq_fit_out_of_fold(settings, args.aq_fit_folds))
    grid = []
    for at, off in itertools.product(ANSWER_AT, MORE_AT_OFFSETS):
        policy = AnswerPolicy(at, at + off, pool)
        figs = evaluate(fit, policy, top_k)
        if figs["facqa-fit"]["refusal_precision"] < MIN_REFUSAL_PRECISION:
            continue
        grid.append((_score(figs), policy, figs))
    grid.sort(key=lambda g: -g[0])
    choose = {n: runs(n, settings, args.fresh) for n in ("aq-choose", "facqa-choose")}
    finalists = [(_score(cf := evaluate(choose, p, top_k)), p, f, cf) for _, p, f in grid[:KEEP]]
    finalists.sort(key=lambda g: -g[0])
    _, best, fit_figs, choose_figs = finalists[0]
    # then the threshold for questions in another language than their quote (only articles-qa has such questions):
    # fitted on its fit part with the rest fixed (ties: nearest the same-language threshold), chosen on choose
    cross = sorted(((evaluate({"aq-fit": fit["aq-fit"]}, replace(best, answer_at_cross=at), top_k)["aq-fit"]
                     ["objective"], at) for at in ANSWER_AT), key=lambda t: (-t[0], abs(t[1] - best.answer_at)))
    picks = [(evaluate({"aq-choose": choose["aq-choose"]}, replace(best, answer_at_cross=at), top_k)["aq-choose"]
              ["objective"], at) for _, at in cross[:CROSS_KEEP]]
    best = replace(best, answer_at_cross=max(picks, key=lambda t: t[0])[1])
    # then which further sentences join the answer: ``more_at`` and ``more_within`` (how close to the best span a
    # further one must score) together, the rest fixed; fitted on fit, the KEEP best chosen on choose
    pairs = [(off, w) for off in MORE_AT_OFFSETS for w in MORE_WITHIN if not (off == float("inf") and w is not None)]
    def with_more(i: int) -> AnswerPolicy:
        off, within = pairs[i]
        return replace(best, more_at=best.answer_at + off, more_within=within)

    on_fit = sorted(range(len(pairs)), key=lambda i: (-_score(evaluate(fit, with_more(i), top_k)), i))[:KEEP]
    best = with_more(min(on_fit, key=lambda i: (-_score(evaluate(choose, with_more(i), top_k)), i)))
    best = fit_confidence(fit, choose, best, top_k)
    # then how many of the best passages each part of a multi-part question is read over (ties: the fewest, which
    # reads least and answers soonest)
    on_fit = sorted(PARTS_POOLS, key=lambda n: (-_score(evaluate(fit, replace(best, parts_pool=n), top_k)),
                                                n or pool))[:CROSS_KEEP]
    best = replace(best, parts_pool=min(on_fit, key=lambda n: (-_score(evaluate(choose, replace(best, parts_pool=n),
                                                                                 top_k)), n or pool)))
    # last two switches, each kept only when it scores higher on fit and on choose: whether a sentence naming a rival
    # of the question's names may be quoted, and whether a reason question also quotes the sentence after the lead's
    for switch in ("skip_rivals", "reason_next"):
        on_ = replace(best, **{switch: True})
        on = [(_score(evaluate(s, on_, top_k)), _score(evaluate(s, best, top_k))) for s in (fit, choose)]
        print(f"{switch} (fit, choose): " + ", ".join(f"{a:.3f} against {b:.3f}" for a, b in on))
        if all(a > b for a, b in on):
            best = on_
    # the confidence model's labels are whether the composed answer is right, and the steps after its fit changed the
    # composition: refitted once more on the final composition's answers, kept only when it scores higher on choose
    refit = fit_confidence(fit, choose, replace(best, confidence=None, lead_by="margin"), top_k)
    if _score(evaluate(choose, refit, top_k)) > _score(evaluate(choose, best, top_k)):
        best = refit
    fit_figs = evaluate(fit, best, top_k)
    choose_figs = evaluate(choose, best, top_k)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                            cwd=root()).stdout.strip()
    write_json(POLICY_PATH, {
        "answer_at": best.answer_at, "more_at": best.more_at, "pool": best.pool, "skip_rivals": best.skip_rivals,
        "answer_at_cross": best.answer_at_cross, "more_within": best.more_within,
        "confidence": None if best.confidence is None else best.confidence.to_json(), "lead_by": best.lead_by,
        "parts_pool": best.parts_pool, "reason_next": best.reason_next,
        "figures": {"fit": fit_figs, "choose": choose_figs, "grid_size": len(grid), "top_k": top_k,
                    "command": "python benchmarks/fit_reader_answers.py --embedder " + args.embedder + (
                        " --aq-fit-folds " + " ".join(str(d) for d in args.aq_fit_folds) if args.aq_fit_folds else ""),
                    "git_commit": commit, "min_refusal_precision": MIN_REFUSAL_PRECISION},
    })
    print(f"chosen: pool {best.pool}, answer_at {best.answer_at}, more_at {best.more_at}, "
          f"skip_rivals {best.skip_rivals}, answer_at_cross {best.answer_at_cross}, "
          f"more_within {best.more_within}, lead_by {best.lead_by}, parts_pool {best.parts_pool}, "
          f"reason_next {best.reason_next}, "
          f"confidence {'off' if best.confidence is None else best.confidence.to_json()}")
    for name, figs in {**fit_figs, **choose_figs}.items():
        print(f"  {name:14s} " + "  ".join(f"{k} {v:.3f}" if isinstance(v, float) else f"{k} {v}"
                                          for k, v in figs.items()))


if __name__ == "__main__":
    main()
