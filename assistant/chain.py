"""The question-answering chain (LCEL: condense → retrieve → answer → verify) and the :class:`Assistant` facade.

>>> assistant = Assistant(Settings())  # doctest: +SKIP
>>> answer = assistant.ask("Berapa orang Rusia yang meninggalkan Kazakhstan sejak 21 September?")  # doctest: +SKIP
>>> answer.answer, answer.citations[0].quote  # doctest: +SKIP
"""

from __future__ import annotations

import html
import threading
import time
from collections.abc import Iterable, Iterator
from typing import Any

from langchain_core.messages import HumanMessage, SystemMessage
from langchain_core.output_parsers import StrOutputParser
from langchain_core.runnables import Runnable, RunnableLambda

from assistant.answer_model import load_answer_model
from assistant.backends import is_extractive, make_chat_model
from assistant.citations import citations_from_picks, load_support_model, verify_generated
from assistant.condense import answer_form, condense_rule, history_text, is_follow_up
from assistant.errors import BackendUnavailable
from assistant.extractive import answer_extractively
from assistant.filters import make_filters
from assistant.injection import redact_instructions
from assistant.models import Answer, Turn
from assistant.prompts import REFUSALS, load_prompt
from assistant.question import analyse_question, clean_question, validate_question
from assistant.retrieval import Filters, RetrievalResult, retrieve
from assistant.settings import Settings
from index import IndexReader, open_index
from index.state import current_name

__all__ = ["Assistant", "format_passages"]


def format_passages(result: RetrievalResult) -> str:
    """Passages as numbered, delimited, escaped blocks: article text can never pose as instructions.

    Markup is escaped (a passage cannot close its block or open a system turn), and sentences that address the
    model with instructions are withheld (:mod:`assistant.injection`); the system prompt says the blocks are data.
    """
    blocks = []
    for i, p in enumerate(result.passages, start=1):
        label = "; ".join(x for x in (p.outlet, p.title, p.date, p.source) if x)
        body = html.escape(redact_instructions(p.text))
        blocks.append(f'<passage n="{i}" source="{html.escape(label)}">\n{body}\n</passage>')
    return "\n".join(blocks)


