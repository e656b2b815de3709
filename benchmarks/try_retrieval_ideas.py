"""Two more retrieval ideas, each tried on FacQA-train's *fit* part and checked on *choose*; neither is adopted.

    .venv/bin/python benchmarks/try_retrieval_ideas.py [--embedder e5-small-int8]

* **Dense pseudo-relevance feedback** (Rocchio on vectors): the question's vector plus ``a`` times the mean of its
  top ``m`` passages' vectors, searched again (exact cosine over every chunk of the pool). Dense hit@5 for each
  (m, a) on both parts; the baseline is a = 0.
* **Reranking the product's top 10 with the answer model's sentence signals**: the product's retrieval
  (:func:`assistant.retrieval.retrieve`, top 10), then per passage the best sentence logit of the fitted sentence
  scorer, its best sentence similarity and best word coverage (:mod:`assistant.sentence_features`, every sentence
  embedded); a logistic regression over those and the fused score/rank, fitted on *fit* for each feature set and C.

A passage *covers* a question when it overlaps the gold answer span (the same test as the fitting scripts). The
*report* part is never read. Prints tables; nothing is written.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import numpy as np  # noqa: E402
from fit_answers import CachingEmbedder  # noqa: E402
from retrieval_data import covers, gold, part, pool_from_args, spans  # noqa: E402

from assistant.answer_model import load_answer_model  # noqa: E402
from assistant.retrieval import retrieve  # noqa: E402
from assistant.sentence_features import candidate_sentences, sentence_features  # noqa: E402

PRF_M = (1, 2, 3, 5)
PRF_A = (0.0, 0.1, 0.25, 0.5, 1.0)
RERANK_TOP = 10
C_GRID = (0.1, 1.0, 10.0)
# columns of rerank_rows: fused score, fused 1/rank, best sentence logit, best sentence similarity, best coverage
FEATURE_SETS = {"fused score + rank": [0, 1], "+ best logit": [0, 1, 2], "+ best similarity": [0, 1, 3],
                "+ logit, similarity": [0, 1, 2, 3], "+ all three": [0, 1, 2, 3, 4]}


def all_vectors(reader) -> tuple[list[str], np.ndarray]:
    ids = reader.store.all_ids()
    rows = []
    for b in range(0, len(ids), 1000):
        got = reader.store.collection.get(ids=ids[b : b + 1000], include=["embeddings"])
        by_id = dict(zip(got["ids"], got["embeddings"], strict=True))
        rows += [by_id[i] for i in ids[b : b + 1000]]
    v = np.asarray(rows, dtype=np.float32)
    return ids, v / np.linalg.norm(v, axis=1, keepdims=True)


def feedback(reader, names: tuple[str, ...]) -> None:
    ids, v = all_vectors(reader)
    where = spans(reader, ids)
    print("Dense pseudo-relevance feedback: dense hit@5")
    print(f"{'m':>2} {'a':>5} " + " ".join(f"{n:>7}" for n in names))
    table: dict[tuple[int, float], list[float]] = {}
    for name in names:
        items = part(name)
        q = reader.embedder.embed_queries([it.question for it in items])
        good = np.stack([[covers(gold(reader, it), s) for s in where] for it in items])
        top = np.argsort(-(q @ v.T), axis=1)
        for m in PRF_M:
            for a in PRF_A:
                qp = q + a * np.stack([v[top[i, :m]].mean(0) for i in range(len(items))])
                best = np.argsort(-(qp @ v.T), axis=1)[:, :5]
                table.setdefault((m, a), []).append(float(np.mean([good[i, best[i]].any() for i in range(len(items))])))
    for (m, a), vals in table.items():
        if a == 0.0 and m != PRF_M[0]:
            continue  # the baseline once
        print(f"{m:>2} {a:>5} " + " ".join(f"{x:>7.4f}" for x in vals))


def rerank_rows(reader, settings, name: str) -> list[dict]:
    model = load_answer_model(settings.embedder, settings.chunk_tokens, settings.chunk_overlap)
    scorer = model.scorer(cross_language=False)
    items = part(name)
    base = reader.embedder._embedder if isinstance(reader.embedder, CachingEmbedder) else reader.embedder
    reader.embedder = CachingEmbedder(base, [it.question for it in items])
    rows = []
    for it in items:
        res = retrieve(reader, settings, it.question, top_k=RERANK_TOP)
        sents = candidate_sentences(res.passages)
        x = sentence_features(res.question, sents, reader, res.query_vector, res.scores, {}, len(sents))
        logits = scorer.sentence_logits(x)
        n = len(res.passages)
        best, sim, cov = np.full(n, -20.0), np.zeros(n), np.zeros(n)
        for j, s in enumerate(sents):
            best[s.n - 1] = max(best[s.n - 1], logits[j])
            sim[s.n - 1] = max(sim[s.n - 1], x[j, 0])
            cov[s.n - 1] = max(cov[s.n - 1], x[j, 2])
        ev = gold(reader, it)
        rows.append({"x": np.column_stack([res.scores, 1 / np.arange(1, n + 1), best, sim, cov]),
                     "good": np.asarray([covers(ev, (p.source, p.start, p.end)) for p in res.passages])})
    return rows


def hit5(rows: list[dict], rank=None) -> float:
    out = []
    for r in rows:
        order = np.arange(len(r["good"])) if rank is None else np.argsort(-rank(r["x"]), kind="stable")
        out.append(r["good"][order[:5]].any())
    return float(np.mean(out))


def rerank(reader, settings) -> None:
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    fit_rows, choose_rows = rerank_rows(reader, settings, "fit"), rerank_rows(reader, settings, "choose")
    print(f"\nReranking the product's top {RERANK_TOP}: hit@5 (product's own order: fit {hit5(fit_rows):.4f}, "
          f"choose {hit5(choose_rows):.4f})")
    print(f"{'features':<22} {'C':>5} {'fit':>7} {'choose':>7}")
    x = np.vstack([r["x"] for r in fit_rows])
    y = np.concatenate([r["good"] for r in fit_rows])
    for label, cols in FEATURE_SETS.items():
        for c in C_GRID:
            m = make_pipeline(StandardScaler(), LogisticRegression(C=c, max_iter=5000)).fit(x[:, cols], y)

            def rank(a, m=m, cols=cols):
                return m.decision_function(a[:, cols])

            print(f"{label:<22} {c:>5} {hit5(fit_rows, rank):>7.4f} {hit5(choose_rows, rank):>7.4f}", flush=True)


def main() -> None:
    args, settings, reader = pool_from_args(__doc__.splitlines()[0], "e5-small-int8")
    print(f"embedder {args.embedder}; FacQA-train fit and choose parts; pool = FacQA passages + data/articles\n")
    feedback(reader, ("fit", "choose"))
    rerank(reader, settings)


if __name__ == "__main__":
    main()
