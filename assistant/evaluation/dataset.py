"""Question sets: JSONL (one object per line) or CSV with the same columns.

Fields: ``question`` (required), ``id``, ``lang``, ``type``, ``answer``, ``answer_aliases``, ``sources``, ``evidence``,
``answerable``; extra fields are ignored. In CSV the list columns hold a JSON list, a Python list (as pandas writes
one) or ``|``-separated values.

* **Conversations.** ``history`` (a list of earlier questions) makes an item the last turn of a conversation; or
  rows sharing a ``conversation`` id are its turns, in ``turn`` order (1, 2, ...): each row's history is the
  questions of the turns before it. The evaluator replays the history through the same chain (their answers become
  the conversation) and scores the item's own question. ``follow_up: true|false`` (or ``kind: follow-up`` /
  ``topic-switch``) says whether that question leans on the conversation: the summary reports how often the
  rewrite decision was right, and the answers' accuracy, per kind.

* **What is scored.** A question is *unanswerable* only when marked so (``answerable: false``, ``unanswerable: true``,
  ``is_impossible: true`` or ``type: unanswerable``), or when it gives nothing to score against (no answer, no
  evidence, no sources). Otherwise it is answerable: its answer is scored against ``answer``/``evidence`` when given,
  its retrieval against the ``evidence`` spans, or against the ``sources`` (article level) when only those are given.
* **Ids.** A file without any ``id`` gets ``row-1``, ``row-2``... by position (stable while rows are not reordered);
  in a file that uses ids, a row without one is an error.
* **Column names of other tools** (RAGAS, deepeval, SQuAD-style) are mapped, see :class:`~assistant.evaluation.set_row.Row`;
  what the evaluated system produced (``response``, ``retrieved_contexts``...) is ignored. :func:`load_set` returns a
  note of the mapping.

Files are read into rows by :mod:`~assistant.evaluation.set_files`, each row validated by
:mod:`~assistant.evaluation.set_row`; this module maps a file's columns, numbers rows without ids and links the turns
of a conversation.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from assistant.errors import BadInput
from assistant.evaluation.set_files import FIELD_LIMIT, csv_rows, jsonl_rows
from assistant.evaluation.set_row import ALIASES, MARKS, EvalItem, parse_item

__all__ = ["EvalItem", "QuestionSet", "load_items", "load_set", "parse_item", "ALIASES", "FIELD_LIMIT"]

# the evaluated system's output in RAGAS / deepeval files: never a reference
SYSTEM_OUTPUT = ("response", "retrieved_contexts", "retrieval_context", "actual_output")
REFERENCE_ANSWERS = ALIASES["answer"][1:]


@dataclass(frozen=True)
class QuestionSet:
    items: list[EvalItem]
    notes: list[str]  # how the columns were read, when not as named here


def _link_turns(items: list[EvalItem], wheres: list[str]) -> list[EvalItem]:
    """Give each turn of a ``conversation`` the questions of its earlier turns as history."""
    turns: dict[str, dict[int, EvalItem]] = {}
    for item, where in zip(items, wheres, strict=True):
        if not item.conversation:
            continue
        if item.history:
            raise BadInput(f"{where}: give either 'history' or 'conversation' and 'turn', not both")
        seen = turns.setdefault(item.conversation, {})
        if item.turn in seen:
            raise BadInput(f"{where}: conversation '{item.conversation}' has two turns {item.turn}")
        seen[item.turn or 0] = item
    out = []
    for item in items:
        if item.conversation:
            ordered = turns[item.conversation]
            missing = [t for t in range(1, item.turn or 0) if t not in ordered]
            if missing:
                raise BadInput(f"conversation '{item.conversation}': turn {missing[0]} is missing "
                               f"(turn {item.turn} needs every earlier turn)")
            item = replace(item, history=tuple(ordered[t].question for t in range(1, item.turn or 0)))
        out.append(item)
    return out


def _plan(fields: list[str]) -> tuple[dict[str, str], list[str], list[str]]:
    """Which column feeds each canonical field, the columns ignored (the evaluated system's output), and the note
    for the user (empty when read as named)."""
    have = set(fields)
    output = [f for f in SYSTEM_OUTPUT if f in have]
    if "answer" in have and any(f in have for f in REFERENCE_ANSWERS):
        output.append("answer")  # RAGAS: `answer` is the system's reply next to the reference
    if output and "reference_contexts" not in have and "contexts" in have and "evidence" not in have:
        output.append("contexts")  # what the evaluated system retrieved
    plan: dict[str, str] = {}
    for field, names in ALIASES.items():
        found = next((n for n in names if n in have and n not in output), None)
        if found:
            plan[field] = found
    mark = next((m for m in MARKS if m in have), None)
    if mark:
        plan["answerable"] = mark
    mapped = [f"{src}→{field}" for field, src in plan.items() if src != field]
    notes = [f"read columns {', '.join(mapped)}"] if mapped else []
    if output:
        notes.append(f"ignored columns {', '.join(output)} (the evaluated system's output, not references)")
    return plan, output, notes


def load_set(path: Path) -> QuestionSet:
    """The validated items of a ``.jsonl`` or ``.csv`` question set, with a note of how its columns were read;
    :class:`BadInput` names the bad line."""
    path = Path(path)
    if not path.is_file():
        raise BadInput(f"question set not found: {path}")
    if path.suffix.lower() not in (".jsonl", ".json", ".csv"):
        raise BadInput(f"{path.name}: use a .jsonl or .csv question set")
    is_csv = path.suffix.lower() == ".csv"
    fields, rows = csv_rows(path) if is_csv else jsonl_rows(path)
    plan, ignored, notes = _plan(fields)
    if is_csv and rows and "question" not in plan:
        raise BadInput(f"{path.name}: the CSV header must name a question column (question, user_input or query)")
    generate = "id" not in plan
    if generate and rows:
        notes.append(f"no id column: questions are numbered row-1 to row-{len(rows)} in file order")
    items: list[EvalItem] = []
    wheres: list[str] = []
    seen: dict[str, str] = {}
    for n, (where, raw) in enumerate(rows, start=1):
        if isinstance(raw, dict):
            raw = {k: v for k, v in raw.items() if k not in ignored}
        item = parse_item(raw, where, f"row-{n}" if generate else None)
        if item.id in seen:
            raise BadInput(f"{where}: duplicate id '{item.id}' (first at {seen[item.id]})")
        seen[item.id] = where
        items.append(item)
        wheres.append(where)
    if not items:
        raise BadInput(f"{path.name}: no questions in the file")
    return QuestionSet(_link_turns(items, wheres), notes)


def load_items(path: Path) -> list[EvalItem]:
    """The validated items of a ``.jsonl`` or ``.csv`` question set; :class:`BadInput` names the bad line."""
    return load_set(path).items
