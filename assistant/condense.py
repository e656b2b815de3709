"""Make a follow-up question standalone before retrieval, and decide, from the question alone, whether it is one.

A question is a follow-up only when it cannot stand alone (:func:`follow_up_reason`):

* an **ellipsis**: it opens with "What about / How about / Bagaimana dengan…", or is a fragment: no names and at most
  one content word ("Kapan?", "Berapa yang tewas?", "Siapa dia?"), or names without a question word or any content
  word ("Dan Lombok?");
* a **reference whose antecedent is not in the question**: a pronoun or possessive ("he", "their", "mereka",
  "rumahnya") with no name or content word before it, or a demonstrative ("kota itu", "that city",
  "tersebut", "there") in a question that names nothing.

A question that carries its own names (capitalised words, numbers) and content words stands alone, whatever
pronouns it holds: in "Why did Mayor Rahmani delay his trip to Surabaya?" the antecedent of "his" is inside.
The words are the project's own: :data:`index.language.STOPWORDS` and :data:`assistant.question_words.QUESTION_WORDS`,
plus the closed classes of pronouns and demonstratives below (grammar, not phrasings of any question set).

With an LLM, the condense prompt rewrites the follow-ups this rule picks; without one, :func:`condense_rule` adds
what is missing: the names a reference may point to, the topic's question words for an ellipsis, or the topic's key
words for a fragment.

>>> prev = [Turn(question="Berapa turis Jerman yang mengunjungi Bali tahun 2019?", answer="…")]
>>> condense_rule("Dan berapa yang meninggalkan pulau itu?", prev)
'Dan berapa yang meninggalkan pulau itu? (turis Jerman mengunjungi Bali tahun 2019)'
>>> condense_rule("Why did Mayor Rahmani delay his trip to Surabaya?", prev)
'Why did Mayor Rahmani delay his trip to Surabaya?'
"""

from __future__ import annotations

import re

from assistant.models import Turn
from assistant.question_words import QUESTION_WORDS
from index.language import STOPWORDS, words

__all__ = ["condense_rule", "follow_up_reason", "is_follow_up", "history_text", "answer_form"]

# Openings that ask the previous question again about something else (an ellipsis).
_ELLIPSIS = re.compile(r"^\W*(?:(?:dan|lalu|terus|kemudian|and|so|then)\s+)?(?:what about|how about|what of|"
                       r"and what about|bagaimana dengan|gimana dengan|bagaimana kalau|lalu bagaimana|"
                       r"terus bagaimana)\b", re.I)
# Openings that are ellipses only when no question word follows ("Kalau di Lombok?" but not "Kalau ..., siapa ...?").
_SOFT_ELLIPSIS = re.compile(r"^\W*(?:kalau|sedangkan|sementara itu|and|dan|lalu|terus)\b", re.I)
# Closed word classes (Indonesian + English).
_PERSONAL = frozenset("dia ia beliau mereka he she it they him them".split())
_POSSESSIVE = frozenset("his her its their hers theirs".split())
_DEMONSTRATIVE_ID = frozenset("itu ini tersebut".split())  # follow their noun: "negara itu"
_DEMONSTRATIVE_EN = frozenset("that this these those".split())  # precede their noun: "that country"
_LOCATIVE = frozenset("there sana situ".split())
_ARTICLES = frozenset("the a an".split())
_REFERENCE_WORDS = _PERSONAL | _POSSESSIVE | _DEMONSTRATIVE_ID | _DEMONSTRATIVE_EN | _LOCATIVE
_LEAD_WORDS = frozenset("dan lalu terus kemudian kalau sedangkan and so then also what about how".split())


def _is_number(w: str) -> bool:
    return any(c.isdigit() for c in w)


def _nya(w: str) -> bool:
    """An Indonesian word with the possessive/pronoun suffix -nya ("rumahnya"), not a se-…-nya adverb
    ("sebelumnya") nor a function word ending so ("hanya", "punya")."""
    lw = w.lower()
    return (lw.endswith("nya") and len(lw) > 5 and lw not in STOPWORDS and lw not in QUESTION_WORDS
            and not lw.startswith("se"))


