"""The words that ask (Indonesian and English): the one home of the question-word lists.

:data:`QUESTION_WORDS` are dropped from a question's content terms (:mod:`assistant.question`) and tell a follow-up's
own words from its references (:mod:`assistant.condense`); :data:`OPENERS` start an ask: a second ask after "dan"/"and"
(:mod:`assistant.subqueries`) and the end of an article reference (:mod:`assistant.scope`). A general typology, not
phrasings of any particular question set.
"""

from __future__ import annotations

__all__ = ["QUESTION_WORDS", "OPENERS", "OPENERS_PATTERN"]

QUESTION_WORDS = frozenset(
    "berapa berapakah siapa siapakah mengapa kenapa kapan apa apakah bagaimana bagaimanakah mana manakah dimana "
    "what which who whom whose why when where how many much sebutkan saja according menurut artikel article "
    "articles berita report banding beda masing setiap tiap compare comparison differ difference different".split()
)
# regular-expression alternatives ("di mana" with any spacing)
OPENERS = ("apa", "apakah", "siapa", "siapakah", "kapan", "berapa", "berapakah", "mengapa", "kenapa", "bagaimana",
           r"di\s+mana", "dimana", r"ke\s+mana", "mana", "what", "who", "whom", "when", "how", "why", "where", "which")
OPENERS_PATTERN = "|".join(OPENERS)
