"""What a question asks for: its language, its type (number, date, person, reason, list, comparison) and its terms."""

from __future__ import annotations

import re
from dataclasses import dataclass

from index.analysis import analyze
from index.language import detect_language

__all__ = ["QuestionInfo", "analyse_question", "clean_question"]

_TYPES: list[tuple[str, re.Pattern[str]]] = [
    ("compare", re.compile(
        r"\b(bandingkan|perbandingan|masing-masing|kedua artikel|dua artikel|setiap artikel|tiap artikel|"
        r"artikel-artikel|compare|comparison|each article|both articles|two articles|combining|the articles say|"
        r"what do the articles)\b", re.I)),
    ("number", re.compile(
        r"\b(berapa|berapakah|jumlah|how many|how much|what share|what percentage|what proportion|"
        r"how large|how big|total)\b", re.I)),
    ("date", re.compile(r"\b(kapan|tanggal berapa|tahun berapa|when|on what date|what date|what year|in which year)\b", re.I)),
    ("person", re.compile(r"\b(siapa|siapakah|who|whom)\b", re.I)),
    ("reason", re.compile(r"\b(mengapa|kenapa|apa alasan|alasan apa|why|what reason|for what reason)\b", re.I)),
    ("list", re.compile(r"\b(apa saja|sebutkan|siapa saja|mana saja|what problems|which problems|list|name the)\b", re.I)),
]
_QUESTION_WORDS = frozenset(
    "berapa berapakah siapa siapakah mengapa kenapa kapan apa apakah bagaimana mana manakah dimana what which who "
    "whom why when where how many much according artikel article articles menurut sebutkan saja".split()
)
_CONTROL = re.compile(r"[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f\u200b-\u200f\u2028-\u202e\u2060-\u2064\ufeff]")


@dataclass(frozen=True)
class QuestionInfo:
    text: str
    language: str
    types: tuple[str, ...]
    terms: tuple[str, ...]  # analysed content terms (stemmed, stopwords and question words removed)
    names: tuple[str, ...]  # capitalised words and numbers as written (exact-match anchors)

    def is_(self, kind: str) -> bool:
        return kind in self.types


def clean_question(text: str) -> str:
    """Remove control and zero-width characters, collapse whitespace."""
    return re.sub(r"\s+", " ", _CONTROL.sub("", text)).strip()


def analyse_question(text: str) -> QuestionInfo:
    lang = detect_language(text, default="id")
    types = tuple(kind for kind, rx in _TYPES if rx.search(text))
    terms = tuple(t for t in analyze(text) if t not in _QUESTION_WORDS)
    names = []
    for i, m in enumerate(re.finditer(r"\d+(?:[.,]\d+)*|[A-Z][\w-]+", text)):
        word = m.group()
        if i == 0 and m.start() == 0 and word.lower() in _QUESTION_WORDS:
            continue
        if word.lower() not in _QUESTION_WORDS:
            names.append(word)
    return QuestionInfo(text, lang, types, terms, tuple(names))
