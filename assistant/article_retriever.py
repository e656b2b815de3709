"""The index as a LangChain retriever: plug the assistant's search into any LCEL chain.

:class:`ArticleRetriever` is a ``BaseRetriever`` that runs the assistant's own chain up to its answer step
(:meth:`assistant.qa_chain.QAChain.passages`: validation, the question's analysis, the hybrid retrieval with scoping,
fitted fusion, sub-queries and diversity, then the trained reader's rerank when ``settings.rerank``), so its
documents are the passages the answerer would read, in the same order. Each ``Document`` holds one passage; its
metadata: ``source``, ``start``/``end`` (character offsets into the article's stored text), ``title``, ``outlet``,
``date``, ``score`` (fused), ``legs`` (dense / bm25), ``via`` (the question or sub-query that brought it), ``rank``,
``story_id`` and ``reader_score`` (the reader's best span's margin over no answer; None without the rerank): the
fields of :class:`assistant.models.RankedPassage`, the answer's passages, so the two cannot drift apart. It
follows rebuilds of the index (a new build is picked up on the next query).

>>> retriever = ArticleRetriever.from_settings(Settings(), top_k=3)  # doctest: +SKIP
>>> retriever.invoke("Kapan CSTO mengirim pasukan ke Kazakhstan?")[0].metadata["source"]  # doctest: +SKIP
'001_7539421ef6c581f1.txt'

The README's "Use the index in your own LangChain chain" example (run by ``tests/e2e/test_llamacpp_server.py``)
pipes it into a prompt and a chat model.
"""

from __future__ import annotations

from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever

from assistant.chain import Assistant
from assistant.retrieval import RetrievalResult
from assistant.settings import Settings

__all__ = ["ArticleRetriever"]


class ArticleRetriever(BaseRetriever):
    """Passages of the indexed articles for a query, best first (see the module docstring)."""

    assistant: Any  # the Assistant whose index is searched (it reopens the index after a rebuild)
    top_k: int | None = None  # passages returned (default: the settings' top_k)
    filters: Any = None  # a Filters (sources, dates): ``assistant.filters(...)`` builds one from names

    @classmethod
    def from_settings(cls, settings: Settings | None = None, **kwargs: Any) -> ArticleRetriever:
        """A retriever over the index ``settings`` point to (default: the environment's settings)."""
        return cls(assistant=Assistant(settings or Settings()), **kwargs)

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun) -> list[Document]:
        steps = self.assistant.qa.passages(top_k=self.top_k, filters=self.filters)
        found = steps.invoke({"question": query, "history": []}, config={"callbacks": run_manager.get_child()})
        return _documents(found["result"])


def _documents(result: RetrievalResult) -> list[Document]:
    """``result``'s passages as ``Document``s, best first: the answer's own passages (``Answer.passages``), each
    field but the text and id as metadata (see the module docstring)."""
    return [p.document() for p in result.ranked()]
