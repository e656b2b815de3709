"""Pure rendering of an :class:`Answer` for the web UI: chat Markdown, sources panel, article view, debugger.

Everything taken from articles or answers is HTML-escaped here; no gradio import, so it is unit-testable.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable

from assistant.models import Answer, Citation, RankedPassage

__all__ = [
    "answer_markdown", "sources_html", "article_html", "debugger_html", "pending_sources_html", "EMPTY_SOURCES",
    "citation_label", "group_citations", "card_id", "filter_markdown",
]

EMPTY_SOURCES = '<div class="src-empty">Sources for the answer appear here.</div>'
_MARKER = re.compile(r"\[(\d+)\]")
PASSAGE_CONTEXT = 300  # characters around a quote when no retrieved passage contains it


def _e(value: object) -> str:
    return html.escape("" if value is None else str(value))


def card_id(turn: int, n: int) -> str:
    """The sources-panel anchor of marker ``[n]`` of answer ``turn`` (1-based): unique across the conversation."""
    return f"a{turn}-cite-{n}"


def answer_markdown(answer: Answer, turn: int, filter_line: str = "") -> str:
    """The answer for the chat bubble: each known [n] links to this answer's own card in the sources panel.

    Above it, the filter the question was asked under; below it, the searched form when the question was rewritten.
    """
    known = {c.n for c in answer.citations}
    text = answer.answer.replace("<", "&lt;").replace(">", "&gt;")

    def link(m: re.Match[str]) -> str:
        n = int(m.group(1))
        return f'<a href="#{card_id(turn, n)}" class="cite-link">[{n}]</a>' if n in known else m.group(0)

    text = _MARKER.sub(link, text)
    if answer.abstained:
        text += "\n\n*No passage in the indexed articles answers this; the closest ones are listed in Sources.*"
    head = filter_markdown(filter_line)
    notes = "".join(f"*{_e(n)}*\n\n" for n in answer.notes)
    searched = (f"\n\n*Searched as: {_md(answer.standalone_question)}*"
                if answer.standalone_question.strip() != answer.question.strip() else "")
    return head + notes + text + searched


def filter_markdown(filter_line: str) -> str:
    """The line above an answer naming the filter it was asked under ('' without one), escaped."""
    return f"*Filtered: {_md(filter_line)}*\n\n" if filter_line else ""


def _md(value: str) -> str:
    """Plain text inside Markdown emphasis: escaped HTML, and no character that would end or start markup."""
    return re.sub(r"([*_`\[\]\\])", r"\\\1", _e(value))


def citation_label(c: Citation) -> str:
    return f"[{c.n}] {c.title or c.source}"


def _byline(outlet: str | None, title: str | None, date: str | None, source: str) -> str:
    parts = [f'<span class="src-outlet">{_e(outlet)}</span>' if outlet else "",
             f'<span class="src-date">{_e(date)}</span>' if date else ""]
    meta = " · ".join(p for p in parts if p)
    return (f'<div class="src-title">{_e(title or source)}</div>'
            f'<div class="src-meta">{meta}{" · " if meta else ""}<code>{_e(source)}</code></div>')


def _with_marks(text: str, spans: list[tuple[int, int]], mark_id: str | None = None) -> str:
    """``text`` escaped, with each ``text[start:end]`` wrapped in ``<mark>`` (the first one gets ``mark_id``)."""
    out, pos = [], 0
    for i, (start, end) in enumerate(sorted(spans)):
        start, end = max(pos, min(start, len(text))), max(pos, min(end, len(text)))
        attr = f' id="{mark_id}"' if mark_id and i == 0 else ""
        out.append(f"{_e(text[pos:start])}<mark{attr}>{_e(text[start:end])}</mark>")
        pos = end
    return "".join(out) + _e(text[pos:])


def _context(cites: list[Citation], passages: list[RankedPassage], doc_text: Callable[[str], str] | None) -> str:
    """The passage holding the cited spans (or the article text around them), with every span marked."""
    lo_c, hi_c = min(c.start for c in cites), max(c.end for c in cites)
    source = cites[0].source
    for p in passages:
        if p.source == source and p.start <= lo_c and hi_c <= p.end:
            return _with_marks(p.text, [(c.start - p.start, c.end - p.start) for c in cites])
    text = ""
    if doc_text is not None:
        try:
            text = doc_text(source)
        except KeyError:
            text = ""
    if text:
        lo, hi = max(0, lo_c - PASSAGE_CONTEXT), min(len(text), hi_c + PASSAGE_CONTEXT)
        body = _with_marks(text[lo:hi], [(c.start - lo, c.end - lo) for c in cites])
        return ("…" if lo else "") + body + ("…" if hi < len(text) else "")
    return " … ".join(f"<mark>{_e(c.quote)}</mark>" for c in cites)


def group_citations(answer: Answer) -> dict[int, list[Citation]]:
    """Citations by marker number: one [n] may back several sentences with different spans of one passage."""
    groups: dict[int, list[Citation]] = {}
    for c in answer.citations:
        groups.setdefault(c.n, []).append(c)
    return groups


def _cards(answer: Answer, turn: int, doc_text: Callable[[str], str] | None, picked: int | None = None) -> str:
    """One card per [n] of ``answer`` (passage with the quoted spans marked), or the closest passages."""
    if answer.abstained or not answer.citations:
        near = "".join(
            f'<div class="src-card src-near"><div class="src-n">Closest passage {i}</div>'
            f'{_byline(p.outlet, p.title, p.date, p.source)}<div class="src-text">{_e(p.text)}</div></div>'
            for i, p in enumerate(answer.passages[:3], 1)
        )
        head = "No answer in the articles. Closest passages:" if answer.abstained else "Retrieved passages:"
        return f'<div class="src-note">{head}</div>{near or "(none)"}'
    cards = []
    for n, cites in group_citations(answer).items():
        c = cites[0]
        weak = "" if all(x.supported for x in cites) else (
            '<span class="src-weak" title="the passage only partly backs the sentence">weak support</span>')
        cls = "src-card src-picked" if n == picked else "src-card"
        cards.append(
            f'<div class="{cls}" id="{card_id(turn, n)}"><div class="src-n">[{n}] {weak}</div>'
            f"{_byline(c.outlet, c.title, c.date, c.source)}"
            f'<div class="src-text">{_context(cites, answer.passages, doc_text)}</div></div>'
        )
    return "".join(cards)


def _group(answer: Answer, turn: int, doc_text: Callable[[str], str] | None, is_open: bool,
           picked: int | None = None) -> str:
    question = answer.question if len(answer.question) <= 90 else answer.question[:89] + "…"
    return (f'<details class="src-group" id="a{turn}-sources" data-turn="{turn}"{" open" if is_open else ""}>'
            f'<summary><span class="src-turn">Answer {turn}</span> {_e(question)}</summary>'
            f"{_cards(answer, turn, doc_text, picked)}</details>")


def sources_html(answers: list[Answer], doc_text: Callable[[str], str] | None = None, pending: str = "",
                 picked: tuple[int, int] | None = None) -> str:
    """The sources panel: each answer's own cards (newest first and open; earlier answers folded, still there).

    Card ids are :func:`card_id` (``a<turn>-cite-<n>``), so a marker of any answer opens that answer's card.
    ``pending`` (from :func:`pending_sources_html`) is shown above while a new answer is being written; the card of
    ``picked`` (``(turn, n)``, the open citation) is outlined.
    """
    if not answers and not pending:
        return EMPTY_SOURCES
    last = len(answers)
    groups = [_group(a, turn, doc_text, is_open=turn == last and not pending,
                     picked=picked[1] if picked and picked[0] == turn else None)
              for turn, a in reversed(list(enumerate(answers, 1)))]
    head = '<div class="src-head">Sources</div>'
    return f'<div class="sources" id="sources-scroll">{pending}{head if answers else ""}{"".join(groups)}</div>'


def pending_sources_html(passages: list[RankedPassage]) -> str:
    """The block shown while an answer is written (the passages being read), for :func:`sources_html`."""
    items = "".join(f"<li>{_e(p.title or p.source)}</li>" for p in passages[:5])
    what = f"Reading {len(passages)} passages…" if passages else "Searching the articles…"
    return f'<div class="src-pending"><div class="src-head">{what}</div><ul>{items}</ul></div>'


def article_html(text: str, spans: list[tuple[int, int]], title: str | None, source: str) -> str:
    """The whole cleaned article with the cited spans marked, the first as ``<mark id="hl">`` (scrolled into view)."""
    body = _with_marks(text, spans, mark_id="hl")
    return (f'<div class="article-view"><div class="article-head">{_e(title or source)} '
            f'<code>{_e(source)}</code></div><div class="article-body">{body}</div></div>')


def debugger_html(answer: Answer, describe: Callable[[str], str]) -> str:
    """Standalone query plus the dense, BM25 and fused rankings (``describe(chunk_id)`` names a chunk)."""
    t = answer.trace
    if t is None:
        return "<p>No retrieval trace for this answer.</p>"

    def table(name: str, rows: list[tuple[str, float]]) -> str:
        body = "".join(
            f"<tr><td>{i}</td><td>{s:.4f}</td><td>{_e(describe(cid))}</td></tr>" for i, (cid, s) in enumerate(rows[:10], 1)
        )
        return f'<div class="dbg-col"><b>{name}</b><table><tr><th>#</th><th>score</th><th>chunk</th></tr>{body}</table></div>'

    timings = ", ".join(f"{k} {v:.0f} ms" for k, v in answer.timings_ms.items())
    scope = t.scope
    scope_line = (f"<p><b>Scope:</b> “{_e(scope.phrase)}” → {_e(scope.kind)}: {_e(', '.join(scope.sources))}</p>"
                  if scope.sources else f"<p><b>Scope:</b> {_e(scope.note)}</p>" if scope.note else "")
    subs = "".join(f"<li>{_e(s)}</li>" for s in t.subqueries)
    reasons = "".join(
        f"<tr><td>{p.rank}</td><td>{p.score:.4f}</td><td>{_e(' + '.join(p.legs))}</td><td>{_e(p.via)}</td>"
        f"<td>{_e(describe(p.id))}</td></tr>" for p in answer.passages
    )
    return (
        f'<div class="debugger"><p><b>Standalone query:</b> {_e(t.query)}</p>'
        f"<p>question language <code>{_e(t.question_language)}</code> · fusion <code>{_e(t.fusion)}</code> "
        f"over {t.candidates} candidates per leg · backend <code>{_e(answer.backend)}</code> · {_e(timings)}</p>"
        + (f"<p>{_e(t.fusion_note)}</p>" if t.fusion_note else "") + scope_line
        + (f"<p><b>Sub-queries:</b></p><ul>{subs}</ul>" if subs else "")
        + "<p><b>Passages given to the answerer</b></p><table><tr><th>#</th><th>fused</th><th>legs</th>"
        f"<th>brought by</th><th>chunk</th></tr>{reasons}</table>"
        f'<div class="dbg-cols">{table("Dense", t.dense)}{table("BM25", t.bm25)}{table("Fused", t.fused)}</div></div>'
    )
