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

>>> from pypdf import PdfReader  # doctest: +SKIP
>>> page = PdfReader("paper.pdf").pages[0]  # doctest: +SKIP
>>> blank_hidden_text(page), page.extract_text()  # doctest: +SKIP
(2, 'Only the text a reader sees.')
"""

from __future__ import annotations

import itertools
import logging
import math
from dataclasses import dataclass, field, replace
from typing import Any

from pypdf.generic import ArrayObject, ByteStringObject, ContentStream, DictionaryObject, NameObject

__all__ = ["blank_hidden_text", "MIN_FONT_PT", "WHITE", "MAX_INVISIBLE_ALPHA", "SCAN_SHARE", "SAME_COLOR", "OPAQUE"]

log = logging.getLogger(__name__)

MIN_FONT_PT = 1.0  # text smaller than 1 pt is a speck on paper, not something anyone reads
WHITE = 0.95  # a colour whose every component (0-1, as RGB) is at least this light is white on paper
MAX_INVISIBLE_ALPHA = 0.05  # paint this transparent shows nothing
SCAN_SHARE = 0.5  # an image covering this share of the page is a scanned page (its OCR text is invisible on purpose)
MAX_FORM_DEPTH = 12  # forms drawn inside forms; deeper ones are dropped (pypdf also stops at cycles)
MAX_FORMS = 5_000  # form XObjects drawn per page (pypdf's own limit for text extraction)
SAME_COLOR = 0.1  # text this close (every RGB component, 0-1) to the colour of the box under it cannot be read
OPAQUE = 0.95  # a fill at least this opaque hides what it covers
GLYPH_BOTTOM, GLYPH_TOP = -0.1, 0.7  # the part of each glyph's em box (below/above the baseline) that must be covered

from index.pdf_graphics import (  # noqa: E402
    _COLOR_OPERANDS,
    _DEVICE,
    _FILLS,
    _IDENTITY,
    _NORMAL_BLEND,
    _PAINTS,
    _UNBOUNDED,
    RGB,
    Box,
    _area,
    _box,
    _contains,
    _font_widths,
    _Form,
    _intersect,
    _is_string,
    _matrix,
    _mult,
    _nums,
    _overlaps,
    _Paint,
    _resource,
    _rgb,
    _Shown,
    _State,
    _Widths,
)

_NAMES = itertools.count()  # names of rebuilt forms, unique even where pages share one resource dictionary


def _same(a: RGB | None, b: RGB | None) -> bool:
    return a is not None and b is not None and max(abs(x - y) for x, y in zip(a, b, strict=True)) <= SAME_COLOR


@dataclass
class _Page:
    reader: Any
    page_box: Box
    off_groups: set[int]
    shown: list[_Shown] = field(default_factory=list)
    paints: list[_Paint] = field(default_factory=list)
    forms: list[_Form] = field(default_factory=list)
    dropped: list[tuple[list[Any], int]] = field(default_factory=list)  # form draws removed outright
    seq: int = 0
    budget: int = MAX_FORMS

    fonts: dict[int, _Widths | None] = field(default_factory=dict)  # by the font dictionary's identity

    def paint(self, box: Box | None, image: bool, rgb: RGB | None = None, opaque: bool = False) -> None:
        if box is not None:
            self.paints.append(_Paint(box, self.seq, image, rgb, opaque))
            self.seq += 1

    def widths(self, font: Any) -> _Widths | None:
        if not isinstance(font, DictionaryObject):
            return None
        if id(font) not in self.fonts:
            self.fonts[id(font)] = _font_widths(font)
        return self.fonts[id(font)]

    def _components(self, name: Any, resources: Any) -> int:
        if name in _DEVICE:
            return _DEVICE[name]
        space = _resource(resources, "/ColorSpace", name)
        if isinstance(space, NameObject):
            return _DEVICE.get(space, 0)
        if isinstance(space, ArrayObject) and space:
            family = space[0]
            if family == "/ICCBased" and len(space) > 1:
                n = space[1].get_object().get("/N", 0)
                return int(n) if n in (1, 3, 4) else 0
            return _DEVICE.get(family, 0)
        return 0

    def _group_off(self, props: Any, resources: Any) -> bool:
        """Whether an optional-content group (or membership dictionary) is off when the document opens."""
        group = _resource(resources, "/Properties", props) if isinstance(props, NameObject) else props
        if not isinstance(group, DictionaryObject) or not self.off_groups:
            return False
        if group.get("/Type") == "/OCMD":
            members = group.get("/OCGs")
            members = members.get_object() if members is not None else None
            items = list(members) if isinstance(members, ArrayObject) else [members] if members else []
            states = [id(m.get_object()) in self.off_groups for m in items]
            policy = group.get("/P", "/AnyOn")
            return bool(states) and (all(states) if policy in ("/AnyOn", "/AllOff") else any(states))
        return id(group) in self.off_groups

    def run(self, ops: list[Any], resources: Any, state: _State, depth: int, drawing: frozenset[int]) -> None:
        """Follow ``ops`` recording every string shown and every area painted (recursing into forms)."""
        saved: list[_State] = []
        hidden_marks: list[bool] = []
        text_m = line_m = _IDENTITY
        pen_lo = pen_hi = 0.0  # how far the strings since the last positioning moved the pen: least, most
        path: list[Box] = []
        clip_next = False

        def show(operands: list[Any], slot: int, string: Any) -> None:
            nonlocal pen_lo, pen_hi
            raw = getattr(string, "original_bytes", string)
            count = len(raw) if isinstance(raw, (bytes, str)) else 0  # glyphs: at most one per byte
            size = state.font_size * state.font_scale
            m = _mult(text_m, state.ctm)
            tiny = min(math.hypot(m[2], m[3]) * abs(size),
                       math.hypot(m[0], m[1]) * abs(size * state.h_scale)) < MIN_FONT_PT
            # Where the string may lie, in text space: it starts between the pen position if the strings before it
            # since the last Td/Tm had no width (pen_lo) and if every glyph of theirs was one em wide (pen_hi), and
            # runs at most one em per glyph (plus character and word spacing) in the writing direction.
            direction = -1.0 if size * state.h_scale < 0 else 1.0
            advance = direction * count * (abs(size) + abs(state.char_space) + abs(state.word_space)) * abs(
                state.h_scale)
            xs = (pen_lo, pen_hi, pen_hi + advance)
            box = _intersect(state.clip, _box(m, min(xs), state.rise - abs(size), max(xs), state.rise + abs(size)))
            exact = None
            if state.widths is not None and pen_lo == pen_hi and isinstance(raw, bytes):
                exact = direction * abs(state.widths.advance(raw, abs(size), state.char_space, state.word_space,
                                                             state.h_scale))
            glyphs = None if exact is None else _box(m, min(pen_lo, pen_lo + exact), state.rise + GLYPH_BOTTOM * abs(
                size), max(pen_lo, pen_lo + exact), state.rise + GLYPH_TOP * abs(size))
            mode = state.mode
            painted = [] if mode in (3, 7) else [(state.stroke, state.stroke_alpha)] if mode in (1, 5) else [
                (state.fill, state.fill_alpha)] + ([(state.stroke, state.stroke_alpha)] if mode in (2, 6) else [])
            invisible = (not painted or all(alpha <= MAX_INVISIBLE_ALPHA for _, alpha in painted)
                         or any(hidden_marks))
            white = all(c is not None and min(c) >= WHITE for c, _ in painted)
            self.shown.append(_Shown(operands, slot, ops, box, self.seq, tiny, invisible, white, glyphs,
                                     tuple(c for c, _ in painted)))
            self.seq += 1
            if exact is not None:  # both ends move by the exact width
                pen_lo += exact
                pen_hi += exact
            else:
                pen_hi += advance

        def move(tx: float, ty: float) -> None:
            nonlocal text_m, line_m, pen_lo, pen_hi
            line_m = text_m = _mult((1.0, 0.0, 0.0, 1.0, tx, ty), line_m)
            pen_lo = pen_hi = 0.0

        for index, (operands, op) in enumerate(ops):
            try:
                if op == b"q":
                    saved.append(replace(state))
                elif op == b"Q":
                    if saved:
                        state = saved.pop()
                elif op == b"cm":
                    state.ctm = _mult(tuple(_nums(operands, 6)), state.ctm)  # type: ignore[arg-type]
                elif op == b"BT":
                    text_m = line_m = _IDENTITY
                    pen_lo = pen_hi = 0.0
                elif op == b"Tf":
                    state.font_size = float(operands[1])
                    font = _resource(resources, "/Font", operands[0])
                    state.widths = self.widths(font)
                    state.font_scale = 1.0
                    if isinstance(font, DictionaryObject) and font.get("/Subtype") == "/Type3":
                        fm = _nums(list(font.get("/FontMatrix", [0.001, 0, 0, 0.001, 0, 0])), 4)
                        state.font_scale = math.sqrt(abs(fm[0] * fm[3] - fm[1] * fm[2])) / 0.001
                elif op == b"Tr":
                    state.mode = int(operands[0])
                elif op in (b"Tz", b"Tc", b"Tw", b"TL", b"Ts"):
                    value = _nums(operands, 1)[0]
                    if op == b"Tz":
                        state.h_scale = value / 100
                    else:
                        setattr(state, {b"Tc": "char_space", b"Tw": "word_space", b"TL": "leading",
                                        b"Ts": "rise"}[op], value)
                elif op in (b"Td", b"TD"):
                    tx, ty = _nums(operands, 2)
                    if op == b"TD":
                        state.leading = -ty
                    move(tx, ty)
                elif op == b"Tm":
                    line_m = text_m = tuple(_nums(operands, 6))  # type: ignore[assignment]
                    pen_lo = pen_hi = 0.0
                elif op == b"T*":
                    move(0.0, -state.leading)
                elif op in (b"Tj", b"'", b'"'):
                    slot = 2 if op == b'"' else 0
                    if op == b'"':
                        state.word_space, state.char_space = _nums(operands, 2)
                    if op != b"Tj":
                        move(0.0, -state.leading)
                    if len(operands) > slot and _is_string(operands[slot]):
                        show(operands, slot, operands[slot])
                elif op == b"TJ":
                    items = operands[0] if operands and isinstance(operands[0], list) else []
                    for slot, item in enumerate(items):
                        if _is_string(item):
                            show(items, slot, item)
                        elif isinstance(item, (int, float)):
                            shift = -float(item) / 1000 * state.font_size * state.h_scale  # thousandths of an em
                            pen_lo, pen_hi = pen_lo + shift, pen_hi + shift
                elif op in (b"g", b"rg", b"k", b"G", b"RG", b"K"):
                    n = _COLOR_OPERANDS[op.lower()]
                    rgb = _rgb(_nums(operands, n))
                    if op.islower():
                        state.fill, state.fill_n = rgb, n
                    else:
                        state.stroke, state.stroke_n = rgb, n
                elif op in (b"cs", b"CS"):
                    n = self._components(operands[0], resources)
                    black = (0.0, 0.0, 0.0) if n else None
                    if op == b"cs":
                        state.fill, state.fill_n = black, n
                    else:
                        state.stroke, state.stroke_n = black, n
                elif op in (b"sc", b"scn", b"SC", b"SCN"):
                    fill = op.islower()
                    n = state.fill_n if fill else state.stroke_n
                    numeric = all(isinstance(v, (int, float)) for v in operands)
                    rgb = _rgb(_nums(operands, n)) if n and numeric and len(operands) == n else None
                    if fill:
                        state.fill = rgb
                    else:
                        state.stroke = rgb
                elif op == b"gs":
                    ext = _resource(resources, "/ExtGState", operands[0])
                    if isinstance(ext, DictionaryObject):
                        state.fill_alpha = float(ext.get("/ca", state.fill_alpha))
                        state.stroke_alpha = float(ext.get("/CA", state.stroke_alpha))
                        if "/BM" in ext or "/SMask" in ext:
                            blend = ext.get("/BM", "/Normal")
                            blend = blend[0] if isinstance(blend, list) and blend else blend
                            mask = ext.get("/SMask", "/None")
                            state.blend_normal = blend in _NORMAL_BLEND and mask == "/None"
                        font_entry = ext.get("/Font")
                        if font_entry is not None:  # [font size]
                            state.font_size = float(font_entry.get_object()[1])
                elif op == b"re":
                    x, y, w, h = _nums(operands, 4)
                    path.append(_box(state.ctm, x, y, x + w, y + h))
                elif op in (b"m", b"l", b"c", b"v", b"y"):
                    nums = _nums(operands, len(operands))
                    for k in range(0, len(nums) - 1, 2):
                        path.append(_box(state.ctm, nums[k], nums[k + 1], nums[k], nums[k + 1]))
                elif op in (b"W", b"W*"):
                    clip_next = True
                elif op in _PAINTS:
                    if path:
                        extent = (min(b[0] for b in path), min(b[1] for b in path), max(b[2] for b in path),
                                  max(b[3] for b in path))
                        if op in _FILLS and state.fill_alpha > MAX_INVISIBLE_ALPHA:
                            self.paint(_intersect(state.clip, extent), False, state.fill,
                                       state.fill_alpha >= OPAQUE and state.blend_normal and state.fill is not None)
                        if clip_next:
                            state.clip = _intersect(state.clip, extent)
                    elif clip_next:
                        state.clip = None
                    path, clip_next = [], False
                elif op == b"sh":
                    self.paint(state.clip, image=False)
                elif op == b"INLINE IMAGE":
                    self.paint(_intersect(state.clip, _box(state.ctm, 0, 0, 1, 1)), image=True)
                elif op == b"BDC":
                    off = len(operands) > 1 and operands[0] == "/OC" and self._group_off(operands[1], resources)
                    hidden_marks.append(off)
                elif op == b"BMC":
                    hidden_marks.append(False)
                elif op == b"EMC":
                    if hidden_marks:
                        hidden_marks.pop()
                elif op == b"Do":
                    self._draw(ops, index, operands[0], resources, state, depth, drawing, any(hidden_marks))
            except (TypeError, ValueError, KeyError, IndexError, AttributeError, ZeroDivisionError):
                continue  # a malformed operator changes nothing here (pypdf's extraction skips it as well)

    def _draw(self, ops: list[Any], index: int, name: Any, resources: Any, state: _State, depth: int,
              drawing: frozenset[int], hidden: bool) -> None:
        xobject = _resource(resources, "/XObject", name)
        if not isinstance(xobject, DictionaryObject):
            return
        if xobject.get("/Subtype") == "/Image":
            self.paint(_intersect(state.clip, _box(state.ctm, 0, 0, 1, 1)), image=True)
            return
        if xobject.get("/Subtype") != "/Form":
            return
        if (hidden or depth >= MAX_FORM_DEPTH or id(xobject) in drawing or self.budget <= 0
                or ("/OC" in xobject and self._group_off(xobject["/OC"].get_object(), resources))):
            self.dropped.append((ops, index))
            return
        self.budget -= 1
        try:
            child_ops = ContentStream(xobject, self.reader, "bytes").operations
        except Exception:  # noqa: BLE001 - pypdf cannot read it either; its text never reaches the index
            self.dropped.append((ops, index))
            return
        inner = replace(state, ctm=_mult(tuple(_matrix(xobject.get("/Matrix"), _IDENTITY, 6)),  # type: ignore[arg-type]
                                         state.ctm))
        if "/BBox" in xobject:
            inner.clip = _intersect(state.clip, _box(inner.ctm, *_matrix(xobject["/BBox"], (), 4)))
        own = xobject.get("/Resources")
        child_resources = own.get_object() if own is not None else resources
        # A rebuilt form is registered where the drawing stream looks its name up: ``resources``.
        self.forms.append(_Form(ops, index, resources, xobject, child_ops))
        self.run(child_ops, child_resources, inner, depth + 1, drawing | {id(xobject)})

    def hidden(self) -> list[_Shown]:
        """The strings nobody can see (see the module docstring for the rules)."""
        scans = [p.box for p in self.paints if p.image and _area(p.box) >= SCAN_SHARE * _area(self.page_box)]
        dark = [p for p in self.paints if p.rgb is None or min(p.rgb) < WHITE]  # what white text may show on
        out = []
        for s in self.shown:
            if s.box is None or s.tiny:
                out.append(s)
            elif s.invisible:
                if not any(_overlaps(s.box, scan) for scan in scans):
                    out.append(s)
            elif s.white and not any(p.seq < s.seq and _overlaps(s.box, p.box) for p in dark):
                out.append(s)
            elif s.glyphs is not None and (self._covered(s, s.glyphs) or self._on_own_colour(s, s.glyphs)):
                out.append(s)
        return out

    def _covered(self, s: _Shown, glyphs: Box) -> bool:
        """Painted over by an opaque fill drawn after it."""
        return any(p.seq > s.seq and p.opaque and _contains(p.box, glyphs) for p in self.paints)

    def _on_own_colour(self, s: _Shown, glyphs: Box) -> bool:
        """Drawn on a box of its own colour: the last area painted under it before it is an opaque fill that holds
        all of its glyphs, in the colour of each of its paints (fill, stroke)."""
        under = [p for p in self.paints if p.seq < s.seq and _overlaps(p.box, glyphs)]
        if not under or not s.colors:
            return False
        last = max(under, key=lambda p: p.seq)
        return last.opaque and _contains(last.box, glyphs) and all(_same(c, last.rgb) for c in s.colors)


def _off_groups(reader: Any) -> set[int]:
    """Optional-content groups hidden when the document opens (``/OCProperties /D /OFF``), by object identity."""
    try:
        off = reader.trailer["/Root"]["/OCProperties"]["/D"].get("/OFF", [])
        return {id(group.get_object()) for group in off.get_object()}
    except (KeyError, TypeError, AttributeError):
        return set()


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
    hidden = walk.hidden()
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
