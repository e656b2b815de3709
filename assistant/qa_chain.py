"""The question-answering chain as one LCEL runnable:

``{"question", "history"}`` → **prepare** (validate first; take the reader; condense a follow-up into a standalone
question; analyse it once) → **retrieve** (``RunnablePassthrough.assign(result=…)``) → **answer** (a
``RunnableGenerator``: the extractive answerer, or prompt | chat model | parser, then citation verification) → events.

The chain's output is a stream of :class:`~langchain_core.utils.AddableDict` chunks: ``{"retrieved": {...}}`` once the
passages are known, ``{"token": "…"}`` as the answer is written, and ``{"answer": Answer}`` last. ``.stream()`` hands
them over as they come (the chat window); ``.invoke()`` / ``.batch()`` add them up, so ``["answer"]`` of the result
is the :class:`~assistant.models.Answer` (:meth:`assistant.chain.Assistant.chain` ends with that pick). The chain is
synchronous (the chat window and the HTTP routes run it in worker threads): its async methods raise
``NotImplementedError``.
"""

from __future__ import annotations

import html
import time
from collections.abc import Iterator
from typing import Any

from langchain_core.output_parsers import StrOutputParser
from langchain_core.runnables import (
    Runnable,
    RunnableConfig,
    RunnableGenerator,
    RunnableLambda,
    RunnablePassthrough,
)
from langchain_core.runnables.utils import AddableDict

from assistant.backends import is_extractive, make_chat_model
from assistant.citations import citations_from_picks, load_support_model, verify_generated
from assistant.condense import answer_form, condense_rule, history_text, is_follow_up
from assistant.errors import BackendUnavailable
from assistant.injection import redact_passage
from assistant.library import Library
from assistant.models import Answer, Turn
from assistant.prompts import REFUSALS, PromptTemplate, load_prompt
from assistant.question import QuestionInfo, analyse_question, clean_question, validate_question
from assistant.reader_answer import compose, load_policy, rerank
from assistant.reader_model import ReaderModel, load_reader
from assistant.retrieval import Filters, RetrievalResult, retrieve
from assistant.settings import Settings
from index import IndexReader

__all__ = ["QAChain", "format_passages"]


def format_passages(result: RetrievalResult) -> str:
    """Passages as numbered, delimited, escaped blocks: article text can never pose as instructions.

    Markup is escaped (a passage cannot close its block or open a system turn), and sentences that address the
    model with instructions are withheld (:mod:`assistant.injection`); the system prompt says the blocks are data.
    """
    blocks = []
    for i, p in enumerate(result.passages, start=1):
        label = "; ".join(x for x in (p.outlet, p.title, p.date, p.source) if x)
        body = html.escape(redact_passage(p))  # withheld spans decided on the whole paragraph
        blocks.append(f'<passage n="{i}" source="{html.escape(label)}">\n{body}\n</passage>')
    return "\n".join(blocks)


