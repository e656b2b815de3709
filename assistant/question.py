"""What a question asks for: its language, its type (number, date, person, reason, list, comparison) and its terms."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from assistant.errors import BadInput
from assistant.names import NAMES
from assistant.question_words import QUESTION_WORDS
from assistant.subqueries import split_parts
from index.analysis import analyze
from index.language import detect_language

__all__ = ["QUESTION_WORDS", "QuestionInfo", "analyse_question", "clean_question", "validate_question"]

# A general question-word typology (Indonesian and English), not phrasings of any particular question set.
_TYPES: list[tuple[str, re.Pattern[str]]] = [
    # a comparison word, or a question about several articles at once (a quantifier or demonstrative before
    # "artikel"/"articles", or the plural "artikel-artikel")
    ("compare", re.compile(
        r"\b(bandingkan|membandingkan|perbandingan|perbedaan|bedanya|berbeda|compare|comparison|differ|difference|"
        r"different|"
        r"(?:kedua|ketiga|semua|setiap|tiap|masing-masing|para|dua|tiga|beberapa) artikel|artikel-artikel|"
        r"(?:each|every) article|(?:both|all|the|these|those|two|three|several) articles)\b", re.I)),
    ("number", re.compile(r"\b(berapa(?:kah)?|jumlah|how many|how much|what number|what percentage)\b", re.I)),
    ("date", re.compile(r"\b(kapan(?:kah)?|(?:tanggal|tahun|bulan|hari) (?:berapa|apa)(?:kah)?|pada tanggal|when|"
                        r"what date|what year|which year|what day)\b", re.I)),
    ("person", re.compile(r"\b(siapa(?:kah)?|who|whom|whose)\b", re.I)),
    ("place", re.compile(r"\b(di ?mana(?:kah)?|ke ?mana(?:kah)?|dari ?mana(?:kah)?|di \w+ mana(?:kah)?|where|"
                         r"which (?:city|country|province|region|place))\b", re.I)),
    ("reason", re.compile(r"\b(mengapa|kenapa|alasan|penyebab|apa(?:kah)? yang menyebabkan|why|what reason|"
                          r"what caused)\b", re.I)),
    ("manner", re.compile(r"\b(bagaimana(?:kah)?|how(?! many| much))\b", re.I)),
    ("list", re.compile(r"\b(apa saja|siapa saja|mana saja|sebutkan|list|name all|what are the)\b", re.I)),
]
# Invisible characters that only get in the way of matching: C0/C1 controls (not the whitespace ones), zero-width
# spaces and joiners, bidi marks and overrides, soft hyphen, word joiners, variation selectors, BOM, tag characters,
# interlinear annotation marks and lone surrogates (undecodable bytes in a command-line argument).
_INVISIBLE = re.compile(
    "[\x00-\x08\x0e-\x1b\x7f-\x84\x86-\x9f\xad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f"
    "\u200b-\u200f\u202a-\u202e\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff9-\ufffb\ud800-\udfff"
    "\U000e0000-\U000e007f]"
)

# Terminal escape sequences, removed whole (stripping the ESC alone would leave "[31m" in the question): CSI
# ("\x1b[31m"), OSC up to BEL or ST ("\x1b]0;title\x07"), string commands (DCS, SOS, PM, APC) up to ST, and the
# two-character escapes ("\x1bc"). Lone C1 bytes are not read as sequences (mojibake such as "â€\x9d" is common).
_ANSI = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]?"
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"
    r"|\x1b[PX^_][^\x1b]*(?:\x1b\\)?"
    r"|\x1b[ -/]*[0-~]"
)


@dataclass(frozen=True)
class QuestionInfo:
    text: str
    language: str
    types: tuple[str, ...]
    terms: tuple[str, ...]  # analysed content terms (stemmed, stopwords and question words removed)
    names: tuple[str, ...]  # capitalised words and numbers as written (exact-match anchors)
    # the asks of a multi-part question, analysed too: with the whole question's names (searched), without (judged)
    parts: tuple[QuestionInfo, ...] = ()
    asks: tuple[QuestionInfo, ...] = ()

    def is_(self, kind: str) -> bool:
        return kind in self.types


def clean_question(text: str) -> str:
    """Remove terminal escape sequences, control and zero-width characters, compose accents (NFC), collapse
    whitespace (tabs, line breaks).

    >>> clean_question("Siapa\\u200b presiden\\x00 \\t Kazakh\\u00adstan?\\n")
    'Siapa presiden Kazakhstan?'
    >>> clean_question("\\x1b[31mSiapa\\x1b[0m presiden Kazakhstan?")
    'Siapa presiden Kazakhstan?'
    """
    return re.sub(r"\s+", " ", unicodedata.normalize("NFC", _INVISIBLE.sub("", _ANSI.sub("", text)))).strip()


def validate_question(text: str | None, max_chars: int) -> str:
    """The cleaned question, or :class:`BadInput` when it is empty or longer than ``max_chars`` once cleaned.

    >>> validate_question("  Siapa presiden Kazakhstan?  ", 2000)
    'Siapa presiden Kazakhstan?'
    """
    q = clean_question(text or "")
    if not q:
        raise BadInput("the question is empty: type a question about the articles")
    if len(q) > max_chars:
        raise BadInput(
            f"the question is {len(q):,} characters long; the limit is {max_chars:,} (ASSISTANT_MAX_QUESTION_CHARS): "
            "ask about one thing at a time"
        )
    return q


def analyse_question(text: str, split: bool = True) -> QuestionInfo:
    """The one analysis of a question, made before retrieval and passed down: language, types, terms, names, and
    (``split``) the same for each ask of a multi-part question (:func:`assistant.subqueries.split_parts`)."""
    lang = detect_language(text, default="id")
    types = tuple(kind for kind, rx in _TYPES if rx.search(text))
    terms = tuple(t for t in analyze(text) if t not in QUESTION_WORDS)
    names = []
    for i, m in enumerate(NAMES.finditer(text)):
        word = m.group()
        if i == 0 and m.start() == 0 and word.lower() in QUESTION_WORDS:
            continue
        if word.lower() not in QUESTION_WORDS:
            names.append(word)
    if not split:
        return QuestionInfo(text, lang, types, terms, tuple(names))
    parts = tuple(analyse_question(p, split=False) for p in split_parts(text))
    asks = tuple(analyse_question(p, split=False) for p in split_parts(text, with_names=False))
    return QuestionInfo(text, lang, types, terms, tuple(names), parts, asks)