def _classify(tokens: list[str]) -> tuple[list[int], list[int], bool]:
    """Positions of names and of content words, and whether a question word occurs."""
    names, content, asks = [], [], False
    for i, w in enumerate(tokens):
        lw = w.lower()
        if lw in QUESTION_WORDS or (i and tokens[i - 1].lower() == "how"):  # "how long/far/old" asks too
            asks = True
            continue
        if lw in STOPWORDS or lw in _REFERENCE_WORDS or (i == 0 and lw in _LEAD_WORDS):
            continue
        if _is_number(w) or w[:1].isupper():
            names.append(i)
        elif len(lw) > 2:
            content.append(i)
    return names, content, asks


def _unresolved_reference(tokens: list[str], names: list[int], content: list[int]) -> str:
    """The first reference word whose antecedent is not in the question ("" when every one is resolved)."""
    anchors = sorted(names + content)
    for i, w in enumerate(tokens):
        lw = w.lower()
        before = bool(anchors) and anchors[0] < i
        nxt = tokens[i + 1] if i + 1 < len(tokens) else ""
        prev = tokens[i - 1].lower() if i else ""
        if lw in _PERSONAL or lw in _POSSESSIVE or _nya(w):
            if not before and not (lw == "it" and prev in ("is", "was")):  # "is it true that…": a dummy "it"
                return w
        elif lw in _DEMONSTRATIVE_ID:
            copula = prev in QUESTION_WORDS and (nxt[:1].isupper() or _is_number(nxt))  # "Apa itu Perviy Otdel?"
            if not copula and not names:
                return w
        elif lw in _DEMONSTRATIVE_EN:
            relative = i - 1 in content and any(t.lower() in _ARTICLES for t in tokens[max(0, i - 3):i - 1])
            # "the group that reported…" (a relative clause after a noun phrase), unlike "took that ferry"
            clause = not nxt or nxt.lower() in STOPWORDS or nxt[:1].isupper() or _is_number(nxt)  # "said that the…"
            if not relative and not (clause and nxt) and not names:
                return w
        elif lw in _LOCATIVE:
            rest = [t for t in tokens[i + 1:] if t.lower() not in STOPWORDS]
            existential = lw == "there" and bool(rest)  # "were there protests…"
            if not existential and not names:
                return w
    return ""


def follow_up_reason(question: str) -> str:
    """Why ``question`` cannot stand alone ("" when it can): ``ellipsis``, ``fragment`` or ``reference: <word>``.

    >>> follow_up_reason("What about Lombok?"), follow_up_reason("Kapan?")
    ('ellipsis', 'fragment')
    >>> follow_up_reason("Mengapa mereka menutup bandara?")
    'reference: mereka'
    >>> follow_up_reason("Why did the harbour master change his plan?")
    ''
    """
    if _ELLIPSIS.search(question):
        return "ellipsis"
    tokens = words(question)
    names, content, asks = _classify(tokens)
    if _SOFT_ELLIPSIS.search(question) and not asks and not content and len(names) <= 3:
        return "ellipsis"  # "Dan Lombok?", "Kalau di Sumbawa?"
    ref = _unresolved_reference(tokens, names, content)
    if ref and content:  # a predicate of its own, the referent missing: "Who replaced him?"
        return f"reference: {ref}"
    if (not names and len(content) <= 1) or (names and not content and not asks):
        return "fragment"
    return f"reference: {ref}" if ref else ""


def is_follow_up(question: str) -> bool:
    """Whether ``question`` leans on the conversation (see :func:`follow_up_reason`)."""
    return bool(follow_up_reason(question))


