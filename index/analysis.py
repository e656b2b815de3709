"""Text analysis for BM25 and lexical matching: lowercase, stopwords (Indonesian + English), Sastrawi stemming.

Sastrawi only strips an affix when the remaining root is in its Indonesian dictionary, so English words and names
pass through unchanged ("extradited" stays, "mengekstradisi" → "ekstradisi"). Numbers are normalised so that
``7.644``, ``7,644`` and ``7644`` are one term. Its dictionary also yields odd roots ("memasuki" → "pasuk",
"mengunjungi" → "unjung"); queries and passages are stemmed alike, so they still meet.

>>> analyze("Warga Kazakhstan membangun jembatan, 100.000 orang!")
['warga', 'kazakhstan', 'bangun', 'jembatan', '100000', 'orang']
>>> analyze("mengekstradisi extradited memasuki")
['ekstradisi', 'extradited', 'pasuk']
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from functools import lru_cache
from pathlib import Path

from index.language import STOPWORDS, words

__all__ = ["ANALYZER_VERSION", "analyze", "stem", "normalize_number", "StemCache"]

_NUMBER = re.compile(r"^\d{1,3}(?:[.,]\d{3})+$")


@lru_cache(maxsize=1)
def _stemmer():
    from Sastrawi.Stemmer.StemmerFactory import StemmerFactory

    return StemmerFactory().create_stemmer()


_MAX_STEMS = 500_000  # words kept in memory per process (a long-running server sees new words forever)
_stems: dict[str, str] = {}  # word -> root, filled by stem() and by StemCache.load()


def _stem_uncached(word: str) -> str:
    if not word.isalpha() or len(word) <= 3:
        return word
    return _stemmer().stem(word) or word


def stem(word: str) -> str:
    """Sastrawi root of a lower-case word (unchanged when it has no known Indonesian root); cached per word."""
    root = _stems.get(word)
    if root is None:
        root = _stem_uncached(word)
        if len(_stems) < _MAX_STEMS:
            _stems[word] = root
    return root


class StemCache:
    """The per-word stems kept on disk between builds (Sastrawi costs ~0.2 ms of one core per new word).

    The file is named for the stemmer's package version and the stemming rule's version, so a changed stemmer
    never reuses old roots; it is a pure cache (deleting it changes nothing but speed).
    """

    VERSION = 1  # bump when _stem_uncached() changes

    def __init__(self, folder: Path) -> None:
        from importlib.metadata import PackageNotFoundError, version

        try:
            sastrawi = version("PySastrawi")
        except PackageNotFoundError:
            sastrawi = "unknown"
        self.path = Path(folder).expanduser() / f"stems-pysastrawi-{sastrawi}-v{self.VERSION}.json"
        self._loaded = 0

    def load(self) -> int:
        """Add the stored stems to this process's cache; returns how many were read (0 when there is no file)."""
        try:
            stored = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return 0
        if not isinstance(stored, dict):
            return 0
        for word, root in stored.items():
            if len(_stems) >= _MAX_STEMS:
                break
            if isinstance(word, str) and isinstance(root, str):
                _stems.setdefault(word, root)
        self._loaded = len(stored)
        return self._loaded

    def save(self) -> bool:
        """Write this process's stems when it knows more words than the file held (atomic; errors ignored)."""
        if len(_stems) <= self._loaded:
            return False
        tmp = None
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".stems-", dir=self.path.parent)
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(dict(_stems), fh, ensure_ascii=False, separators=(",", ":"))
            os.replace(tmp, self.path)
        except OSError:
            if tmp is not None:
                Path(tmp).unlink(missing_ok=True)
            return False
        self._loaded = len(_stems)
        return True


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
