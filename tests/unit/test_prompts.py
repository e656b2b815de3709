"""Prompt files are read again once edited (no process-long cache hides an edit)."""

from __future__ import annotations

import os

from assistant.prompts import load_prompt

PROMPT = "variables: [question]\nsystem: {system}\nuser: \"Q: {{question}}\"\n"


def test_an_edited_prompt_is_read_again(tmp_path):
    path = tmp_path / "qa" / "mine.yaml"
    path.parent.mkdir()
    path.write_text(PROMPT.format(system="Answer briefly."), encoding="utf-8")
    first = load_prompt(tmp_path, "qa/mine")
    assert load_prompt(tmp_path, "qa/mine") is first  # unchanged file: parsed once
    path.write_text(PROMPT.format(system="Answer in one sentence."), encoding="utf-8")
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))  # a later modification time, whatever the clock
    assert load_prompt(tmp_path, "qa/mine").system == "Answer in one sentence."
