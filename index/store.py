"""The one module that talks to chromadb: a persistent or HTTP client, one cosine collection of chunks.

Embeddings are always computed by our own :class:`index.embedding.Embedder` (never Chroma's default model); the
collection's metadata records the embedder, its dimension and the chunk settings, and :meth:`ChunkStore.check`
refuses an index built with other ones.

Server mode (``chroma_url`` = ``http[s]://HOST[:PORT][/DATABASE]``): the server's heartbeat is checked first, so a
server that is down, or is not Chroma 1.x, is one clear :class:`UserError`; every request has a timeout; a server
lost later, or a collection dropped under a reader, is a :class:`UserError` too. The optional ``/DATABASE`` puts
this index's collections in their own Chroma database (created by the first build), so several deployments can
share one server without their ``articles-<n>`` collection names colliding.

Local mode: every :class:`ChunkStore` runs its own chromadb engine over the folder (chromadb otherwise shares one
per folder and process, and that engine never sees HNSW updates written by another process), released when the
store is closed or garbage-collected. A reader opened after a build therefore searches what the build wrote,
whichever process made it.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import threading
import uuid
import weakref
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import numpy as np

from index.config import check_signature
from index.errors import IndexMissing, UserError

__all__ = ["ChunkStore", "StoreSettings", "DenseHit", "warm_up"]

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


CONNECT_TIMEOUT_S = 5.0  # a server that does not answer the handshake fails fast instead of hanging a replica
REQUEST_TIMEOUT_S = 120.0  # one request (an upsert of 1000 chunks, a query); chromadb's own default is no limit


@dataclass(frozen=True)
class _Server:
    """Where a Chroma server is, parsed from ``chroma_url``: ``http[s]://host[:port][/database]``."""

    url: str
    host: str
    port: int
    ssl: bool
    database: str | None  # None = Chroma's default database

    @property
    def base(self) -> str:
        return f"{'https' if self.ssl else 'http'}://{self.host}:{self.port}"

    @property
    def hint(self) -> str:
        return (f"start it (e.g. `chroma run --host {self.host} --port {self.port} --path DIR`) or unset "
                "ASSISTANT_CHROMA_URL to keep the vectors in the local index folder")


def _parse_url(raw: str) -> _Server:
    url = urlparse(raw if "://" in raw else f"http://{raw}")
    try:
        port = url.port
    except ValueError:
        port = -1
    parts = [p for p in url.path.split("/") if p]
    if url.scheme not in ("http", "https") or not url.hostname or port == -1 or len(parts) > 1:
        raise UserError(
            f"bad ASSISTANT_CHROMA_URL {raw!r}: expected http[s]://HOST[:PORT][/DATABASE], e.g. http://127.0.0.1:8000"
        )
    return _Server(raw, url.hostname, port or (443 if url.scheme == "https" else 8000), url.scheme == "https",
                   parts[0] if parts else None)


def _heartbeat(server: _Server) -> None:
    """Fail with one clear line unless a Chroma 1.x server answers at ``server`` (bounded by the timeouts)."""
    import httpx

    try:
        resp = httpx.get(f"{server.base}/api/v2/heartbeat", timeout=httpx.Timeout(10.0, connect=CONNECT_TIMEOUT_S))
    except httpx.HTTPError as exc:
        reason = str(exc) or type(exc).__name__
        raise UserError(f"cannot reach the Chroma server at {server.url} ({reason}): {server.hint}") from None
    if resp.status_code != 200 or "nanosecond heartbeat" not in resp.text:
        raise UserError(
            f"{server.url} answered GET /api/v2/heartbeat with HTTP {resp.status_code}, not a Chroma 1.x heartbeat: "
            "point ASSISTANT_CHROMA_URL at a Chroma server of version 1.x"
        )


def _http_client(server: _Server, chroma_settings: Any, create_database: bool):
    """A chromadb HttpClient, or ``None`` when the URL names a database the server does not have (yet)."""
    import chromadb
    import httpx
    from chromadb.errors import NotFoundError

    _heartbeat(server)
    kwargs: dict[str, Any] = {"host": server.host, "port": server.port, "ssl": server.ssl, "settings": chroma_settings}
    if server.database:
        kwargs["database"] = server.database
    try:
        try:
            client = chromadb.HttpClient(**kwargs)
        except NotFoundError:  # the database named in the URL does not exist
            if not server.database:
                raise
            if not create_database:
                return None
            chromadb.AdminClient(chroma_settings).create_database(server.database)
            client = chromadb.HttpClient(**kwargs)
    except UserError:
        raise
    except Exception as exc:  # connection lost since the heartbeat, auth, …
        raise UserError(f"cannot use the Chroma server at {server.url} ({exc or type(exc).__name__}): "
                        f"{server.hint}") from None
    # chromadb's HTTP session waits forever by default; bound it so a stalled server gives an error, not a hang
    session = getattr(getattr(client, "_server", None), "_session", None)
    if isinstance(session, httpx.Client):
        session.timeout = httpx.Timeout(REQUEST_TIMEOUT_S, connect=CONNECT_TIMEOUT_S)
    return client


