"""Fit the support score of cited sentences (generative answers) on FacQA-train's *fit* part, choose on *choose*.

    .venv/bin/python benchmarks/fit_support.py [--embedder e5-small]

Pairs built from each question (no model writes them, so the claims are made from the data):

* supported: the question's statement with its answer (question words removed, the answer appended) against the
  passage that holds the answer;
* unsupported: the same statement with another question's answer against that passage (the topic matches, the fact
  does not), and the true statement against the best passage retrieved once the gold passage is removed (a
  neighbouring topic).

A logistic regression (scikit-learn) over :data:`assistant.citations.SUPPORT_FEATURES`, C chosen by *choose*
log-loss, is written to ``assistant/fitted/support-<embedder>.json`` (and, for the default embedder, the fallback
``support-lexical.json`` fitted without the dense feature). Prints *choose* accuracy at P = 0.5.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import numpy as np  # noqa: E402
from retrieval_data import add_index_options, gold, open_pool, part, settings_from, write_json  # noqa: E402

from assistant.citations import SUPPORT_FEATURES, support_features, support_model_path  # noqa: E402
from assistant.evaluation.run_folder import git_commit  # noqa: E402
from assistant.question_words import QUESTION_WORDS  # noqa: E402
from assistant.retrieval import Filters, retrieve  # noqa: E402

C_GRID = (0.01, 0.1, 1.0, 10.0)


def statement(question: str, answer: str) -> str:
    words = [w for w in question.rstrip("?").split() if w.lower().strip(",.") not in QUESTION_WORDS
             and not w.lower().endswith("kah")]
    return " ".join([*words, answer]) + "."


def pairs(reader, settings, items, all_sources: set[str], seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = random.Random(seed)
    answers = [it.answer for it in items]
    xs, ys = [], []
    for it in items:
        ev = [e for e in gold(reader, it) if e]
        if not ev:
            continue
        src, start, end = ev[0]
        chunk = next(reader.passage(c) for c in reader.state.files[src].chunk_ids
                     if reader.state.chunks[c].start <= start and end <= reader.state.chunks[c].end)
        wrong = rng.choice([a for a in answers if a != it.answer])
        other = retrieve(reader, settings, it.question, top_k=1,
                         filters=Filters(sources=frozenset(all_sources - set(it.sources)))).passages
        true = statement(it.question, it.answer)
        for claim, text, label in ((true, chunk.text, 1), (statement(it.question, wrong), chunk.text, 0),
                                   *(((true, other[0].text, 0),) if other else ())):
            xs.append(support_features(claim, text, reader.embedder)[0])
            ys.append(label)
    return np.asarray(xs), np.asarray(ys)


def main() -> None:
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import log_loss

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_index_options(ap)
    args = ap.parse_args()
    settings = settings_from(args)
    reader = open_pool(settings)
    pool = settings.model_copy(update={"index_dir": reader.config.index_dir})
    all_sources = {f.source for f in reader.files()}
    xf, yf = pairs(reader, pool, part("fit"), all_sources, seed=1)
    xc, yc = pairs(reader, pool, part("choose"), all_sources, seed=2)
    variants = [(args.embedder, ())] + ([("lexical", ("dense",))] if args.embedder == "e5-small" else [])
    for name, without in variants:
        mask = np.asarray([f not in without for f in SUPPORT_FEATURES], dtype=float)
        fitted = [(c, LogisticRegression(C=c, max_iter=5000).fit(xf * mask, yf)) for c in C_GRID]
        c, lr = min(fitted, key=lambda m: log_loss(yc, m[1].predict_proba(xc * mask)[:, 1], labels=[0, 1]))
        accuracy = float(np.mean((lr.predict_proba(xc * mask)[:, 1] >= 0.5) == yc))
        path = support_model_path(name)
        write_json(path, {
            "features": list(SUPPORT_FEATURES), "weights": [float(w) for w in lr.coef_[0]],
            "bias": float(lr.intercept_[0]), "without": list(without),
            "meta": {"fitted_on": "data/external/facqa-train fit part: statement + answer vs its passage (supported), "
                                  "with another answer or against the best other passage (unsupported)",
                     "chosen_on": "choose part (log-loss)", "C": c, "pairs": {"fit": len(yf), "choose": len(yc)},
                     "choose_accuracy_at_half": round(accuracy, 4),
                     "command": " ".join(["python benchmarks/fit_support.py", *sys.argv[1:]]),
                     "git_commit": git_commit(), "date": dt.date.today().isoformat()},
        })
        print(f"{path.name}: C={c}, choose accuracy at P=0.5 {accuracy:.3f} ({len(yc)} pairs)")


if __name__ == "__main__":
    main()
