"""Read access to a committed index: chunk texts and metadata, dense and BM25 search.

>>> reader = open_index(IndexConfig(index_dir=Path(".index")))  # doctest: +SKIP
>>> reader.dense(reader.embedder.embed_query("Kapan CSTO datang?"), k=5)  # doctest: +SKIP
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np

from index.analysis import analyze
from index.bm25 import BM25Index
from index.config import IndexConfig, check_signature
from index.embedding import Embedder, load_embedder
from index.errors import IndexMissing
from index.state import FileRecord, IndexState, load_state, read_document
from index.store import ChunkStore, DenseHit, StoreSettings

__all__ = ["EXACT_SEARCH_MAX", "STALE_MARGIN", "IndexReader", "Passage", "open_index", "search_plan"]

# Dense search within some chunks (an article named by the question, an each-article sub-query, a source or date
# filter) takes one of three ways (:func:`search_plan`), because Chroma's filtered ANN query costs ~70-300 ms at
# 100k chunks whatever the set, and is approximate (benchmarks/filtered_search.py, synthetic 100k pool):
# * "exact": at most EXACT_SEARCH_MAX chunks: their stored vectors compared with the question (8 chunks 2 ms, 500
#   chunks 23 ms; the filtered query overtakes it at about 1,500);
# * "over-fetch": a set that is a large share of the index: the unfiltered top OVERFETCH_FACTOR * (k + margin) / share,
#   at most OVERFETCH_MAX hits (3,000 hits cost ~30 ms), keeping the allowed ones; the filtered query when fewer
#   than k survive;
# * "filtered": Chroma's filtered query.
EXACT_SEARCH_MAX = 1000
STALE_MARGIN = 16  # extra hits asked of Chroma: it may still hold chunks of an unfinished build (dropped here)
OVERFETCH_FACTOR = 2  # twice the hits the set's share would hold on average
OVERFETCH_MAX = 3000


def search_plan(allowed: int, live: int, k: int) -> tuple[str, int]:
    """How :meth:`IndexReader.dense` searches ``allowed`` of ``live`` chunks for ``k`` hits, and how many hits it
    asks Chroma for ("exact" asks none)."""
    if allowed <= EXACT_SEARCH_MAX:
        return "exact", 0
    n = math.ceil(OVERFETCH_FACTOR * (k + STALE_MARGIN) * live / allowed)
    return ("over-fetch", n) if n <= OVERFETCH_MAX else ("filtered", k + STALE_MARGIN)


@dataclass(frozen=True)
class Passage:
    """One chunk with everything needed to show and cite it."""

    id: str
    source: str
    start: int
    end: int
    text: str
    position: int
    doc_id: str
    story_id: str
    title: str | None
    outlet: str | None
    date: str | None
    language: str
    # The whole stored text of its article (the same string the reader caches, not a copy), which ``start``/``end``
    # index: what lies around the chunk decides, e.g., whether the paragraph it cuts into gives the assistant
    # instructions (:func:`assistant.injection.passage_withheld`).
    document: str = field(default="", repr=False, compare=False)


class IndexReader:
    def __init__(self, config: IndexConfig, state: IndexState, embedder: Embedder) -> None:
        self.config = config
        self.state = state
        self.embedder = embedder
        self.store = ChunkStore(StoreSettings(config.index_dir, state.collection, config.chroma_url), embedder)
        self.store.open(state.signature, create=False)
        assert state.folder is not None
        self.bm25 = BM25Index.load(state.folder / "bm25")
        self._docs = state.doc_sources()
        self._text = lru_cache(maxsize=4096)(lambda doc_id: read_document(config.index_dir, doc_id))

    def files(self) -> list[FileRecord]:
        return sorted(self.state.files.values(), key=lambda f: f.source)

    def document_text(self, source: str) -> str:
        """The whole stored text of an indexed article (the text all offsets refer to)."""
        rec = self.state.files.get(source)
        if rec is None:
            raise KeyError(source)
        return self._text(rec.doc_id)

    def passage(self, chunk_id: str) -> Passage:
        ch = self.state.chunks[chunk_id]
        rec = self._docs[ch.doc_id]
        text = self._text(ch.doc_id)
        meta: dict[str, Any] = rec.meta
        return Passage(
            id=chunk_id, source=rec.source, start=ch.start, end=ch.end, text=text[ch.start : ch.end],
            position=ch.position, doc_id=ch.doc_id, story_id=rec.story_id or ch.doc_id, title=meta.get("title"),
            outlet=meta.get("outlet"), date=meta.get("date"), language=meta.get("language") or "id", document=text,
        )

    def ids_for(self, sources: set[str] | None = None, date_from: str | None = None,
                date_to: str | None = None) -> set[str] | None:
        """Chunk ids allowed by the filters (``None`` = no filter)."""
        if not sources and not date_from and not date_to:
            return None
        allowed: set[str] = set()
        for rec in self._docs.values():
            if sources and rec.source not in sources:
                continue
            date = rec.meta.get("date")
            if not date:
                if date_from or date_to:
                    continue
                allowed.update(rec.chunk_ids)
                continue
            if date_from and date < date_from:
                continue
            if date_to and date > date_to:
                continue
            allowed.update(rec.chunk_ids)
        return allowed

    def dense(self, vector: np.ndarray, k: int, allowed: set[str] | None = None) -> list[DenseHit]:
        """Nearest live chunks (Chroma may still hold chunks of an unfinished build: they are ignored); with
        ``allowed`` (chunk ids), only those, searched the way :func:`search_plan` picks."""
        live = self.state.chunks
        if allowed is None:
            return [h for h in self.store.search(vector, k + STALE_MARGIN) if h.id in live][:k]
        allowed = {c for c in allowed if c in live}
        plan, n = search_plan(len(allowed), len(live), k)
        if plan == "exact":
            return self.store.nearest_among(vector, sorted(allowed), k)
        if plan == "over-fetch":
            hits = [h for h in self.store.search(vector, n) if h.id in allowed]
            if len(hits) >= k:
                return hits[:k]
            n = k + STALE_MARGIN  # too few of them among the nearest: the filtered query after all
        sources = sorted({self._docs[live[c].doc_id].source for c in allowed})
        hits = self.store.search(vector, n, {"source": {"$in": sources}})
        return [h for h in hits if h.id in allowed][:k]

    def lexical(self, query: str, k: int, allowed: set[str] | None = None) -> list[tuple[str, float]]:
        return self.bm25.search(analyze(query), k, allowed)


def open_index(config: IndexConfig) -> IndexReader:
    """Open the committed index described by ``config`` (clear errors when missing or built differently)."""
    state = load_state(config.index_dir)
    if state is None:
        raise IndexMissing(
            f"no index in {config.index_dir}: build it with `assistant index data/articles` (or `make run`)"
        )
    embedder = load_embedder(config.embedder, str(config.model_cache_dir), config.embed_batch_size, config.threads)
    check_signature(state.signature, config.signature(embedder.dimension), f"the index in {config.index_dir}")
    return IndexReader(config, state, embedder)
