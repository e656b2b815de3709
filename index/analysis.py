"""Text analysis for BM25 and lexical matching: lowercase, stopwords (Indonesian + English), Sastrawi stemming.

Sastrawi only strips an affix when the remaining root is in its Indonesian dictionary, so English words and names
pass through unchanged ("extradited" stays, "mengekstradisi" → "ekstradisi"). Numbers are normalised so that
``7.644``, ``7,644`` and ``7644`` are one term.

>>> analyze("Orang-orang Rusia memasuki Kazakhstan, 100.000 orang!")
['orang', 'rusia', 'masuk', 'kazakhstan', '100000', 'orang']
"""

from __future__ import annotations

import re
from functools import lru_cache

from index.language import STOPWORDS, words

__all__ = ["ANALYZER_VERSION", "analyze", "stem", "normalize_number"]

_NUMBER = re.compile(r"^\d{1,3}(?:[.,]\d{3})+$")


@lru_cache(maxsize=1)
def _stemmer():
    from Sastrawi.Stemmer.StemmerFactory import StemmerFactory

    return StemmerFactory().create_stemmer()


@lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    """Sastrawi root of a lower-case word (unchanged when it has no known Indonesian root)."""
    if not word.isalpha() or len(word) <= 3:
        return word
    return _stemmer().stem(word) or word


def normalize_number(token: str) -> str:
    """``7.644`` / ``7,644`` → ``7644`` (thousands separators only; ``3.5`` stays)."""
    return token.replace(".", "").replace(",", "") if _NUMBER.match(token) else token


# Bumped whenever analyze() changes its output: cached per-document terms of another version are not reused.
ANALYZER_VERSION = 2


def analyze(text: str, keep_stopwords: bool = False) -> list[str]:
    """Index terms of ``text``: reduplications split (``orang-orang`` → ``orang``), stopwords dropped, stemmed."""
    out: list[str] = []
    for raw in re.findall(r"\d+(?:[.,]\d+)*|[^\W\d_]+(?:[-'’][^\W\d_]+)*", text):
        token = raw.lower()
        if token[0].isdigit():
            out.append(normalize_number(token))
            continue
        parts = token.split("-")
        if len(parts) == 2 and parts[0] == parts[1]:  # Indonesian plural reduplication
            parts = parts[:1]
        for part in parts:
            part = part.strip("'’")
            if not part or (not keep_stopwords and part in STOPWORDS):
                continue
            out.append(stem(part))
    return out


def content_words(text: str) -> list[str]:
    """Lower-cased words of ``text`` without stopwords (not stemmed), for overlap measures."""
    return [w.lower() for w in words(text) if w.lower() not in STOPWORDS]
