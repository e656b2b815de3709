"""The served app's programmatic endpoint ``/ask``: a question in, the :class:`Answer` as a JSON object out.

It is registered with ``gr.api(AskApi(assistant).ask, api_name="ask")`` and goes through Gradio's queue (several
questions run at once, see ``Settings.concurrency_limit``) and its login (``--auth``). From Python:

>>> from gradio_client import Client  # doctest: +SKIP
>>> Client("http://127.0.0.1:7860/").predict("Who moderated the discussion?", api_name="/ask")["answer"]  # doctest: +SKIP

or over plain HTTP: ``POST /gradio_api/call/ask`` with ``{"data": ["question", 5]}`` (or ``{"data": ["question"]}``:
the request guard, :mod:`ui.http_guard`, fills in the optional ``top_k`` and filters) returns an ``event_id``;
``GET /gradio_api/call/ask/<event_id>`` streams the result as server-sent events. Questions are logged only at
``-v``, as one escaped line cut to ``Settings.log_question_chars`` characters.

Filters, the same as ``assistant ask --source/--outlet/--from/--to`` (:meth:`Assistant.filters`):
``{"data": ["question", null, ["a.txt"], ["Riau24"], "2022-09-01", "2022-09-30"]}``, or by keyword with
``Client.predict(question, outlet=["Riau24"], date_from="2022-09-01", api_name="/ask")``. A bad date, an unknown
article or outlet, or a bad ``top_k`` is refused with ``400`` and one line (``{"detail": …}``) before the call is
queued (:func:`check_call`, run by the request guard); the answer's ``filters`` field names what was searched.
"""

from __future__ import annotations

import logging
from typing import Any

import gradio as gr

from assistant.chain import Assistant
from assistant.errors import BadInput, UserError
from assistant.filters import describe_filters, make_filters
from assistant.retrieval import Filters
from assistant.settings import TOP_K_RANGE
from ui.log_guard import loggable

__all__ = ["AskApi"]

log = logging.getLogger(__name__)


class AskApi:
    """Answers one question per call with the shared :class:`Assistant` (thread-safe)."""

    def __init__(self, assistant: Assistant) -> None:
        self.assistant = assistant

    def check_call(self, values: list[Any]) -> str | None:
        """Why a call's values (in :meth:`ask`'s order) are refused, in one line; None when they are fine.

        The request guard runs it before Gradio queues the call, so a bad date is a ``400``, not an error event.
        """
        try:
            source, outlet, date_from, date_to = (list(values[2:6]) + [None] * 4)[:4]
            self._filters(None, source, outlet, date_from, date_to, refresh=False)  # top_k: ask() answers it
        except UserError as exc:
            return str(exc)
        return None

    def _filters(self, top_k: Any = None, source: Any = None, outlet: Any = None, date_from: Any = None,
                 date_to: Any = None, refresh: bool = True) -> Filters:
        if top_k is not None and (isinstance(top_k, bool) or not isinstance(top_k, int)
                                  or not TOP_K_RANGE[0] <= top_k <= TOP_K_RANGE[1]):
            raise BadInput(f"top_k must be a whole number from {TOP_K_RANGE[0]} to {TOP_K_RANGE[1]}")
        if not (source or outlet or date_from or date_to):
            return Filters()
        if not refresh:  # the guard's check runs in the server's event loop: no index reopening there
            return make_filters(self.assistant.reader.state.files.values(), source, outlet, date_from, date_to)
        return self.assistant.filters(source, outlet, date_from, date_to)

    def ask(self, question: str, top_k: int | None = None, source: list[str] | None = None,
            outlet: list[str] | None = None, date_from: str | None = None, date_to: str | None = None
            ) -> dict[str, Any]:
        """Answer one question (Indonesian or English) from the indexed articles.

        Args:
            question: the question; follow-ups are not resolved here (no conversation).
            top_k: passages given to the answerer, 1-20 (default: the server's setting).
            source: only these articles (indexed file names).
            outlet: only articles of these outlets (as the Library lists them; case does not matter).
            date_from: only articles dated on or after this day, yyyy-mm-dd.
            date_to: only articles dated on or before this day, yyyy-mm-dd.
        Returns:
            The answer object of `assistant ask --json`: question, answer, abstained, language, citations (n, source,
            title, start, end, quote, ...), passages, timings_ms and backend; with a filter, ``filters`` names it.
        """
        if not isinstance(question, str):
            raise gr.Error("question must be a string", print_exception=False)
        limit = self.assistant.settings.log_question_chars
        if limit:
            log.info("api ask (%d chars): %s", len(question), loggable(question, limit))
        try:
            filters = self._filters(top_k, source, outlet, date_from, date_to)
            answer = self.assistant.ask(question, top_k=top_k, filters=filters)
        except UserError as exc:
            raise gr.Error(str(exc), print_exception=False) from None
        except Exception as exc:
            log.exception("api ask failed (%s)", type(exc).__name__)
            raise gr.Error(f"answering failed ({type(exc).__name__}); the server log has the details",
                           print_exception=False) from None
        out = answer.public_dict()
        if describe_filters(filters):
            out["filters"] = {"sources": sorted(filters.sources), "date_from": filters.date_from,
                              "date_to": filters.date_to, "described": describe_filters(filters)}
        return out
