"""Would another sentence scorer pick the answering sentence more often? Fitted on *fit*, compared on *choose*.

    .venv/bin/python benchmarks/fit_answer_variants.py [--embedder e5-small]

The product's sentence scorer (``benchmarks/fit_answers.py``) is a logistic regression over
:data:`assistant.sentence_features.SENTENCE_FEATURES`, with the sentences embedded per question that its fit chose
(``dense_pool`` in the fitted file). Variants, on the same runs (``fit_answers.cached_runs``: every *fit* / *choose*
question as retrieved by the product from the pool):

* **+ relative features**: each question's best coverage, context, names, new names and length subtracted from
  every sentence's (how a sentence compares with its rivals, which a pointwise model does not see), and the
  reciprocal ranks of coverage and of dense similarity among the question's sentences;
* **gradient boosting** (scikit-learn's HistGradientBoostingClassifier, learning rate 0.03 / 0.1, 7 / 15 leaves)
  on the product's features and on the relative ones.

Measure: top-1 = the best-scored sentence holds the gold answer span, over answerable runs whose retrieved passages
hold one (``fit_answers.top1``). The setting of each model (C, learning rate, leaves) is chosen on *choose*. The
*report* part is never read; nothing is written.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import numpy as np  # noqa: E402
from fit_answers import fit_and_choose_runs  # noqa: E402

from assistant.answer_model import load_answer_model  # noqa: E402
from assistant.sentence_features import SENTENCE_FEATURES  # noqa: E402

_RELATIVE = ("coverage", "context", "names", "new_names", "length")


def features(row: dict, pool: int, relative: bool) -> np.ndarray:
    x = row["x_by_pool"][pool]
    if not relative:
        return x
    cols = [SENTENCE_FEATURES.index(c) for c in _RELATIVE]
    gaps = x[:, cols] - x[:, cols].max(axis=0)

    def rr(col: str) -> np.ndarray:
        v = x[:, SENTENCE_FEATURES.index(col)]
        return 1.0 / (1.0 + np.argsort(np.argsort(-v, kind="stable")))

    return np.hstack([x, gaps, rr("coverage")[:, None], rr("dense")[:, None]])


def top1(rows: list[dict], score, pool: int, relative: bool) -> float:
    return float(np.mean([r["y"][int(np.argmax(score(features(r, pool, relative))))]
                          for r in rows if r["answerable"] and r["y"].any()]))


def main() -> None:
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression

    args, settings, fit_rows, choose_rows = fit_and_choose_runs(__doc__.splitlines()[0])
    pool = load_answer_model(args.embedder, settings.chunk_tokens, settings.chunk_overlap).dense_pool
    print(f"Sentence scorers ({args.embedder}, {pool} sentences embedded per question): top-1 sentence holds the "
          "answer; fitted on fit, the setting chosen on choose")
    print(f"{'features':<20} {'model':<34} {'fit':>7} {'choose':>7}")
    for relative in (False, True):
        x = np.vstack([features(r, pool, relative) for r in fit_rows if r["answerable"]])
        y = np.concatenate([r["y"] for r in fit_rows if r["answerable"]])
        candidates = [(f"logistic regression, C {c}", LogisticRegression(C=c, max_iter=5000).fit(x, y))
                      for c in (0.1, 1.0, 10.0)]
        linear = max(candidates, key=lambda m: top1(choose_rows, m[1].decision_function, pool, relative))
        boosted_all = [(f"gradient boosting, lr {lr}, {leaves} leaves",
                        HistGradientBoostingClassifier(learning_rate=lr, max_iter=300, max_leaf_nodes=leaves,
                                                       l2_regularization=1.0, random_state=0).fit(x, y))
                       for lr in (0.03, 0.1) for leaves in (7, 15)]
        boosted = max(boosted_all, key=lambda m: top1(choose_rows, m[1].decision_function, pool, relative))
        for name, model in (linear, boosted):  # both kinds score by decision_function (a logit: same order)
            label = "+ relative features" if relative else "the product's"
            print(f"{label:<20} {name:<34} {top1(fit_rows, model.decision_function, pool, relative):>7.4f} "
                  f"{top1(choose_rows, model.decision_function, pool, relative):>7.4f}", flush=True)


if __name__ == "__main__":
    main()
