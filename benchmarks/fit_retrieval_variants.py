"""Would richer fusion features help? Fit each variant on FacQA-train's *fit* part, compare on *choose*.

    .venv/bin/python benchmarks/fit_retrieval_variants.py [--embedder e5-small]

The product's fusion (``benchmarks/fit_retrieval.py``) is a logistic regression over :data:`assistant.fusion.FEATURES`
(scores and ranks of both legs). Variants, each fitted the same way (standardised features, C in 0.1/1/10, pools
30 and 50, the best C on *choose* shown):

* **+ sentence match**: per candidate, the best IDF-weighted share of the question's terms in one of its sentences,
  in two adjacent sentences, in the whole passage, and the share of the question's names it holds (word proximity,
  which BM25's bag of words ignores);
* **+ leg confidence**: per question, the dense leg's top-1 margin, BM25's relative top-1 margin and log top score,
  each multiplied with each leg's rank features (so the weight of a leg can depend on how sure it is);
* **both**;
* **+ n-gram cosines**: a third lexical view, TF-IDF cosines of character 3-5-grams (within words: spelling variants,
  affixes Sastrawi leaves) and of word 1-2-grams (phrases), IDF from the pool's passages; each as the score, the
  score over the question's best and the reciprocal rank among the candidates.

Each variant is also fitted with **gradient boosting** (scikit-learn's HistGradientBoostingClassifier, learning rate
0.05 / 0.1, 15 leaves) in place of the logistic regression, for interactions a linear model cannot weigh.

hit@5 here = a candidate that covers the gold span among the top 5 of the fused pool (no story diversification).
The *report* part is never read. Prints a table; nothing is written (the product keeps what fit_retrieval.py chose
unless a variant wins on *choose*).
"""

from __future__ import annotations

import argparse
import math
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import numpy as np  # noqa: E402
from fit_retrieval import collect_part  # noqa: E402
from retrieval_data import add_index_options, open_pool, part, settings_from  # noqa: E402

from assistant.fusion import candidate_features  # noqa: E402
from assistant.question import analyse_question  # noqa: E402
from index.analysis import analyze  # noqa: E402
from index.chunking import split_sentences  # noqa: E402

_NAME = re.compile(r"\d+(?:[.,]\d+)*|[A-Z][\w'’-]+")


def sentence_match(reader, question: str, ids: list[str], cache: dict) -> np.ndarray:
    info = analyse_question(question)
    weights = {t: reader.bm25.idf(t) for t in set(info.terms)}
    total = sum(weights.values()) or 1.0
    names = set(_NAME.findall(question)[1:])

    def cov(terms: set[str]) -> float:
        return sum(w for t, w in weights.items() if t in terms) / total

    rows = []
    for c in ids:
        if c not in cache:
            text = reader.passage(c).text
            sents = [set(analyze(text[s.start : s.end])) for s in split_sentences(text)] or [set()]
            cache[c] = (sents, set().union(*sents), set(_NAME.findall(text)))
        sents, every, tokens = cache[c]
        one = max(cov(s) for s in sents)
        two = max([cov(sents[i] | sents[i + 1]) for i in range(len(sents) - 1)] or [one])
        rows.append([one, two, cov(every), len(names & tokens) / len(names) if names else 0.0])
    return np.asarray(rows)


def confidence(dense, bm25, x: np.ndarray) -> np.ndarray:
    dg = dense[0].score - dense[1].score if len(dense) > 1 else 0.0
    bg = (bm25[0][1] - bm25[1][1]) / bm25[0][1] if len(bm25) > 1 and bm25[0][1] > 0 else 0.0
    q = np.asarray([dg, bg, math.log1p(bm25[0][1]) if bm25 else 0.0])
    return np.hstack([x[:, [2]] * q, x[:, [5]] * q, x[:, [3]] * q])  # dense_rr, bm25_rr, bm25_rel x confidences


