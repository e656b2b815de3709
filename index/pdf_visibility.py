"""Blank the text of a PDF page that a reader never sees, before pypdf extracts the page's text.

Hidden text is the classic carrier of injected instructions. :func:`blank_hidden_text` walks a page's content
stream (and the form XObjects it draws) keeping the graphics state, and empties every text-showing string that is

- drawn in render mode 3 or 7 (invisible), with a fill/stroke alpha (``/ca``, ``/CA``) at or below
  :data:`MAX_INVISIBLE_ALPHA`, or in an optional-content group that is off by default; unless it lies over an image
  covering at least :data:`SCAN_SHARE` of the page: that is the OCR layer of a scanned page, whose text the image
  shows;
- painted white (every component at least :data:`WHITE`) where nothing non-white (a filled shape, an image, a
  shading) was painted before it: white on the white page;
- smaller than :data:`MIN_FONT_PT` in either direction once the font size, ``Tz``, the text matrix and the current
  transformation matrix are applied;
- entirely outside the page's visible area (crop box within media box) or the current clipping path;
- painted over: its glyph boxes lie inside a shape filled opaquely (normal blend mode, no soft mask) after it, in
  any colour (a white rectangle over it is the page's background again);
- drawn on a box of its own colour: the last shape painted under it before it contains its glyph boxes and has the
  colour of its text (within :data:`SAME_COLOR`), black on black.

The last two need where the glyphs really lie: their advance widths (the font's ``/Widths`` or ``/W``, or the
metrics of the 14 standard fonts) from pypdf's font reader; a string whose widths cannot be read is never judged
covered. Its glyph boxes run from :data:`GLYPH_BOTTOM` to :data:`GLYPH_TOP` em around the baseline (below the
descenders, to the height of capitals): what is left outside a cover is not enough to read.

Then pypdf's own extraction (spacing, line breaks, fonts) runs unchanged on what is left; a page with nothing hidden
is not touched at all. Filtering before extraction matters: pypdf's text visitor reports text in runs that can mix
visible and hidden strings (one ``Tr`` between two ``Tj`` on a line flushes nothing), so it cannot drop exactly the
hidden part afterwards.

Positions are judged conservatively: for the off-page and clipping tests a string's extent is estimated with every
glyph at most one em wide, and text is dropped as off-page or clipped only when even that generous extent misses
the visible area.

The walk that records what a page shows and paints is :mod:`index.pdf_walk` (on the vocabulary of
:mod:`index.pdf_graphics`); this module holds the rules that decide what is hidden, and blanks it.

>>> from pypdf import PdfReader  # doctest: +SKIP
>>> page = PdfReader("paper.pdf").pages[0]  # doctest: +SKIP
>>> blank_hidden_text(page), page.extract_text()  # doctest: +SKIP
(2, 'Only the text a reader sees.')
"""

from __future__ import annotations

import itertools
import logging
from typing import Any

from pypdf.generic import ByteStringObject, ContentStream, DictionaryObject, NameObject

from index.pdf_graphics import (
    _IDENTITY,
    _UNBOUNDED,
    RGB,
    Box,
    _area,
    _contains,
    _intersect,
    _overlaps,
    _Shown,
    _State,
)
from index.pdf_walk import (  # noqa: F401 - the walk's thresholds stay importable from here
    GLYPH_BOTTOM,
    GLYPH_TOP,
    MAX_FORM_DEPTH,
    MAX_FORMS,
    MAX_INVISIBLE_ALPHA,
    MIN_FONT_PT,
    OPAQUE,
    WHITE,
    _off_groups,
    _Page,
)

__all__ = ["blank_hidden_text", "MIN_FONT_PT", "WHITE", "MAX_INVISIBLE_ALPHA", "SCAN_SHARE", "SAME_COLOR", "OPAQUE"]

log = logging.getLogger(__name__)

SCAN_SHARE = 0.5  # an image covering this share of the page is a scanned page (its OCR text is invisible on purpose)
SAME_COLOR = 0.1  # text this close (every RGB component, 0-1) to the colour of the box under it cannot be read

_NAMES = itertools.count()  # names of rebuilt forms, unique even where pages share one resource dictionary


def _same(a: RGB | None, b: RGB | None) -> bool:
    return a is not None and b is not None and max(abs(x - y) for x, y in zip(a, b, strict=True)) <= SAME_COLOR



