"""Conversation exports (Markdown, JSON), feedback records and "save as test case" lines; no gradio here."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from assistant.citations import strip_markers
from assistant.models import Answer

__all__ = ["conversation_markdown", "conversation_json", "append_feedback", "append_test_case", "as_test_case",
           "saved_cases_path", "write_export"]

_write_lock = threading.Lock()


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def conversation_markdown(answers: list[Answer]) -> str:
    lines = ["# Conversation", ""]
    for i, a in enumerate(answers, 1):
        lines += [f"## {i}. {a.question}", "", a.answer, ""]
        if a.standalone_question != a.question:
            lines += [f"*Searched as:* {a.standalone_question}", ""]
        for c in a.citations:
            meta = ", ".join(x for x in (c.outlet, c.date) if x)
            lines.append(f"- [{c.n}] {c.title or c.source}{f' ({meta})' if meta else ''} — `{c.source}` "
                         f"chars {c.start}–{c.end}: “{c.quote}”")
        lines.append("")
    return "\n".join(lines)


def conversation_json(answers: list[Answer]) -> str:
    return json.dumps({"exported_at": _now(), "turns": [a.public_dict() for a in answers]}, ensure_ascii=False, indent=2)


def write_export(folder: Path, answers: list[Answer], kind: str) -> Path:
    """Write the conversation as ``conversation.md`` or ``conversation.json`` into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    if kind == "md":
        path = folder / f"conversation-{stamp}.md"
        path.write_text(conversation_markdown(answers), encoding="utf-8")
    else:
        path = folder / f"conversation-{stamp}.json"
        path.write_text(conversation_json(answers), encoding="utf-8")
    return path


def _append(path: Path, record: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with _write_lock, path.open("a", encoding="utf-8") as fh:
        fh.write(json.dumps(record, ensure_ascii=False) + "\n")


def append_feedback(path: Path, answer: Answer, rating: str) -> dict[str, Any]:
    """One JSONL line: question, answer, citations, rating ("up"/"down"), timestamp."""
    record = {
        "question": answer.question, "standalone_question": answer.standalone_question, "answer": answer.answer,
        "abstained": answer.abstained, "backend": answer.backend,
        "citations": answer.public_dict()["citations"],
        "rating": rating, "timestamp": _now(),
    }
    _append(path, record)
    return record


def saved_cases_path(feedback_path: Path) -> Path:
    """Saved test cases live next to the feedback file (``var/saved_cases.jsonl`` by default)."""
    return feedback_path.parent / "saved_cases.jsonl"


def as_test_case(answer: Answer, case_id: str) -> dict[str, Any]:
    """The turn as one item of an evaluation question set (same fields as data/eval/dev.jsonl)."""
    text = strip_markers(answer.answer)
    sources = list(dict.fromkeys(c.source for c in answer.citations))
    return {
        "id": case_id, "question": answer.standalone_question or answer.question, "lang": answer.language,
        "type": "factoid", "answer": text, "answer_aliases": [], "sources": sources,
        "evidence": list(dict.fromkeys(c.quote for c in answer.citations)),
    }


def append_test_case(path: Path, answer: Answer) -> dict[str, Any]:
    case_id = "saved-" + datetime.now().strftime("%Y%m%d-%H%M%S-%f")
    record = as_test_case(answer, case_id)
    _append(path, record)
    return record
