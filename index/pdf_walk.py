"""The page walk :mod:`index.pdf_visibility` judges: follow a PDF page's content stream (and the form XObjects it
draws) keeping the graphics state, and record every string shown (where its glyphs may lie, whether it is tiny,
invisible or white, its colours) and every area painted (images, shapes, shadings, in their colour and opacity).
The thresholds a string is recorded against (:data:`MIN_FONT_PT`, :data:`WHITE`, :data:`MAX_INVISIBLE_ALPHA`,
:data:`OPAQUE`, the glyph box from :data:`GLYPH_BOTTOM` to :data:`GLYPH_TOP` em) live here; the rules that decide
what is hidden, and the rewriting of the page, live in :mod:`index.pdf_visibility`."""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any

from pypdf.generic import ArrayObject, ContentStream, DictionaryObject, NameObject

from index.pdf_graphics import (
    _COLOR_OPERANDS,
    _DEVICE,
    _FILLS,
    _IDENTITY,
    _NORMAL_BLEND,
    _PAINTS,
    RGB,
    Box,
    _box,
    _font_widths,
    _Form,
    _intersect,
    _is_string,
    _matrix,
    _mult,
    _nums,
    _Paint,
    _resource,
    _rgb,
    _Shown,
    _State,
    _Widths,
)

__all__ = ["MIN_FONT_PT", "WHITE", "MAX_INVISIBLE_ALPHA", "OPAQUE"]

MIN_FONT_PT = 1.0  # text smaller than 1 pt is a speck on paper, not something anyone reads
WHITE = 0.95  # a colour whose every component (0-1, as RGB) is at least this light is white on paper
MAX_INVISIBLE_ALPHA = 0.05  # paint this transparent shows nothing
MAX_FORM_DEPTH = 12  # forms drawn inside forms; deeper ones are dropped (pypdf also stops at cycles)
MAX_FORMS = 5_000  # form XObjects drawn per page (pypdf's own limit for text extraction)
OPAQUE = 0.95  # a fill at least this opaque hides what it covers
GLYPH_BOTTOM, GLYPH_TOP = -0.1, 0.7  # the part of each glyph's em box (below/above the baseline) that must be covered


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


def _off_groups(reader: Any) -> set[int]:
    """Optional-content groups hidden when the document opens (``/OCProperties /D /OFF``), by object identity."""
    try:
        off = reader.trailer["/Root"]["/OCProperties"]["/D"].get("/OFF", [])
        return {id(group.get_object()) for group in off.get_object()}
    except (KeyError, TypeError, AttributeError):
        return set()
