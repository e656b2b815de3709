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
* **Column names of other tools** (RAGAS, deepeval, SQuAD-style) are mapped, see :data:`ALIASES`; what the evaluated
  system produced (``response``, ``retrieved_contexts``...) is ignored. :func:`load_set` returns a note of the mapping.
"""

from __future__ import annotations

import ast
import csv
import json
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from assistant.errors import BadInput
from assistant.question import clean_question
from index.language import detect_language

__all__ = ["EvalItem", "QuestionSet", "load_items", "load_set", "parse_item", "ALIASES", "FIELD_LIMIT"]

LIST_FIELDS = ("answer_aliases", "sources", "evidence", "history")
KINDS = {"follow-up": True, "followup": True, "follow_up": True, "topic-switch": False, "topic_switch": False,
         "switch": False, "standalone": False}
# canonical field: accepted column names, preferred first (names are compared lower-cased, spaces as underscores)
ALIASES: dict[str, tuple[str, ...]] = {
    "id": ("id", "question_id", "qid", "query_id"),
    "question": ("question", "user_input", "query", "input", "question_text"),
    "answer": ("answer", "reference", "ground_truth", "ground_truths", "expected_answer", "expected_output",
               "reference_answer", "gold_answer", "answers"),
    "answer_aliases": ("answer_aliases", "aliases"),
    "sources": ("sources", "source", "reference_sources"),
    "evidence": ("evidence", "reference_contexts", "contexts", "context"),
    "lang": ("lang", "language"),
    "type": ("type", "question_type", "evolution_type", "synthesizer_name"),
    "history": ("history", "previous_questions"),
    "conversation": ("conversation", "conversation_id", "dialogue_id"),
    "turn": ("turn", "turn_index"),
    "follow_up": ("follow_up", "is_follow_up"),
    "kind": ("kind",),
}
# an explicit answerability mark and its polarity (True: the field says "answerable")
MARKS = {"answerable": True, "is_answerable": True, "unanswerable": False, "is_unanswerable": False,
         "is_impossible": False}
# the evaluated system's output in RAGAS / deepeval files: never a reference
SYSTEM_OUTPUT = ("response", "retrieved_contexts", "retrieval_context", "actual_output")
REFERENCE_ANSWERS = ALIASES["answer"][1:]
FIELD_LIMIT = 1_000_000  # characters in one CSV field; a list of reference contexts stays far below it
_TRUE, _FALSE = {"true", "yes", "y", "1"}, {"false", "no", "n", "0"}


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
    unanswerable: bool = False  # marked so explicitly
    history: tuple[str, ...] = ()  # earlier questions of the conversation, replayed before this one
    conversation: str = ""
    turn: int | None = None
    follow_up: bool | None = None  # whether the question leans on the conversation (None: not tagged)

    @property
    def answerable(self) -> bool:
        """Not marked unanswerable and something to score against: an answer, evidence or sources."""
        return not self.unanswerable and bool(self.answer or self.evidence or self.sources)

    @property
    def scores_answer(self) -> bool:
        """The answer can be judged: a reference answer or evidence to quote."""
        return self.answerable and bool(self.answer or self.evidence)


@dataclass(frozen=True)
class QuestionSet:
    items: list[EvalItem]
    notes: list[str]  # how the columns were read, when not as named here


def _as_list(value: Any, name: str, where: str) -> tuple[str, ...]:
    if value is None or value == "":
        return ()
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            try:
                value = json.loads(text)
            except json.JSONDecodeError as exc:
                try:  # a Python list, as pandas writes a list column to CSV
                    value = ast.literal_eval(text)
                except (ValueError, SyntaxError, MemoryError, RecursionError):
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


def _as_flag(value: Any, name: str, where: str) -> bool | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE | _FALSE:
        return text in _TRUE
    raise BadInput(f"{where}: field '{name}' must be true or false, not {str(value)[:40]!r}")


def parse_item(raw: Any, where: str, row_id: str | None = None) -> EvalItem:
    """One validated item from a row with the canonical field names (``answerable`` a flag, ``answer`` text or a
    list: the first is the answer, the others aliases); ``row_id`` is used when the set has no ids; ``where``
    (``"dev.jsonl line 7"``) prefixes every error."""
    if not isinstance(raw, dict):
        raise BadInput(f"{where}: expected a JSON object")
    if row_id is not None and raw.get("id") in (None, ""):
        raw = {**raw, "id": row_id}
    for name in ("id", "question"):
        if not clean_question(_as_text(raw.get(name), name, where)):  # zero-width characters alone count as empty
            raise BadInput(f"{where}: missing field '{name}'")
    question = _as_text(raw["question"], "question", where)
    lists = {n: _as_list(raw.get(n), n, where) for n in LIST_FIELDS}
    answer = raw.get("answer")
    if isinstance(answer, dict) and "text" in answer:  # SQuAD: {"text": [...], "answer_start": [...]}
        answer = answer["text"]
    if isinstance(answer, list) or (isinstance(answer, str) and answer.strip().startswith("[")):
        answers = _as_list(answer, "answer", where)
        answer = answers[0] if answers else ""
        lists["answer_aliases"] = tuple(dict.fromkeys((*answers[1:], *lists["answer_aliases"])))
    answer = _as_text(answer, "answer", where)
    kind = _as_text(raw.get("type"), "type", where)
    flag = _as_flag(raw.get("answerable"), "answerable", where)
    if kind.lower() == "unanswerable" and flag:
        raise BadInput(f"{where}: type 'unanswerable' but marked answerable")
    unanswerable = flag is False or kind.lower() == "unanswerable"
    if unanswerable and lists["evidence"]:
        raise BadInput(f"{where}: marked unanswerable but field 'evidence' is given")
    if flag and not (answer or lists["evidence"] or lists["sources"]):
        raise BadInput(f"{where}: marked answerable but gives no answer, evidence or sources to score against")
    lang = _as_text(raw.get("lang"), "lang", where) or detect_language(question)
    item = EvalItem(id=_as_text(raw["id"], "id", where), question=question, lang=lang, type=kind, answer=answer,
                    unanswerable=unanswerable, answer_aliases=lists["answer_aliases"], sources=lists["sources"],
                    evidence=lists["evidence"], history=lists["history"], **_conversation_fields(raw, where))
    return item if kind else replace(item, type="factoid" if item.answerable else "unanswerable")


def _conversation_fields(raw: dict[str, Any], where: str) -> dict[str, Any]:
    conversation = _as_text(raw.get("conversation"), "conversation", where)
    turn_text = _as_text(raw.get("turn"), "turn", where)
    turn = None
    if turn_text:
        if not turn_text.isdigit() or int(turn_text) < 1:
            raise BadInput(f"{where}: field 'turn' must be a whole number from 1 (got {turn_text[:20]!r})")
        turn = int(turn_text)
    if conversation and turn is None:
        raise BadInput(f"{where}: field 'conversation' needs a 'turn' (1, 2, ...) to order the questions")
    if turn is not None and not conversation:
        raise BadInput(f"{where}: field 'turn' needs a 'conversation' id")
    follow_up = _as_flag(raw.get("follow_up"), "follow_up", where)
    kind = _as_text(raw.get("kind"), "kind", where).lower()
    if kind:
        if kind not in KINDS:
            raise BadInput(f"{where}: field 'kind' must be follow-up or topic-switch (got {kind[:30]!r})")
        if follow_up is not None and follow_up != KINDS[kind]:
            raise BadInput(f"{where}: 'kind: {kind}' contradicts 'follow_up: {str(follow_up).lower()}'")
        follow_up = KINDS[kind]
    return {"conversation": conversation, "turn": turn, "follow_up": follow_up}


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


def _key(name: str) -> str:
    return re.sub(r"[\s\-]+", "_", name.strip().lower())


def _plan(fields: list[str]) -> tuple[dict[str, str], list[str]]:
    """Which column feeds each canonical field, and the note for the user (empty when read as named)."""
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
    return plan, notes


def _canonical(row: dict[str, Any], plan: dict[str, str]) -> dict[str, Any]:
    raw = {field: row.get(src) for field, src in plan.items()}
    if "answerable" in plan and not MARKS[plan["answerable"]]:
        raw["answerable"] = _invert(raw["answerable"])
    return raw


def _invert(value: Any) -> Any:
    if isinstance(value, bool):
        return not value
    text = str(value or "").strip().lower()
    return "false" if text in _TRUE else "true" if text in _FALSE else value


def _decode_error(path: Path, exc: UnicodeDecodeError | None = None) -> BadInput:
    data = path.read_bytes()
    try:
        data.decode("utf-8-sig")
        start = exc.start if exc else 0
    except UnicodeDecodeError as err:
        start = err.start + (3 if data.startswith(b"\xef\xbb\xbf") else 0)
    line = data[:start].count(b"\n") + 1
    return BadInput(f"{path.name} line {line}: not UTF-8 text (save the file as UTF-8)")


def _csv_error(name: str, start: int, end: int, exc: csv.Error) -> BadInput:
    msg = str(exc)
    if "field larger than field limit" in msg:
        return BadInput(f"{name} line {start}: a field is longer than {FIELD_LIMIT:,} characters "
                        f"(or an unbalanced quote \" starts there)")
    if "unexpected end of data" in msg:
        return BadInput(f"{name} line {start}: a quote \" opened in this row is never closed (it runs to the end of "
                        f"the file); close it, and double quotes inside a field (\"\")")
    if "expected after" in msg and end > start:
        return BadInput(f"{name} line {start}: a quote \" opened in this row is not closed on its line and swallows "
                        f"the rows up to line {end}; close it, and double quotes inside a field (\"\")")
    if "expected after" in msg:
        return BadInput(f"{name} line {start}: text after a closing quote \"; quote the whole field and double quotes "
                        f"inside it (\"\")")
    return BadInput(f"{name} line {start}: not valid CSV ({msg})")


def _csv_rows(path: Path) -> tuple[list[str], list[tuple[str, dict[str, Any]]]]:
    """The header and ``(where, row)`` of a CSV file, read by the csv module in strict mode.

    A line break, CRLF or U+2028 inside a quoted field is kept. An unbalanced quote is refused, naming the row where
    it opens: in a well-formed file (RFC 4180) a quote that opens a field is closed before the end of the file, and a
    closing quote is followed by a comma or a line end. A quote left open swallows the following lines up to the next
    quote in the file, which is almost always the opening quote of a later field and so is followed by text (strict
    mode's ``',' expected after '"'``), or it runs to the end of the file (``unexpected end of data``). As a further
    check, a row that spans lines must have exactly the header's number of fields. What passes all three is a quote
    closed by a literal quote that ends an unquoted field of a later row (``12",``) with the rest of that row
    filling exactly the missing fields. A single-line row with more non-empty fields than the header (an unquoted
    comma) is refused too; a shorter row leaves the rest empty.
    """
    name = path.name
    old_limit = csv.field_size_limit(FIELD_LIMIT)
    header: list[str] | None = None
    rows: list[tuple[str, dict[str, Any]]] = []
    try:
        with open(path, encoding="utf-8-sig", newline="") as fh:
            reader = csv.reader(fh, strict=True)
            while True:
                start = reader.line_num + 1
                try:
                    record = next(reader)
                except StopIteration:
                    break
                except csv.Error as exc:
                    raise _csv_error(name, start, reader.line_num, exc) from None
                if not any(v.strip() for v in record):
                    continue
                if header is None:
                    header = [_key(h) for h in record]
                    dup = next((h for i, h in enumerate(header) if h and h in header[:i]), None)
                    if dup:
                        raise BadInput(f"{name} line {start}: column '{dup}' appears twice in the header")
                    continue
                if reader.line_num > start and len(record) != len(header):
                    raise BadInput(f"{name} line {start}: this row spans lines {start}-{reader.line_num} and has "
                                   f"{len(record)} fields instead of {len(header)}: probably an unbalanced quote \" "
                                   f"that swallowed the next row")
                if any(v.strip() for v in record[len(header):]):
                    raise BadInput(f"{name} line {start}: {len(record)} fields but the header has {len(header)}; "
                                   f"put quotes around fields that contain commas")
                rows.append((f"{name} line {start}", {h: v for h, v in zip(header, record, strict=False) if h}))
    except UnicodeDecodeError as exc:
        raise _decode_error(path, exc) from None
    finally:
        csv.field_size_limit(old_limit)
    return header or [], rows


def _jsonl_rows(path: Path) -> tuple[list[str], list[tuple[str, Any]]]:
    name = path.name
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _decode_error(path, exc) from None
    rows: list[tuple[str, Any]] = []
    fields: dict[str, None] = {}
    for n, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        where = f"{name} line {n}"
        try:
            raw = json.loads(line)
        except json.JSONDecodeError as exc:
            raise BadInput(
                f"{where}: not valid JSON ({exc.msg} at column {exc.colno}); each line must be one JSON object"
            ) from None
        if isinstance(raw, dict):
            keyed = {_key(k): v for k, v in raw.items()}
            if len(keyed) < len(raw):
                raise BadInput(f"{where}: two fields differ only in case or spacing ({', '.join(raw)})")
            raw = keyed
            fields.update(dict.fromkeys(raw))
        rows.append((where, raw))
    return list(fields), rows


def load_set(path: Path) -> QuestionSet:
    """The validated items of a ``.jsonl`` or ``.csv`` question set, with a note of how its columns were read;
    :class:`BadInput` names the bad line."""
    path = Path(path)
    if not path.is_file():
        raise BadInput(f"question set not found: {path}")
    if path.suffix.lower() not in (".jsonl", ".json", ".csv"):
        raise BadInput(f"{path.name}: use a .jsonl or .csv question set")
    is_csv = path.suffix.lower() == ".csv"
    fields, rows = _csv_rows(path) if is_csv else _jsonl_rows(path)
    plan, notes = _plan(fields)
    if is_csv and rows and "question" not in plan:
        raise BadInput(f"{path.name}: the CSV header must name a question column (question, user_input or query)")
    generate = "id" not in plan
    if generate and rows:
        notes.append(f"no id column: questions are numbered row-1 to row-{len(rows)} in file order")
    items: list[EvalItem] = []
    wheres: list[str] = []
    seen: dict[str, str] = {}
    for n, (where, raw) in enumerate(rows, start=1):
        item = parse_item(_canonical(raw, plan) if isinstance(raw, dict) else raw, where,
                          f"row-{n}" if generate else None)
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
