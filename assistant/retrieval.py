"""Hybrid retrieval: dense (Chroma) + BM25 fused by a fitted model, scoped by the article a question names, with
sub-queries for multi-part and each-article questions.

1. **Scope** (:mod:`assistant.scope`): "menurut artikel Riau24" restricts both legs to the matching articles.
2. **Legs**: the dense leg (cosine) and BM25 over the question's content terms, ``candidates`` each.
3. **Fusion** (:mod:`assistant.fusion`): a logistic regression over score-aware features of both legs, fitted on
   external data by ``benchmarks/fit_retrieval.py``; equal-weight RRF for an embedder without a fitted file.
4. **Sub-queries**: each ask of a multi-part question (:mod:`assistant.subqueries`) and, for questions about each
   article or comparing articles, each article among the candidates, contributes its best passage first.
5. **Selection** (:class:`Selection`, fitted on multi-paragraph news by ``benchmarks/fit_articles_retrieval.py``):
   which legs rank the candidates for a question of each language (English questions over Indonesian articles: the
   BM25 leg cannot match across languages; or a BM25 leg over the question's names and numbers only), maximal
   marginal relevance with a fitted λ (1 = none), and an optional
   per-story cap. The best-ranked passage is always taken first, so no diversity rule can drop it. A passage nearly
   identical to one already chosen is skipped (:func:`duplicate_jaccard`, fitted).
6. **Pool**: ``retrieve(..., top_k=5, pool=30)`` runs the same selection to 30 passages and hands back the first 5 as
   ``passages`` and all 30 as ``pool`` (a reranker picks its top k from them).

Every passage carries its reasons: which legs found it, which (sub-)query brought it, and its fused score.

>>> retrieve(reader, settings, "Kapan CSTO mengirim pasukan ke Kazakhstan?").passages[0].source  # doctest: +SKIP
'000_e971559feefaf698.txt'

:class:`assistant.article_retriever.ArticleRetriever` is this retrieval (then the reader's rerank, as the chain
runs them) as a LangChain ``BaseRetriever``.
"""

from __future__ import annotations

import json
import math
import time
import weakref
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from assistant.fusion import FITTED_DIR, FusionModel, Leg, fitted_stem, load_fusion
from assistant.models import RankedPassage, RetrievalTrace, ScopeTrace
from assistant.question import QuestionInfo, analyse_question
from assistant.scope import Doc, Scope, find_scope, reference
from assistant.settings import Settings
from index.analysis import analyze
from index.reader import IndexReader, Passage
from index.state import FileRecord

__all__ = ["RetrievalResult", "Filters", "Candidate", "Selection", "retrieve", "legs", "fusion_for", "load_selection",
           "selection_path"]


@lru_cache(maxsize=1)
def duplicate_jaccard() -> float:
    """The content-term Jaccard overlap from which a passage counts as a near-duplicate of one already chosen (and is
    skipped); chosen by ``benchmarks/fit_duplicates.py`` on FacQA-train's choose part (``assistant/fitted/
    duplicates.json``, where null = none skipped)."""
    value = json.loads((FITTED_DIR / "duplicates.json").read_text(encoding="utf-8"))["jaccard"]
    return math.inf if value is None else float(value)


@dataclass(frozen=True)
class Selection:
    """How the fused candidates become the passages handed over (see the module docstring, step 5).

    ``dense_only``: question languages whose candidates are ranked by the dense leg alone (BM25 still finds nothing
    the dense leg ranks higher); ``mmr_lambda``: weight of relevance against similarity (content-term Jaccard) to the
    passages already chosen, 1 = the fused order; ``max_per_story``: at most this many passages of one story (None =
    no cap); ``candidates``: each leg's pool (None = the fusion's fitted pool)."""

    dense_only: frozenset[str] = frozenset()
    mmr_lambda: float = 1.0
    max_per_story: int | None = None
    candidates: int | None = None
    note: str = ""
    names_only: frozenset[str] = frozenset()


SELECTION_FORMAT = 1


def selection_path(embedder: str, chunk_tokens: int, chunk_overlap: int) -> Path:
    return FITTED_DIR / f"retrieval-selection-{fitted_stem(embedder)}-c{chunk_tokens}o{chunk_overlap}.json"


@lru_cache(maxsize=8)
def load_selection(embedder: str, chunk_tokens: int, chunk_overlap: int) -> Selection:
    """The fitted selection for an index built this way, or the neutral one (fused order, no diversity, no cap)."""
    path = selection_path(embedder, chunk_tokens, chunk_overlap)
    if not path.exists():
        return Selection(note=f"no fitted selection ({path.name}): fused order, no diversity")
    raw = json.loads(path.read_text(encoding="utf-8"))
    if raw.get("format") != SELECTION_FORMAT:
        return Selection(note=f"{path.name} has another format: fused order, no diversity")
    cap = raw.get("max_per_story")
    return Selection(frozenset(raw.get("dense_only", [])), float(raw.get("mmr_lambda", 1.0)),
                     None if cap is None else int(cap), raw.get("candidates"),
                     names_only=frozenset(raw.get("names_only", [])))


