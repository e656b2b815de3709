"""Callbacks of the Chat tab: streaming answers, sources, article view, feedback and exports."""

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
from assistant.models import Answer, Turn
from ui import exports, render
from ui.log_guard import loggable
from ui.redaction import redact, secrets_of, short

__all__ = ["ChatHandlers"]

log = logging.getLogger(__name__)
LANGUAGES = [("auto (the question's)", "auto"), ("Indonesian", "id"), ("English", "en")]


class ChatHandlers:
    """Holds the shared :class:`Assistant`; per-browser state (the answers so far) travels in ``gr.State``."""

    def __init__(self, assistant: Assistant) -> None:
        self.assistant = assistant
        self.export_dir = Path(tempfile.mkdtemp(prefix="assistant-exports-"))
        self._secrets = secrets_of(assistant.settings)

    # -- answering --------------------------------------------------------------------------------------------
    def _describe(self, chunk_id: str) -> str:
        try:
            p = self.assistant.reader.passage(chunk_id)
        except KeyError:
            return chunk_id
        snippet = p.text[:90].replace("\n", " ")
        return f"{p.title or p.source} @{p.start}: {snippet}…"

    def respond(self, question: str, messages: list[dict[str, Any]], answers: list[Answer], backend: str,
                top_k: float, language: str) -> Iterator[tuple[Any, ...]]:
        """Outputs: chatbot, question box, sources, debugger, citation picker, answers state, status."""
        messages = list(messages or [])
        answers = list(answers or [])
        try:
            question = self.assistant.validate(question)
        except UserError as exc:  # empty (or only invisible characters), or too long
            gr.Warning(str(exc))
            yield messages, question, gr.skip(), gr.skip(), gr.skip(), answers, f"⚠️ {exc}"
            return
        limit = self.assistant.settings.log_question_chars
        if limit:
            log.info("chat ask (%d chars, turn %d): %s", len(question), len(answers) + 1, loggable(question, limit))
        history = [Turn(question=a.question, answer=a.answer) for a in answers]
        messages += [{"role": "user", "content": question}, {"role": "assistant", "content": "…"}]
        yield messages, "", render.pending_sources_html([]), gr.skip(), gr.skip(), answers, "Searching the articles…"
        text = ""
        try:
            events = self.assistant.stream(
                question, history=history, top_k=int(top_k) if top_k else None, llm=(backend or "").strip() or None,
                language=language,
            )
            for ev in events:
                if ev["type"] == "retrieved":
                    yield (messages, "", render.pending_sources_html(ev["passages"]), gr.skip(), gr.skip(), answers,
                           f"Searched for: {ev['standalone_question']}")
                elif ev["type"] == "token":
                    text += ev["text"]
                    messages[-1] = {"role": "assistant", "content": text}
                    yield messages, "", gr.skip(), gr.skip(), gr.skip(), answers, "Answering…"
                elif ev["type"] == "answer":
                    answer: Answer = ev["answer"]
                    answers.append(answer)
                    messages[-1] = {"role": "assistant", "content": render.answer_markdown(answer)}
                    yield (messages, "", render.sources_html(answer, self.assistant.reader.document_text),
                           render.debugger_html(answer, self._describe), self._picker(answer), answers,
                           self._status(answer))
        except UserError as exc:
            gr.Warning(str(exc))
            messages[-1] = {"role": "assistant", "content": f"⚠️ {exc}"}
            yield messages, question, render.EMPTY_SOURCES, gr.skip(), gr.skip(), answers, f"⚠️ {exc}"
        except Exception as exc:  # a failing backend server etc.: one line for the user, the details in the log
            log.exception("answering failed (%s)", type(exc).__name__)
            detail = short(redact(str(exc), self._secrets), 200)
            msg = f"Answering failed ({type(exc).__name__}: {detail}). Check the backend setting and try again."
            gr.Warning(msg)
            messages[-1] = {"role": "assistant", "content": f"⚠️ {msg}"}
            yield messages, question, render.EMPTY_SOURCES, gr.skip(), gr.skip(), answers, f"⚠️ {msg}"

    @staticmethod
    def _status(answer: Answer) -> str:
        total = answer.timings_ms.get("total")
        kind = "No answer found" if answer.abstained else f"{len(answer.citations)} citation(s)"
        return f"{kind} · {answer.backend}" + (f" · {total / 1000:.1f} s" if total else "")

    @staticmethod
    def _picker(answer: Answer) -> Any:
        choices = [(render.citation_label(cs[0]), n) for n, cs in render.group_citations(answer).items()]
        return gr.update(choices=choices, value=choices[0][1] if choices else None, interactive=bool(choices))

    # -- article view -----------------------------------------------------------------------------------------
    def open_article(self, n: int | None, answers: list[Answer]) -> str:
        """The cited article of the last answer, read from the index (only indexed sources, never a file path)."""
        if not answers or n is None:
            return '<div class="article-view">Ask a question first, then pick one of its citations.</div>'
        cites = render.group_citations(answers[-1]).get(int(n), [])
        if not cites:
            return '<div class="article-view">That citation is not part of the last answer.</div>'
        cite = cites[0]
        try:
            text = self.assistant.reader.document_text(cite.source)
        except KeyError:
            return f'<div class="article-view">{html.escape(cite.source)} is no longer in the index.</div>'
        return render.article_html(text, [(c.start, c.end) for c in cites], cite.title, cite.source)

    # -- conversation -----------------------------------------------------------------------------------------
    @staticmethod
    def new_chat() -> tuple[Any, ...]:
        return ([], "", render.EMPTY_SOURCES, "", gr.update(choices=[], value=None), [], "New conversation.", "",
                gr.update(value=None, visible=False))

    def export(self, answers: list[Answer], kind: str) -> Any:
        if not answers:
            gr.Warning("Nothing to export yet: ask a question first.")
            return gr.skip()
        return gr.update(value=str(exports.write_export(self.export_dir, answers, kind)), visible=True)

    def rate(self, answers: list[Answer], rating: str) -> str:
        if not answers:
            gr.Warning("Ask a question first; feedback applies to the last answer.")
            return ""
        exports.append_feedback(self.assistant.settings.feedback_path, answers[-1], rating)
        return "Thanks — recorded 👍 for the last answer." if rating == "up" else "Thanks — recorded 👎 for the last answer."

    def save_case(self, answers: list[Answer]) -> str:
        if not answers:
            gr.Warning("Ask a question first; the last turn becomes the test case.")
            return ""
        path = exports.saved_cases_path(self.assistant.settings.feedback_path)
        record = exports.append_test_case(path, answers[-1])
        return f"Saved test case {record['id']} to {path}."