def _hidden(page: _Page) -> list[_Shown]:
    """The strings nobody can see on a walked ``page`` (see the module docstring for the rules)."""
    scans = [p.box for p in page.paints if p.image and _area(p.box) >= SCAN_SHARE * _area(page.page_box)]
    dark = [p for p in page.paints if p.rgb is None or min(p.rgb) < WHITE]  # what white text may show on
    out = []
    for s in page.shown:
        if s.box is None or s.tiny:
            out.append(s)
        elif s.invisible:
            if not any(_overlaps(s.box, scan) for scan in scans):
                out.append(s)
        elif s.white and not any(p.seq < s.seq and _overlaps(s.box, p.box) for p in dark):
            out.append(s)
        elif s.glyphs is not None and (_covered(page, s, s.glyphs) or _on_own_colour(page, s, s.glyphs)):
            out.append(s)
    return out


def _covered(page: _Page, s: _Shown, glyphs: Box) -> bool:
    """Painted over by an opaque fill drawn after it."""
    return any(p.seq > s.seq and p.opaque and _contains(p.box, glyphs) for p in page.paints)


def _on_own_colour(page: _Page, s: _Shown, glyphs: Box) -> bool:
    """Drawn on a box of its own colour: the last area painted under it before it is an opaque fill that holds
    all of its glyphs, in the colour of each of its paints (fill, stroke)."""
    under = [p for p in page.paints if p.seq < s.seq and _overlaps(p.box, glyphs)]
    if not under or not s.colors:
        return False
    last = max(under, key=lambda p: p.seq)
    return last.opaque and _contains(last.box, glyphs) and all(_same(c, last.rgb) for c in s.colors)


def blank_hidden_text(page: Any, reader: Any = None) -> int:
    """Empty, in memory, the strings of ``page`` that cannot be seen; return how many were emptied.

    The page's ``/Contents`` (and any form it draws that held hidden text) is replaced by a parsed copy with those
    strings blanked, so that ``page.extract_text()`` afterwards returns only visible text. Nothing is written back
    to the file. A page with nothing hidden is left exactly as it was.
    """
    reader = reader if reader is not None else page.pdf
    if "/Contents" not in page:
        return 0
    try:
        media, crop = page.mediabox, page.cropbox
        page_box = _intersect((float(media.left), float(media.bottom), float(media.right), float(media.top)),
                              (float(crop.left), float(crop.bottom), float(crop.right), float(crop.top)))
    except (KeyError, TypeError, ValueError, AttributeError, IndexError):  # a broken box: judge no position
        page_box = None
    content = ContentStream(page["/Contents"], reader, "bytes")
    ops = content.operations
    walk = _Page(reader, page_box or _UNBOUNDED, _off_groups(reader))
    resources = page.get_inherited("/Resources", DictionaryObject())
    resources = resources.get_object() if resources is not None else DictionaryObject()
    walk.run(ops, resources, _State(_IDENTITY, page_box or _UNBOUNDED), 0, frozenset())
    hidden = _hidden(walk)
    changed = {id(ops_list) for ops_list, _ in walk.dropped}
    for s in hidden:
        s.operands[s.slot] = ByteStringObject(b"")
        changed.add(id(s.ops))
    for ops_list, index in walk.dropped:
        ops_list[index] = ([], b"n")  # the form is not drawn: nothing in it shows, nothing in it is extracted
    for form in reversed(walk.forms):  # inner forms first: their new names go into their parents
        if id(form.child_ops) not in changed or form.ops[form.index][1] != b"Do":
            continue
        rebuilt = ContentStream(None, reader)
        for key, value in form.xobject.items():
            if key not in ("/Length", "/Filter", "/DecodeParms"):
                rebuilt[NameObject(key)] = value
        rebuilt.operations = form.child_ops
        name = NameObject(f"/VisibleOnly{next(_NAMES)}")
        form.resources["/XObject"].get_object()[name] = rebuilt
        form.ops[form.index] = ([name], b"Do")
        changed.add(id(form.ops))
    if id(ops) in changed:
        filtered = ContentStream(None, reader)
        filtered.operations = ops
        page[NameObject("/Contents")] = filtered
    if hidden or walk.dropped:
        log.info("blanked %d hidden string(s) on a PDF page", len(hidden))
    return len(hidden) + len(walk.dropped)
