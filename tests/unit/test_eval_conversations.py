"""Multi-turn items in question sets: history lists, conversation ids with turns, follow-up tags."""

from __future__ import annotations

import json

import pytest

from assistant.errors import BadInput
from assistant.evaluation.dataset import load_set
from assistant.evaluation.runner import conversation_summary


def _write(tmp_path, rows, name="set.jsonl"):
    path = tmp_path / name
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def test_turns_of_a_conversation_get_the_earlier_questions_in_turn_order(tmp_path):
    path = _write(tmp_path, [
        {"id": "b2", "conversation": "b", "turn": 2, "question": "Dan kapan?", "answer": "x", "kind": "follow-up"},
        {"id": "a1", "conversation": "a", "turn": "1", "question": "Siapa A?", "answer": "x"},
        {"id": "b1", "conversation": "b", "turn": 1, "question": "Siapa B?", "answer": "x"},
        {"id": "b3", "conversation": "b", "turn": 3, "question": "Why did B's son leave?", "answer": "x",
         "follow_up": "false"},
        {"id": "h", "history": ["Siapa C?", "Dan D?"], "question": "What about E?", "answer": "x", "follow_up": True},
    ])
    items = {it.id: it for it in load_set(path).items}
    assert items["b2"].history == ("Siapa B?",) and items["b2"].follow_up is True
    assert items["b3"].history == ("Siapa B?", "Dan kapan?") and items["b3"].follow_up is False
    assert items["a1"].history == () and items["a1"].follow_up is None
    assert items["h"].history == ("Siapa C?", "Dan D?")


def test_history_column_in_csv_is_a_list(tmp_path):
    path = tmp_path / "set.csv"
    path.write_text('id,question,answer,history,kind\nq1,What about E?,x,Siapa C?|Dan D?,follow-up\n', encoding="utf-8")
    item = load_set(path).items[0]
    assert item.history == ("Siapa C?", "Dan D?") and item.follow_up is True


@pytest.mark.parametrize(("rows", "message"), [
    ([{"id": "a", "conversation": "c", "question": "q", "answer": "x"}], "needs a 'turn'"),
    ([{"id": "a", "turn": 1, "question": "q", "answer": "x"}], "needs a 'conversation' id"),
    ([{"id": "a", "conversation": "c", "turn": 0, "question": "q", "answer": "x"}], "whole number from 1"),
    ([{"id": "a", "conversation": "c", "turn": 2, "question": "q", "answer": "x"}], "turn 1 is missing"),
    ([{"id": "a", "conversation": "c", "turn": 1, "question": "q", "answer": "x"},
      {"id": "b", "conversation": "c", "turn": 1, "question": "r", "answer": "x"}], "two turns 1"),
    ([{"id": "a", "conversation": "c", "turn": 1, "history": ["p"], "question": "q", "answer": "x"}], "not both"),
    ([{"id": "a", "question": "q", "answer": "x", "kind": "sideways"}], "follow-up or topic-switch"),
    ([{"id": "a", "question": "q", "answer": "x", "kind": "follow-up", "follow_up": False}], "contradicts"),
    ([{"id": "a", "question": "q", "answer": "x", "history": "[1, 2]"}], "'history' must be a list of strings"),
])
def test_malformed_conversations_are_one_line_errors(tmp_path, rows, message):
    with pytest.raises(BadInput, match=message) as info:
        load_set(_write(tmp_path, rows))
    assert "\n" not in str(info.value)


def test_conversation_summary_rates_per_kind():
    rows = [
        {"id": "f1", "follow_up": True, "rewritten": True, "rewrite_correct": True, "answer_correct": True, "pass": True},
        {"id": "f2", "follow_up": True, "rewritten": False, "rewrite_correct": False, "answer_correct": False,
         "pass": False},
        {"id": "s1", "follow_up": False, "rewritten": False, "rewrite_correct": True, "answer_correct": None,
         "pass": True},
        {"id": "plain", "follow_up": None, "rewritten": False, "rewrite_correct": None, "answer_correct": True,
         "pass": True},
    ]
    conv = conversation_summary(rows)
    assert conv["n"] == 3 and conv["rewrite_decision_accuracy"] == pytest.approx(2 / 3, abs=1e-4)
    assert conv["follow_up"]["rewrite_decision_accuracy"] == 0.5 and conv["follow_up"]["answer_correct"] == 0.5
    assert conv["topic_switch"]["rewrite_decision_accuracy"] == 1.0 and conv["topic_switch"]["answer_correct"] is None
    assert conv["wrong_decisions"] == ["f2"]
    assert conversation_summary(rows[3:]) is None
