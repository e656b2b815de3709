"""Opening a chromadb client for an index: a local engine of its own over the index folder, or a Chroma server
checked first and bounded by timeouts.

Server mode (``chroma_url`` = ``http[s]://HOST[:PORT][/DATABASE]``): the server's heartbeat is checked first, so a
server that is down, or is not Chroma 1.x, is one clear :class:`UserError`; every request has a timeout. The optional
``/DATABASE`` puts this index's collections in their own Chroma database (created by the first build).

Local mode: every client runs its own chromadb engine over the folder (chromadb otherwise shares one per folder and
process, and that engine never sees HNSW updates written by another process), released by :func:`close_client`.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from index.errors import UserError

__all__ = ["StoreSettings", "open_client", "close_client", "warm_up", "CONNECT_TIMEOUT_S", "REQUEST_TIMEOUT_S"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StoreSettings:
    index_dir: Path
    collection: str = "articles"
    chroma_url: str | None = None


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
            close_client(open_client(settings))

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
    engine stops when the store closes (or is garbage-collected): see :func:`close_client`.
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


def close_client(client: Any) -> None:
    """Release a client: a local one stops its engine (files, HNSW memory); an HTTP one its connection pool."""
    if client is None:
        return
    try:
        client.close()
    except Exception as exc:  # closing must never fail a question or a build
        log.debug("closing a chromadb client failed: %s", exc)


def open_client(settings: StoreSettings, create_database: bool = False):
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
