"""What reaches the served app's log and the question shown back: zero-width characters and the byte-order mark
escaped, terminal escape sequences removed whole, a forged dropdown value refused in one line."""

from __future__ import annotations

import io
import logging
import unicodedata

import pytest

from assistant.question import clean_question
from ui.log_guard import _GuardedStream, escape_controls, quiet_choice_errors


def test_every_invisible_character_is_escaped_in_the_log():
    """Controls, separators and every format character (zero-width space, joiners, bidi marks, BOM, tags)."""
    invisible = [chr(c) for c in range(0x110000)
                 if unicodedata.category(chr(c)) in ("Cc", "Cf", "Zl", "Zp") and chr(c) not in "\t\n"]
    raw = [hex(ord(c)) for c in invisible if escape_controls(c) == c]
    assert not raw, raw
    out = io.StringIO()
    _GuardedStream(out, 400).write("\ufeffSiapa\u200b pre\u2060siden\u200d?\n")
    assert out.getvalue() == "\\ufeffSiapa\\u200b pre\\u2060siden\\u200d?\n"


@pytest.mark.parametrize("question", [
    "\x1b[31mSiapa\x1b[0m presiden Kazakhstan?",
    "Siapa \x1b[1;38;5;196mpresiden\x1b[m Kazakhstan?",
    "Siapa\x1b]0;judul jendela\x07 presiden Kazakhstan?",
    "Siapa\x1b]8;;http://x\x1b\\ presiden Kazakhstan?",
    "\x1bcSiapa presiden Kazakhstan?\x1b[2J",
])
def test_terminal_escape_sequences_are_removed_whole(question):
    """Stripping ESC alone left "[31m" in the question shown back."""
    assert clean_question(question) == "Siapa presiden Kazakhstan?"


def test_text_that_only_looks_like_an_escape_is_kept():
    assert clean_question("Siapa [31m presiden?") == "Siapa [31m presiden?"
    assert clean_question("kata â€\x9d kutip") == "kata â€ kutip"  # a lone C1 byte (mojibake) is not a sequence


def test_forged_dropdown_value_is_one_line_not_a_traceback(caplog):
    import gradio as gr

    quiet_choice_errors()
    quiet_choice_errors()  # idempotent
    dropdown = gr.Dropdown(["id", "en"], label="Answer language")
    assert dropdown.preprocess("en") == "en"
    with caplog.at_level(logging.WARNING), pytest.raises(gr.Error) as err:
        dropdown.preprocess("zz-forged\x1b[31m")
    assert err.value.print_exception is False  # Gradio prints no traceback for it
    assert "zz-forged" not in str(err.value) and "not one of its choices" in str(err.value)
    lines = [r.getMessage() for r in caplog.records]
    assert lines == ["refused a value that is not among the choices of Answer language"]
