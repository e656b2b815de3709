"""Fit the extractive answerer's sentence scorer and refusal model on FacQA-train's *fit* part, choose on *choose*.

    .venv/bin/python benchmarks/fit_answers.py [--embedder e5-small]

Each question is run twice through the product's retrieval over the pool (FacQA-train + sample articles): as it is
(answerable) and with its own passage removed from the pool (unanswerable by construction). Then

1. **sentence scorer**: logistic regression (scikit-learn) over the retrieved sentences' features, label = the
   sentence overlaps the gold answer span; regularisation C chosen by the *choose* part's top-1 accuracy;
2. **refusal**: logistic regression over :data:`assistant.answer_model.QUESTION_FEATURES` of every run, label = the
   best sentence holds the answer (so it is 0 for every unanswerable run); C chosen by *choose* log-loss;
3. **threshold** ``answer_at``: the probability below which the answerer refuses: the highest one whose refusals on
   the *choose* part are still >= 90% right (refusal precision: refused runs that were unanswerable), i.e. the most
   unanswerable questions refused while keeping refusal precision >= 0.9.

Each model is fitted twice: for questions in the passages' language, and without the word-match features for
questions in another language (:data:`assistant.answer_model.WORD_FEATURES`). Writes
``assistant/fitted/answer-<embedder>-c<tokens>o<overlap>.json`` and, for other embedders, the lexical fallback
``assistant/fitted/answer-lexical.json`` (the same fits without the embedding features). The *report* part
is never read here (``benchmarks/report_answers.py``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import numpy as np  # noqa: E402
from fit_retrieval import _git_commit  # noqa: E402
from retrieval_data import (  # noqa: E402
    ROOT,
    add_index_options,
    covers,
    gold,
    open_pool,
    part,
    settings_from,
    write_json,
)

from assistant.answer_model import (  # noqa: E402
    DENSE_FEATURES,
    LEXICAL,
    QUESTION_FEATURES,
    WORD_FEATURES,
    AnswerModel,
    Scorer,
    answer_model_path,
    question_features,
)
from assistant.retrieval import Filters, retrieve  # noqa: E402
from assistant.sentence_features import (  # noqa: E402
    POOL_GRID,
    SENTENCE_FEATURES,
    candidate_sentences,
    sentence_features,
)

C_GRID = (0.01, 0.1, 1.0, 10.0)
# Sentences embedded per question cost time on every question: the smallest pool (POOL_GRID) whose choose-part mixed
# accuracy (answers right + refusals of unanswerable runs) is within this of the best pool's is chosen.
POOL_TOLERANCE = 0.01
THRESHOLDS = tuple(round(t, 2) for t in np.arange(0.05, 0.96, 0.05))


class CachingEmbedder:
    """The reader's embedder with memory: questions are embedded once in batches up front, and a run and its
    unanswerable twin share most sentences. Same vectors as the wrapped embedder."""

    def __init__(self, embedder, questions: list[str]) -> None:
        self._embedder = embedder
        self.dimension = embedder.dimension
        self._queries = dict(zip(questions, embedder.embed_queries(questions), strict=True))
        self._docs: dict[str, np.ndarray] = {}

    def embed_query(self, text: str) -> np.ndarray:
        if text not in self._queries:
            self._queries[text] = self._embedder.embed_query(text)
        return self._queries[text]

    def embed_documents(self, texts):
        missing = [t for t in dict.fromkeys(texts) if t not in self._docs]
        if missing:
            self._docs.update(zip(missing, self._embedder.embed_documents(missing), strict=True))
        return np.stack([self._docs[t] for t in texts]) if texts else np.zeros((0, self.dimension), np.float32)


def runs(reader, settings, items, all_sources: set[str]) -> list[dict]:
    """Features and labels of every retrieved sentence, for each question as it is and without its passage."""
    out = []
    for k, it in enumerate(items):
        ev = gold(reader, it)
        for answerable in (True, False):
            filters = None if answerable else Filters(sources=frozenset(all_sources - set(it.sources)))
            result = retrieve(reader, settings, it.question, filters=filters)
            sents = candidate_sentences(result.passages)
            if not sents:
                continue
            vectors: dict[str, np.ndarray] = {}  # the largest pool's sentences hold every smaller pool's
            xs = {pool: sentence_features(result.question, sents, reader, result.query_vector, result.scores, vectors,
                                          pool) for pool in sorted(POOL_GRID, reverse=True)}
            y = np.asarray([answerable and covers(ev, (s.passage.source, s.start, s.end)) for s in sents], dtype=int)
            out.append({"id": it.id, "answerable": answerable, "x_by_pool": xs, "y": y, "scores": result.scores})
        if (k + 1) % 100 == 0:
            print(f"  {k + 1}/{len(items)} questions", file=sys.stderr)
    return out


def cached_runs(reader, settings, name: str, all_sources: set[str]) -> list[dict]:
    """:func:`runs` for one split part, cached beside the pool index (keyed by its state, the analyser, the fitted
    fusion, the near-duplicate threshold, the retrieval and scoping code and the feature list)."""
    import hashlib
    import pickle

    from assistant import retrieval, scope
    from assistant.fusion import FITTED_DIR, fitted_path
    from assistant.question_words import QUESTION_WORDS
    from index.analysis import ANALYZER_VERSION

    fusion = fitted_path(settings.embedder, settings.chunk_tokens, settings.chunk_overlap)
    key = hashlib.sha1(repr((reader.state.folder.name, ANALYZER_VERSION, SENTENCE_FEATURES, POOL_GRID, settings.top_k,
                             sorted(QUESTION_WORDS),
                             fusion.read_bytes() if fusion.exists() else b"",
                             (FITTED_DIR / "duplicates.json").read_bytes(),
                             *(Path(m.__file__).read_bytes() for m in (retrieval, scope)))).encode()).hexdigest()[:12]
    path = reader.config.index_dir.parent / f"answer-runs-{key}-{name}.pkl"
    if path.exists():
        return pickle.loads(path.read_bytes())
    rows = runs(reader, settings, part(name), all_sources)
    path.write_bytes(pickle.dumps(rows))
    return rows


def _mask(x: np.ndarray, names: tuple[str, ...], without: tuple[str, ...]) -> np.ndarray:
    if not without:
        return x
    x = x.copy()
    x[..., [i for i, f in enumerate(names) if f in without]] = 0.0
    return x


def fit_sentences(rows: list[dict], c: float, without: tuple[str, ...]):
    from sklearn.linear_model import LogisticRegression

    xs = [_mask(r["x"], SENTENCE_FEATURES, without) for r in rows if r["answerable"]]
    ys = [r["y"] for r in rows if r["answerable"]]
    lr = LogisticRegression(C=c, max_iter=5000).fit(np.vstack(xs), np.concatenate(ys))
    return [float(w) for w in lr.coef_[0]], float(lr.intercept_[0])


def top1(rows: list[dict], w: list[float], b: float, without: tuple[str, ...]) -> float:
    """Share of answerable runs with a gold sentence retrieved whose best-scored sentence is gold."""
    hits = [r["y"][int(np.argmax(_mask(r["x"], SENTENCE_FEATURES, without) @ w + b))]
            for r in rows if r["answerable"] and r["y"].any()]
    return float(np.mean(hits))


def refusal_data(rows: list[dict], w: list[float], b: float, without: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
    qs, ys = [], []
    for r in rows:
        logits = _mask(r["x"], SENTENCE_FEATURES, without) @ w + b
        qs.append(_mask(question_features(r["x"], logits, r["scores"]), QUESTION_FEATURES, without))
        ys.append(int(r["y"][int(np.argmax(logits))]))
    return np.asarray(qs), np.asarray(ys)


REFUSAL_PRECISION = 0.9  # the product's target: nine refusals in ten are of questions the articles don't answer


def mixed_accuracy(p: np.ndarray, right: np.ndarray, answerable: np.ndarray, at: float) -> float:
    answered = p >= at
    return float(np.mean(np.where(answered, right == 1, ~answerable)))


def refusal_precision(p: np.ndarray, answerable: np.ndarray, at: float) -> float:
    refused = p < at
    return float(np.mean(~answerable[refused])) if refused.any() else 1.0


def fit(fit_rows, choose_rows, without: tuple[str, ...]) -> Scorer:
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import brier_score_loss, log_loss

    sent = max(((c, *fit_sentences(fit_rows, c, without)) for c in C_GRID),
               key=lambda t: top1(choose_rows, t[1], t[2], without))
    c_sent, w, b = sent
    qf, yf = refusal_data(fit_rows, w, b, without)
    qc, yc = refusal_data(choose_rows, w, b, without)
    models = [(c, LogisticRegression(C=c, max_iter=5000).fit(qf, yf)) for c in C_GRID]
    c_ref, ref = min(models, key=lambda m: log_loss(yc, m[1].predict_proba(qc)[:, 1], labels=[0, 1]))
    p = ref.predict_proba(qc)[:, 1]
    answerable = np.asarray([r["answerable"] for r in choose_rows])
    ok = [t for t in THRESHOLDS if refusal_precision(p, answerable, t) >= REFUSAL_PRECISION]
    at = max(ok) if ok else min(THRESHOLDS)
    bins = []
    for lo in np.arange(0, 1, 0.2):
        m = (p >= lo) & (p < lo + 0.2 + (1e-9 if lo >= 0.8 else 0))
        if m.any():
            bins.append({"p": f"{lo:.1f}-{lo + 0.2:.1f}", "runs": int(m.sum()), "mean_p": round(float(p[m].mean()), 3),
                         "right": round(float(yc[m].mean()), 3)})
    figures = {
        "sentence_C": c_sent, "refusal_C": c_ref, "choose_top1": round(top1(choose_rows, w, b, without), 4),
        "choose_brier": round(float(brier_score_loss(yc, p)), 4),
        "choose_mixed_accuracy": round(mixed_accuracy(p, yc, answerable, at), 4),
        "choose_answerable_right": round(float(np.mean((p >= at)[answerable] & (yc[answerable] == 1))), 4),
        "choose_unanswerable_refused": round(float(np.mean((p < at)[~answerable])), 4),
        "choose_refusal_precision": round(refusal_precision(p, answerable, at), 4),
        "calibration_choose": bins,
    }
    return Scorer(w, b, [float(v) for v in ref.coef_[0]], float(ref.intercept_[0]), float(at), without, figures)


def fitted_pair(fit_rows: list[dict], choose_rows: list[dict], pool: int, base: tuple[str, ...]) -> AnswerModel:
    """The same-language and cross-language scorers for features computed with ``pool`` sentences embedded."""
    def at(rows: list[dict]) -> list[dict]:
        return [{**r, "x": r["x_by_pool"][pool]} for r in rows]

    f, c = at(fit_rows), at(choose_rows)
    return AnswerModel(fit(f, c, base), fit(f, c, base + WORD_FEATURES))


def fit_and_choose_runs(description: str):
    """Parse the index options; the settings, the pool and the (cached) runs of the *fit* and *choose* parts."""
    ap = argparse.ArgumentParser(description=description)
    add_index_options(ap)
    args = ap.parse_args()
    settings = settings_from(args)
    reader = open_pool(settings)
    pool_settings = settings.model_copy(update={"index_dir": reader.config.index_dir})
    all_sources = {f.source for f in reader.files()}
    reader.embedder = CachingEmbedder(reader.embedder, [it.question for p in ("fit", "choose") for it in part(p)])
    return (args, settings, cached_runs(reader, pool_settings, "fit", all_sources),
            cached_runs(reader, pool_settings, "choose", all_sources))


def main() -> None:
    import sklearn

    args, settings, fit_rows, choose_rows = fit_and_choose_runs(__doc__.splitlines()[0])
    variants = [(answer_model_path(args.embedder, settings.chunk_tokens, settings.chunk_overlap), ())]
    if args.embedder == "e5-small" and (settings.chunk_tokens, settings.chunk_overlap) == (160, 30):
        variants.append((LEXICAL, DENSE_FEATURES))  # the fallback for other embedders, fitted once
    for path, base in variants:
        if set(DENSE_FEATURES) <= set(base):  # fitted without the embedding features: nothing to embed
            pools = {0: fitted_pair(fit_rows, choose_rows, max(POOL_GRID), base)}
        else:
            pools = {pool: fitted_pair(fit_rows, choose_rows, pool, base) for pool in POOL_GRID}
            for pool, m in pools.items():
                print(f"  dense pool {pool:>2}: choose mixed accuracy {m.same.figures['choose_mixed_accuracy']:.4f}",
                      file=sys.stderr)
        best = max(m.same.figures["choose_mixed_accuracy"] for m in pools.values())
        dense_pool = min(p for p, m in pools.items() if m.same.figures["choose_mixed_accuracy"] >= best - POOL_TOLERANCE)
        model = pools[dense_pool]
        model.dense_pool = dense_pool
        model.meta = {
            "fitted_on": "data/external/facqa-train fit part (split.json) as retrieved from the pool "
                         "(FacQA-train + data/articles), each question also with its passage removed",
            "chosen_on": "choose part", "command": " ".join(["python benchmarks/fit_answers.py", *sys.argv[1:]]),
            "embedder": args.embedder, "chunk_tokens": settings.chunk_tokens, "chunk_overlap": settings.chunk_overlap,
            "runs": {"fit": len(fit_rows), "choose": len(choose_rows)},
            "dense_pool_choice": {str(p): m.same.figures["choose_mixed_accuracy"] for p, m in pools.items()},
            "scikit_learn": sklearn.__version__, "git_commit": _git_commit(), "date": dt.date.today().isoformat(),
        }
        write_json(path, model.to_json())
        for name, scorer in (("same language", model.same), ("cross-language (no word-match features)", model.cross)):
            f = scorer.figures
            print(f"{path.relative_to(ROOT)} [{name}]: refuse below P={scorer.answer_at:.2f} · choose part: top-1 "
                  f"sentence {f['choose_top1']:.3f}, answerable right {f['choose_answerable_right']:.3f}, "
                  f"unanswerable refused {f['choose_unanswerable_refused']:.3f} (refusal precision "
                  f"{f['choose_refusal_precision']:.3f}), Brier {f['choose_brier']:.3f}")
            for row in f["calibration_choose"]:
                print(f"   P {row['p']}: {row['runs']} runs, mean P {row['mean_p']:.2f}, right {row['right']:.2f}")

if __name__ == "__main__":
    main()
