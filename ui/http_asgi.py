"""The ASGI plumbing :mod:`ui.http_guard` works with: the scope/receive/send types, a refusal (:class:`_Refused`)
and the one-line JSON reply that answers it, request headers, the logged-in user a request's cookie stands for, and
a body read in full handed on to the app as if it arrived so (:func:`_with_length`, :func:`_replay`)."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


def _mb(n: int) -> str:
    return f"{n / (1024 * 1024):g} MB"


class _Refused(Exception):
    def __init__(self, status: int, detail: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.status, self.detail, self.headers = status, detail, headers or {}


async def send_json(send: Send, status: int, payload: Any, headers: dict[str, str] | None = None,
                    close: bool = False) -> None:
    """One whole JSON response (UTF-8), ``headers`` added; ``close``: the connection closes after it."""
    body = json.dumps(payload, ensure_ascii=False).encode()
    raw = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    raw += [(b"connection", b"close")] if close else []
    raw += [(k.encode(), v.encode()) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


async def _reply(send: Send, status: int, detail: str, headers: dict[str, str] | None = None) -> None:
    await send_json(send, status, {"detail": detail}, headers, close=True)


def header(scope: Scope, name: bytes) -> str | None:
    """The request header ``name`` (lower-case bytes), or None."""
    for key, value in scope.get("headers") or []:
        if key.lower() == name:
            return value.decode("latin-1")
    return None


def _user(scope: Scope) -> str | None:
    """The user name Gradio's login cookie on this request stands for, if any."""
    gradio = scope.get("app")
    if gradio is None:
        return None
    from starlette.requests import Request

    cookies = Request(scope).cookies
    cookie_id = getattr(gradio, "cookie_id", "")
    token = cookies.get(f"access-token-{cookie_id}") or cookies.get(f"access-token-unsecure-{cookie_id}")
    user = getattr(gradio, "tokens", {}).get(token) if token else None
    return str(user) if user is not None else None


def _with_length(scope: Scope, length: int) -> Scope:
    headers = [(k, v) for k, v in scope.get("headers") or [] if k.lower() not in (b"content-length",
                                                                                 b"transfer-encoding")]
    headers.append((b"content-length", str(length).encode()))
    return {**scope, "headers": headers}


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()  # after the body: wait for the disconnect, as the server's own receive does

    return replay
