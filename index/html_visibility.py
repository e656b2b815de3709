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

>>> from lxml import html
>>> page = html.fromstring('<html><body><p>Seen.</p><p style="color:#fff">Unseen.</p></body></html>')
>>> drop_hidden(page), page.text_content()
(1, 'Seen.')
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from index.css import (
    PENDING,
    Color,
    Decl,
    Rule,
    color,
    declarations,
    expand,
    features,
    px,
    style_rules,
    substitute,
)

__all__ = ["drop_hidden", "MIN_FONT_PX", "OFFSCREEN_PX", "MAX_INVISIBLE_ALPHA", "MAX_COLOR_DIFF"]

MIN_FONT_PX = 2.0  # 1.5 pt: smaller text is a speck, not something anyone reads
OFFSCREEN_PX = 1000.0  # moved this far left or up, an element is off every screen (the usual values are -9999px)
OFFVIEW_PX = 200.0  # a fixed box (or an absolute one placed on the page) this far above or left of the page is unseen
VIEWPORT_PX = (1920.0, 1080.0)  # what % of the viewport means for fixed boxes (index.css reads vw/vh alike)
MAX_INVISIBLE_ALPHA = 0.05  # opacity or colour alpha at or below this shows nothing
MAX_SELECTOR_STEPS = 5_000_000  # selector tests per page (a few seconds); beyond that the page is refused
MAX_COLOR_DIFF = 24.0  # text within this many steps (0-255, every channel) of its background cannot be read

_RGB = tuple[float, float, float]
_WHITE: _RGB = (255.0, 255.0, 255.0)
_BLACK: Color = (0.0, 0.0, 0.0, 1.0)
_NOT_WALKED = frozenset({"head", "script", "style", "noscript"})  # not rendered; trafilatura drops them itself
_SIZE_WORDS = {"xx-small": 9.0, "x-small": 10.0, "small": 13.0, "medium": 16.0, "large": 18.0, "x-large": 24.0,
               "xx-large": 32.0, "xxx-large": 48.0}
_KEPT_EMPTY = frozenset({"html", "body", "td", "th"})  # removing an empty cell would shift a table's columns
_KEEP = ("inherit", "unset", "revert", "revert-layer")
_ARGS = re.compile(r"(translate|translatex|translatey|translate3d|scale|scalex|scaley|scale3d)\(([^)]*)\)")


@dataclass(frozen=True)
class _Ctx:
    """What an element inherits: text colour (None: unknown), background behind it (None: an image or unknown),
    font size in px, and whether a text shadow draws the glyphs even in a transparent colour."""

    color: Color | None = _BLACK
    background: _RGB | None = _WHITE
    font_px: float = 16.0
    shadow: bool = False
    unreadable: bool = False  # text drawn in this context cannot be seen (see _unreadable)
    contained: bool = False  # an ancestor is positioned: absolute boxes are placed in it, not on the page
    variables: dict[str, str] = field(default_factory=dict)  # custom properties (inherited), resolved


class _Sheet:
    """The page's own ``<style>`` rules, indexed by what their rightmost compound needs (as browsers do)."""

    def __init__(self, root) -> None:
        rules: list[Rule] = []
        for style in root.iter("style"):
            media = (style.get("media") or "all").strip().lower().removeprefix("only ").strip()
            if media in ("all", "screen", ""):
                rules.extend(style_rules("".join(style.itertext()), start=len(rules)))
        self.budget = [MAX_SELECTOR_STEPS]
        self.index: dict[str, list[Rule]] = defaultdict(list)
        for rule in rules:
            self.index[rule.selector.key].append(rule)

    def declared(self, el, own: frozenset[str], above: frozenset[str],
                 inherited: dict[str, str]) -> tuple[dict[str, str], dict[str, str]]:
        """The winning value of each relevant property on ``el`` (cascade: !important, specificity, order), with
        ``var()`` substituted, and the custom properties ``el`` passes on (``inherited`` plus its own).

        ``own`` are the element's :func:`~index.css.features`, ``above`` those of all its ancestors together: a rule
        that needs an ancestor feature nobody has is skipped without walking the tree (as browsers do).
        """
        found: list[tuple[tuple[bool, tuple[int, ...], int], str, str]] = [
            ((False, (0, 0, 0, 0), -1), prop, value) for prop, value in _presentational(el).items()]
        if self.index:
            for key in ("*", *own):
                for rule in self.index.get(key, ()):
                    if rule.needs <= above and rule.selector.matches(el, self.budget):
                        rank = (0, *rule.selector.specificity)
                        found.extend(((imp, rank, rule.order), prop, value)
                                     for prop, (value, imp) in rule.decls.items())
        style = el.get("style")
        if style:
            inline: dict[str, Decl] = declarations(style)
            found.extend(((imp, (1, 0, 0, 0), 0), prop, value) for prop, (value, imp) in inline.items())
        if len(found) > 1:
            found.sort(key=lambda f: f[0])
        won: dict[str, str] = {}
        for _, prop, value in found:  # the winners, in the order they were declared (a shorthand then a longhand)
            won.pop(prop, None)
            won[prop] = value
        own_vars = {k: v for k, v in won.items() if k.startswith("--")}
        variables = inherited
        if own_vars:
            variables = dict(inherited)
            for name in own_vars:  # may refer to each other (a cycle, or one too deep, is invalid: None)
                resolved_var = substitute(own_vars[name], {**inherited, **own_vars})
                if resolved_var is None:
                    variables.pop(name, None)
                else:
                    variables[name] = resolved_var
        if not any(k[0] in ("-", PENDING) for k in won):
            return won, variables
        out: dict[str, str] = {}
        for prop, value in won.items():
            if prop.startswith("--"):
                continue
            if prop.startswith(PENDING):
                resolved = substitute(value, variables)
                if resolved is not None:  # else invalid where used: no opinion
                    out.update(expand(prop[len(PENDING):], " ".join(resolved.split())))
            else:
                out[prop] = value
        return out, variables


