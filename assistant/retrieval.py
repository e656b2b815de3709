"""Hybrid retrieval: dense (Chroma) + BM25 fused by a fitted model, scoped by the article a question names, with
sub-queries for multi-part and each-article questions.

1. **Scope** (:mod:`assistant.scope`): "menurut artikel Riau24" restricts both legs to the matching articles.
2. **Legs**: the dense leg (cosine) and BM25 over the question's content terms, ``candidates`` each.
3. **Fusion** (:mod:`assistant.fusion`): a logistic regression over score-aware features of both legs, fitted on
   external data by ``benchmarks/fit_retrieval.py``; equal-weight RRF for an embedder without a fitted file.
4. **Sub-queries**: each ask of a multi-part question (:mod:`assistant.subqueries`) and, for questions about each
   article or comparing articles, each article among the candidates, contributes its best passage first.
5. **Diversity**: a passage nearly identical to one already chosen is skipped (:func:`duplicate_jaccard`, fitted),
   and one story (articles of different outlets telling the same story) fills at most ``max_per_story`` places,
   except through an each-article sub-query.

Every passage carries its reasons: which legs found it, which (sub-)query brought it, and its fused score.

>>> retrieve(reader, settings, "Kapan CSTO mengirim pasukan ke Kazakhstan?").passages[0].source  # doctest: +SKIP
'000_e971559feefaf698.txt'

:class:`assistant.article_retriever.ArticleRetriever` is this retrieval as a LangChain ``BaseRetriever``.
"""

from __future__ import annotations

import json
import math
import time
import weakref
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from assistant.fusion import FITTED_DIR, FusionModel, Leg, load_fusion
from assistant.models import RankedPassage, RetrievalTrace, ScopeTrace
from assistant.question import QuestionInfo, analyse_question
from assistant.scope import Doc, Scope, find_scope, reference
from assistant.settings import Settings
from index.analysis import analyze
from index.reader import IndexReader, Passage
from index.state import FileRecord

__all__ = ["RetrievalResult", "Filters", "Candidate", "retrieve", "legs", "fusion_for"]


@lru_cache(maxsize=1)
def duplicate_jaccard() -> float:
    """The content-term Jaccard overlap from which a passage counts as a near-duplicate of one already chosen (and is
    skipped); chosen by ``benchmarks/fit_duplicates.py`` on FacQA-train's choose part (``assistant/fitted/
    duplicates.json``, where null = none skipped)."""
    value = json.loads((FITTED_DIR / "duplicates.json").read_text(encoding="utf-8"))["jaccard"]
    return math.inf if value is None else float(value)


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

    def ranked(self) -> list[RankedPassage]:
        return [
            RankedPassage(rank=i + 1, id=p.id, source=p.source, start=p.start, end=p.end, text=p.text,
                          score=round(s, 6), title=p.title, outlet=p.outlet, date=p.date,
                          legs=list(r.legs), via=r.via)
            for i, (p, s, r) in enumerate(zip(self.passages, self.scores, self.reasons, strict=True))
        ]


@lru_cache(maxsize=8)
def fusion_for(embedder: str, chunk_tokens: int, chunk_overlap: int) -> FusionModel:
    """The fitted fusion for an index built this way (read once per process)."""
    return load_fusion(embedder, chunk_tokens, chunk_overlap)


def legs(reader: IndexReader, info: QuestionInfo, vector: np.ndarray, n: int,
         allowed: set[str] | None) -> tuple[list[Leg], list[tuple[str, float]], set[str]]:
    """Both legs' top ``n`` (dense hits, BM25 hits) and the ids of candidates in another language than the question."""
    dense = [Leg(h.id, h.score, i + 1) for i, h in enumerate(reader.dense(vector, n, allowed))]
    lexical = reader.bm25.search(list(info.terms), n, allowed)
    ids = {d.id for d in dense} | {c for c, _ in lexical}
    cross = {c for c in ids if reader.passage(c).language != info.language}
    return dense, lexical, cross