class QAChain:
    """Builds the chain's runnables over a :class:`Library`; keeps the chat models it made (one per backend)."""

    def __init__(self, settings: Settings, library: Library) -> None:
        self.settings = settings
        self.library = library
        self._models: dict[str, Any] = {}

    def model(self, name: str) -> Any:
        if name not in self._models:
            self._models[name] = make_chat_model(self.settings, name)
        return self._models[name]

    def prompt(self, name: str) -> PromptTemplate:
        return load_prompt(self.settings.prompts_dir, name)

    # -- the runnable -----------------------------------------------------------------------------------------
    def passages(self, llm: str | None = None, top_k: int | None = None, filters: Filters | None = None,
                 language: str | None = None, rewrite: bool = True) -> Runnable[dict[str, Any], dict[str, Any]]:
        """The chain's first two steps: ``{"question", "history"}`` → the prepared inputs with ``result``, the
        passages the answerer reads (:meth:`prepare`, then :meth:`find`). :meth:`events` continues from here, and
        :class:`~assistant.article_retriever.ArticleRetriever` ends here."""
        backend = llm or self.settings.llm

        def prepare(inp: dict[str, Any]) -> dict[str, Any]:
            return self.prepare(inp["question"], inp.get("history") if rewrite else None, backend, language)

        def find(inp: dict[str, Any]) -> RetrievalResult:
            return self.find(inp["reader"], inp["info"], top_k, filters)

        return RunnableLambda(prepare, name="prepare") | RunnablePassthrough.assign(
            result=RunnableLambda(find, name="retrieve"))

    def events(self, llm: str | None = None, top_k: int | None = None, filters: Filters | None = None,
               language: str | None = None, rewrite: bool = True) -> Runnable[dict[str, Any], AddableDict]:
        """The chain: ``{"question", "history"}`` → event chunks (see the module docstring).

        ``language`` overrides the answer-language setting (``auto``: the question's); ``rewrite=False`` searches the
        question as typed, the history unused."""
        backend = llm or self.settings.llm

        def answer(chunks: Iterator[dict[str, Any]], config: RunnableConfig | None = None) -> Iterator[AddableDict]:
            yield from self.answer_events(_merged(chunks), backend, config)

        return self.passages(backend, top_k, filters, language, rewrite) | RunnableGenerator(answer, name="answer")

    # -- the steps --------------------------------------------------------------------------------------------
    def prepare(self, question: str, history: list[Turn] | None, llm: str, language: str | None) -> dict[str, Any]:
        """Validate (before anything else), take the reader the whole question will use, condense a follow-up, and
        analyse the question once: ``info`` is the searched question's analysis, ``asked`` the rewritten follow-up's
        answer form (sentences are judged by it) or None."""
        t0 = time.perf_counter()
        q = validate_question(question, self.settings.max_question_chars)
        reader = self.library.current_reader()
        standalone = self.condense(q, list(history or []), llm)
        typed = analyse_question(q)
        info = typed if standalone == q else analyse_question(standalone)
        form = answer_form(standalone) if standalone != q else None
        asked = analyse_question(form) if form and form != standalone else None
        chosen = language if language and language != "auto" else self.settings.answer_language
        return {"question": q, "standalone": standalone, "info": info, "asked": asked, "reader": reader,
                "language": chosen if chosen != "auto" else typed.language, "condense_ms": _ms(t0)}

    def find(self, reader: IndexReader, info: QuestionInfo, top_k: int | None = None,
             filters: Filters | None = None) -> RetrievalResult:
        """Retrieval, then (``settings.rerank``) the trained reader's rerank of the fitted pool
        (:func:`assistant.reader_answer.rerank`): its ``top_k`` best, with their spans."""
        k = top_k or self.settings.top_k
        if not self.settings.rerank:
            return retrieve(reader, self.settings, info, k, filters)
        t0 = time.perf_counter()
        pool = self.settings.rerank_pool or load_policy().pool
        result = retrieve(reader, self.settings, info, k, filters, pool=max(k, pool))
        out = rerank(self.reader_model(), result, k)
        out.elapsed_ms = _ms(t0)
        return out

    def reader_model(self) -> ReaderModel:
        return load_reader(self.settings.model_cache_dir.expanduser(), self.settings.threads)

    def warm_up(self) -> bool:
        """Prepare (once per machine) and load the trained reader now when the settings use it (the rerank, or the
        extractive answerer), so that the first question does not wait for it; whether it was needed."""
        if not (self.settings.rerank or is_extractive(self.settings.llm)):
            return False
        self.reader_model()
        return True

    def condense(self, question: str, history: list[Turn], llm: str) -> str:
        """The standalone form of a follow-up (the question itself when it stands alone): by rule for the extractive
        backend, by the condense prompt for a chat model (the rule again when the server fails mid-answer)."""
        if not history or not is_follow_up(question):
            return question
        if is_extractive(llm):
            return condense_rule(question, history)
        rewrite = self.prompt(self.settings.condense_prompt).runnable() | self.model(llm) | StrOutputParser()
        try:
            text = rewrite.invoke({"history": history_text(history), "question": question})
        except BackendUnavailable:
            raise
        except Exception:  # a flaky server must not lose the question: fall back to the rule
            return condense_rule(question, history)
        text = clean_question(text.splitlines()[0] if text.strip() else "")
        return text or condense_rule(question, history)

    def prompt_values(self, question: str, result: RetrievalResult, language: str) -> dict[str, str]:
        return {"question": question, "passages": format_passages(result),
                "language": "Indonesian" if language == "id" else "English", "refusal": REFUSALS[language]}

    def answer_events(self, inp: dict[str, Any], llm: str, config: RunnableConfig | None = None
                      ) -> Iterator[AddableDict]:
        result: RetrievalResult = inp["result"]
        yield AddableDict(retrieved={"standalone_question": inp["standalone"], "passages": result.ranked()})
        t0 = time.perf_counter()
        language, reader = inp["language"], inp["reader"]
        if is_extractive(llm):
            out = self.extractive(result, language, reader, inp["asked"])
            yield AddableDict(token=out["text"])  # chosen whole: one chunk (word-by-word would only pretend)
        else:
            write = self.prompt(self.settings.qa_prompt).runnable() | self.model(llm) | StrOutputParser()
            raw = ""
            for chunk in write.stream(self.prompt_values(inp["standalone"], result, language), config):
                raw += chunk
                yield AddableDict(token=chunk)
            out = self.verify(raw, result, language, reader)
        timings = {"condense": inp["condense_ms"], "retrieve": result.elapsed_ms, "answer": _ms(t0)}
        timings["total"] = round(sum(timings.values()), 1)
        yield AddableDict(answer=Answer(
            question=inp["question"], standalone_question=inp["standalone"], answer=out["text"],
            abstained=out["abstained"], language=language, citations=out["citations"], passages=result.ranked(),
            removed_markers=out["removed"], timings_ms=timings, backend=llm, trace=result.trace,
            notes=[n for n in (result.trace.scope.note, result.trace.fusion_note, *out["notes"]) if n],
        ))

    def extractive(self, result: RetrievalResult, language: str, reader: IndexReader,
                   asked: QuestionInfo | None = None) -> dict[str, Any]:
        """Quote the answering sentences (or refuse). ``asked``: a rewritten follow-up without its retrieval-only words
        (:func:`assistant.condense.answer_form`): sentences are judged by it, the passages having been found with the
        whole rewrite."""
        model = self.reader_model()
        info = asked if asked is not None else result.question
        spans = result.spans
        if spans is None or asked is not None:  # not reranked, or judged by another form than the one searched
            spans = model.read(info.text, [p.text for p in result.passages])
        ex = compose(info, result.passages, spans, load_policy(), model)
        by_article = result.question.is_("compare")
        text = ex.answer_text(result.passages, language, by_article) if not ex.abstained else REFUSALS[language]
        return {"text": text, "citations": citations_from_picks(ex.picks, result.passages), "removed": [],
                "abstained": ex.abstained, "notes": []}

    def verify(self, raw: str, result: RetrievalResult, language: str, reader: IndexReader) -> dict[str, Any]:
        """A chat model's answer with only the citations its passages back (see :mod:`assistant.citations`)."""
        support = load_support_model(self.settings.embedder)
        text, cites, removed = verify_generated(raw.strip(), result.passages, reader.embedder, support)
        refused = any(r.rstrip(".").lower() in text.lower() for r in REFUSALS.values()) or not text
        if refused:
            text, cites = REFUSALS[language], []
        return {"text": text, "citations": cites, "removed": removed, "abstained": refused, "notes": []}


def _merged(chunks: Iterator[dict[str, Any]]) -> dict[str, Any]:
    """The input of a streamed step: ``RunnablePassthrough.assign`` streams the passed-through keys, then each new
    one, as separate chunks."""
    inp: dict[str, Any] = {}
    for chunk in chunks:
        inp.update(chunk)
    return inp


def _ms(t0: float) -> float:
    return round((time.perf_counter() - t0) * 1000, 1)