class Assistant:
    """Answers questions over one index; safe to share between threads (the UI's workers)."""

    def __init__(self, settings: Settings, reader: IndexReader | None = None) -> None:
        self.settings = settings
        self.reader = reader or open_index(settings.index_config())
        self._models: dict[str, Any] = {}
        self._lock = threading.Lock()

    # -- index lifecycle --------------------------------------------------------------------------------------
    def refresh(self) -> bool:
        """Reopen the index if a build committed a new state since; returns whether it did.

        Cheap when nothing changed (one small file read), so it runs before every question: a build committed by
        another process or the Library tab is picked up by the next question, and a question in flight finishes on
        the reader it started with (the builder keeps the replaced state and collection until the next build).
        """
        name = current_name(self.settings.index_dir)
        folder = self.reader.state.folder
        if name is None or (folder is not None and folder.name == name):
            return False
        with self._lock:
            folder = self.reader.state.folder
            if folder is None or folder.name != name:
                self.reader = open_index(self.settings.index_config())
                return True
        return False

    def current_reader(self) -> IndexReader:
        """The reader for the next question (after :meth:`refresh`); callers keep it for the whole question."""
        self.refresh()
        return self.reader

    # -- steps ------------------------------------------------------------------------------------------------
    def _model(self, name: str) -> Any:
        if name not in self._models:
            self._models[name] = make_chat_model(self.settings, name)
        return self._models[name]

    def validate(self, question: str) -> str:
        return validate_question(question, self.settings.max_question_chars)

    def condense(self, question: str, history: list[Turn], llm: str) -> str:
        if not history or not is_follow_up(question):
            return question
        if is_extractive(llm):
            return condense_rule(question, history)
        prompt = load_prompt(self.settings.prompts_dir, self.settings.condense_prompt)
        system, user = prompt.render(history=history_text(history), question=question)
        try:
            text = (self._model(llm) | StrOutputParser()).invoke([SystemMessage(system), HumanMessage(user)])
        except BackendUnavailable:
            raise
        except Exception:  # a flaky server must not lose the question: fall back to the rule
            return condense_rule(question, history)
        text = clean_question(text.splitlines()[0] if text.strip() else "")
        return text or condense_rule(question, history)

    def language_for(self, question: str, language: str | None = None) -> str:
        """The answer language: ``language`` when given (``auto`` = none), else the setting, else the question's."""
        chosen = language if language and language != "auto" else self.settings.answer_language
        return chosen if chosen != "auto" else analyse_question(question).language

    def messages(self, question: str, result: RetrievalResult, language: str) -> list[Any]:
        prompt = load_prompt(self.settings.prompts_dir, self.settings.qa_prompt)
        system, user = prompt.render(
            question=question, passages=format_passages(result),
            language="Indonesian" if language == "id" else "English", refusal=REFUSALS[language],
        )
        return [SystemMessage(system), HumanMessage(user)]

    # -- the chain --------------------------------------------------------------------------------------------
    def chain(self, llm: str | None = None, top_k: int | None = None, filters: Filters | None = None,
              language: str | None = None, rewrite: bool = True) -> Runnable:
        """``{"question", "history"}`` → :class:`Answer`, as one LCEL runnable (``language``: see :meth:`language_for`;
        ``rewrite=False`` searches the question as typed, the history unused)."""
        llm = llm or self.settings.llm
        answer_language = language

        def condense_step(inp: dict[str, Any]) -> dict[str, Any]:
            return {**inp, **self._prepare(inp["question"], inp.get("history") if rewrite else None, llm)}

        def retrieve_step(inp: dict[str, Any]) -> dict[str, Any]:
            return self._retrieve(inp, top_k, filters)

        def answer_step(inp: dict[str, Any]) -> dict[str, Any]:
            t0 = time.perf_counter()
            result: RetrievalResult = inp["result"]
            language = self.language_for(inp["question"], answer_language)
            reader = inp["reader"]
            if is_extractive(llm):
                out = self._extractive(result, language, reader, _asked(inp))
            else:
                raw = (self._model(llm) | StrOutputParser()).invoke(self.messages(inp["standalone"], result, language))
                out = self._verify(raw, result, language, reader)
            return {**inp, **out, "language": language, "t": {**inp["t"], "answer": _ms(t0)}}

        def build(inp: dict[str, Any]) -> Answer:
            return self._answer(inp, llm)

        return (RunnableLambda(condense_step) | RunnableLambda(retrieve_step) | RunnableLambda(answer_step)
                | RunnableLambda(build))

    def _prepare(self, question: str, history: list[Turn] | None, llm: str) -> dict[str, Any]:
        """Validate and condense the question, and take the reader the whole question will use."""
        t0 = time.perf_counter()
        q = self.validate(question)
        standalone = self.condense(q, list(history or []), llm)
        return {"question": q, "standalone": standalone, "reader": self.current_reader(), "t": {"condense": _ms(t0)}}

    def _retrieve(self, inp: dict[str, Any], top_k: int | None, filters: Filters | None) -> dict[str, Any]:
        t0 = time.perf_counter()
        result = retrieve(inp["reader"], self.settings, inp["standalone"], top_k, filters)
        return {**inp, "result": result, "t": {**inp["t"], "retrieve": _ms(t0)}}

    def _extractive(self, result: RetrievalResult, language: str, reader: IndexReader,
                    asked: str | None = None) -> dict[str, Any]:
        """``asked``: a rewritten follow-up without its retrieval-only words (:func:`assistant.condense.answer_form`);
        sentences are judged by it, the passages having been found with the whole rewrite."""
        s = self.settings
        model = load_answer_model(s.embedder, s.chunk_tokens, s.chunk_overlap)
        info, vector = result.question, result.query_vector
        if asked and asked != info.text:
            info, vector = analyse_question(asked), reader.embedder.embed_query(asked)
        ex = answer_extractively(info, result.passages, reader, vector, result.scores, model)
        by_article = result.question.is_("compare")
        text = ex.answer_text(result.passages, language, by_article) if not ex.abstained else REFUSALS[language]
        return {"text": text, "citations": citations_from_picks(ex.picks, result.passages), "removed": [],
                "abstained": ex.abstained, "notes": [model.note] if model.note else []}

    def _verify(self, raw: str, result: RetrievalResult, language: str, reader: IndexReader) -> dict[str, Any]:
        support = load_support_model(self.settings.embedder)
        text, cites, removed = verify_generated(raw.strip(), result.passages, reader.embedder, support)
        refused = any(r.rstrip(".").lower() in text.lower() for r in REFUSALS.values()) or not text
        if refused:
            text, cites = REFUSALS[language], []
        return {"text": text, "citations": cites, "removed": removed, "abstained": refused}

    def _answer(self, inp: dict[str, Any], llm: str) -> Answer:
        result: RetrievalResult = inp["result"]
        timings = inp["t"]
        timings["total"] = round(sum(timings.values()), 1)
        return Answer(
            question=inp["question"], standalone_question=inp["standalone"], answer=inp["text"],
            abstained=inp["abstained"], language=inp["language"], citations=inp["citations"],
            passages=result.ranked(), removed_markers=inp["removed"], timings_ms=timings, backend=llm,
            trace=result.trace, notes=[n for n in (result.trace.scope.note, result.trace.fusion_note, *inp.get("notes", [])) if n],
        )

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
        llm = llm or self.settings.llm
        inp = self._retrieve(self._prepare(question, history if rewrite else None, llm), top_k, filters)
        result: RetrievalResult = inp["result"]
        reader, standalone = inp["reader"], inp["standalone"]
        yield {"type": "retrieved", "standalone_question": standalone, "passages": result.ranked()}
        t0 = time.perf_counter()
        language = self.language_for(inp["question"], language)
        if is_extractive(llm):
            out = self._extractive(result, language, reader, _asked(inp))
            for piece in _pieces(out["text"]):
                yield {"type": "token", "text": piece}
        else:
            raw = ""
            for chunk in (self._model(llm) | StrOutputParser()).stream(self.messages(standalone, result, language)):
                raw += chunk
                yield {"type": "token", "text": chunk}
            out = self._verify(raw, result, language, reader)
        inp.update(out, language=language)
        inp["t"]["answer"] = _ms(t0)
        yield {"type": "answer", "answer": self._answer(inp, llm)}


def _asked(inp: dict[str, Any]) -> str | None:
    """The rewritten question's answer form, None when the question was searched as typed."""
    return answer_form(inp["standalone"]) if inp["standalone"] != inp["question"] else None


def _pieces(text: str) -> Iterator[str]:
    words = text.split(" ")
    for i, w in enumerate(words):
        yield w if i == 0 else " " + w


def _ms(t0: float) -> float:
    return round((time.perf_counter() - t0) * 1000, 1)
