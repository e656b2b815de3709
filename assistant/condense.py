"""Make a follow-up question standalone before retrieval.

With an LLM, the condense prompt rewrites it. Without one, a deterministic rule: a question that leans on the
conversation (starts with "Dan/Lalu/And/What about…", or refers back with "itu/tersebut/mereka/it/they/that…")
gets the previous question's names and key words appended in brackets, so retrieval finds the same topic.

>>> condense_rule("Dan berapa yang meninggalkan negara itu?",
...               [Turn(question="Berapa orang Rusia yang memasuki Kazakhstan sejak 21 September?", answer="…")])
'Dan berapa yang meninggalkan negara itu? (orang Rusia memasuki Kazakhstan 21 September)'
"""

from __future__ import annotations

import re

from assistant.models import Turn
from index.language import STOPWORDS, words

__all__ = ["condense_rule", "is_follow_up", "history_text"]

_LEADS = re.compile(r"^\s*(dan|lalu|kemudian|terus|bagaimana dengan|kalau|sedangkan|and|what about|how about|"
                    r"then|also|so)\b", re.I)
_REFERS = re.compile(r"\b(itu|tersebut|ini|mereka|dia|ia|beliau|nya|it|its|they|them|their|that|those|he|she|"
                     r"his|her|there)\b", re.I)
_QWORDS = {"berapa", "siapa", "mengapa", "kenapa", "kapan", "apa", "bagaimana", "what", "who", "why", "when",
           "how", "which", "where", "many", "much", "yang"}


def is_follow_up(question: str) -> bool:
    return bool(_LEADS.search(question) or _REFERS.search(question) or len(words(question)) <= 3)


def condense_rule(question: str, history: list[Turn]) -> str:
    if not history or not is_follow_up(question):
        return question
    present = {w.lower() for w in words(question)}
    keep = []
    for w in words(history[-1].question):
        lw = w.lower()
        if lw in STOPWORDS or lw in _QWORDS or lw in present or w in keep:
            continue
        keep.append(w)
    return f"{question} ({' '.join(keep)})" if keep else question


def history_text(history: list[Turn], limit: int = 4) -> str:
    return "\n".join(f"User: {t.question}\nAssistant: {t.answer}" for t in history[-limit:])