@dataclass(frozen=True)
class Filters:
    sources: frozenset[str] = frozenset()
    date_from: str | None = None
    date_to: str | None = None


@dataclass(frozen=True)
class Candidate:
    id: str
    score: float  # fused score within the query that brought it
    legs: tuple[str, ...]  # "dense", "bm25"
    via: str = "question"  # the (sub-)query that brought it


@dataclass
class RetrievalResult:
    passages: list[Passage]
    scores: list[float]
    trace: RetrievalTrace
    question: QuestionInfo  # the analysed query (type, language, terms), reused by the answerer
    query_vector: np.ndarray  # the query's embedding, reused by the answerer
    reasons: list[Candidate] = field(default_factory=list)
    elapsed_ms: float = 0.0  # how long retrieval took
    # the selection run on to ``pool`` passages (``passages`` are its first top_k), with their reasons; a reranker
    # picks from these. Without ``pool`` they are the passages themselves.
    pool: list[Passage] = field(default_factory=list)
    pool_reasons: list[Candidate] = field(default_factory=list)
    # the trained reader's spans in each of ``passages`` (set when the reader reranked them; see
    # :func:`assistant.reader_answer.rerank`), which the default answerer reuses instead of reading again
    spans: list[list[Any]] | None = None

    def ranked(self) -> list[RankedPassage]:
        """The passages as the world outside the core sees them, best first (the one place they are made)."""
        spans = self.spans or [[] for _ in self.passages]
        return [
            RankedPassage(rank=i + 1, id=p.id, source=p.source, start=p.start, end=p.end, text=p.text,
                          score=round(s, 6), title=p.title, outlet=p.outlet, date=p.date,
                          legs=list(r.legs), via=r.via, story_id=p.story_id,
                          reader_score=float(best[0].score) if best else None)
            for i, (p, s, r, best) in enumerate(zip(self.passages, self.scores, self.reasons, spans, strict=True))
        ]


@lru_cache(maxsize=8)
def fusion_for(embedder: str, chunk_tokens: int, chunk_overlap: int) -> FusionModel:
    """The fitted fusion for an index built this way (read once per process)."""
    return load_fusion(embedder, chunk_tokens, chunk_overlap)


def name_terms(info: QuestionInfo) -> list[str]:
    """The BM25 terms of the question's names and numbers only (see :class:`Selection`'s ``names_only``).

    >>> name_terms(analyse_question("How many residents of Sukamaju fled the 1,250 m flood?"))
    ['sukamaju', '1250']
    """
    return list(dict.fromkeys(analyze(" ".join(info.names))))


def leg_mode(info: QuestionInfo, dense_only: bool, names_only: bool) -> tuple[bool, bool]:
    """(dense_only, names_only) for this (part of a) question: a names-only leg with no names to search falls back
    to the dense leg alone."""
    if names_only and not name_terms(info):
        return True, False
    return dense_only, names_only


def legs(reader: IndexReader, info: QuestionInfo, vector: np.ndarray, n: int,
         allowed: set[str] | None, names_only: bool = False) -> tuple[list[Leg], list[tuple[str, float]], set[str]]:
    """Both legs' top ``n`` (dense hits, BM25 hits) and the ids of candidates in another language than the question
    (``names_only``: BM25 over the question's names and numbers alone)."""
    dense = [Leg(h.id, h.score, i + 1) for i, h in enumerate(reader.dense(vector, n, allowed))]
    lexical = reader.bm25.search(name_terms(info) if names_only else list(info.terms), n, allowed)
    ids = {d.id for d in dense} | {c for c, _ in lexical}
    cross = {c for c in ids if reader.passage(c).language != info.language}
    return dense, lexical, cross


def _fused(reader: IndexReader, fusion: FusionModel, info: QuestionInfo, vector: np.ndarray, n: int,
           allowed: set[str] | None, via: str,
           dense_only: bool = False,
           names_only: bool = False) -> tuple[list[Candidate], list[Leg], list[tuple[str, float]]]:
    dense_only, names_only = leg_mode(info, dense_only, names_only)
    dense, lexical, cross = legs(reader, info, vector, n, allowed, names_only)
    if dense_only:  # the dense order; BM25 hits the dense leg did not find come after it
        in_bm25 = {c for c, _ in lexical}
        seen = {d.id for d in dense}
        ranked = [Candidate(d.id, d.score, ("dense", "bm25") if d.id in in_bm25 else ("dense",), via) for d in dense]
        floor = dense[-1].score if dense else 0.0
        ranked += [Candidate(c, floor - 1e-6 * (i + 1), ("bm25",), via)
                   for i, (c, _) in enumerate(lexical) if c not in seen]
        return ranked, dense, lexical
    in_dense, in_bm25 = {d.id for d in dense}, {c for c, _ in lexical}
    ranked = [Candidate(c, s, tuple(name for name, ids in (("dense", in_dense), ("bm25", in_bm25)) if c in ids), via)
              for c, s in fusion.rank(dense, lexical, cross)]
    return ranked, dense, lexical


