"""The served app's programmatic endpoint ``/ask``: a question in, the :class:`Answer` as a JSON object out.

It is registered with ``gr.api(AskApi(assistant).ask, api_name="ask")`` and goes through Gradio's queue (several
questions run at once, see ``Settings.concurrency_limit``) and its login (``--auth``). From Python:

>>> from gradio_client import Client  # doctest: +SKIP
>>> Client("http://127.0.0.1:7860/").predict("Who moderated the discussion?", api_name="/ask")["answer"]  # doctest: +SKIP

or over plain HTTP: ``POST /gradio_api/call/ask`` with ``{"data": ["question", 5]}`` (or ``{"data": ["question"]}``:
the request guard, :mod:`ui.http_guard`, fills in the optional ``top_k``) returns an ``event_id``;
``GET /gradio_api/call/ask/<event_id>`` streams the result as server-sent events. Questions are logged only at
``-v``, as one escaped line cut to ``Settings.log_question_chars`` characters.
"""

from __future__ import annotations

import logging
from typing import Any

import gradio as gr

from assistant.chain import Assistant
from assistant.errors import UserError
from ui.log_guard import loggable

__all__ = ["AskApi", "TOP_K_RANGE"]

log = logging.getLogger(__name__)
TOP_K_RANGE = (1, 20)


class AskApi:
    """Answers one question per call with the shared :class:`Assistant` (thread-safe)."""

    def __init__(self, assistant: Assistant) -> None:
        self.assistant = assistant

    def ask(self, question: str, top_k: int | None = None) -> dict[str, Any]:
        """Answer one question (Indonesian or English) from the indexed articles.

        Args:
            question: the question; follow-ups are not resolved here (no conversation).
            top_k: passages given to the answerer, 1-20 (default: the server's setting).
        Returns:
            The answer object of `assistant ask --json`: question, answer, abstained, language, citations (n, source,
            title, start, end, quote, ...), passages, timings_ms and backend.
        """
        if not isinstance(question, str):
            raise gr.Error("question must be a string", print_exception=False)
        if top_k is not None and (isinstance(top_k, bool) or not isinstance(top_k, int)
                                  or not TOP_K_RANGE[0] <= top_k <= TOP_K_RANGE[1]):
            raise gr.Error(f"top_k must be a whole number from {TOP_K_RANGE[0]} to {TOP_K_RANGE[1]}",
                           print_exception=False)
        limit = self.assistant.settings.log_question_chars
        if limit:
            log.info("api ask (%d chars): %s", len(question), loggable(question, limit))
        try:
            answer = self.assistant.ask(question, top_k=top_k)
        except UserError as exc:
            raise gr.Error(str(exc), print_exception=False) from None
        except Exception as exc:
            log.exception("api ask failed (%s)", type(exc).__name__)
            raise gr.Error(f"answering failed ({type(exc).__name__}); the server log has the details",
                           print_exception=False) from None
        return answer.public_dict()
