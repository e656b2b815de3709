"""Tiny language identification (Indonesian / English) and the word lists the analysers share."""

from __future__ import annotations

import re

__all__ = ["detect_language", "quote_language", "ID_STOPWORDS", "EN_STOPWORDS", "STOPWORDS", "words"]

_WORD = re.compile(r"[^\W_]+(?:[-'’][^\W_]+)*", re.UNICODE)

ID_STOPWORDS = frozenset(
    """ada adalah agar akan aku anda antara apa apakah atas atau bagai bagaimana bagi bahkan bahwa banyak baru
    begitu belum berapa beberapa bisa bukan cukup dalam dan dapat dari daripada demikian dengan di dia dilakukan
    disebut diri dua hal hanya harus hingga ia ini itu jadi jika juga kami kamu kan karena kata ke kedua kemudian
    kepada ketika kita lagi lain lalu lebih maka mana masih mau melalui memang mengapa menjadi menurut mereka
    merupakan meski misalnya mungkin namun nya oleh pada para pula punya saat saja salah sama sampai sangat
    sebagai sebelum sebuah secara sedang sehingga sejak seorang seperti serta setelah siapa sudah supaya tak
    tanpa tapi telah tentang tersebut tetapi tidak untuk yaitu yakni yang""".split()
)
EN_STOPWORDS = frozenset(
    """a about above after again against all am an and any are as at be because been before being below between
    both but by can could did do does doing down during each few for from further had has have having he her
    here hers him his how i if in into is it its itself just me more most my no nor not now of off on once only
    or other our out over own same she should so some such than that the their them then there these they this
    those through to too under until up very was we were what when where which while who whom why will with
    would you your""".split()
)
STOPWORDS = ID_STOPWORDS | EN_STOPWORDS

# Words that mark a language strongly (function words rarely shared between the two).
_ID_MARKERS = frozenset(
    "yang dan di ke dari untuk dengan pada adalah ini itu tidak akan telah juga oleh dalam karena bahwa berapa "
    "siapa mengapa kapan apa bagaimana sebagai mereka orang tersebut".split()
)
_EN_MARKERS = frozenset(
    "the and of to in is was for that with on by as are from this which what who why when how many much "
    "did does were has have their".split()
)


def words(text: str) -> list[str]:
    """Word tokens of ``text`` (letters and digits, inner hyphens/apostrophes kept)."""
    return _WORD.findall(text)


def detect_language(text: str, default: str = "id") -> str:
    """Return ``"id"`` or ``"en"`` from function-word counts; ``default`` when neither shows."""
    tokens = [w.lower() for w in words(text)]
    id_hits = sum(1 for w in tokens if w in _ID_MARKERS)
    en_hits = sum(1 for w in tokens if w in _EN_MARKERS)
    if id_hits == en_hits == 0:
        return default
    return "id" if id_hits >= en_hits else "en"


def quote_language(text: str, default: str) -> str:
    """The language of a short quote: by its own function words, ``default`` (its article's language) when they
    do not tell (none, or as many of each): an English sentence planted in an Indonesian article is English."""
    tokens = [w.lower() for w in words(text)]
    id_hits = sum(1 for w in tokens if w in _ID_MARKERS)
    en_hits = sum(1 for w in tokens if w in _EN_MARKERS)
    return default if id_hits == en_hits else "id" if id_hits > en_hits else "en"