def condense_rule(question: str, history: list[Turn]) -> str:
    """``question`` made searchable on its own when it is a follow-up (unchanged otherwise).

    * an ellipsis that brings its own described subject ("What about the festival in Medan?") takes the opening
      question words of the topic's question ("When the festival in Medan?"); a short one ("Dan Lombok?") also gets
      the topic's words in brackets;
    * a personal or possessive reference ("Apa yang dia sampaikan kepada wartawan?") gets the names it may
      refer to: those of the topic's questions and the new ones of the last answer;
    * a demonstrative ("kota itu", "that week") or a fragment ("Kapan?") gets the topic's words and those names.
    """
    if not history:
        return question
    reason = follow_up_reason(question)
    if not reason:
        return question
    tokens = words(question)
    names, content, _ = _classify(tokens)
    topic = _topic_turns(history)
    present = {w.lower() for w in tokens}
    if reason == "ellipsis":
        lead = _ELLIPSIS.search(question) or _SOFT_ELLIPSIS.search(question)
        rest = question[lead.end():].strip(" ,") if lead else question
        opening = _opening(topic[0].question)
        searched = f"{opening} {rest}".strip() if opening and opening.lower() not in present else question
        if len(names) + len(content) >= 3:  # the new subject comes with its own description
            return searched
        return _with_terms(searched, _topic_terms(topic, {w.lower() for w in words(searched)}))
    referents = _topic_terms(topic, present, names_only=True)
    referents += _answer_names(history[-1].answer, present | {w.lower() for t in topic for w in words(t.question)})
    word = reason.removeprefix("reference: ")
    if reason.startswith("reference") and (word.lower() in _PERSONAL | _POSSESSIVE or _nya(word)):
        return _with_terms(question, referents)  # a person or thing named before: its names suffice
    terms = _topic_terms(topic, present)  # "negara itu", "Kapan?": what the topic was about
    return _with_terms(question, terms + [n for n in referents if n not in terms])


def _with_terms(question: str, terms: list[str]) -> str:
    return f"{question} ({' '.join(terms)})" if terms else question


def answer_form(searched: str) -> str:
    """The question a :func:`condense_rule` rewrite asks, without the bracketed words added for retrieval: the
    answerer judges sentences by it, so the earlier topic's words do not pull the earlier answer back.

    >>> answer_form("Dan berapa yang meninggalkan pulau itu? (turis Jerman mengunjungi Bali)")
    'Dan berapa yang meninggalkan pulau itu?'
    """
    head, sep, tail = searched.rpartition(" (")
    return head if sep and tail.endswith(")") and "(" not in tail and head.strip() else searched


def _opening(question: str) -> str:
    """The question words a question opens with ("How many", "Berapa", "When"), "" when it opens otherwise."""
    out: list[str] = []
    for i, w in enumerate(words(question)):
        if w.lower() in QUESTION_WORDS or (i and out and out[-1].lower() == "how"):
            out.append(w)
        else:
            break
    return " ".join(out)


def _topic_terms(topic: list[Turn], present: set[str], names_only: bool = False) -> list[str]:
    """Names and key words of the topic's questions that the question does not already hold."""
    keep: list[str] = []
    for turn in topic:
        tokens = words(turn.question)
        names, content, _ = _classify(tokens)
        for i in sorted(names if names_only else names + content):
            w = tokens[i]
            if w.lower() not in present and w not in keep:
                keep.append(w)
    return keep


def _answer_names(answer: str, known: set[str], limit: int = 3) -> list[str]:
    """Up to ``limit`` names an answer brings in (capitalised words inside a sentence, not already ``known``): the
    likely referents of "he"/"dia" after "Who…?". Citation markers and parentheses are left out."""
    text = re.sub(r"\[\d+\]|\([^)]*\)|\S*\w\.\w\S*", " ", answer)  # markers, asides, web addresses
    found: list[str] = []
    for sentence in re.split(r"(?<=[.!?:;“”\"])\s+", text):
        for i, w in enumerate(words(sentence)):
            lw = w.lower()
            if i and w[:1].isupper() and lw not in STOPWORDS and lw not in QUESTION_WORDS and lw not in known \
                    and w not in found:
                found.append(w)
    return found[:limit]


def _topic_turns(history: list[Turn], limit: int = 3) -> list[Turn]:
    """The turns that set the topic: back from the last question to the last one that stood alone (at most
    ``limit``), oldest first ("What about Lombok?" after a follow-up still finds the first question's topic)."""
    turns: list[Turn] = []
    for turn in reversed(history[-limit:]):
        turns.insert(0, turn)
        if not is_follow_up(turn.question):
            break
    return turns


def history_text(history: list[Turn], limit: int = 4) -> str:
    return "\n".join(f"User: {t.question}\nAssistant: {t.answer}" for t in history[-limit:])
