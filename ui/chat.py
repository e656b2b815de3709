"""Callbacks of the Chat tab: streaming answers, per-answer sources, filters, article view, feedback and exports.

The conversation lives in the browser (``gr.BrowserState``, see :mod:`ui.history`): every callback gets it as JSON
and returns the new JSON, so a reload rebuilds the chat (:meth:`ChatHandlers.restore`).
"""

from __future__ import annotations

import html
import logging
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import gradio as gr

from assistant.chain import Assistant
from assistant.errors import UserError
from assistant.models import Answer
from ui import exports, history, render
from ui.filters import FilterChoice, outlets_of, sources_of
from ui.history import Entry
from ui.log_guard import loggable
from ui.redaction import redact, secrets_of

__all__ = ["ChatHandlers", "LANGUAGES", "ARTICLE_EMPTY"]

log = logging.getLogger(__name__)
ARTICLE_EMPTY = '<div class="src-empty">The opened article appears here.</div>'
LANGUAGES = [("auto (the question's)", "auto"), ("Indonesian", "id"), ("English", "en")]


def _md_text(value: str) -> str:
    """Plain text for a Markdown output (status line, chat bubble): ``<model>`` shows as typed, never as a tag."""
    return html.escape(value, quote=False)


class ChatHandlers:
    """Holds the shared :class:`Assistant`; the answers so far travel with each call (browser-side state).

    ``respond`` outputs, in order: chatbot, question box, sources panel, debugger, citation picker, history state,
    status line, the "Search as typed" button and the article view (:data:`ANSWER_OUTPUTS` names them).

    One citation is open at a time: the picker's value ``"<turn>:<n>"``, its card outlined and its article in the
    article view. A new answer opens its own first citation; a marker, a card or the picker opens another.
    """

    def __init__(self, assistant: Assistant) -> None:
        self.assistant = assistant
        self.export_dir = Path(tempfile.mkdtemp(prefix="assistant-exports-"))
        self._secrets = secrets_of(assistant.settings)

    # -- rendering the conversation ---------------------------------------------------------------------------
    def _describe(self, chunk_id: str) -> str:
        try:
            p = self.assistant.reader.passage(chunk_id)
        except KeyError:
            return chunk_id
        snippet = p.text[:90].replace("\n", " ")
        return f"{p.title or p.source} @{p.start}: {snippet}…"

    def _doc_text(self, source: str) -> str:
        return self.assistant.reader.document_text(source)

    @staticmethod
    def messages(entries: list[Entry]) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for turn, e in enumerate(entries, 1):
            out += [{"role": "user", "content": e.answer.question},
                    {"role": "assistant", "content": render.answer_markdown(e.answer, turn, e.filters.describe())}]
        return out

    def _sources(self, entries: list[Entry], pending: str = "", picked: tuple[int, int] | None = None) -> str:
        return render.sources_html([e.answer for e in entries], self._doc_text, pending, picked)

    @staticmethod
    def _first_pick(entries: list[Entry]) -> tuple[int, int] | None:
        """The citation a new answer opens: its own first marker (None when it cites nothing)."""
        if not entries:
            return None
        groups = render.group_citations(entries[-1].answer)
        return (len(entries), next(iter(groups))) if groups else None

    def _latest_article(self, entries: list[Entry]) -> str:
        """The article view after a new answer: the article of its first citation."""
        first = self._first_pick(entries)
        if first is None:
            return '<div class="src-empty">This answer cites no article; the closest passages are in Sources.</div>'
        return self.open_article(f"{first[0]}:{first[1]}", history.dump(entries))

    @staticmethod
    def _picker(entries: list[Entry]) -> Any:
        """Citations of every answer, newest first (value ``"<turn>:<n>"``), the latest answer's first picked."""
        choices = []
        for turn in range(len(entries), 0, -1):
            for n, cs in render.group_citations(entries[turn - 1].answer).items():
                choices.append((f"Answer {turn} · {render.citation_label(cs[0])}", f"{turn}:{n}"))
        return gr.update(choices=choices, value=choices[0][1] if choices else None, interactive=bool(choices))

    @staticmethod
    def _as_typed_button(entries: list[Entry]) -> Any:
        last = entries[-1].answer if entries else None
        rewritten = last is not None and last.standalone_question.strip() != last.question.strip()
        return gr.update(visible=rewritten)

    def restore(self, state: Any) -> tuple[Any, ...]:
        """After a (re)load: chatbot, sources panel, debugger, citation picker, status, "Search as typed" button,
        article view. Without a saved conversation nothing changes (the page shows its empty state already), so a
        restore that lands late cannot wipe an answer asked before it, or a new chat's status."""
        entries = history.load(state)
        if not entries:
            return (gr.skip(),) * 7
        last = entries[-1].answer
        debug = render.debugger_html(last, self._describe) if last.trace is not None else gr.skip()
        return (self.messages(entries), self._sources(entries, picked=self._first_pick(entries)), debug,
                self._picker(entries), f"Restored {len(entries)} earlier answer(s) · New chat clears them.",
                self._as_typed_button(entries), self._latest_article(entries))

    def filter_choices(self) -> tuple[Any, Any]:
        """The article and outlet choices of the filter, from the index as it is now (kept picks stay valid)."""
        files = self.assistant.current_reader().files()
        return gr.update(choices=sources_of(files)), gr.update(choices=outlets_of(files))

    # -- answering --------------------------------------------------------------------------------------------
    def respond(self, question: str, state: Any, backend: str, top_k: float, language: str,
                f_sources: list[str] | None, f_outlets: list[str] | None, f_from: str | None, f_to: str | None,
                ) -> Iterator[tuple[Any, ...]]:
        """Answer ``question`` as the next turn of the conversation in ``state``, under the chosen filter."""
        yield from self._answer(question, history.load(state), backend, top_k, language,
                                (f_sources, f_outlets, f_from, f_to), rewrite=True, replace_last=False)

    def ask_as_typed(self, state: Any, backend: str, top_k: float, language: str) -> Iterator[tuple[Any, ...]]:
        """Ask the last question again exactly as typed (no follow-up rewriting), under its own filter; the new
        answer takes the last one's place."""
        entries = history.load(state)
        if not entries:
            yield (gr.skip(),) * 6 + ("Ask a question first.", gr.update(visible=False), gr.skip())
            return
        last = entries[-1]
        f = last.filters
        yield from self._answer(last.answer.question, entries[:-1], backend, top_k, language,
                                (f.sources, f.outlets, f.date_from, f.date_to), rewrite=False, replace_last=True)

    def retry(self, retried: gr.RetryData, state: Any, backend: str, top_k: float, language: str
              ) -> Iterator[tuple[Any, ...]]:
        """The chat's own retry button: ask that answer's question again (under its filter, with the conversation
        before it); the new answer takes its place and any later answers go."""
        entries = history.load(state)
        index = retried.index[0] if isinstance(retried.index, (list, tuple)) else retried.index
        turn = int(index) // 2 + 1  # messages alternate question, answer
        if not 1 <= turn <= len(entries):
            yield (gr.skip(),) * 6 + ("Nothing to retry.", gr.skip(), gr.skip())
            return
        redo = entries[turn - 1]
        f = redo.filters
        yield from self._answer(redo.answer.question, entries[:turn - 1], backend, top_k, language,
                                (f.sources, f.outlets, f.date_from, f.date_to), rewrite=True, replace_last=False)

    def like(self, liked: gr.LikeData, state: Any) -> str:
        """The chat's own like/dislike on one answer: stored with its question, answer and citations."""
        entries = history.load(state)
        index = liked.index[0] if isinstance(liked.index, (list, tuple)) else liked.index
        turn = int(index) // 2 + 1
        if not 1 <= turn <= len(entries):
            return "That answer is not part of this conversation any more."
        if liked.liked is None or liked.liked == "":  # the same thumb clicked again: the rating is taken back
            exports.append_feedback(self.assistant.settings.feedback_path, entries[turn - 1].answer, "none")
            return f"Rating of answer {turn} taken back."
        rating = "up" if liked.liked is True or liked.liked == "Like" else "down"
        exports.append_feedback(self.assistant.settings.feedback_path, entries[turn - 1].answer, rating)
        return f"Thanks — recorded “{'good' if rating == 'up' else 'bad'} answer” for answer {turn}."

    def stopped(self, state: Any) -> tuple[Any, ...]:
        """After the stop button: the conversation as it was before the stopped question (chatbot, sources, status,
        question box left as it was)."""
        entries = history.load(state)
        return (self.messages(entries), self._sources(entries, picked=self._first_pick(entries)),
                "Stopped: the answer was not finished; ask again or retry.")

    def _answer(self, question: str, entries: list[Entry], backend: str, top_k: float, language: str,
                picked: tuple[Any, Any, Any, Any], rewrite: bool, replace_last: bool) -> Iterator[tuple[Any, ...]]:
        hide = gr.update(visible=False)
        skip = gr.skip()
        try:
            question = self.assistant.validate(question)
            choice = FilterChoice.from_inputs(*picked)
            filters = choice.to_filters(self.assistant)
        except UserError as exc:  # empty or too long question, bad date, a filter that leaves no article
            gr.Warning(html.escape(str(exc)))
            yield skip, question, skip, skip, skip, skip, f"Not asked: {_md_text(str(exc))}", skip, skip
            return
        limit = self.assistant.settings.log_question_chars
        if limit:
            log.info("chat ask (%d chars, turn %d): %s", len(question), len(entries) + 1, loggable(question, limit))
        shown = self.messages(entries)
        head = render.filter_markdown(choice.describe())
        messages = shown + [{"role": "user", "content": question}, {"role": "assistant", "content": head + "…"}]
        pending = render.pending_sources_html([])
        yield messages, "", self._sources(entries, pending), skip, skip, skip, "Searching the articles…", hide, skip
        text = ""
        try:
            events = self.assistant.stream(
                question, history=history.turns(entries), top_k=int(top_k) if top_k else None,
                llm=(backend or "").strip() or None, filters=filters, language=language, rewrite=rewrite,
            )
            for ev in events:
                if ev["type"] == "retrieved":
                    searched = ev["standalone_question"]
                    note = f"Searched as: {_md_text(searched)}" if searched.strip() != question.strip() else "Searching…"
                    yield (messages, "", self._sources(entries, render.pending_sources_html(ev["passages"])),
                           skip, skip, skip, note, skip, skip)
                elif ev["type"] == "token":
                    text += ev["text"]
                    messages[-1] = {"role": "assistant", "content": head + text}
                    yield messages, "", skip, skip, skip, skip, "Answering…", skip, skip
                elif ev["type"] == "answer":
                    answer: Answer = ev["answer"]
                    entries = [*entries, Entry(answer, choice)]
                    yield (self.messages(entries), "", self._sources(entries, picked=self._first_pick(entries)),
                           render.debugger_html(answer, self._describe), self._picker(entries),
                           history.dump(entries), self._status(answer, replace_last), self._as_typed_button(entries),
                           self._latest_article(entries))
        except UserError as exc:
            gr.Warning(html.escape(str(exc)))
            messages[-1] = {"role": "assistant", "content": f"**Could not answer:** {_md_text(str(exc))}"}
            yield messages, question, self._sources(entries), skip, skip, skip, \
                f"Could not answer: {_md_text(str(exc))}", hide, skip
        except Exception as exc:  # a failing backend server etc.: one line for the user, the details in the log
            log.exception("answering failed (%s)", type(exc).__name__)
            detail = loggable(redact(str(exc), self._secrets), 200)
            msg = f"Answering failed ({type(exc).__name__}: {detail}). Check the backend setting and try again."
            gr.Warning(html.escape(msg))  # the toast reads its text as HTML: `ollama:<model>` must stay whole
            messages[-1] = {"role": "assistant", "content": f"**Error:** {_md_text(msg)}"}
            yield messages, question, self._sources(entries), skip, skip, skip, f"Error: {_md_text(msg)}", hide, skip

    @staticmethod
    def _status(answer: Answer, as_typed: bool = False) -> str:
        total = answer.timings_ms.get("total")
        markers = len(render.group_citations(answer))  # [1] backing two sentences is one citation
        kind = "No answer found" if answer.abstained else f"{markers} citation{'s' if markers != 1 else ''}"
        redo = " · searched as typed" if as_typed else ""
        return f"{kind} · {answer.backend}{redo}" + (f" · {total / 1000:.1f} s" if total else "")

    # -- article view -----------------------------------------------------------------------------------------
    def pick_card(self, clicked: str | None, state: Any) -> tuple[Any, str]:
        """A clicked citation card or answer marker (``"<turn>:<n>#<click count>"`` from cite_links.js): picked in
        the Citation picker, its article opened (the picker, the cards and the article view stay on one citation)."""
        picked = str(clicked or "").partition("#")[0]
        return gr.update(value=picked), self.open_article(picked, state)

    def open_article(self, picked: str | None, state: Any) -> str:
        """The article a picked citation (``"<turn>:<n>"``) cites, read from the index (indexed sources only)."""
        entries = history.load(state)
        turn_s, _, n_s = str(picked or "").partition(":")
        if not entries or not turn_s.isdigit() or not n_s.isdigit():
            return '<div class="article-view">Ask a question first, then pick one of its citations.</div>'
        turn, n = int(turn_s), int(n_s)
        cites = render.group_citations(entries[turn - 1].answer).get(n, []) if 1 <= turn <= len(entries) else []
        if not cites:
            return '<div class="article-view">That citation is not part of this conversation any more.</div>'
        cite = cites[0]
        try:
            text = self.assistant.reader.document_text(cite.source)
        except KeyError:
            return f'<div class="article-view">{html.escape(cite.source)} is no longer in the index.</div>'
        return render.article_html(text, [(c.start, c.end) for c in cites], cite.title, cite.source)

    # -- conversation -----------------------------------------------------------------------------------------
    @staticmethod
    def new_chat() -> tuple[Any, ...]:
        """Outputs: chatbot, question, sources, debugger, picker, history state, status, article, export file,
        "Search as typed" button."""
        return ([], "", render.EMPTY_SOURCES, "", gr.update(choices=[], value=None, interactive=False), [],
                "New conversation.", ARTICLE_EMPTY, gr.update(value=None, visible=False), gr.update(visible=False))

    @staticmethod
    def _answers(state: Any) -> list[Answer]:
        return [e.answer for e in history.load(state)]

    def export(self, state: Any, kind: str) -> Any:
        answers = self._answers(state)
        if not answers:
            gr.Warning("Nothing to export yet: ask a question first.")
            return gr.skip()
        return gr.update(value=str(exports.write_export(self.export_dir, answers, kind)), visible=True)

    def save_case(self, state: Any) -> str:
        answers = self._answers(state)
        if not answers:
            gr.Warning("Ask a question first; the last turn becomes the test case.")
            return ""
        path = exports.saved_cases_path(self.assistant.settings.feedback_path)
        record = exports.append_test_case(path, answers[-1])
        return f"Saved test case {record['id']} to {path}."