def _fused(reader: IndexReader, fusion: FusionModel, info: QuestionInfo, vector: np.ndarray, n: int,
           allowed: set[str] | None, via: str) -> tuple[list[Candidate], list[Leg], list[tuple[str, float]]]:
    dense, lexical, cross = legs(reader, info, vector, n, allowed)
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
             filters: Filters | None = None) -> RetrievalResult:
    """Fused, scoped, diversified top passages for ``query`` (see the module docstring): a question's text, or its
    analysis when the caller made it already (the QA chain analyses each question once, first)."""
    t0 = time.perf_counter()
    top_k = top_k or settings.top_k
    info = query if isinstance(query, QuestionInfo) else analyse_question(query)
    query = info.text
    fusion = fusion_for(settings.embedder, settings.chunk_tokens, settings.chunk_overlap)
    n = settings.candidates or fusion.candidates
    filters = filters or Filters()
    allowed = reader.ids_for(set(filters.sources) or None, filters.date_from, filters.date_to)
    scope = find_question_scope(reader, query)
    if scope.active:
        in_scope = _source_ids(reader, set(scope.sources))
        allowed = in_scope if allowed is None else allowed & in_scope
    query_vector = reader.embedder.embed_query(query)
    main, dense, lexical = _fused(reader, fusion, info, query_vector, n, allowed, "question")

    subs: list[list[Candidate]] = []
    for i, part in enumerate(info.parts, start=1):
        ranked, _, _ = _fused(reader, fusion, part, reader.embedder.embed_query(part.text), n, allowed,
                              f"part {i}: {part.text}")
        subs.append(ranked)
    if info.is_("compare"):
        sources = list(scope.sources) if len(scope.sources) > 1 else list(
            dict.fromkeys(reader.passage(c.id).source for c in main))
        for src in sources[:top_k]:
            only = _source_ids(reader, {src})
            ranked, _, _ = _fused(reader, fusion, info, query_vector, n,
                                  only if allowed is None else allowed & only, f"article: {src}")
            subs.append(ranked)

    chosen = _select(reader, main, subs, top_k, settings.max_per_story)
    trace = RetrievalTrace(
        query=query,
        dense=[(d.id, round(d.score, 4)) for d in dense],
        bm25=[(c, round(s, 4)) for c, s in lexical],
        fused=[(c.id, round(c.score, 6)) for c in main],
        question_language=info.language,
        fusion=fusion.kind, fusion_note=fusion.note, candidates=n,
        scope=ScopeTrace(phrase=scope.phrase, kind=scope.kind, sources=list(scope.sources), note=scope.note),
        subqueries=[s[0].via for s in subs if s],
    )
    return RetrievalResult([reader.passage(c.id) for c in chosen], [c.score for c in chosen], trace,
                           question=info, query_vector=query_vector, reasons=chosen,
                           elapsed_ms=round((time.perf_counter() - t0) * 1000, 1))


def _select(reader: IndexReader, main: list[Candidate], subs: list[list[Candidate]], k: int,
            max_per_story: int) -> list[Candidate]:
    """The main ranking's best, then each sub-query's best not yet taken, then the main ranking in order."""
    chosen: list[Candidate] = []
    term_sets: list[set[str]] = []
    per_story: dict[str, int] = {}
    duplicate = duplicate_jaccard()

    def take(cand: Candidate, story_cap: int) -> bool:
        p = reader.passage(cand.id)
        if len(chosen) >= k or any(c.id == cand.id for c in chosen) or per_story.get(p.story_id, 0) >= story_cap:
            return False
        terms = set(analyze(p.text))
        for other in term_sets:
            union = len(terms | other)
            if union and len(terms & other) / union >= duplicate:
                return False
        chosen.append(cand)
        term_sets.append(terms)
        per_story[p.story_id] = per_story.get(p.story_id, 0) + 1
        return True

    if main:
        take(main[0], max_per_story)
    for ranked in subs:
        for cand in ranked:
            if any(c.id == cand.id for c in chosen) or take(cand, k):
                break
    for cand in main:
        if len(chosen) >= k:
            break
        take(cand, max_per_story)
    return chosen
