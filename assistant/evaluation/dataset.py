"""Question sets: JSONL (one object per line) or CSV with the same columns.

Fields: ``id``, ``question`` (required), ``lang``, ``type``, ``answer``, ``answer_aliases``, ``sources``, ``evidence``;
extra fields are ignored. Empty ``evidence`` marks an unanswerable question. In CSV the list columns hold a JSON list
or ``|``-separated values.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assistant.errors import BadInput
from assistant.question import clean_question
from index.language import detect_language

__all__ = ["EvalItem", "load_items", "parse_item"]

LIST_FIELDS = ("answer_aliases", "sources", "evidence")


@dataclass(frozen=True)
class EvalItem:
    id: str
    question: str
    lang: str
    type: str
    answer: str = ""
    answer_aliases: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    evidence: tuple[str, ...] = ()

    @property
    def answerable(self) -> bool:
        return bool(self.evidence)


def _as_list(value: Any, name: str, where: str) -> tuple[str, ...]:
    if value is None or value == "":
        return ()
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            try:
                value = json.loads(text)
            except json.JSONDecodeError as exc:
                raise BadInput(f"{where}: field '{name}' is not a valid JSON list ({exc.msg})") from None
        else:
            return tuple(p.strip() for p in text.split("|") if p.strip())
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise BadInput(f"{where}: field '{name}' must be a list of strings")
    return tuple(v for v in value if v.strip())


def _as_text(value: Any, name: str, where: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, (str, int, float)) or isinstance(value, bool):
        raise BadInput(f"{where}: field '{name}' must be text")
    return str(value).strip()


def parse_item(raw: Any, where: str) -> EvalItem:
    """One validated item from a decoded row; ``where`` (``"dev.jsonl line 7"``) prefixes every error."""
    if not isinstance(raw, dict):
        raise BadInput(f"{where}: expected a JSON object")
    for name in ("id", "question"):
        if not clean_question(_as_text(raw.get(name), name, where)):  # zero-width characters alone count as empty
            raise BadInput(f"{where}: missing field '{name}'")
    question = _as_text(raw["question"], "question", where)
    lists = {n: _as_list(raw.get(n), n, where) for n in LIST_FIELDS}
    if lists["evidence"] and not lists["sources"]:
        raise BadInput(f"{where}: field 'evidence' is given but 'sources' is empty")
    lang = _as_text(raw.get("lang"), "lang", where) or detect_language(question)
    kind = _as_text(raw.get("type"), "type", where) or ("factoid" if lists["evidence"] else "unanswerable")
    return EvalItem(id=_as_text(raw["id"], "id", where), question=question, lang=lang, type=kind,
                    answer=_as_text(raw.get("answer"), "answer", where), **lists)


def _rows(path: Path) -> list[tuple[str, Any]]:
    name = path.name
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        line = path.read_bytes()[: exc.start].count(b"\n") + 1
        raise BadInput(f"{name} line {line}: not UTF-8 text (save the file as UTF-8)") from None
    if path.suffix.lower() == ".csv":
        reader = csv.DictReader(text.splitlines())
        if not reader.fieldnames or "question" not in reader.fieldnames:
            raise BadInput(f"{name}: the CSV header must name at least the columns id and question")
        return [(f"{name} line {reader.line_num}", row) for row in reader]
    rows = []
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            rows.append((f"{name} line {n}", json.loads(line)))
        except json.JSONDecodeError as exc:
            raise BadInput(
                f"{name} line {n}: not valid JSON ({exc.msg} at column {exc.colno}); each line must be one JSON object"
            ) from None
    return rows


def load_items(path: Path) -> list[EvalItem]:
    """The validated items of a ``.jsonl`` or ``.csv`` question set; :class:`BadInput` names the bad line."""
    path = Path(path)
    if not path.is_file():
        raise BadInput(f"question set not found: {path}")
    if path.suffix.lower() not in (".jsonl", ".json", ".csv"):
        raise BadInput(f"{path.name}: use a .jsonl or .csv question set")
    items: list[EvalItem] = []
    seen: dict[str, str] = {}
    for where, raw in _rows(path):
        item = parse_item(raw, where)
        if item.id in seen:
            raise BadInput(f"{where}: duplicate id '{item.id}' (first at {seen[item.id]})")
        seen[item.id] = where
        items.append(item)
    if not items:
        raise BadInput(f"{path.name}: no questions in the file")
    return items
