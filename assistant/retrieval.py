"""Hybrid retrieval as LangChain retrievers: dense (Chroma) + BM25, fused by weighted reciprocal rank fusion.

* The BM25 leg's weight drops to ``cross_lingual_bm25_weight`` for passages whose language differs from the
  question's, so an English question over Indonesian articles is led by the dense leg.
* Diversity: a passage nearly identical to one already chosen is skipped, and one story (articles of different
  outlets telling the same story) fills at most ``max_per_story`` places.
* Comparison questions ("bandingkan", "each article", "both articles") first take the best passage of every
  article that ranks among the top candidates, then fill by rank.

>>> retriever = HybridRetriever(reader=reader, settings=settings)  # doctest: +SKIP
>>> retriever.invoke("Berapa orang Rusia memasuki Kazakhstan?")  # doctest: +SKIP
[Document(page_content='…', metadata={'source': '000_….txt', 'start': 0, 'end': 812, 'rank': 1, …})]
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever

from assistant.models import RankedPassage, RetrievalTrace
from assistant.question import QuestionInfo, analyse_question
from assistant.settings import Settings
from index.analysis import analyze
from index.reader import IndexReader, Passage

__all__ = ["HybridRetriever", "DenseRetriever", "BM25Retriever", "RetrievalResult", "Filters", "retrieve"]

_DUPLICATE_JACCARD = 0.6


@dataclass(frozen=True)
class Filters:
    sources: frozenset[str] = frozenset()
    date_from: str | None = None
    date_to: str | None = None


@dataclass
class RetrievalResult:
    passages: list[Passage]
    scores: list[float]
    trace: RetrievalTrace
    question: QuestionInfo  # the analysed query (type, language, terms), reused by the answerer
    query_vector: np.ndarray  # the query's embedding, reused by the answerer

    def ranked(self) -> list[RankedPassage]:
        return [
            RankedPassage(rank=i + 1, id=p.id, source=p.source, start=p.start, end=p.end, text=p.text,
                          score=round(s, 6), title=p.title, outlet=p.outlet, date=p.date)
            for i, (p, s) in enumerate(zip(self.passages, self.scores, strict=True))
        ]


def _to_document(p: Passage, rank: int, score: float) -> Document:
    return Document(
        page_content=p.text, id=p.id,
        metadata={"source": p.source, "start": p.start, "end": p.end, "rank": rank, "score": score,
                  "title": p.title, "outlet": p.outlet, "date": p.date, "story_id": p.story_id},
    )


class DenseRetriever(BaseRetriever):
    """Nearest chunks by the embedder (Chroma, cosine)."""

    reader: Any
    k: int = 30

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun) -> list[Document]:
        hits = self.reader.dense(self.reader.embedder.embed_query(query), self.k)
        return [_to_document(self.reader.passage(h.id), i + 1, h.score) for i, h in enumerate(hits)]


class BM25Retriever(BaseRetriever):
    """Best chunks by BM25 over Indonesian/English-analysed terms."""

    reader: Any
    k: int = 30

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun) -> list[Document]:
        hits = self.reader.lexical(query, self.k)
        return [_to_document(self.reader.passage(cid), i + 1, s) for i, (cid, s) in enumerate(hits)]


def retrieve(reader: IndexReader, settings: Settings, query: str, top_k: int | None = None,
             filters: Filters | None = None) -> RetrievalResult:
    """Fused, diversified top passages for ``query`` (see the module docstring)."""
    top_k = top_k or settings.top_k
    info = analyse_question(query)
    filters = filters or Filters()
    allowed = reader.ids_for(set(filters.sources) or None, filters.date_from, filters.date_to)
    n = settings.candidates
    query_vector = reader.embedder.embed_query(query)
    dense = reader.dense(query_vector, n, allowed)
    lexical = reader.bm25.search(analyze(query), n, allowed)

    fused: dict[str, float] = {}
    for rank, hit in enumerate(dense):
        fused[hit.id] = fused.get(hit.id, 0.0) + 1.0 / (settings.rrf_k + rank + 1)
    weights = []
    for rank, (cid, _) in enumerate(lexical):
        lang = reader.passage(cid).language
        w = 1.0 if lang == info.language else settings.cross_lingual_bm25_weight
        weights.append(w)
        fused[cid] = fused.get(cid, 0.0) + w / (settings.rrf_k + rank + 1)
    order = sorted(fused, key=lambda c: -fused[c])
    chosen = _diversify(reader, order, top_k, settings.max_per_story, compare=info.is_("compare"))
    trace = RetrievalTrace(
        query=query,
        dense=[(h.id, round(h.score, 4)) for h in dense],
        bm25=[(c, round(s, 4)) for c, s in lexical],
        fused=[(c, round(fused[c], 6)) for c in order],
        bm25_weight=min(weights) if weights else 1.0,
        question_language=info.language,
    )
    passages = [reader.passage(c) for c in chosen]
    return RetrievalResult(passages, [fused[c] for c in chosen], trace,
                           question=info, query_vector=query_vector)


def _diversify(reader: IndexReader, order: list[str], k: int, max_per_story: int, compare: bool) -> list[str]:
    chosen: list[str] = []
    term_sets: list[set[str]] = []
    per_story: dict[str, int] = {}

    def take(cid: str, story_cap: int) -> bool:
        p = reader.passage(cid)
        if cid in chosen or per_story.get(p.story_id, 0) >= story_cap:
            return False
        terms = set(analyze(p.text))
        for other in term_sets:
            union = len(terms | other)
            if union and len(terms & other) / union >= _DUPLICATE_JACCARD:
                return False
        chosen.append(cid)
        term_sets.append(terms)
        per_story[p.story_id] = per_story.get(p.story_id, 0) + 1
        return True

    if compare:
        seen_sources: set[str] = set()
        for cid in order[: 2 * k]:
            src = reader.passage(cid).source
            if src not in seen_sources and len(chosen) < k:
                seen_sources.add(src)
                take(cid, story_cap=k)
    for cid in order:
        if len(chosen) >= k:
            break
        take(cid, story_cap=max_per_story if not compare else k)
    # order the final list by fused rank
    rank = {c: i for i, c in enumerate(order)}
    return sorted(chosen, key=lambda c: rank[c])


class HybridRetriever(BaseRetriever):
    """LangChain retriever over :func:`retrieve`; documents carry rank, offsets and metadata."""

    reader: Any
    settings: Any
    top_k: int | None = None
    filters: Any = None

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun) -> list[Document]:
        result = retrieve(self.reader, self.settings, query, self.top_k, self.filters)
        return [_to_document(p, i + 1, s) for i, (p, s) in enumerate(zip(result.passages, result.scores, strict=True))]
