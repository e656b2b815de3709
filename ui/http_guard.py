"""An ASGI middleware in front of the served Gradio app: every request is checked before Gradio reads it.

* **Size**: a body over the limit is answered ``413`` with one clear line, by its ``Content-Length`` before a byte of
  it is read, or (a chunked body) as soon as the bytes counted pass the limit. Gradio's upload route takes a batch of
  up to :data:`UPLOAD_BATCH_FILES` files of ``--upload-max-mb`` each (Gradio streams those to disk and checks each
  file's size); every other route takes ``--max-request-mb``.
* **Login**: with a login configured, Gradio's ``cancel`` and ``reset`` routes (which Gradio leaves open) need it too.
* **Login throttling**: after :data:`FREE_LOGIN_FAILURES` wrong logins from one client address, each further try has
  to wait a delay that doubles with every failure (up to :data:`MAX_LOGIN_DELAY_S`): ``429`` with ``Retry-After``
  until then; one login at a time per address; a right login clears the count.
* **API calls**: with a login configured, a call without one is ``401`` before its body is read; a body that does
  not parse (not JSON, not UTF-8, lists nested thousands deep) is ``422`` with one log line. A call naming a ``fn_index`` the app does not have is ``422`` (Gradio answers 500); a call with
  fewer values than the endpoint takes gets the defaults of the missing optional parameters of a ``gr.api`` function
  (the ``/ask`` API's ``top_k``), or ``422`` when they are not optional, so Gradio never prints the request's values
  in a traceback. A ``gr.api`` method whose object has ``check_call(values) -> reason | None`` (the ``/ask`` API's
  filters and dates) is refused with ``400`` and that one line before Gradio queues it.

* **Uploads**: every file stored by Gradio's upload route is deleted within a minute (:mod:`ui.uploads`; the
  Library copies what it takes at once); a client (its login, else its address) holding ``upload_quota`` bytes of
  uploads (default: one full batch) gets ``429`` until they are taken or deleted.

Add it with ``Middleware(RequestGuard, max_body=…, upload_max_body=…)`` (:func:`ui.app.launch_options` does).

The ASGI plumbing is :mod:`ui.http_asgi` and the API calls' checks :mod:`ui.http_calls`; this module holds the
middleware itself: the size limits, the upload quota and the login throttling.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any

from ui.http_asgi import Receive, Scope, Send, _mb, _Refused, _replay, _reply, _user, _with_length, header
from ui.http_calls import _CALL, MAX_JSON_DEPTH, _checked_call  # noqa: F401 - MAX_JSON_DEPTH importable here
from ui.uploads import UploadLedger

__all__ = ["RequestGuard", "UPLOAD_BATCH_FILES", "FREE_LOGIN_FAILURES", "MAX_LOGIN_DELAY_S"]

log = logging.getLogger(__name__)

UPLOAD_BATCH_FILES = 10  # files of the upload limit one upload request may carry (the Library's multi-file picker)
FREE_LOGIN_FAILURES = 5  # wrong logins per client address before the delays start
MAX_LOGIN_DELAY_S = 60.0
_MAX_CLIENTS = 10_000  # throttling entries kept (the oldest idle ones go first)
_UPLOAD_ROUTES = {"/gradio_api/upload", "/gradio_api/upload/"}
_LOGIN_ONLY = {"/gradio_api/cancel", "/gradio_api/cancel/", "/gradio_api/reset", "/gradio_api/reset/"}
_LOGIN_ROUTES = {"/login", "/login/"}


class _Client:
    """Login throttling state of one client address."""

    __slots__ = ("failures", "not_before", "lock", "seen")

    def __init__(self) -> None:
        self.failures = 0
        self.not_before = 0.0
        self.lock = asyncio.Lock()
        self.seen = time.monotonic()


class RequestGuard:
    """The middleware (see the module's doc); add it with ``Middleware(RequestGuard, max_body=…, upload_max_body=…)``."""

    def __init__(self, app: Any, max_body: int, upload_max_body: int, upload_quota: int | None = None,
                 uploads: UploadLedger | None = None) -> None:
        self.app = app
        self.max_body = max_body
        self.upload_max_body = max(upload_max_body, max_body)
        # bytes of uploads one client may hold on the server at once (default: one full batch)
        self.upload_quota = upload_quota if upload_quota is not None else self.upload_max_body
        self.uploads = uploads or UploadLedger()
        self._clients: dict[str, _Client] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        root = scope.get("root_path") or ""
        if root and path.startswith(root):
            path = path[len(root):] or "/"
        limit = self.upload_max_body if path in _UPLOAD_ROUTES else self.max_body
        try:
            self._check_length(scope, limit)
            if path in _LOGIN_ONLY:
                self._check_login(scope)
            if scope["method"] == "POST" and path in _LOGIN_ROUTES:
                await self._login(scope, receive, send, limit)
                return
            if scope["method"] == "POST" and path in _UPLOAD_ROUTES:
                await self._upload(scope, receive, send, limit)
                return
            call = _CALL.match(path) if scope["method"] == "POST" else None
            if call is not None:
                self._check_login(scope)  # before a byte of the body is parsed
                body = await self._read(receive, limit)
                body = _checked_call(scope, call.group("name"), body)
                await self.app(_with_length(scope, len(body)), _replay(body, receive), send)
                return
        except _Refused as why:
            await _reply(send, why.status, why.detail, why.headers)
            return
        await self._counted(scope, receive, send, limit)

    # -- size -------------------------------------------------------------------------------------------------
    def _too_large(self, size: int | str, limit: int) -> _Refused:
        which = (f"--upload-max-mb × {UPLOAD_BATCH_FILES} files" if limit > self.max_body
                 else "--max-request-mb, ASSISTANT_MAX_REQUEST_MB")
        log.warning("refused a request body of %s bytes (limit %s)", size, _mb(limit))
        return _Refused(413, f"request body too large ({size} bytes): this server reads at most {_mb(limit)} per "
                             f"request ({which})")

    def _check_length(self, scope: Scope, limit: int) -> None:
        raw = header(scope, b"content-length")
        if raw is None:
            return
        try:
            length = int(raw.strip())
        except ValueError:
            raise _Refused(400, "bad Content-Length header") from None
        if length > limit:
            raise self._too_large(length, limit)

    async def _read(self, receive: Receive, limit: int) -> bytes:
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise _Refused(400, "the client disconnected while sending the request")
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                raise self._too_large(f"more than {size}", limit)
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)

    async def _counted(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        """Pass the request on, counting its body: past ``limit`` the client gets 413 and the app a disconnect."""
        state = {"size": 0, "started": False, "refused": False}

        async def counting_receive() -> dict[str, Any]:
            if state["refused"]:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                state["size"] += len(message.get("body", b""))
                if state["size"] > limit:
                    state["refused"] = True
                    if not state["started"]:
                        why = self._too_large(f"more than {state['size']}", limit)
                        state["started"] = True
                        await _reply(send, why.status, why.detail)
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: dict[str, Any]) -> None:
            if state["refused"]:
                return  # the 413 went out already
            if message["type"] == "http.response.start":
                state["started"] = True
            await send(message)

        try:
            await self.app(scope, counting_receive, guarded_send)
        except Exception:
            if not state["refused"]:
                raise
            # the app failed on the body it never got whole: the client has its 413 already

    # -- uploads ----------------------------------------------------------------------------------------------
    async def _upload(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        """Pass an upload on unless its client already holds :attr:`upload_quota` bytes of uploads; record the files
        it stored, which :class:`~ui.uploads.UploadLedger` deletes within a minute."""
        client = self._uploader(scope)
        room = self.upload_quota - self.uploads.held(client)
        declared = header(scope, b"content-length")
        wanted = int(declared) if declared and declared.strip().isdigit() else 1
        if wanted > room:
            log.warning("refused an upload of %s bytes: its client holds %s of uploads (quota %s)", declared or "?",
                        _mb(self.upload_quota - room), _mb(self.upload_quota))
            raise _Refused(429, f"too many uploads waiting on this server from you ({_mb(self.upload_quota - room)} "
                                f"held; at most {_mb(self.upload_quota)} per client): add them to the library or "
                                "wait a minute, then try again", {"retry-after": "60"})
        reply: dict[str, Any] = {"status": 0, "body": []}

        async def watching_send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                reply["status"] = int(message["status"])
            elif message["type"] == "http.response.body" and reply["status"] == 200:
                reply["body"].append(message.get("body", b""))
            await send(message)

        try:
            await self._counted(scope, receive, watching_send, min(limit, room))
        finally:
            if reply["status"] == 200:
                try:
                    stored = json.loads(b"".join(reply["body"]))
                except ValueError:
                    stored = []
                if isinstance(stored, list):
                    self.uploads.record(client, [p for p in stored if isinstance(p, str)])

    def _uploader(self, scope: Scope) -> str:
        """Who an upload counts against: the logged-in user, else the client's address."""
        user = _user(scope)
        return f"user:{user}" if user else f"address:{(scope.get('client') or ('unknown', 0))[0]}"

    # -- login ------------------------------------------------------------------------------------------------
    @staticmethod
    def _check_login(scope: Scope) -> None:
        gradio = scope.get("app")
        if gradio is None or (getattr(gradio, "auth", None) is None and getattr(gradio, "auth_dependency", None)
                              is None):
            return
        if getattr(gradio, "auth_dependency", None) is not None:
            return  # a custom login scheme: Gradio's own check applies (none here: `serve` uses a password)
        if _user(scope) is None:
            raise _Refused(401, "Not authenticated: log in first")

    def _client(self, scope: Scope) -> _Client:
        address = (scope.get("client") or ("unknown", 0))[0]
        entry = self._clients.get(address)
        if entry is None:
            if len(self._clients) >= _MAX_CLIENTS:
                now = time.monotonic()
                idle = [k for k, v in self._clients.items() if v.not_before < now and not v.lock.locked()]
                for k in sorted(idle, key=lambda k: self._clients[k].seen)[: max(1, len(idle) // 2)]:
                    del self._clients[k]
            entry = self._clients[address] = _Client()
        entry.seen = time.monotonic()
        return entry

    async def _login(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        client = self._client(scope)
        if client.lock.locked() and client.failures >= FREE_LOGIN_FAILURES:
            raise self._slow_down(client)  # no parallel guessing once the delays started
        async with client.lock:  # one login at a time per address
            if client.not_before > time.monotonic():
                raise self._slow_down(client)
            status: dict[str, int] = {}

            async def watching_send(message: dict[str, Any]) -> None:
                if message["type"] == "http.response.start":
                    status["code"] = int(message["status"])
                await send(message)

            await self._counted(scope, receive, watching_send, limit)
            code = status.get("code", 0)
            if 200 <= code < 400:
                client.failures, client.not_before = 0, 0.0
            elif code in (400, 401, 403):
                client.failures += 1
                over = client.failures - FREE_LOGIN_FAILURES
                if over > 0:
                    delay = min(MAX_LOGIN_DELAY_S, 2.0 ** (over - 1))
                    client.not_before = time.monotonic() + delay
                    log.warning("%d failed logins in a row from %s: next try allowed in %g s", client.failures,
                                (scope.get("client") or ("unknown",))[0], delay)

    @staticmethod
    def _slow_down(client: _Client) -> _Refused:
        seconds = max(1, int(client.not_before - time.monotonic() + 0.999))
        return _Refused(429, f"too many failed logins from this address: try again in {seconds} s",
                        {"retry-after": str(seconds)})
