"""The chunk collection in chromadb: one cosine collection of chunk vectors and metadata, written by builds and
searched by readers.

Embeddings are always computed by our own :class:`index.embedding.Embedder` (never Chroma's default model); the
collection's metadata records the embedder, its dimension and the chunk settings, and :meth:`ChunkStore.check`
refuses an index built with other ones.

The client is opened by :mod:`index.chroma_client` (a local engine of its own, or a checked server with timeouts);
here, a server lost later, or a collection dropped under a reader, is a :class:`UserError` too. Local mode: each
:class:`ChunkStore` has its own engine, released when the store is closed or garbage-collected, so a reader opened
after a build searches what the build wrote, whichever process made it.
"""

from __future__ import annotations

import contextlib
import json
import logging
import weakref
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from index.chroma_client import StoreSettings, close_client, open_client, warm_up
from index.config import check_signature
from index.errors import IndexMissing, UserError

__all__ = ["ChunkStore", "StoreSettings", "DenseHit", "warm_up"]

log = logging.getLogger(__name__)


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


class ChunkStore:
    """Chunks with their vectors in one Chroma collection (local, or on the server ``settings.chroma_url`` names).

    With a server, construction checks its heartbeat (a clear :class:`UserError` when it is down or is not Chroma),
    every request has a timeout, and a connection lost later is a :class:`UserError` too, never a traceback.
    """

    def __init__(self, settings: StoreSettings, embedder: Any) -> None:
        self.settings = settings
        self._embedder = embedder
        self._client = open_client(settings)  # None: the database named in the URL does not exist yet
        self._ef = _embedding_function(embedder)
        self._col = None
        self._closer = weakref.finalize(self, close_client, self._client)

    def close(self) -> None:
        """Release the client (a local store stops its own chromadb engine); also done when the store is
        garbage-collected, so a reader replaced by a newer one frees its engine once its last question ends."""
        self._col = None
        self._closer()

    @property
    def where(self) -> str:
        """Where the vectors live, for messages."""
        return f"the Chroma server at {self.settings.chroma_url}" if self.settings.chroma_url else str(
            Path(self.settings.index_dir) / "chroma")

    @contextlib.contextmanager
    def _remote(self, what: str) -> Iterator[None]:
        """Turn a vanished collection or a lost server into one clear :class:`UserError`."""
        import httpx
        from chromadb.errors import NotFoundError

        try:
            yield
        except NotFoundError:
            self._col = None
            raise IndexMissing(
                f"the collection {self.settings.collection!r} is gone from {self.where} ({what}): a newer build "
                "replaced it or the server was reset; ask again to use the current index, or rebuild it with "
                "`assistant index PATH --rebuild`"
            ) from None
        except httpx.HTTPError as exc:
            raise UserError(
                f"lost {self.where} while {what} ({exc or type(exc).__name__}): check that the server is running"
            ) from None

    # -- collection lifecycle -------------------------------------------------------------------------------
    def _lookup(self):
        """The collection, or ``None`` when it (or the database named in the URL) does not exist."""
        from chromadb.errors import NotFoundError

        if self._client is None:
            return None
        with self._remote("opening the collection"):
            try:
                return self._client.get_collection(self.settings.collection, embedding_function=self._ef)
            except NotFoundError:
                return None

    def open(self, expected: dict[str, Any], create: bool) -> None:
        """Open (or with ``create`` make) the collection; ``expected`` is the build signature to check."""
        if create and self._client is None:
            self._client = open_client(self.settings, create_database=True)
            self._closer.detach()
            self._closer = weakref.finalize(self, close_client, self._client)
        found = self._lookup()
        if found is not None:
            self._col = found
            self.check(expected)
            return
        if not create:
            if self.settings.chroma_url:
                raise IndexMissing(
                    f"{self.where} has no collection {self.settings.collection!r}, which the index in "
                    f"{self.settings.index_dir} names (was the server reset, or is this the wrong server?): "
                    "rebuild it with `assistant index data/articles --rebuild`"
                )
            raise IndexMissing(
                f"no index in {self.settings.index_dir}: build it with `assistant index data/articles` "
                "(or `make run`)"
            )
        with self._remote("creating the collection"):
            self._col = self._client.create_collection(
                self.settings.collection,
                metadata={"signature": json.dumps(expected, sort_keys=True)},
                configuration={"hnsw": {"space": "cosine"}},
                embedding_function=self._ef,
            )

    def check(self, expected: dict[str, Any]) -> None:
        """Refuse a collection whose recorded signature is not ``expected``."""
        meta: dict[str, Any] = (self._col.metadata if self._col is not None else None) or {}
        check_signature(json.loads(meta.get("signature", "{}")), expected,
                        f"the collection {self.settings.collection!r} in {self.where}")

    def drop(self) -> None:
        from chromadb.errors import NotFoundError

        self._col = None
        if self._client is None:
            return
        with self._remote("dropping the collection"):
            try:
                self._client.delete_collection(self.settings.collection)
            except NotFoundError:  # never created, or dropped already
                pass

    @property
    def collection(self):
        if self._col is None:
            raise IndexMissing("the index is not open: build it with `assistant index data/articles`")
        return self._col

    # -- writes ---------------------------------------------------------------------------------------------
    def upsert(self, ids: list[str], vectors: np.ndarray, metadatas: list[dict[str, Any]]) -> None:
        """Store chunk vectors with their metadata (source, offsets, title, outlet, date, language).

        No document texts: the index folder's stored articles are where every quote is read from, and Chroma would
        only keep a second copy in its full-text index, which nothing queries (that indexing was half the upsert
        time: 1.09 s with the texts, 0.55 s without for FacQA-train's 849 paragraphs, ``benchmarks/chroma_upsert.py``).
        A chunk's text is its article's ``[start:end]``."""
        step = 1000
        with self._remote("storing chunks"):
            for i in range(0, len(ids), step):
                self.collection.upsert(
                    ids=ids[i : i + step],
                    embeddings=vectors[i : i + step].tolist(),
                    metadatas=metadatas[i : i + step],
                )

    def delete(self, ids: list[str]) -> None:
        step = 1000
        with self._remote("deleting chunks"):
            for i in range(0, len(ids), step):
                self.collection.delete(ids=ids[i : i + step])

    # -- reads ----------------------------------------------------------------------------------------------
    def count(self) -> int:
        with self._remote("counting chunks"):
            return int(self.collection.count())

    def existing_ids(self, ids: list[str]) -> set[str]:
        found: set[str] = set()
        with self._remote("reading chunk ids"):
            for i in range(0, len(ids), 1000):
                found.update(self.collection.get(ids=ids[i : i + 1000], include=[])["ids"])
        return found

    def all_ids(self) -> list[str]:
        out: list[str] = []
        offset = 0
        with self._remote("reading chunk ids"):
            while True:
                got = self.collection.get(include=[], limit=5000, offset=offset)["ids"]
                out.extend(got)
                if len(got) < 5000:
                    return out
                offset += len(got)

    def nearest_among(self, vector: np.ndarray, ids: list[str], k: int) -> list[DenseHit]:
        """The ``k`` chunks of ``ids`` nearest to ``vector``, by exact cosine similarity over their stored vectors (one
        request per 1,000 ids; ids Chroma lacks are left out). For a small set this is far quicker than a filtered
        ANN query (``benchmarks/filtered_search.py``), and exact where the filtered query is approximate."""
        found: list[str] = []
        rows: list[Any] = []
        with self._remote("reading chunk vectors"):
            for i in range(0, len(ids), 1000):
                got = self.collection.get(ids=ids[i : i + 1000], include=["embeddings"])
                found.extend(got["ids"])
                rows.extend(got["embeddings"])
        if not found:
            return []
        m = np.asarray(rows, dtype=np.float32)
        norms = np.linalg.norm(m, axis=1) * float(np.linalg.norm(vector))
        sims = (m @ np.asarray(vector, dtype=np.float32)) / np.where(norms > 0, norms, 1.0)
        order = np.lexsort((np.asarray(found), -sims))[:k]  # best first; equal scores in id order (deterministic)
        return [DenseHit(found[i], float(sims[i])) for i in order]

    def search(self, vector: np.ndarray, k: int, where: dict[str, Any] | None = None) -> list[DenseHit]:
        """The ``k`` nearest chunks to ``vector`` (cosine similarity, best first); one request to the server.

        Chroma 1.x returns fewer than ``k`` hits (none for an empty collection) without a count first.
        """
        with self._remote("searching"):
            res = self.collection.query(
                query_embeddings=[vector.tolist()], n_results=k, where=where or None, include=["distances"]
            )
        return [DenseHit(i, 1.0 - float(d)) for i, d in zip(res["ids"][0], res["distances"][0], strict=True)]
