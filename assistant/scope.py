"""Scoping from the question: a question that names its article ("menurut artikel Riau24", "in the Intisari report",
"the piece about a military agreement", "in the September article") is answered from the article(s) it names.

The reference is found by the general phrasing of a reference to an article (ID and EN), then matched against the
index's own metadata — outlet, date, title — never against names listed in code:

* **outlet**: the reference's words equal the outlet name once case, punctuation, spaces and a web domain ending are
  dropped (``Riau24`` = ``RIAU24.COM`` = ``riau 24``), or differ from it by a single typo;
* **date**: a month name (Indonesian or English) and/or a year in the reference select articles dated then;
* **title**: at least half of the reference's content terms appear in the title;
* **topic** ("artikel tentang …", "an article about …"): the title words first; otherwise, by meaning, the caller's
  ``nearest(phrase)`` (retrieval: the articles of the passages closest to the phrase, re-ranked by their headline's
  closeness; words cannot match across languages, and only those few headlines are embedded).

A reference that matches nothing leaves retrieval unscoped and says so in :attr:`Scope.note`.

>>> docs = [Doc("a.txt", "Perang di Ukraina", "Riau24", "2022-09-30"), Doc("b.txt", None, "Intisari", "2022-06-18")]
>>> find_scope("Berapa korban menurut artikel Riau24?", docs).sources
('a.txt',)
>>> find_scope("What does the June article say?", docs).sources
('b.txt',)
>>> find_scope("Menurut artikel Kompas, siapa presidennya?", docs).note
'no article matches “Kompas” (outlet, title or date): searched all articles'
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from assistant.question_words import OPENERS_PATTERN, QUESTION_WORDS
from index.analysis import analyze
from index.dates import MONTHS

__all__ = ["Doc", "Scope", "find_scope", "outlet_key", "reference"]

_NOUN = r"(?:artikel|berita|laporan|tulisan|article|report|story|piece)"
_STOP_AT = (rf"(?=\s*[,?!;:]|\s*\.(?:\s|$)|\s+(?:yang|{OPENERS_PATTERN}|did|does|do|is|are|was|were|say|says|said|tell|menyebut\w*|"
            r"mengatakan|dan|and)\b|$)")
# "artikel tentang X" / "an article about X": a topic, matched by meaning
_TOPIC = re.compile(rf"\b{_NOUN}\s+(?:yang\s+)?(?:tentang|mengenai|soal|membahas|about|on|covering)\s+(?P<ref>.+?){_STOP_AT}",
                    re.I)
# "artikel Riau24", "menurut artikel dari Intisari", "artikel bulan September"
_AFTER = re.compile(rf"\b(?:artikel|berita|laporan|tulisan)\s+(?:dari\s+|milik\s+|versi\s+|terbitan\s+|bulan\s+|"
                    rf"tanggal\s+|edisi\s+)?(?P<ref>.+?){_STOP_AT}", re.I)
# "in the Intisari article", "according to an Intisari report", "Riau24's article"
_WORDS = r"(?:(?!(?:the|an?)\b)[\w.'’-]+\s+){0,3}(?!(?:the|an?)\b)[\w.'’-]+"
_BEFORE = re.compile(rf"\b(?:(?:according\s+to|in|from|by|per)\s+)?(?:the|an?)\s+(?P<ref>{_WORDS}?)(?:['’]s)?\s+"
                     r"(?:article|report|story|piece)\b", re.I)
_POSSESSIVE = re.compile(r"\b(?P<ref>[\w.-]+)['’]s\s+(?:article|report|story|piece)\b", re.I)
_FROM_OUTLET = re.compile(r"\b(?:article|report|story|piece)\s+(?:from|by|in|of)\s+(?P<ref>[\w.'’ -]+?)" + _STOP_AT, re.I)
# words that make a reference generic ("this article", "both articles", "artikel-artikel", "artikel tersebut")
_GENERIC = frozenset("ini itu tersebut tsb the this that these those both each every all other another kedua dua "
                     "masing setiap tiap semua lain lainnya two first second pertama".split())
_PLURAL = frozenset("kedua dua semua setiap tiap masing-masing both each every all two".split())
_DOMAIN_END = re.compile(r"(?:\.?(?:co\.id|com|id|net|org|co|news|tv))+$")


@dataclass(frozen=True)
class Doc:
    """What scoping knows of one indexed article."""

    source: str
    title: str | None
    outlet: str | None
    date: str | None  # yyyy-mm-dd


@dataclass(frozen=True)
class Scope:
    phrase: str = ""  # the reference as the question words it ("" = the question names no article)
    kind: str = ""  # outlet | date | title | topic
    sources: tuple[str, ...] = ()
    note: str = ""  # set when a reference matched nothing

    @property
    def active(self) -> bool:
        return bool(self.sources)


def outlet_key(text: str) -> str:
    """An outlet name as compared everywhere (scoping, filters): without case, spaces, punctuation or a web-domain
    ending, so ``Riau24`` = ``RIAU24.COM`` = ``riau 24`` and ``Intisari Online`` = ``Intisari-Online.com``."""
    return re.sub(r"[\W_]+", "", _DOMAIN_END.sub("", text.strip().lower()))


def _one_edit(a: str, b: str) -> bool:
    """True when ``a`` and ``b`` differ by at most one insertion, deletion, substitution or swap (names of 5+)."""
    if a == b:
        return True
    if min(len(a), len(b)) < 5 or abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        return len(diff) == 1 or (len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]]
                                  and a[diff[1]] == b[diff[0]])
    short, long_ = sorted((a, b), key=len)
    return any(long_[:i] + long_[i + 1:] == short for i in range(len(long_)))


def _plural_before(question: str, start: int) -> bool:
    """True when the two words before ``start`` make the article plural ("kedua artikel", "both articles")."""
    return any(w in _PLURAL for w in re.findall(r"[\w-]+", question[:start].lower())[-2:])


def _not_an_article(question: str, start: int) -> bool:
    """True when the noun at ``start`` is part of a word that names no article: "kantor berita" (a news agency) or a
    reduplicated plural ("berita-berita": news in general)."""
    return question[:start].lower().endswith(("kantor ", "-"))


def reference(question: str) -> tuple[str, str] | None:
    """``(kind, phrase)`` of the article the question names: kind ``topic`` or ``name``; None when it names none."""
    m = _TOPIC.search(question)
    if m and not _not_an_article(question, m.start()):
        return None if _plural_before(question, m.start()) else ("topic", m.group("ref").strip())
    for rx in (_POSSESSIVE, _BEFORE, _AFTER, _FROM_OUTLET):
        for m in rx.finditer(question):
            ref = m.group("ref").strip(" .'’")
            # a phrase of question words only ("tulisan apa …": which writing) names nothing
            words = [w for w in re.findall(r"[\w.-]+", ref.lower()) if w not in _GENERIC and w not in QUESTION_WORDS]
            if words and not re.match(r"^[-‐]", ref) and not _plural_before(question, m.start()) \
                    and not _not_an_article(question, m.start()):
                return "name", ref
    return None


def _by_date(ref: str, docs: Sequence[Doc]) -> tuple[str, ...] | None:
    words = re.findall(r"\w+", ref.lower())
    months = {MONTHS[w] for w in words if w in MONTHS and len(w) > 3}
    years = {w for w in words if re.fullmatch(r"(?:19|20)\d\d", w)}
    if not months and not years:
        return None
    return tuple(d.source for d in docs if d.date and (not months or int(d.date[5:7]) in months)
                 and (not years or d.date[:4] in years))


def _by_outlet(ref: str, docs: Sequence[Doc]) -> tuple[str, ...]:
    words = re.findall(r"[\w.-]+", ref)
    grams = {outlet_key("".join(words[i:j])) for i in range(len(words)) for j in range(i + 1, min(i + 4, len(words) + 1))}
    grams.discard("")
    # each distinct outlet is compared once (a large index has thousands of articles and a handful of outlets)
    matching = {o for o in {d.outlet for d in docs if d.outlet} if any(_one_edit(outlet_key(o), g) for g in grams)}
    return tuple(d.source for d in docs if d.outlet in matching)


@lru_cache(maxsize=65536)
def _title_terms(title: str) -> frozenset[str]:
    return frozenset(analyze(title))


def _by_title(ref: str, docs: Sequence[Doc]) -> tuple[str, ...]:
    terms = set(analyze(ref))
    if not terms:
        return ()
    shares = {d.source: len(terms & _title_terms(d.title)) / len(terms) for d in docs if d.title}
    best = max(shares.values(), default=0.0)
    return tuple(s for s, v in shares.items() if v == best) if best >= 0.5 else ()


def _by_topic(ref: str, docs: Sequence[Doc], nearest: Callable[[str], Sequence[str]] | None) -> tuple[str, ...]:
    lexical = _by_title(ref, docs)
    if lexical or nearest is None or not docs:
        return lexical
    known = {d.source for d in docs}
    return next(((src,) for src in nearest(ref) if src in known), ())


def find_scope(question: str, docs: Sequence[Doc], nearest: Callable[[str], Sequence[str]] | None = None) -> Scope:
    """The articles ``question`` restricts itself to (see the module docstring); ``nearest(phrase)`` lists the
    sources whose passages are closest in meaning to the phrase, best first (needed for topic references only)."""
    found = reference(question)
    if found is None:
        return Scope()
    kind, ref = found
    if kind == "topic":
        sources = _by_topic(ref, docs, nearest)
        if sources:
            return Scope(ref, "topic", sources)
    else:
        for name, match in (("date", lambda: _by_date(ref, docs)), ("outlet", lambda: _by_outlet(ref, docs)),
                            ("title", lambda: _by_title(ref, docs))):
            matched = match()
            if matched is None:
                continue
            if matched:
                return Scope(ref, name, tuple(matched))
            if name == "date":  # a date that no article carries: say so rather than try outlets and titles
                break
    return Scope(ref, kind, (), f"no article matches “{ref}” (outlet, title or date): searched all articles")