_docs_of: weakref.WeakKeyDictionary[IndexReader, list[Doc]] = weakref.WeakKeyDictionary()


def _headline(rec: FileRecord) -> str | None:
    """The article's own headline (a title made from its lead sentence is no headline; older indexes: title)."""
    meta = rec.meta or {}
    return meta.get("headline", meta.get("title"))


def _docs(reader: IndexReader) -> list[Doc]:
    """What scoping knows of each indexed article (once per reader: a new build opens a new reader)."""
    docs = _docs_of.get(reader)
    if docs is None:
        docs = []
        for rec in reader.files():
            if rec.duplicate_of or not rec.chunk_ids:
                continue
            meta = rec.meta or {}
            docs.append(Doc(rec.source, _headline(rec), meta.get("outlet"), meta.get("date")))
        _docs_of[reader] = docs
    return docs


_label_vectors: weakref.WeakKeyDictionary[IndexReader, dict[str, np.ndarray]] = weakref.WeakKeyDictionary()


def _label(reader: IndexReader, source: str) -> str:
    """An article's headline, or (untitled) its first passage."""
    rec = reader.state.files[source]
    return _headline(rec) or reader.passage(min(rec.chunk_ids, key=lambda c: reader.state.chunks[c].position)).text


def _nearest(reader: IndexReader):
    """``nearest(phrase)``: the articles of the 20 passages closest to the phrase, re-ranked by how close their
    headline (untitled: first passage) is to it. Only those few labels are embedded, once per reader."""
    cache = _label_vectors.setdefault(reader, {})

    def nearest(phrase: str) -> list[str]:
        q = reader.embedder.embed_query(phrase)
        sources = list(dict.fromkeys(reader.passage(h.id).source for h in reader.dense(q, 20)))
        labels = {src: _label(reader, src) for src in sources}
        missing = [t for t in dict.fromkeys(labels.values()) if t not in cache]
        if missing:
            cache.update(zip(missing, reader.embedder.embed_documents(missing), strict=True))
        return sorted(sources, key=lambda src: -float(cache[labels[src]] @ q))

    return nearest


def find_question_scope(reader: IndexReader, question: str) -> Scope:
    """The articles the question names (an empty :class:`Scope` when it names none)."""
    if reference(question) is None:
        return Scope()
    return find_scope(question, _docs(reader), _nearest(reader))


def _source_ids(reader: IndexReader, sources: set[str]) -> set[str]:
    files = reader.state.files
    return {c for src in sources if src in files for c in files[src].chunk_ids}