def warm_up(settings: StoreSettings) -> Any:
    """Import chromadb and start its local engine once in a background thread (the import alone takes a second or
    two), so the store opened later starts fast; returns the thread to join. Server mode needs nothing."""

    def _open() -> None:
        if settings.chroma_url:
            return
        with contextlib.suppress(Exception):  # any real problem is reported when the store is opened for use
            _close_client(_client(settings))

    thread = threading.Thread(target=_open, name="chroma-warm-up", daemon=True)
    thread.start()
    return thread


_own_lock = threading.Lock()


def _own_local_client(path: Path, chroma_settings: Any):
    """A local client on a chromadb engine of its own, which reads the folder afresh.

    chromadb keeps one engine per folder and process (keyed by the path as spelled) and that engine keeps the HNSW
    segments it loaded, so chunks another process (or another engine) added later never reach its dense searches.
    Each store therefore starts its own engine: the client is created under a spelling of the folder nobody else
    uses (``<path>/.``), then its engine is moved to a key of its own, so the next store gets a new one again. The
    engine stops when the store closes (or is garbage-collected): see :func:`_close_client`.
    """
    import chromadb
    from chromadb.api.shared_system_client import SharedSystemClient as Shared

    spelled = f"{path}{os.sep}."
    with _own_lock:
        client: Any = chromadb.PersistentClient(path=spelled, settings=chroma_settings)
        systems, counts = Shared._identifier_to_system, Shared._identifier_to_refcount
        admin = getattr(client, "_admin_client", None)
        if spelled not in systems or getattr(client, "_identifier", None) != spelled or admin is None:
            log.warning("this chromadb version shares engines differently: a running server may not see builds "
                        "made by other processes")  # the client still works, only without a fresh view
            return client
        key = f"{spelled}#{uuid.uuid4().hex}"
        with Shared._refcount_lock:
            systems[key] = systems.pop(spelled)
            counts[key] = counts.pop(spelled, 0)
        client._identifier = key
        admin._identifier = key
    return client


def _close_client(client: Any) -> None:
    """Release a client: a local one stops its engine (files, HNSW memory); an HTTP one its connection pool."""
    if client is None:
        return
    try:
        client.close()
    except Exception as exc:  # closing must never fail a question or a build
        log.debug("closing a chromadb client failed: %s", exc)


def _client(settings: StoreSettings, create_database: bool = False):
    from chromadb.config import Settings

    if settings.chroma_url:
        server = _parse_url(settings.chroma_url)
        chroma_settings = Settings(anonymized_telemetry=False, allow_reset=False,
                                   chroma_api_impl="chromadb.api.fastapi.FastAPI", chroma_server_host=server.host,
                                   chroma_server_http_port=server.port, chroma_server_ssl_enabled=server.ssl)
        return _http_client(server, chroma_settings, create_database)
    path = Path(settings.index_dir).resolve() / "chroma"
    path.mkdir(parents=True, exist_ok=True)
    return _own_local_client(path, Settings(anonymized_telemetry=False, allow_reset=False))


class ChunkStore:
    """Chunks with their vectors in one Chroma collection (local, or on the server ``settings.chroma_url`` names).

    With a server, construction checks its heartbeat (a clear :class:`UserError` when it is down or is not Chroma),
    every request has a timeout, and a connection lost later is a :class:`UserError` too, never a traceback.
    """

    def __init__(self, settings: StoreSettings, embedder: Any) -> None:
        self.settings = settings
        self._embedder = embedder
        self._client = _client(settings)  # None: the database named in the URL does not exist yet
        self._ef = _embedding_function(embedder)
        self._col = None
        self._closer = weakref.finalize(self, _close_client, self._client)

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
            self._client = _client(self.settings, create_database=True)
            self._closer.detach()
            self._closer = weakref.finalize(self, _close_client, self._client)
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
