"""Multi-part questions: one sub-query per part of a question that joins two asks.

"Kapan perjanjian itu ditandatangani dan apa isinya?" asks two things; each part is searched on its own (carrying
the names of the whole question, which a bare "apa isinya" lacks) so the passages handed to the answerer hold an
answer to each. Questions that ask about each article get one sub-query per article instead (see
:mod:`assistant.retrieval`).

>>> split_parts("Kapan Tokayev berpidato dan apa yang dikatakannya?")
['Kapan Tokayev berpidato', 'apa yang dikatakannya Tokayev']
>>> split_parts("Siapa Menteri Pertahanan Kazakhstan?")
[]
"""

from __future__ import annotations

import re

from assistant.names import NAMES
from assistant.question_words import OPENERS_PATTERN

__all__ = ["split_parts"]

# a conjunction followed by a question word starts a second ask
_JOIN = re.compile(
    r"(?:,\s*|\s+)(?:dan|serta|lalu|kemudian|and|also|as\s+well\s+as)\s+(?:juga\s+)?"
    rf"(?=(?:{OPENERS_PATTERN})\b)",
    re.I,
)


def split_parts(question: str, with_names: bool = True) -> list[str]:
    """The asks a question joins (each with the question's names it lacks, unless ``with_names`` is false), or
    ``[]`` for a single ask."""
    parts = [p.strip(" ,?.!") for p in _JOIN.split(question) if p.strip(" ,?.!")]
    if len(parts) < 2 or not with_names:
        return parts if len(parts) >= 2 else []
    names: list[str] = []
    for i, p in enumerate(parts):
        for m in NAMES.finditer(p):
            # the first word of the question is capitalised because it is first, not because it is a name
            if not (i == 0 and m.start() == 0) and m.group() not in names:
                names.append(m.group())
    out = []
    for p in parts:
        missing = [n for n in names if n not in p]
        out.append(" ".join([p, *missing]))
    return out
