"""One row of a question set and the item it becomes: :class:`Row` validates the canonical fields and accepts the
column names other tools use for them (pydantic ``AliasChoices``, preferred name first), reads text, list and yes/no
values leniently and checks the fields that go together (answerability marks, conversation turns);
:meth:`Row.item` gives the :class:`EvalItem` the evaluator scores.
"""

from __future__ import annotations

import ast
import json
from dataclasses import dataclass, replace
from typing import Annotated, Any

from pydantic import (
    AliasChoices,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    model_validator,
)

from assistant.errors import BadInput
from assistant.question import clean_question
from index.language import detect_language

__all__ = ["EvalItem", "Row", "parse_item", "ALIASES", "MARKS"]

_TRUE, _FALSE = {"true", "yes", "y", "1"}, {"false", "no", "n", "0"}
KINDS = {"follow-up": True, "followup": True, "follow_up": True, "topic-switch": False, "topic_switch": False,
         "switch": False, "standalone": False}


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


def _list(value: Any, info: ValidationInfo) -> tuple[str, ...]:
    """A JSON list, a Python list (as pandas writes a list column to CSV), ``|``-separated text, or nothing.

    >>> _list('a | b', None), _list("['a', 'b']", None), _list(None, None)
    (('a', 'b'), ('a', 'b'), ())
    """
    name = info.field_name if info else "list"
    if value is None or value == "":
        return ()
    if isinstance(value, str):
        text = value.strip()
        if not text.startswith("["):
            return tuple(p.strip() for p in text.split("|") if p.strip())
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            try:
                value = ast.literal_eval(text)
            except (ValueError, SyntaxError, MemoryError, RecursionError):
                raise ValueError(f"field '{name}' is not a valid JSON list ({exc.msg})") from None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"field '{name}' must be a list of strings")
    return tuple(v for v in value if v.strip())


def _text(value: Any, info: ValidationInfo) -> str:
    if value is None:
        return ""
    if not isinstance(value, (str, int, float)) or isinstance(value, bool):
        raise ValueError(f"field '{info.field_name}' must be text")
    return str(value).strip()


def _flag(value: Any, info: ValidationInfo) -> bool | None:
    """True/false, yes/no, y/n, 1/0 in any case; None when empty.

    >>> _flag("Yes", None), _flag(0, None), _flag("", None)
    (True, False, None)
    """
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE | _FALSE:
        return text in _TRUE
    raise ValueError(f"field '{info.field_name if info else 'flag'}' must be true or false, not {str(value)[:40]!r}")


def _answers(value: Any, info: ValidationInfo) -> tuple[str, ...]:
    """A reference answer as text, or several (a list, or SQuAD's ``{"text": [...]}``): the first is the answer."""
    if isinstance(value, dict) and "text" in value:
        value = value["text"]
    if isinstance(value, list) or (isinstance(value, str) and value.strip().startswith("[")):
        return _list(value, info)
    text = _text(value, info)
    return (text,) if text else ()


Text = Annotated[str, BeforeValidator(_text)]
Texts = Annotated[tuple[str, ...], BeforeValidator(_list)]
Flag = Annotated[bool | None, BeforeValidator(_flag)]


def _aliases(*names: str) -> Any:
    return Field(default=None, validation_alias=AliasChoices(*names))


