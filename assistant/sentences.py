"""The sentences an answer may quote: every sentence of the passages handed over, with its article offsets.

A sentence the injection detector withholds (decided on its whole paragraph, :mod:`assistant.injection`) and the
article's own headline (it restates the topic; it never answers) are left out.
"""

from __future__ import annotations

from dataclasses import dataclass

from assistant.injection import inside, passage_withheld
from index.chunking import split_sentences
from index.reader import Passage

__all__ = ["Sentence", "candidate_sentences", "MIN_CHARS"]

MIN_CHARS = 15  # set by hand: shorter "sentences" are datelines, bullets' labels or split abbreviations


@dataclass
class Sentence:
    n: int  # 1-based rank of the passage it comes from
    passage: Passage
    start: int  # offsets into the article text
    end: int
    text: str
    index: int = 0  # position among its passage's candidate sentences
    count: int = 0  # candidate sentences in its passage


def candidate_sentences(passages: list[Passage]) -> list[Sentence]:
    """Every quotable sentence of ``passages`` (see the module docstring), passage by passage in reading order."""
    out: list[Sentence] = []
    for n, p in enumerate(passages, start=1):
        withheld = passage_withheld(p)  # decided on the whole paragraph, wherever the chunk starts
        headline = " ".join((p.title or "").split()).casefold()
        mine = []
        for s in split_sentences(p.text):
            text = p.text[s.start : s.end]
            if (len(text) < MIN_CHARS or inside(withheld, s.start, s.end)
                    or " ".join(text.split()).casefold() == headline):
                continue
            mine.append(Sentence(n, p, p.start + s.start, p.start + s.end, text))
        for i, sent in enumerate(mine):
            sent.index, sent.count = i, len(mine)
        out.extend(mine)
    return out
