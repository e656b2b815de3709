"""Questions answered by a running ``assistant serve`` over its ``/ask`` API (``assistant ask --server URL``).

A cold ``assistant ask`` loads the embedder and opens the index (seconds, ~1 GB) for a question that takes ~0.1 s;
a served process already holds both. This client needs only ``httpx`` and ``httpx-sse`` (no torch, chromadb or
gradio): it logs in when a login is given (``ASSISTANT_AUTH``), posts to ``/gradio_api/call/ask`` and reads the
answer from the server-sent events that follow, then rebuilds the same :class:`~assistant.models.Answer` the local
path returns. (``gradio_client`` speaks the same protocol, but its import and its start-up requests, the app's
config and API description, cost seconds that ``--server`` exists to save.)

>>> answer = answer_from_dict(ask_server("http://127.0.0.1:7860/", "Siapa Tokayev?"))  # doctest: +SKIP
>>> answer.citations[0].source  # doctest: +SKIP
'000_e971559feefaf698.txt'
"""

from __future__ import annotations

import json
from typing import Any

from assistant.errors import UserError
from assistant.models import Answer, Citation, RankedPassage

__all__ = ["ask_server", "answer_from_dict"]

CONNECT_TIMEOUT_S = 5.0


def answer_from_dict(data: dict[str, Any]) -> Answer:
    """The :class:`Answer` of an ``ask --json`` / ``/ask`` object (fields the object leaves out get defaults)."""
    citations = [Citation(**{k: v for k, v in c.items() if k in Citation.model_fields}) for c in data["citations"]]
    passages = [RankedPassage(id=p.get("id", ""), **{k: v for k, v in p.items()
                                                    if k in RankedPassage.model_fields and k != "id"})
                for p in data["passages"]]
    return Answer(question=data["question"], standalone_question=data.get("standalone_question", data["question"]),
                  answer=data["answer"], abstained=data["abstained"], language=data["language"],
                  citations=citations, passages=passages, removed_markers=data.get("removed_markers") or [],
                  timings_ms=data.get("timings_ms") or {}, backend=data.get("backend", ""),
                  notes=data.get("notes") or [])


def _detail(resp: Any) -> str:
    try:
        detail = resp.json().get("detail")
    except (ValueError, AttributeError):
        detail = None
    return " ".join(str(detail or resp.text or resp.reason_phrase).split())[:300]


def ask_server(url: str, question: str, top_k: int | None = None, sources: list[str] | None = None,
               outlets: list[str] | None = None, date_from: str | None = None, date_to: str | None = None,
               auth: str | None = None,
               timeout: float = 300.0) -> dict[str, Any]:
    """The answer object (as ``ask --json`` prints it) of the ``assistant serve`` at ``url``; ``auth`` is
    ``user:password`` when the server has a login (see :func:`answer_from_dict` for the :class:`Answer`).

    Every failure (server down, login refused or missing, a bad filter, an answer that failed) is a
    :class:`UserError` with one line saying what to do.
    """
    import httpx
    from httpx_sse import SSEError, connect_sse

    base = url if url.endswith("/") else url + "/"
    if "://" not in base:
        base = "http://" + base
    data = [question, top_k, list(sources) if sources else None, list(outlets) if outlets else None, date_from,
            date_to]
    try:
        with httpx.Client(base_url=base, timeout=httpx.Timeout(timeout, connect=CONNECT_TIMEOUT_S)) as http:
            if auth:
                user, _, password = auth.partition(":")
                login = http.post("login", data={"username": user, "password": password})
                if login.status_code != 200:
                    raise UserError(f"the server at {url} refused the login ({_detail(login)}): check ASSISTANT_AUTH")
            posted = http.post("gradio_api/call/ask", json={"data": data})
            if posted.status_code in (401, 403):
                raise UserError(f"the server at {url} needs a login: set ASSISTANT_AUTH=user:password")
            if posted.status_code == 404:
                raise UserError(f"{url} has no /ask API: is it an `assistant serve`?")
            if posted.status_code != 200:
                raise UserError(f"the server at {url} refused the question: {_detail(posted)}")
            try:
                event_id = posted.json()["event_id"]
            except (ValueError, KeyError, TypeError):
                raise UserError(f"{url} did not answer like an `assistant serve` /ask API") from None
            with connect_sse(http, "GET", f"gradio_api/call/ask/{event_id}") as source:
                events = [(sse.event, sse.data) for sse in source.iter_sse()]
    except SSEError:
        raise UserError(f"{url} did not answer like an `assistant serve` /ask API") from None
    except httpx.HTTPError as exc:
        reason = str(exc) or type(exc).__name__
        raise UserError(f"cannot reach the assistant server at {url} ({reason}): start it with `assistant serve` "
                        "or leave out --server") from None
    for event, payload in events:
        if event == "complete":
            return json.loads(payload)[0]
        if event == "error":
            try:
                message = json.loads(payload) if payload else None
            except ValueError:
                message = payload
            if isinstance(message, dict):
                message = message.get("error") or message.get("message")
            raise UserError(f"the server could not answer: {' '.join(str(message or 'no reason given').split())}")
    raise UserError(f"the server at {url} ended the answer stream without an answer")
