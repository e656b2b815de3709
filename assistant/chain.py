"""The :class:`Assistant` facade: one object for the interfaces (CLI, UI, evaluation), composed of the article
:class:`~assistant.library.Library` (the index lifecycle) and the LCEL :class:`~assistant.qa_chain.QAChain`.

>>> assistant = Assistant(Settings())  # doctest: +SKIP
>>> answer = assistant.ask("Kapan CSTO mengirim pasukan ke Kazakhstan?")  # doctest: +SKIP
>>> answer.answer, answer.citations[0].quote  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from operator import itemgetter
from typing import Any

from langchain_core.runnables import Runnable, RunnableLambda

from assistant.filters import make_filters
from assistant.library import Library
from assistant.models import Answer, Turn
from assistant.qa_chain import QAChain, format_passages
from assistant.question import validate_question
from assistant.retrieval import Filters
from assistant.settings import Settings
from index import IndexReader

__all__ = ["Assistant", "format_passages"]


class Assistant:
    """Answers questions over one index; safe to share between threads (the UI's workers)."""

    def __init__(self, settings: Settings, reader: IndexReader | None = None) -> None:
        self.settings = settings
        self.library = Library(settings, reader)
        self.qa = QAChain(settings, self.library)

    # -- the index ---------------------------------------------------------------------------------------------
    @property
    def reader(self) -> IndexReader:
        """The reader of the last question (see :meth:`current_reader` for the next one)."""
        return self.library.reader

    def refresh(self) -> bool:
        """Reopen the index if a build committed a new state since (:meth:`Library.refresh`)."""
        return self.library.refresh()

    def current_reader(self) -> IndexReader:
        return self.library.current_reader()

    # -- the chain ---------------------------------------------------------------------------------------------
    def validate(self, question: str) -> str:
        """The cleaned question, or :class:`~assistant.errors.BadInput` (the chain's first step does the same)."""
        return validate_question(question, self.settings.max_question_chars)

    def chain(self, llm: str | None = None, top_k: int | None = None, filters: Filters | None = None,
              language: str | None = None, rewrite: bool = True) -> Runnable[dict[str, Any], Answer]:
        """``{"question", "history"}`` → :class:`Answer`, as one LCEL runnable (``.invoke``, ``.batch``…): the event
        chain of :meth:`QAChain.events` with its last chunk's answer picked (``language``: ``auto`` = the question's;
        ``rewrite=False`` searches the question as typed, the history unused)."""
        return self.qa.events(llm, top_k, filters, language, rewrite) | RunnableLambda(itemgetter("answer"))

    # -- public API -------------------------------------------------------------------------------------------
    def filters(self, sources: Iterable[str] | str | None = None, outlets: Iterable[str] | str | None = None,
                date_from: str | None = None, date_to: str | None = None) -> Filters:
        """The ``filters`` argument of :meth:`ask`/:meth:`stream` from what a user gave (file names, outlet names,
        ``yyyy-mm-dd`` dates), checked against the current index: the one path of the CLI flags, the ``/ask`` API
        and the chat; a bad date or an unknown article/outlet raises :class:`~assistant.errors.BadInput`.

        >>> assistant.ask("Siapa Tokayev?", filters=assistant.filters(outlets=["Riau24"]))  # doctest: +SKIP
        """
        return make_filters(self.current_reader().state.files.values(), sources, outlets, date_from, date_to)

    def ask(self, question: str, history: list[Turn] | None = None, top_k: int | None = None,
            llm: str | None = None, filters: Filters | None = None, language: str | None = None,
            rewrite: bool = True) -> Answer:
        """Answer one question (with the conversation so far for follow-ups); ``language`` overrides the setting.

        ``rewrite=False`` searches the question exactly as typed (no follow-up rewriting): the "search as typed"
        undo of :attr:`Answer.standalone_question`.
        """
        return self.chain(llm, top_k, filters, language, rewrite).invoke(
            {"question": question, "history": history or []})

    def stream(self, question: str, history: list[Turn] | None = None, top_k: int | None = None,
               llm: str | None = None, filters: Filters | None = None,
               language: str | None = None, rewrite: bool = True) -> Iterator[dict[str, Any]]:
        """Events: ``{"type": "retrieved", "passages"}``, ``{"type": "token", "text"}``…, ``{"type": "answer", "answer"}``.

        ``rewrite=False``: search the question as typed (see :meth:`ask`).
        """
        events = self.qa.events(llm, top_k, filters, language, rewrite)
        for chunk in events.stream({"question": question, "history": history or []}):
            if "retrieved" in chunk:
                yield {"type": "retrieved", **chunk["retrieved"]}
            elif "token" in chunk:
                yield {"type": "token", "text": chunk["token"]}
            elif "answer" in chunk:
                yield {"type": "answer", "answer": chunk["answer"]}

