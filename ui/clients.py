"""The assistant for other chat clients: MCP tools (``ask``, ``search``) and an OpenAI-compatible chat route.

* **MCP** (``assistant serve --mcp``): Gradio's own MCP server (``launch(mcp_server=True)``) at
  ``/gradio_api/mcp/`` (streamable HTTP; ``/gradio_api/mcp/sse`` for SSE clients). Its tools are
  :meth:`ClientTools.ask` and :meth:`ClientTools.search`, each returning the answer's citations (or the passages).
* **OpenAI** (always on): ``POST /v1/chat/completions`` (``"stream": true`` or not) answers the conversation's last
  user message, the earlier turns as its history; the answer text carries the ``[n]`` markers and the response lists
  ``citations`` and ``passages`` beside ``choices``. ``GET /v1/models`` names the one model, ``article-assistant``.

Both go through :class:`ClientRoutes` (an ASGI middleware behind :class:`ui.http_guard.RequestGuard`, so the same
body size limit applies): with a login configured (``--auth user:password``) a request needs the browser's login
cookie or ``Authorization: Bearer user:password`` (or Basic); wrong credentials are throttled per client address
as wrong logins are. Both answer at most ``Settings.concurrency_limit`` questions at once (one limit for the two).
No gradio here.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

from assistant.chain import Assistant
from assistant.errors import UserError
from assistant.models import Answer, Turn
from ui.http_asgi import Receive, Scope, Send, header, send_json
from ui.log_guard import loggable

__all__ = ["ClientTools", "ClientRoutes", "MODEL_ID", "MCP_TOOLS", "completion", "completion_chunks", "mcp_functions"]

log = logging.getLogger(__name__)
MODEL_ID = "article-assistant"
MCP_TOOLS = ("mcp_ask", "mcp_search")  # the api names of the two MCP tools (see ui.app)
FREE_FAILURES = 5  # wrong credentials per client address before the delays start (as for /login)
MAX_DELAY_S = 60.0



def _citations(answer: Answer) -> list[dict[str, Any]]:
    return answer.public_dict()["citations"]


def _passages(answer: Answer | None, passages: list[Any] | None = None, chars: int = 600) -> list[dict[str, Any]]:
    found = answer.passages if answer is not None else (passages or [])
    return [{"rank": p.rank, "source": p.source, "title": p.title, "outlet": p.outlet, "date": p.date,
             "start": p.start, "end": p.end, "text": p.text[:chars]} for p in found]


class ClientTools:
    """What other clients call; one :class:`threading.BoundedSemaphore` of ``concurrency_limit`` for all of them."""

    def __init__(self, assistant: Assistant) -> None:
        self.assistant = assistant
        self.slots = threading.BoundedSemaphore(assistant.settings.concurrency_limit)

    def answer(self, question: str, history: list[Turn] | None = None, top_k: int | None = None) -> Answer:
        with self.slots:
            limit = self.assistant.settings.log_question_chars
            if limit:
                log.info("client ask (%d chars): %s", len(question), loggable(question, limit))
            return self.assistant.ask(question, history=history, top_k=top_k)

    def ask(self, question: str, top_k: int | None = None) -> dict[str, Any]:
        """Answer a question (Indonesian or English) from the indexed news articles, with citations.

        Args:
            question: the question, standing alone (no conversation is kept between calls).
            top_k: passages given to the answerer, 1-20 (default: the assistant's fitted top_k).
        Returns:
            answer: the answer text, each sentence closed by a marker such as [1]; abstained: true when no article
            answers it; citations: for each marker n, the article (source, title, outlet, date), the character span
            (start, end) and the quoted text that backs it; passages: the closest passages when it abstained.
        """
        answer = self.answer(question, top_k=top_k)
        return {"answer": answer.answer, "abstained": answer.abstained, "citations": _citations(answer),
                "passages": _passages(answer)[:3] if answer.abstained else []}

    def search(self, query: str, top_k: int | None = None) -> dict[str, Any]:
        """Search the indexed news articles and return the best passages, without answering.

        Args:
            query: what to look for (Indonesian or English).
            top_k: how many passages to return, 1-20 (default: the assistant's fitted top_k).
        Returns:
            query: the query as searched; passages: rank, source (article file), title, outlet, date, start, end and
            text of each passage, best first.
        """
        question = self.assistant.validate(query)
        with self.slots:
            events: Iterator[dict[str, Any]] = self.assistant.stream(question, top_k=top_k)
            try:
                for ev in events:
                    if ev["type"] == "retrieved":  # stop before the answerer runs
                        return {"query": ev.get("standalone_question", question),
                                "passages": _passages(None, ev["passages"])}
            finally:
                close = getattr(events, "close", None)
                if close is not None:
                    close()
        return {"query": question, "passages": []}


def mcp_functions(tools: ClientTools) -> list[Callable[..., str]]:
    """The MCP tools ``ask`` and ``search``: :meth:`ClientTools.ask` and :meth:`ClientTools.search` with their result
    as one JSON text (Gradio's MCP server would send a dict as its Python repr)."""

    def ask(question: str, top_k: int | None = None) -> str:
        return json.dumps(tools.ask(question, top_k), ensure_ascii=False)

    def search(query: str, top_k: int | None = None) -> str:
        return json.dumps(tools.search(query, top_k), ensure_ascii=False)

    ask.__doc__ = (ClientTools.ask.__doc__ or "").replace("Returns:\n", "Returns:\n            A JSON object.")
    search.__doc__ = (ClientTools.search.__doc__ or "").replace("Returns:\n", "Returns:\n            A JSON object.")
    return [ask, search]


# -- OpenAI-compatible chat ---------------------------------------------------------------------------------------
def _text(content: Any) -> str:
    """A message's text: a string, or the text parts of a list of content parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(str(p.get("text", "")) for p in content if isinstance(p, dict) and p.get("type") == "text")
    return ""


def conversation(body: Any) -> tuple[str, list[Turn], int | None]:
    """The last user message, the earlier (user, assistant) pairs as history, and ``top_k`` if given."""
    if not isinstance(body, dict) or not isinstance(body.get("messages"), list) or not body["messages"]:
        raise _Refused(400, "the request needs a non-empty messages list", "invalid_request_error")
    messages = [m for m in body["messages"] if isinstance(m, dict) and m.get("role") in ("user", "assistant")]
    if not messages or messages[-1].get("role") != "user":
        raise _Refused(400, "the last message must be the user's question", "invalid_request_error")
    turns: list[Turn] = []
    pending: str | None = None
    for m in messages[:-1]:
        if m["role"] == "user":
            pending = _text(m.get("content"))
        elif pending is not None:
            turns.append(Turn(question=pending, answer=_text(m.get("content"))))
            pending = None
    top_k = body.get("top_k")
    if top_k is not None and (isinstance(top_k, bool) or not isinstance(top_k, int) or not 1 <= top_k <= 20):
        raise _Refused(400, "top_k must be a whole number from 1 to 20", "invalid_request_error")
    return _text(messages[-1].get("content")), turns, top_k


def _extras(answer: Answer) -> dict[str, Any]:
    return {"citations": _citations(answer), "passages": _passages(answer), "abstained": answer.abstained}


def completion(answer: Answer, cid: str, created: int) -> dict[str, Any]:
    """A ``chat.completion`` object for ``answer`` (the [n] markers in the text, the cited passages beside)."""
    return {"id": cid, "object": "chat.completion", "created": created, "model": MODEL_ID,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": answer.answer},
                         "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}, **_extras(answer)}


def completion_chunks(events: Iterator[dict[str, Any]], cid: str, created: int) -> Iterator[dict[str, Any]]:
    """``chat.completion.chunk`` objects from :meth:`Assistant.stream` events: the role, the text as it comes (the
    whole answer at once when the backend gives no tokens), then a last chunk with the citations and passages."""
    head = {"id": cid, "object": "chat.completion.chunk", "created": created, "model": MODEL_ID}
    yield {**head, "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}]}
    sent = ""
    for ev in events:
        if ev["type"] == "token":
            sent += ev["text"]
            yield {**head, "choices": [{"index": 0, "delta": {"content": ev["text"]}, "finish_reason": None}]}
        elif ev["type"] == "answer":
            answer: Answer = ev["answer"]
            if answer.answer != sent:  # the final text (markers renumbered, unsupported ones removed) replaces it
                rest = answer.answer[len(sent):] if answer.answer.startswith(sent) else answer.answer
                if rest:
                    yield {**head, "choices": [{"index": 0, "delta": {"content": rest}, "finish_reason": None}]}
            yield {**head, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}], **_extras(answer)}


# -- the middleware -----------------------------------------------------------------------------------------------
class _Refused(Exception):
    def __init__(self, status: int, message: str, kind: str = "invalid_request_error",
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.kind, self.headers = status, message, kind, headers or {}


class ClientRoutes:
    """ASGI middleware: serves ``/v1/models`` and ``/v1/chat/completions`` and guards ``/gradio_api/mcp`` (see the
    module's doc). Add it with ``Middleware(ClientRoutes, tools=…, login=(user, password) | None)``."""

    def __init__(self, app: Any, tools: ClientTools, login: tuple[str, str] | None) -> None:
        self.app = app
        self.tools = tools
        self.login = login
        self._failures: dict[str, tuple[int, float]] = {}  # client address -> (failures, not before)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        root = scope.get("root_path") or ""
        if root and path.startswith(root):
            path = path[len(root):] or "/"
        mcp = path.startswith("/gradio_api/mcp")
        v1 = path.rstrip("/") in ("/v1/models", "/v1/chat/completions")
        if not (mcp or v1):
            await self.app(scope, receive, send)
            return
        try:
            self._check_login(scope)
            if mcp:
                await self.app(scope, receive, send)
            elif path.rstrip("/") == "/v1/models":
                await send_json(send, 200, {"object": "list", "data": [
                    {"id": MODEL_ID, "object": "model", "created": 0, "owned_by": "article-assistant"}]})
            elif scope["method"] != "POST":
                raise _Refused(405, "use POST for /v1/chat/completions")
            else:
                await self._chat(scope, receive, send)
        except _Refused as why:
            await send_json(send, why.status, {"error": {"message": why.message, "type": why.kind, "code": why.status}},
                        why.headers)

    # -- login --------------------------------------------------------------------------------------------------
    def _check_login(self, scope: Scope) -> None:
        if self.login is None:
            return
        address = (scope.get("client") or ("unknown", 0))[0]
        failures, not_before = self._failures.get(address, (0, 0.0))
        now = time.monotonic()
        if not_before > now:
            seconds = max(1, int(not_before - now + 0.999))
            raise _Refused(429, f"too many failed logins from this address: try again in {seconds} s",
                           "rate_limit_error", {"retry-after": str(seconds)})
        given = self._credentials(scope)
        if given is None and self._has_cookie(scope):
            return
        user, password = self.login
        if given is not None and hmac.compare_digest(given[0].encode(), user.encode()) and hmac.compare_digest(
                given[1].encode(), password.encode()):
            self._failures.pop(address, None)
            return
        if given is not None:  # a wrong password counts; a missing one does not
            failures += 1
            over = failures - FREE_FAILURES
            delay = min(MAX_DELAY_S, 2.0 ** (over - 1)) if over > 0 else 0.0
            if len(self._failures) > 10_000:
                self._failures.clear()
            self._failures[address] = (failures, now + delay)
        raise _Refused(401, "Not authenticated: send Authorization: Bearer user:password (the server's --auth)",
                       "authentication_error", {"www-authenticate": 'Bearer realm="article-assistant"'})

    @staticmethod
    def _credentials(scope: Scope) -> tuple[str, str] | None:
        raw = header(scope, b"authorization")
        if not raw:
            return None
        kind, _, value = raw.strip().partition(" ")
        value = value.strip()
        if kind.lower() == "basic":
            try:
                value = base64.b64decode(value, validate=True).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError):
                return ("", "")
        elif kind.lower() != "bearer":
            return ("", "")
        user, sep, password = value.partition(":")
        return (user.strip(), password) if sep else ("", "")

    @staticmethod
    def _has_cookie(scope: Scope) -> bool:
        """The browser's Gradio login cookie (the UI's own login) counts as logged in."""
        gradio = scope.get("app")
        if gradio is None:
            return False
        from starlette.requests import Request

        cookies = Request(scope).cookies
        cookie_id = getattr(gradio, "cookie_id", "")
        token = cookies.get(f"access-token-{cookie_id}") or cookies.get(f"access-token-unsecure-{cookie_id}")
        return bool(token) and token in getattr(gradio, "tokens", {})

    # -- chat -----------------------------------------------------------------------------------------------------
    async def _chat(self, scope: Scope, receive: Receive, send: Send) -> None:
        from anyio import to_thread

        chunks: list[bytes] = []
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        try:
            body = json.loads(b"".join(chunks) or b"null")
        except (ValueError, RecursionError):
            raise _Refused(400, "the request body is not valid JSON") from None
        question, turns, top_k = conversation(body)
        try:
            question = self.tools.assistant.validate(question)
        except UserError as exc:
            raise _Refused(400, str(exc)) from None
        cid, created = f"chatcmpl-{uuid.uuid4().hex[:24]}", int(time.time())
        if not body.get("stream"):
            try:
                answer = await to_thread.run_sync(lambda: self.tools.answer(question, turns, top_k))
            except UserError as exc:
                raise _Refused(400, str(exc)) from None
            except Exception as exc:
                log.exception("chat completion failed (%s)", type(exc).__name__)
                raise _Refused(500, f"answering failed ({type(exc).__name__}); the server log has the details",
                               "server_error") from None
            await send_json(send, 200, completion(answer, cid, created))
            return
        await self._stream(send, question, turns, top_k, cid, created)

    async def _stream(self, send: Send, question: str, turns: list[Turn], top_k: int | None, cid: str,
                      created: int) -> None:
        from anyio import to_thread

        slots = self.tools.slots
        await to_thread.run_sync(slots.acquire)
        try:
            gen = completion_chunks(self.tools.assistant.stream(question, history=turns, top_k=top_k), cid, created)
            done = object()
            await send({"type": "http.response.start", "status": 200, "headers": [
                (b"content-type", b"text/event-stream; charset=utf-8"), (b"cache-control", b"no-cache")]})
            while True:
                try:
                    chunk = await to_thread.run_sync(next, gen, done)
                except Exception as exc:  # the answer failed midway: one error event, then the end
                    log.exception("chat completion stream failed (%s)", type(exc).__name__)
                    text = str(exc) if isinstance(exc, UserError) else f"answering failed ({type(exc).__name__})"
                    payload = {"error": {"message": text, "type": "server_error"}}
                    await send({"type": "http.response.body", "body": f"data: {json.dumps(payload)}\n\n".encode(),
                                "more_body": True})
                    break
                if chunk is done:
                    break
                data = json.dumps(chunk, ensure_ascii=False)
                await send({"type": "http.response.body", "body": f"data: {data}\n\n".encode(), "more_body": True})
            await send({"type": "http.response.body", "body": b"data: [DONE]\n\n", "more_body": False})
        finally:
            slots.release()