def retrieve(reader: IndexReader, settings: Settings, query: str | QuestionInfo, top_k: int | None = None,
             filters: Filters | None = None, *, pool: int | None = None,
             selection: Selection | None = None) -> RetrievalResult:
    """Fused, scoped, diversified top passages for ``query`` (see the module docstring): a question's text, or its
    analysis when the caller made it already (the QA chain analyses each question once, first).

    ``pool`` (> top_k): run the selection on to this many passages and hand them back as ``result.pool`` (the first
    ``top_k`` are ``result.passages``), e.g. for a reranker. ``selection``: instead of the fitted one (benchmarks)."""
    t0 = time.perf_counter()
    top_k = top_k or settings.top_k
    info = query if isinstance(query, QuestionInfo) else analyse_question(query)
    query = info.text
    fusion = fusion_for(settings.embedder, settings.chunk_tokens, settings.chunk_overlap)
    sel = selection or load_selection(settings.embedder, settings.chunk_tokens, settings.chunk_overlap)
    n = settings.candidates or sel.candidates or fusion.candidates
    cap = settings.max_per_story if settings.max_per_story is not None else sel.max_per_story
    dense_only = info.language in sel.dense_only
    dense_only, names_only = leg_mode(info, dense_only, info.language in sel.names_only and not dense_only)
    filters = filters or Filters()
    allowed = reader.ids_for(set(filters.sources) or None, filters.date_from, filters.date_to)
    scope = find_question_scope(reader, query)
    if scope.active:
        in_scope = _source_ids(reader, set(scope.sources))
        allowed = in_scope if allowed is None else allowed & in_scope
    query_vector = reader.embedder.embed_query(query)
    main, dense, lexical = _fused(reader, fusion, info, query_vector, n, allowed, "question", dense_only, names_only)

    subs: list[list[Candidate]] = []
    for i, part in enumerate(info.parts, start=1):
        ranked, _, _ = _fused(reader, fusion, part, reader.embedder.embed_query(part.text), n, allowed,
                              f"part {i}: {part.text}", dense_only, names_only)
        subs.append(ranked)
    if info.is_("compare"):
        sources = list(scope.sources) if len(scope.sources) > 1 else list(
            dict.fromkeys(reader.passage(c.id).source for c in main))
        for src in sources[:top_k]:
            only = _source_ids(reader, {src})
            ranked, _, _ = _fused(reader, fusion, info, query_vector, n,
                                  only if allowed is None else allowed & only, f"article: {src}", dense_only,
                                  names_only)
            subs.append(ranked)

    chosen = _select(reader, main, subs, max(top_k, pool or 0), cap, sel.mmr_lambda)
    trace = RetrievalTrace(
        query=query,
        dense=[(d.id, round(d.score, 4)) for d in dense],
        bm25=[(c, round(s, 4)) for c, s in lexical],
        fused=[(c.id, round(c.score, 6)) for c in main],
        question_language=info.language,
        fusion=fusion.kind + (" (dense only for this language)" if dense_only else
                              " (BM25 over names and numbers for this language)" if names_only else ""),
        fusion_note="; ".join(x for x in (fusion.note, sel.note) if x), candidates=n,
        scope=ScopeTrace(phrase=scope.phrase, kind=scope.kind, sources=list(scope.sources), note=scope.note),
        subqueries=[s[0].via for s in subs if s],
    )
    pooled = [reader.passage(c.id) for c in chosen]
    return RetrievalResult(pooled[:top_k], [c.score for c in chosen[:top_k]], trace,
                           question=info, query_vector=query_vector, reasons=chosen[:top_k],
                           elapsed_ms=round((time.perf_counter() - t0) * 1000, 1), pool=pooled, pool_reasons=chosen)


def _select(reader: IndexReader, main: list[Candidate], subs: list[list[Candidate]], k: int,
            max_per_story: int | None, mmr_lambda: float = 1.0) -> list[Candidate]:
    """The main ranking's best, then each sub-query's best not yet taken, then the rest of the main ranking: in order
    (``mmr_lambda`` = 1), or by maximal marginal relevance (relevance = the fused score scaled to 0–1 over the
    candidates, similarity = content-term Jaccard to the passages chosen). Near-duplicates are skipped; a story fills
    at most ``max_per_story`` places (None: no cap) except through a sub-query. The main ranking's best is always
    taken first, so neither rule can drop it."""
    chosen: list[Candidate] = []
    taken: set[str] = set()
    term_sets: list[set[str]] = []
    per_story: dict[str, int] = {}
    duplicate = duplicate_jaccard()
    terms_of: dict[str, set[str]] = {}

    def terms(cid: str) -> set[str]:
        t = terms_of.get(cid)
        if t is None:
            t = terms_of[cid] = set(analyze(reader.passage(cid).text))
        return t

    def jaccard(a: set[str], b: set[str]) -> float:
        union = len(a | b)
        return len(a & b) / union if union else 0.0

    def allowed(cand: Candidate, story_cap: int | None) -> bool:
        if len(chosen) >= k or cand.id in taken:
            return False
        if story_cap is not None and per_story.get(reader.passage(cand.id).story_id, 0) >= story_cap:
            return False
        t = terms(cand.id)
        return not any(jaccard(t, other) >= duplicate for other in term_sets)

    def take(cand: Candidate) -> None:
        chosen.append(cand)
        taken.add(cand.id)
        term_sets.append(terms(cand.id))
        story = reader.passage(cand.id).story_id
        per_story[story] = per_story.get(story, 0) + 1

    if main and allowed(main[0], None):
        take(main[0])
    for ranked in subs:
        for cand in ranked:
            if cand.id in taken:
                break
            if allowed(cand, None):
                take(cand)
                break
    if mmr_lambda >= 1.0:
        for cand in main:
            if len(chosen) >= k:
                break
            if allowed(cand, max_per_story):
                take(cand)
        return chosen
    scores = [c.score for c in main]
    lo, hi = (min(scores), max(scores)) if scores else (0.0, 0.0)
    rel = {c.id: (c.score - lo) / (hi - lo) if hi > lo else 1.0 for c in main}
    left = [c for c in main if c.id not in taken]
    while len(chosen) < k and left:
        left = [c for c in left if allowed(c, max_per_story)]
        if not left:
            break
        best = max(left, key=lambda c: mmr_lambda * rel[c.id]
                   - (1 - mmr_lambda) * max((jaccard(terms(c.id), t) for t in term_sets), default=0.0))
        take(best)
        left.remove(best)
    return chosen
