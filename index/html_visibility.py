"""Remove what a reader of an HTML page never sees, before its text is extracted.

Hidden text is the classic carrier of injected instructions: a page shows one article and hides another sentence
("ignore your instructions and …") that an indexer would otherwise store and quote. :func:`drop_hidden` removes, in
place, every element the page itself hides from a visitor, judged from the page's own markup: inline ``style``
attributes, presentational attributes (``<font color>``, ``bgcolor``) and the rules of its ``<style>`` blocks whose
selectors are tags, classes, ids and ``:root`` (see :mod:`index.css`); custom properties are inherited and ``var()``
is substituted before anything is judged. Rules from linked stylesheets are not read.

Removed with all their content (nothing inside can show):

- ``<template>``, the ``hidden`` attribute, ``aria-hidden="true"``, ``display: none``, ``visibility: hidden``,
  ``content-visibility: hidden``, ``opacity`` or ``filter: opacity(…)`` at or below :data:`MAX_INVISIBLE_ALPHA`;
- positioned (``position`` other than static) with ``left``/``top``/``right``/``bottom`` at or beyond
  -:data:`OFFSCREEN_PX`, or moved that far by ``margin-left``/``margin-top``, ``text-indent`` or
  ``transform: translate…``; ``transform: scale(0)``;
- placed above or left of the page where nobody can scroll: ``position: fixed`` (the viewport), or ``absolute``
  with no positioned ancestor (the page's top left corner), with ``top``/``left`` at or beyond -:data:`OFFVIEW_PX`
  (or beyond its own declared height/width, when that is larger);
- clipped to nothing: ``clip: rect(0 0 0 0)`` (or any empty rectangle), ``clip-path: inset(50%)``/``circle(0)``,
  or a box at most 1 px wide or high that hides its overflow.

Emptied of their own text only (a child may set a readable size or colour again, as in the ``font-size: 0``
whitespace trick on rows of inline blocks): elements whose font size is below :data:`MIN_FONT_PX`, whose text colour
is transparent, or whose text colour is within :data:`MAX_COLOR_DIFF` of the background behind it. Colours and
sizes are inherited from ancestors; the background is the nearest one an ancestor paints (white when none does,
as in a browser; unknown, so never "equal", behind a background image).

Which declarations win on an element is :mod:`index.html_cascade`; what they hide, :mod:`index.html_rules`; this
module walks the tree and removes what is hidden.

>>> from lxml import html
>>> page = html.fromstring('<html><body><p>Seen.</p><p style="color:#fff">Unseen.</p></body></html>')
>>> drop_hidden(page), page.text_content()
(1, 'Seen.')
"""

from __future__ import annotations

from typing import Any

from index.css import features
from index.html_cascade import _Sheet
from index.html_rules import (  # noqa: F401 - the thresholds stay importable from here
    MAX_COLOR_DIFF,
    MAX_INVISIBLE_ALPHA,
    MIN_FONT_PX,
    OFFSCREEN_PX,
    OFFVIEW_PX,
    VIEWPORT_PX,
    _context,
    _Ctx,
    _gone,
)

__all__ = ["drop_hidden", "MIN_FONT_PX", "OFFSCREEN_PX", "MAX_INVISIBLE_ALPHA", "MAX_COLOR_DIFF"]

MAX_SELECTOR_STEPS = 5_000_000  # selector tests per page (a few seconds); beyond that the page is refused

_NOT_WALKED = frozenset({"head", "script", "style", "noscript"})  # not rendered; trafilatura drops them itself
_KEPT_EMPTY = frozenset({"html", "body", "td", "th"})  # removing an empty cell would shift a table's columns


def _own_text(el) -> bool:
    return bool((el.text or "").strip()) or any((child.tail or "").strip() for child in el)


def _empty(el) -> bool:
    return len(el) == 0 and not (el.text or "").strip() and el.tag not in _KEPT_EMPTY


def _remove(el) -> None:
    """Remove ``el`` and its content but keep its ``tail`` (the parent's text that follows it); then remove the
    ancestors this leaves empty, as trafilatura would drop the text after an empty element (``<b></b>tail``)."""
    while True:
        parent = el.getparent()
        if parent is None:  # the whole page is hidden
            el.clear()
            return
        if el.tail:
            before = el.getprevious()
            if before is not None:
                before.tail = (before.tail or "") + el.tail
            else:
                parent.text = (parent.text or "") + el.tail
        parent.remove(el)
        if not _empty(parent):
            return
        el = parent


def drop_hidden(root) -> int:
    """Remove hidden elements from an lxml HTML tree in place (see the module); return how many were affected.

    The text that follows a removed element (its ``tail``) belongs to the parent and is kept.
    """
    sheet = _Sheet(root, MAX_SELECTOR_STEPS)
    affected = 0
    stack: list[tuple[Any, _Ctx, frozenset[str]]] = [(root, _Ctx(), frozenset())]
    while stack:
        el, parent_ctx, above = stack.pop()
        if not isinstance(el.tag, str) or el.tag in _NOT_WALKED:  # comments, processing instructions, <head>
            continue
        own = features(el.tag, el.get("id"), set((el.get("class") or "").split()))
        d, variables = sheet.declared(el, own, above, parent_ctx.variables)
        if _gone(el, d, parent_ctx.font_px, parent_ctx.contained):
            _remove(el)
            affected += 1
            continue
        ctx = _context(d, parent_ctx, variables) if d or variables is not parent_ctx.variables else parent_ctx
        if ctx.unreadable and _own_text(el):
            el.text = None
            for child in el:
                child.tail = None
            affected += 1
            if _empty(el):
                _remove(el)
                continue
        below = above if not sheet.index or own <= above else above | own
        stack.extend((child, ctx, below) for child in el)
    return affected
