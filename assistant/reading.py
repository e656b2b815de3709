"""What the trained reader sees and how its output is read: (question, passage) windows and best answer spans.

Shared by training (``training/train_reader.py``) and answering (:mod:`assistant.reader_model`), so both cut
windows and decode spans the same way.

* :func:`windows`: ``<s> question </s></s> passage </s>`` cut into windows of at most ``max_len`` tokens (the
  question capped at ``MAX_QUESTION`` tokens, windows overlapping by ``stride`` tokens), each with the character
  offsets of its passage tokens.
* :func:`best_spans`: from the start/end logits of one window, the best spans (start ≤ end, at most
  ``max_answer`` tokens, passage tokens only, never across a line break) as character offsets, with their score minus the no-answer score
  (the ``<s>`` position): above 0 the window holds an answer by the model's reading.

>>> w = windows(tokenizer, "Siapa?", "Budi datang.")  # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["Window", "Span", "windows", "best_spans", "MAX_LEN", "MAX_QUESTION", "STRIDE", "MAX_ANSWER"]

# Set by hand (not fitted): the retrieved chunks are ~160 tokens, so 256 holds a question and a chunk in one window;
# the question cap and stride follow the usual SQuAD recipe (64 / 64) scaled to the short passages.
MAX_LEN = 256
MAX_QUESTION = 48
STRIDE = 64
MAX_ANSWER = 40  # tokens; the longest answer span read (lists are composed from sentences, not one span)


@dataclass(frozen=True)
class Window:
    ids: list[int]
    offsets: list[tuple[int, int]]  # character offsets into the passage; (-1, -1) for non-passage tokens
    first: int  # index of the first passage token
    last: int  # index of the last passage token


@dataclass(frozen=True)
class Span:
    start: int  # character offsets into the passage
    end: int
    score: float  # span score minus the window's no-answer score
    null: float  # the window's no-answer score (start[0] + end[0])


def _passage_windows(tokenizer: Any, question: str, passage: str, max_len: int, stride: int) -> list[Window]:
    q = tokenizer.encode(question, add_special_tokens=False).ids[:MAX_QUESTION]
    enc = tokenizer.encode(passage, add_special_tokens=False)
    ids, offsets = enc.ids, enc.offsets
    room = max_len - len(q) - 4  # <s> q </s></s> … </s>
    out = []
    begin = 0
    while True:
        piece = ids[begin : begin + room]
        head = [0, *q, 2, 2]
        window_ids = head + piece + [2]
        offs = [(-1, -1)] * len(head) + [tuple(o) for o in offsets[begin : begin + room]] + [(-1, -1)]
        out.append(Window(window_ids, offs, len(head), len(head) + len(piece) - 1))
        if begin + room >= len(ids):
            break
        begin += max(1, room - stride)
    return out


def windows(tokenizer: Any, question: str, passage: str, max_len: int = MAX_LEN, stride: int = STRIDE) -> list[Window]:
    """The windows the reader reads for ``question`` over ``passage`` (a ``tokenizers.Tokenizer``)."""
    return _passage_windows(tokenizer, question, passage, max_len, stride)


def best_spans(start_logits: np.ndarray, end_logits: np.ndarray, window: Window, passage: str, n: int = 3,
               max_answer: int = MAX_ANSWER) -> list[Span]:
    """The ``n`` best non-overlapping spans of one window, as character offsets into ``passage`` (whitespace and
    dangling punctuation trimmed), best first."""
    first, last = window.first, window.last
    if last < first:
        return []
    null = float(start_logits[0] + end_logits[0])
    s = start_logits[first : last + 1]
    e = end_logits[first : last + 1]
    k = min(20, len(s))
    starts = np.argsort(-s)[:k]
    ends = np.argsort(-e)[:k]
    cands = []
    for i in starts:
        for j in ends:
            if j < i or j - i + 1 > max_answer:
                continue
            cands.append((float(s[i] + e[j]), int(i), int(j)))
    cands.sort(reverse=True)
    out: list[Span] = []
    taken: list[tuple[int, int]] = []
    for score, i, j in cands:
        a, b = window.offsets[first + i][0], window.offsets[first + j][1]
        while a < b and (passage[a].isspace() or passage[a] in "▁,;:"):
            a += 1
        while b > a and (passage[b - 1].isspace() or passage[b - 1] in ",;:"):
            b -= 1
        if b <= a or "\n" in passage[a:b] or any(a < tb and ta < b for ta, tb in taken):
            continue  # empty, across a line break (an answer never runs from one paragraph into the next), or taken
        out.append(Span(a, b, score - null, null))
        taken.append((a, b))
        if len(out) >= n:
            break
    return out