class NgramCosines:
    """TF-IDF cosines between a question and candidate passages: character 3-5-grams and word 1-2-grams."""

    def __init__(self, reader) -> None:
        from sklearn.feature_extraction.text import TfidfVectorizer

        ids = sorted(reader.state.chunks)
        texts = [reader.passage(c).text for c in ids]
        self.row = {c: i for i, c in enumerate(ids)}
        self.views = []
        for vec in (TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True),
                    TfidfVectorizer(analyzer="word", ngram_range=(1, 2), sublinear_tf=True)):
            self.views.append((vec, vec.fit_transform(texts)))

    def __call__(self, question: str, ids: list[str]) -> np.ndarray:
        cols = []
        rows = [self.row[c] for c in ids]
        for vec, matrix in self.views:
            s = (matrix[rows] @ vec.transform([question]).T).toarray().ravel()
            rank = np.argsort(np.argsort(-s, kind="stable"))
            cols += [s, s / (s.max() or 1.0), 1.0 / (1.0 + rank)]
        return np.column_stack(cols)


def table(reader, rows: list[dict], items, n: int, variant: str, cache: dict) -> list[tuple[np.ndarray, np.ndarray]]:
    out = []
    for r, it in zip(rows, items, strict=True):
        dense, bm25 = r["dense"][:n], r["bm25"][:n]
        ids, x = candidate_features(dense, bm25, r["cross"])
        parts = [x]
        if variant in ("+ sentence match", "both"):
            parts.append(sentence_match(reader, it.question, ids, cache))
        if variant in ("+ leg confidence", "both"):
            parts.append(confidence(dense, bm25, x))
        if variant == "+ n-gram cosines":
            if "ngrams" not in cache:
                cache["ngrams"] = NgramCosines(reader)
            parts.append(cache["ngrams"](it.question, ids))
        out.append((np.hstack(parts), np.asarray([int(i in r["good"]) for i in ids])))
    return out


def hit5(rows: list[tuple[np.ndarray, np.ndarray]], model) -> float:
    # logistic regression and gradient boosting both give a logit
    return float(np.mean([y[np.argsort(-model.decision_function(x), kind="stable")[:5]].any() for x, y in rows]))


def main() -> None:
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_index_options(ap)
    args = ap.parse_args()
    reader = open_pool(settings_from(args))
    data = {name: (collect_part(reader, name, 100), part(name)) for name in ("fit", "choose")}
    cache: dict = {}
    print(f"Fusion variants ({args.embedder}), hit@5 of the fused pool; fitted on fit, the setting chosen on choose")
    print(f"{'variant':<18} {'pool':>4} {'model':<26} {'fit':>7} {'choose':>7}")
    for variant in ("product's features", "+ sentence match", "+ leg confidence", "both", "+ n-gram cosines"):
        for n in (30, 50):
            fit_rows = table(reader, *data["fit"], n, variant, cache)
            choose_rows = table(reader, *data["choose"], n, variant, cache)
            x = np.vstack([a for a, _ in fit_rows])
            y = np.concatenate([b for _, b in fit_rows])
            linear = max(((f"logistic regression, C {c}",
                           make_pipeline(StandardScaler(), LogisticRegression(C=c, max_iter=5000)).fit(x, y))
                          for c in (0.1, 1.0, 10.0)), key=lambda m: hit5(choose_rows, m[1]))
            boosted = max(((f"gradient boosting, lr {lr}",
                            HistGradientBoostingClassifier(learning_rate=lr, max_iter=200, max_leaf_nodes=15,
                                                           random_state=0).fit(x, y))
                           for lr in (0.05, 0.1)), key=lambda m: hit5(choose_rows, m[1]))
            for name, model in (linear, boosted):
                print(f"{variant:<18} {n:>4} {name:<26} {hit5(fit_rows, model):>7.4f} {hit5(choose_rows, model):>7.4f}",
                      flush=True)


if __name__ == "__main__":
    main()
