"""The one module that talks to chromadb: a persistent or HTTP client, one cosine collection of chunks.

Embeddings are always computed by our own :class:`index.embedding.Embedder` (never Chroma's default model); the
collection's metadata records the embedder, its dimension and the chunk settings, and :meth:`ChunkStore.check`
refuses an index built with other ones.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import numpy as np

from index.errors import IndexMissing, IndexModelMismatch, UserError

__all__ = ["ChunkStore", "StoreSettings", "DenseHit"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StoreSettings:
    index_dir: Path
    collection: str = "articles"
    chroma_url: str | None = None


@dataclass(frozen=True)
class DenseHit:
    id: str
    score: float  # cosine similarity


def _embedding_function(embedder: Any):
    from chromadb.api.types import Documents, EmbeddingFunction, Embeddings

    class _OurEmbeddings(EmbeddingFunction[Documents]):
        """Chroma adapter over our embedder, so Chroma never falls back to its downloading default."""

        def __init__(self, emb: Any) -> None:
            self._emb = emb

        def __call__(self, input: Documents) -> Embeddings:  # noqa: A002 - chroma's signature
            return list(self._emb.embed_documents(list(input)))

        def embed_query(self, input: Documents) -> Embeddings:  # noqa: A002
            return list(self._emb.embed_queries(list(input)))

        @staticmethod
        def name() -> str:
            return "article-assistant"

        def get_config(self) -> dict[str, Any]:
            return {"embedder": self._emb.name}

        @staticmethod
        def build_from_config(config: dict[str, Any]) -> _OurEmbeddings:
            raise UserError("open this collection through the assistant, which supplies its embedder")

        def is_legacy(self) -> bool:
            return False

        def default_space(self) -> str:  # type: ignore[override]
            return "cosine"

    return _OurEmbeddings(embedder)


def _client(settings: StoreSettings):
    import chromadb
    from chromadb.config import Settings

    chroma_settings = Settings(anonymized_telemetry=False, allow_reset=False)
    if settings.chroma_url:
        url = urlparse(settings.chroma_url if "://" in settings.chroma_url else f"http://{settings.chroma_url}")
        try:
            return chromadb.HttpClient(
                host=url.hostname or "127.0.0.1",
                port=url.port or (443 if url.scheme == "https" else 8000),
                ssl=url.scheme == "https",
                settings=chroma_settings,
            )
        except Exception as exc:  # connection refused, DNS, …
            raise UserError(f"cannot reach the Chroma server at {settings.chroma_url}: {exc}") from exc
    path = Path(settings.index_dir) / "chroma"
    path.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(path), settings=chroma_settings)


class ChunkStore:
    """Chunks with their vectors in one Chroma collection."""

    def __init__(self, settings: StoreSettings, embedder: Any) -> None:
        self.settings = settings
        self._embedder = embedder
        self._client = _client(settings)
        self._ef = _embedding_function(embedder)
        self._col = None

    # -- collection lifecycle -------------------------------------------------------------------------------
    def exists(self) -> bool:
        names = [c if isinstance(c, str) else c.name for c in self._client.list_collections()]
        return self.settings.collection in names

    def open(self, expected: dict[str, Any], create: bool) -> None:
        """Open (or with ``create`` make) the collection; ``expected`` is the build signature to check."""
        if not self.exists():
            if not create:
                raise IndexMissing(
                    f"no index in {self.settings.chroma_url or self.settings.index_dir}: "
                    "build it with `assistant index data/articles` (or `make run`)"
                )
            self._col = self._client.create_collection(
                self.settings.collection,
                metadata={"signature": json.dumps(expected, sort_keys=True)},
                configuration={"hnsw": {"space": "cosine"}},
                embedding_function=self._ef,
            )
            return
        self._col = self._client.get_collection(self.settings.collection, embedding_function=self._ef)
        self.check(expected)

    def check(self, expected: dict[str, Any]) -> None:
        meta = (self._col.metadata if self._col is not None else None) or {}
        found = json.loads(meta.get("signature", "{}"))
        diffs = [f"{k}: index has {found.get(k)!r}, settings ask {v!r}" for k, v in expected.items() if found.get(k) != v]
        if diffs:
            raise IndexModelMismatch(
                "the index was built with other settings (" + "; ".join(diffs) + "): rebuild it with "
                "`assistant index PATH --rebuild` or set the settings it was built with"
            )

    def drop(self) -> None:
        if self.exists():
            self._client.delete_collection(self.settings.collection)
        self._col = None

    @property
    def collection(self):
        if self._col is None:
            raise IndexMissing("the index is not open: build it with `assistant index data/articles`")
        return self._col

    # -- writes ---------------------------------------------------------------------------------------------
    def upsert(self, ids: list[str], vectors: np.ndarray, texts: list[str], metadatas: list[dict[str, Any]]) -> None:
        step = 1000
        for i in range(0, len(ids), step):
            self.collection.upsert(
                ids=ids[i : i + step],
                embeddings=vectors[i : i + step].tolist(),
                documents=texts[i : i + step],
                metadatas=metadatas[i : i + step],
            )

    def delete(self, ids: list[str]) -> None:
        step = 1000
        for i in range(0, len(ids), step):
            self.collection.delete(ids=ids[i : i + step])

    # -- reads ----------------------------------------------------------------------------------------------
    def count(self) -> int:
        return int(self.collection.count())

    def existing_ids(self, ids: list[str]) -> set[str]:
        found: set[str] = set()
        for i in range(0, len(ids), 1000):
            found.update(self.collection.get(ids=ids[i : i + 1000], include=[])["ids"])
        return found

    def all_ids(self) -> list[str]:
        out: list[str] = []
        offset = 0
        while True:
            got = self.collection.get(include=[], limit=5000, offset=offset)["ids"]
            out.extend(got)
            if len(got) < 5000:
                return out
            offset += len(got)

    def search(self, vector: np.ndarray, k: int, where: dict[str, Any] | None = None) -> list[DenseHit]:
        """The ``k`` nearest chunks to ``vector`` (cosine similarity, best first)."""
        n = self.count()
        if n == 0:
            return []
        res = self.collection.query(
            query_embeddings=[vector.tolist()], n_results=min(k, n), where=where or None, include=["distances"]
        )
        return [DenseHit(i, 1.0 - float(d)) for i, d in zip(res["ids"][0], res["distances"][0], strict=True)]