def _legacy_color(value: str) -> str:
    value = value.strip().lower()
    return "#" + value if re.fullmatch(r"[0-9a-f]{6}", value) else value


def _presentational(el) -> dict[str, str]:
    """Colours set by old HTML attributes: ``<font color>``, ``<body text>``, ``bgcolor``."""
    out: dict[str, str] = {}
    if el.tag not in ("font", "body") and el.get("bgcolor") is None:
        return out
    if el.tag == "font" and el.get("color"):
        out["color"] = _legacy_color(el.get("color"))
    if el.tag == "body" and el.get("text"):
        out["color"] = _legacy_color(el.get("text"))
    if el.get("bgcolor"):
        out["background-color"] = _legacy_color(el.get("bgcolor"))
    return out


def _number(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return float(value[:-1]) / 100 if value.endswith("%") else float(value)
    except ValueError:
        return None


def _far(value: str | None, font_px: float) -> bool:
    length = px(value, font_px) if value else None
    return length is not None and length <= -OFFSCREEN_PX


def _transform_hides(value: str, font_px: float) -> bool:
    for name, args in _ARGS.findall(value):
        parts = [a for a in re.split(r"[\s,]+", args.strip()) if a]
        if name.startswith("scale"):
            flat = parts[:2] if name == "scale3d" else parts
            if any(_number(p) == 0 for p in flat):
                return True
        else:
            moved = parts if name in ("translate", "translate3d", "translatex", "translatey") else []
            if any(_far(p, font_px) for p in moved[:2]):
                return True
    return False


def _sides(values: list[str]) -> list[str]:
    top = values[0]
    right = values[1] if len(values) > 1 else top
    return [top, right, values[2] if len(values) > 2 else top, values[3] if len(values) > 3 else right]


def _clip_empty(clip: str | None, clip_path: str | None, font_px: float) -> bool:
    m = re.fullmatch(r"rect\(([^)]*)\)", clip or "")
    if m:
        parts = [a for a in re.split(r"[\s,]+", m.group(1).strip()) if a]
        if len(parts) == 4:
            top, right, bottom, left = (px(p, font_px) for p in parts)
            if (top is not None and bottom is not None and bottom <= top) or (
                    left is not None and right is not None and right <= left):
                return True
    m = re.match(r"(inset|circle|ellipse)\(([^)]*)\)", clip_path or "")
    if m is None:
        return False
    parts = [a for a in m.group(2).split(" round ")[0].replace(",", " ").split() if a]
    if m.group(1) == "inset" and 1 <= len(parts) <= 4 and all(p.endswith("%") for p in parts):
        top, right, bottom, left = (_number(p) or 0.0 for p in _sides(parts))
        return top + bottom >= 1 or left + right >= 1
    return m.group(1) != "inset" and bool(parts) and _number(parts[0].removesuffix("px")) == 0


def _filter_alpha(value: str | None) -> float:
    """How much of an element ``filter: opacity(…)`` lets show (1 without one)."""
    alpha = 1.0
    for arg in re.findall(r"opacity\(([^)]*)\)", value or ""):
        a = _number(arg.strip())
        if a is not None:
            alpha *= max(0.0, min(1.0, a))
    return alpha


def _off_view(d: dict[str, str], font_px: float, contained: bool) -> bool:
    """A fixed box, or an absolute one placed on the page, that lies entirely above or left of it."""
    position = d.get("position")
    if position != "fixed" and (position != "absolute" or contained):
        return False
    for side, size, extent in (("top", "height", VIEWPORT_PX[1]), ("left", "width", VIEWPORT_PX[0])):
        if side not in d:
            continue
        offset = px(d[side], font_px, percent_of=extent)
        own = px(d[size], font_px, percent_of=extent) if size in d else None
        if offset is not None and offset <= -max(OFFVIEW_PX, own or 0.0):
            return True
    return False


def _gone(el, d: dict[str, str], font_px: float, contained: bool = False) -> bool:
    """Whether the element and everything inside it is hidden from a visitor (``contained``: an ancestor is
    positioned)."""
    if el.tag == "template" or el.get("hidden") is not None:
        return True
    if (el.get("aria-hidden") or "").strip().lower() == "true":
        return True
    if not d:
        return False
    if d.get("display") == "none" or d.get("visibility") in ("hidden", "collapse"):
        return True
    if d.get("content-visibility") == "hidden":
        return True
    opacity = _number(d.get("opacity"))
    if opacity is not None and opacity <= MAX_INVISIBLE_ALPHA:
        return True
    if "filter" in d and _filter_alpha(d["filter"]) <= MAX_INVISIBLE_ALPHA:
        return True
    if _off_view(d, font_px, contained):
        return True
    if d.get("position", "static") not in ("static", "inherit", "initial", "unset") and any(
            _far(d.get(side), font_px) for side in ("left", "top", "right", "bottom")):
        return True
    if _far(d.get("margin-left"), font_px) or _far(d.get("margin-top"), font_px):
        return True
    clips = d.get("overflow-x") in ("hidden", "clip") or d.get("overflow-y") in ("hidden", "clip")
    indent = d.get("text-indent", "")
    if _far(indent, font_px):
        return True
    if clips and indent:
        pushed = px(indent, font_px, percent_of=100 * OFFSCREEN_PX)
        if pushed is not None and pushed >= OFFSCREEN_PX:  # 100% or more of the box, or 1000px: Kellum's method
            return True
    if _transform_hides(d.get("transform", ""), font_px) or _clip_empty(d.get("clip"), d.get("clip-path"), font_px):
        return True
    if clips:
        for prop in ("width", "height"):
            size = px(d[prop], font_px) if prop in d else None
            if size is not None and size <= 1:
                return True
    return False


def _font_px(value: str, parent: float) -> float:
    if value in _SIZE_WORDS:
        return _SIZE_WORDS[value]
    if value in ("smaller", "larger"):
        return parent / 1.2 if value == "smaller" else parent * 1.2
    if value == "initial":
        return 16.0
    size = px(value, parent, percent_of=parent)
    return parent if size is None or size < 0 else size


def _blend(fore: Color, back: _RGB) -> _RGB:
    a = fore[3]
    return (fore[0] * a + back[0] * (1 - a), fore[1] * a + back[1] * (1 - a), fore[2] * a + back[2] * (1 - a))


def _context(d: dict[str, str], parent: _Ctx, variables: dict[str, str]) -> _Ctx:
    font = _font_px(d["font-size"], parent.font_px) if "font-size" in d else parent.font_px
    text = parent.color
    value = d.get("color")
    if value is not None and value not in (*_KEEP, "currentcolor"):
        text = _BLACK if value == "initial" else color(value)
    back = parent.background
    image = d.get("background-image", "none")
    value = d.get("background-color")
    if image not in ("none", "initial", *_KEEP):
        back = None  # a picture: it may be dark, the text may show
    elif value is not None and value not in ("initial", "none", *_KEEP):
        paint = text if value == "currentcolor" else color(value)
        if paint is None:
            back = None
        elif paint[3] > MAX_INVISIBLE_ALPHA:
            back = _blend(paint, back) if back is not None else (paint[:3] if paint[3] >= 1 else None)
    shadow = parent.shadow
    value = d.get("text-shadow")
    if value is not None and value not in _KEEP:
        shadow = value not in ("none", "initial")
    contained = parent.contained or d.get("position", "static") not in ("static", "initial", "unset", "inherit") or (
        d.get("transform", "none") not in ("none", "initial", "unset", "inherit"))
    return _Ctx(text, back, font, shadow, _unreadable(text, back, font, shadow), contained, variables)


def _unreadable(text: Color | None, back: _RGB | None, font_px: float, shadow: bool) -> bool:
    """Whether text drawn so cannot be seen (too small, transparent, or the colour of its background)."""
    if font_px < MIN_FONT_PX:
        return True
    if shadow or text is None:
        return False
    if text[3] <= MAX_INVISIBLE_ALPHA:
        return True
    if back is None:
        return False
    shown = _blend(text, back)
    return max(abs(a - b) for a, b in zip(shown, back, strict=True)) <= MAX_COLOR_DIFF


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
    sheet = _Sheet(root)
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