class Row(BaseModel):
    """One question-set row. Each field accepts the column names listed in its ``AliasChoices`` (names compared
    lower-cased, spaces as underscores; the first present is read); other columns are ignored."""

    model_config = ConfigDict(extra="ignore", frozen=True, validate_default=True)

    id: Text = _aliases("id", "question_id", "qid", "query_id")
    question: Text = _aliases("question", "user_input", "query", "input", "question_text")
    answer: Annotated[tuple[str, ...], BeforeValidator(_answers)] = _aliases(
        "answer", "reference", "ground_truth", "ground_truths", "expected_answer", "expected_output",
        "reference_answer", "gold_answer", "answers")
    answer_aliases: Texts = _aliases("answer_aliases", "aliases")
    sources: Texts = _aliases("sources", "source", "reference_sources")
    evidence: Texts = _aliases("evidence", "reference_contexts", "contexts", "context")
    lang: Text = _aliases("lang", "language")
    type: Text = _aliases("type", "question_type", "evolution_type", "synthesizer_name")
    history: Texts = _aliases("history", "previous_questions")
    conversation: Text = _aliases("conversation", "conversation_id", "dialogue_id")
    turn: Text = _aliases("turn", "turn_index")
    follow_up: Flag = _aliases("follow_up", "is_follow_up")
    kind: Text = _aliases("kind")
    # an explicit answerability mark, either polarity; "answerable" wins when a row gives both
    answerable: Flag = _aliases("answerable", "is_answerable")
    unanswerable: Flag = _aliases("unanswerable", "is_unanswerable", "is_impossible")

    @model_validator(mode="before")
    @classmethod
    def _an_object(cls, raw: Any) -> Any:
        if not isinstance(raw, dict):
            raise ValueError("expected a JSON object")
        return raw

    @property
    def marked_answerable(self) -> bool | None:
        """The explicit answerability mark (None: not marked)."""
        return self.answerable if self.answerable is not None else (
            None if self.unanswerable is None else not self.unanswerable)

    @model_validator(mode="after")
    def _consistent(self) -> Row:
        for name in ("id", "question"):
            if not clean_question(getattr(self, name)):  # zero-width characters alone count as empty
                raise ValueError(f"missing field '{name}'")
        flag = self.marked_answerable
        if self.type.lower() == "unanswerable" and flag:
            raise ValueError("type 'unanswerable' but marked answerable")
        if (flag is False or self.type.lower() == "unanswerable") and self.evidence:
            raise ValueError("marked unanswerable but field 'evidence' is given")
        if flag and not (self.answer or self.evidence or self.sources):
            raise ValueError("marked answerable but gives no answer, evidence or sources to score against")
        if self.turn and (not self.turn.isdigit() or int(self.turn) < 1):
            raise ValueError(f"field 'turn' must be a whole number from 1 (got {self.turn[:20]!r})")
        if self.conversation and not self.turn:
            raise ValueError("field 'conversation' needs a 'turn' (1, 2, ...) to order the questions")
        if self.turn and not self.conversation:
            raise ValueError("field 'turn' needs a 'conversation' id")
        kind = self.kind.lower()
        if kind and kind not in KINDS:
            raise ValueError(f"field 'kind' must be follow-up or topic-switch (got {kind[:30]!r})")
        if kind and self.follow_up is not None and self.follow_up != KINDS[kind]:
            raise ValueError(f"'kind: {kind}' contradicts 'follow_up: {str(self.follow_up).lower()}'")
        return self

    def item(self) -> EvalItem:
        flag = self.marked_answerable
        answer = self.answer[0] if self.answer else ""
        aliases = tuple(dict.fromkeys((*self.answer[1:], *self.answer_aliases)))
        unanswerable = flag is False or self.type.lower() == "unanswerable"
        kind = self.kind.lower()
        item = EvalItem(id=self.id, question=self.question, lang=self.lang or detect_language(self.question),
                        type=self.type, answer=answer, unanswerable=unanswerable, answer_aliases=aliases,
                        sources=self.sources, evidence=self.evidence, history=self.history,
                        conversation=self.conversation, turn=int(self.turn) if self.turn else None,
                        follow_up=KINDS[kind] if kind else self.follow_up)
        return item if self.type else replace(item, type="factoid" if item.answerable else "unanswerable")


# canonical field: accepted column names, preferred first (the answerability marks are in MARKS)
ALIASES: dict[str, tuple[str, ...]] = {
    name: tuple(str(c) for c in field.validation_alias.choices)  # type: ignore[union-attr]
    for name, field in Row.model_fields.items() if name not in ("answerable", "unanswerable")}
# an explicit answerability mark and its polarity (True: the field says "answerable")
MARKS: dict[str, bool] = {str(c): name == "answerable" for name in ("answerable", "unanswerable")
                          for c in Row.model_fields[name].validation_alias.choices}  # type: ignore[union-attr]


def parse_item(raw: Any, where: str, row_id: str | None = None) -> EvalItem:
    """One validated item from a row (canonical or other tools' column names); ``row_id`` is used when the set has
    no ids; ``where`` (``"dev.jsonl line 7"``) prefixes every error.

    >>> parse_item({"user_input": "Siapa?", "reference": ["Simonyan", "M. Simonyan"]}, "x", "row-1").answer_aliases
    ('M. Simonyan',)
    >>> parse_item({"id": "q1", "question": "Siapa?", "answerable": "maybe"}, "set.jsonl line 1")
    Traceback (most recent call last):
    ...
    index.errors.BadInput: set.jsonl line 1: field 'answerable' must be true or false, not 'maybe'
    """
    if isinstance(raw, dict) and row_id is not None and raw.get("id") in (None, ""):
        raw = {**raw, "id": row_id}
    try:
        return Row.model_validate(raw).item()
    except ValidationError as exc:
        error = exc.errors()[0]
        cause = (error.get("ctx") or {}).get("error")
        raise BadInput(f"{where}: {cause if cause is not None else error['msg']}") from None
