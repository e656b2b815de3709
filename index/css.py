"""The small part of CSS that decides whether text can be seen: declarations, simple selectors, lengths, colours.

Only what :mod:`index.html_visibility` needs: a page's own ``<style>`` rules with selectors made of tags, classes
and ids (joined by descendant or ``>`` combinators) and ``:root``, ``@media all|screen`` blocks, inline ``style``
attributes, ``!important`` and specificity, custom properties (``--name: value``) and ``var()`` references (kept
as written by :func:`declarations`, substituted by :func:`substitute` once the element's properties are known).
Anything else (other pseudo-classes, attribute selectors, ``calc()``) is ignored, which only ever means "no
opinion", never "hidden".

>>> declarations("color: #FFF; font: 0/0 a; margin: -9999px 0")["font-size"]
('0', False)
>>> Selector.parse("div.note > p").specificity, Selector.parse("a:hover") is None
((0, 1, 2), True)
>>> color("rgb(255 255 255 / 50%)"), px("-999em", 16)
((255.0, 255.0, 255.0, 0.5), -15984.0)
>>> declarations(".x{--w: #FFF; color: var(--w)}".split("{")[1][:-1])
{'--w': ('#fff', False), '~color': ('var(--w)', False)}
>>> substitute("var(--w, red)", {"--w": "#fff"}), substitute("var(--nope)", {})
('#fff', None)
"""

from __future__ import annotations

import colorsys
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

__all__ = [
    "Decl", "Selector", "Rule", "TooComplex", "declarations", "expand", "features", "style_rules", "color", "px",
    "Color", "substitute", "PENDING",
]

Decl = tuple[str, bool]  # (value, !important)
MAX_COMPOUNDS = 12  # longer selectors are ignored (real style sheets rarely chain more than five)
Color = tuple[float, float, float, float]  # red, green, blue (0-255), alpha (0-1)

# The properties that can hide text, after shorthands are expanded (see :func:`declarations`).
RELEVANT = frozenset({
    "display", "visibility", "content-visibility", "opacity", "color", "background-color", "background-image",
    "font-size", "position", "left", "top", "right", "bottom", "text-indent", "margin-left", "margin-top",
    "transform", "clip", "clip-path", "width", "height", "overflow-x", "overflow-y", "text-shadow", "filter",
})
_SHORTHANDS = frozenset({"font", "background", "margin", "inset", "overflow"})
# A declaration whose value holds ``var()`` is kept under this prefix and its property's name, as written; it is
# substituted and expanded for each element (a custom property can differ between elements).
PENDING = "~"
MAX_VAR_DEPTH = 16  # var() inside custom properties inside custom properties…: deeper (or a cycle) is invalid
MAX_VAR_STEPS = 2000  # var() references substituted for one value: more (a page built to blow up) is invalid
MAX_VAR_LENGTH = 4000  # characters of one substituted value: longer is invalid
_COMMENT = re.compile(r"/\*.*?\*/", re.S)
_PART = re.compile(r"""(?:[^;("']|\([^)]*\)?|"[^"]*"?|'[^']*'?)+""")
_IMPORTANT = re.compile(r"!\s*important\s*$", re.I)
_SIZE_WORDS = {"xx-small": 9.0, "x-small": 10.0, "small": 13.0, "medium": 16.0, "large": 18.0, "x-large": 24.0,
               "xx-large": 32.0, "xxx-large": 48.0}
_LENGTH = re.compile(r"^([+-]?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?)([a-z%]*)$")
_UNIT_PX = {"px": 1.0, "pt": 4 / 3, "pc": 16.0, "in": 96.0, "cm": 96 / 2.54, "mm": 96 / 25.4, "q": 96 / 101.6,
            "rem": 16.0, "vw": 19.2, "vh": 10.8, "vmin": 10.8, "vmax": 19.2}
_FONT_RELATIVE = {"em": 1.0, "ex": 0.5, "ch": 0.5, "cap": 0.7, "lh": 1.2}


def _split(text: str) -> list[str]:
    return [m.group() for m in _PART.finditer(text)]


def _shorthand_font_size(value: str) -> str | None:
    """The size in a ``font`` shorthand (``0`` in the image-replacement hack ``font: 0/0 a``), if it names one."""
    for token in value.replace("/", " / ").split():
        if token == "/":
            return None  # the size comes right before the line height: none was found before it
        if token in _SIZE_WORDS or token in ("smaller", "larger"):
            return token
        m = _LENGTH.match(token)
        if m and (m.group(2) or float(m.group(1)) == 0):  # a unitless number is a weight, save 0
            return token
    return None


_COLOR_TOKEN = re.compile(r"#[0-9a-f]{3,8}\b|(?:rgba?|hsla?)\([^)]*\)|\b[a-z]+\b")


def expand(prop: str, value: str) -> Iterator[tuple[str, str]]:
    """Longhand properties (those in :data:`RELEVANT`) that one declaration sets."""
    if prop == "font":
        size = _shorthand_font_size(value)
        if size is not None:
            yield "font-size", size
    elif prop == "background":
        image = "url(" in value or "gradient(" in value or "image-set(" in value
        yield "background-image", "url" if image else "none"
        colors = [t for t in _COLOR_TOKEN.findall(value) if color(t) is not None]
        yield "background-color", colors[-1] if colors else "transparent"
    elif prop in ("margin", "inset"):
        parts = value.split()
        if parts:  # one to four values: top, right, bottom, left (missing ones mirror the opposite side)
            top = parts[0]
            right = parts[1] if len(parts) > 1 else top
            left = parts[3] if len(parts) > 3 else right
            if prop == "margin":
                yield from (("margin-top", top), ("margin-left", left))
            else:
                yield from (("top", top), ("right", right), ("bottom", parts[2] if len(parts) > 2 else top),
                            ("left", left))
    elif prop == "overflow":
        parts = value.split() or [""]
        yield "overflow-x", parts[0]
        yield "overflow-y", parts[-1]
    elif prop in RELEVANT:
        yield prop, value


def declarations(text: str) -> dict[str, Decl]:
    """The relevant declarations of one rule body or ``style`` attribute, shorthands expanded, values lowercased."""
    out: dict[str, Decl] = {}
    for part in _split(_COMMENT.sub("", text)):
        prop, sep, value = part.partition(":")
        if not sep:
            continue
        prop = prop.strip().lower()
        value = " ".join(value.split()).lower()
        m = _IMPORTANT.search(value)
        important = m is not None
        if m is not None:
            value = value[: m.start()].strip()
        if prop.startswith("--"):  # a custom property: any value, read where var() uses it
            if not (out.get(prop, ("", False))[1] and not important):
                out[prop] = (value, important)
            continue
        if "var(" in value:
            if prop in RELEVANT or prop in _SHORTHANDS:
                name = PENDING + prop
                if not (out.get(name, ("", False))[1] and not important):
                    out[name] = (value, important)
            continue
        for name, val in expand(prop, value):
            if out.get(name, ("", False))[1] and not important:
                continue  # an earlier !important declaration in the same block wins
            out[name] = (val, important)
    return out


def substitute(value: str, variables: dict[str, str], depth: int = 0, steps: list[int] | None = None) -> str | None:
    """``value`` with every ``var(--name[, fallback])`` replaced by the custom property's value (or the fallback);
    None when one has neither (the declaration is then invalid where it is used, as in a browser), or when the
    substitution goes beyond :data:`MAX_VAR_DEPTH`, :data:`MAX_VAR_STEPS` or :data:`MAX_VAR_LENGTH`."""
    steps = [MAX_VAR_STEPS] if steps is None else steps
    out, pos, length = [], 0, 0
    while True:
        at = value.find("var(", pos)
        if at < 0:
            out.append(value[pos:])
            return "".join(out)
        level, end = 0, -1
        for i in range(at + 3, len(value)):
            if value[i] == "(":
                level += 1
            elif value[i] == ")":
                level -= 1
                if level == 0:
                    end = i
                    break
        steps[0] -= 1
        if end < 0 or depth >= MAX_VAR_DEPTH or steps[0] < 0:
            return None
        name, comma, fallback = value[at + 4 : end].partition(",")
        name = name.strip()
        if name in variables:  # its value may use var() itself (a cycle ends at MAX_VAR_DEPTH: invalid)
            found: str | None = substitute(variables[name], variables, depth + 1, steps)
        elif comma:
            found = substitute(fallback.strip(), variables, depth + 1, steps)
        else:
            found = None
        if found is None:
            return None
        out.append(value[pos:at])
        out.append(found)
        length += at - pos + len(found)
        if length > MAX_VAR_LENGTH:
            return None
        pos = end + 1


@dataclass(frozen=True)
class Compound:
    """One compound selector such as ``p.note#intro`` (tag ``None`` for any element)."""

    tag: str | None
    ident: str | None
    classes: frozenset[str]

    def matches(self, el) -> bool:  # el: an lxml element
        if self.tag is not None and el.tag != self.tag:
            return False
        if self.ident is not None and el.get("id") != self.ident:
            return False
        return not self.classes or self.classes <= set((el.get("class") or "").split())


def features(tag: str | None, ident: str | None, classes) -> frozenset[str]:
    """An element's tag, ``#id`` and ``.class`` names: what compound selectors test."""
    out = {"." + c for c in classes}
    if tag:
        out.add(tag)
    if ident:
        out.add("#" + ident)
    return frozenset(out)


_COMPOUND = re.compile(r"^(\*|[a-z][a-z0-9-]*)?((?:[.#]-?[_a-z][\w-]*)*)$", re.I)
_PIECE = re.compile(r"([.#])([\w-]+)")


@dataclass(frozen=True)
class Selector:
    """A chain of compounds, rightmost first, each with the combinator (`` `` or ``>``) to the next one left."""

    chain: tuple[tuple[Compound, str], ...]
    specificity: tuple[int, int, int]

    @property
    def needs(self) -> frozenset[str]:
        """What the element's ancestors must have between them (see :func:`features`) for a match to be possible."""
        return frozenset().union(*(features(c.tag, c.ident, c.classes) for c, _ in self.chain[1:]))

    @staticmethod
    def parse(text: str) -> Selector | None:
        """The selector, or None when it uses anything beyond tags, classes, ids, descendant and ``>``."""
        tokens = re.sub(r"\s*>\s*", " > ", text.strip()).split()
        compounds: list[Compound] = []
        combinators: list[str] = []
        ids = classes = tags = 0
        pending = " "
        for token in tokens:
            if token == ">":
                if not compounds or pending == ">":
                    return None
                pending = ">"
                continue
            root = token.lower() in (":root", "html:root", "*:root")  # the document's root: <html>
            m = _COMPOUND.match("html" if root else token)
            if m is None:
                return None
            tag = m.group(1).lower() if m.group(1) and m.group(1) != "*" else None
            pieces = _PIECE.findall(m.group(2))
            if root:  # a pseudo-class weighs like a class
                classes += 1
                tags -= 1
            idents = [name for kind, name in pieces if kind == "#"]
            if len(set(idents)) > 1:
                return None
            cls = frozenset(name for kind, name in pieces if kind == ".")
            ids, classes, tags = ids + len(idents), classes + len(cls), tags + (tag is not None)
            if compounds:
                combinators.append(pending)
            compounds.append(Compound(tag, idents[0] if idents else None, cls))
            pending = " "
        if not compounds or pending == ">" or len(compounds) > MAX_COMPOUNDS:
            return None
        compounds.reverse()
        combinators.reverse()
        return Selector(tuple(zip(compounds, [*combinators, ""], strict=True)), (ids, classes, tags))

    @property
    def key(self) -> str:
        """What the rightmost compound needs most narrowly: ``#id``, ``.class``, a tag name or ``*``."""
        right = self.chain[0][0]
        if right.ident is not None:
            return "#" + right.ident
        if right.classes:
            return "." + min(right.classes)
        return right.tag or "*"

    def matches(self, el, budget: list[int]) -> bool:
        """Whether ``el`` matches; each (compound, element) pair is tried at most once, each try spends one unit of
        ``budget[0]`` (:class:`TooComplex` when it runs out: a page built to make matching slow)."""
        memo: dict[tuple[int, int, int], tuple[bool, Any]] = {}  # the element is kept alive so its id stays its own

        def at(node, i: int) -> bool:  # chain[i:] matches with chain[i] on node
            key = (0, i, id(node))
            if key in memo:
                return memo[key][0]
            budget[0] -= 1
            if budget[0] < 0:
                raise TooComplex("its style sheet takes too long to match (built to slow down indexing?)")
            compound, combinator = self.chain[i]
            ok = compound.matches(node)
            if ok and i + 1 < len(self.chain):
                parent = node.getparent()
                ok = parent is not None and (at(parent, i + 1) if combinator == ">" else above(parent, i + 1))
            memo[key] = (ok, node)
            return ok

        def above(node, i: int) -> bool:  # chain[i:] matches on node or on one of its ancestors
            path, found = [], False
            while node is not None:
                key = (1, i, id(node))
                if key in memo:
                    found = memo[key][0]
                    break
                path.append(node)
                if at(node, i):
                    found = True
                    break
                node = node.getparent()
            for visited in path:
                memo[(1, i, id(visited))] = (found, visited)
            return found

        return at(el, 0)


class TooComplex(Exception):
    """Matching a page's style rules would take unreasonably long."""


@dataclass(frozen=True)
class Rule:
    selector: Selector
    order: int
    decls: dict[str, Decl]
    needs: frozenset[str] = frozenset()  # the selector's, computed once


def _blocks(css: str) -> Iterator[tuple[str, str]]:
    """(prelude, body) of each top-level ``{…}`` block; a stray ``}`` is skipped."""
    depth, start, open_at, prelude = 0, 0, 0, ""
    for m in re.finditer(r"[{}]", css):
        if m.group() == "{":
            if depth == 0:
                prelude, open_at = css[start : m.start()], m.end()
            depth += 1
        elif depth:
            depth -= 1
            if depth == 0:
                yield prelude, css[open_at : m.start()]
                start = m.end()
        else:
            start = m.end()


def _on_screen(at_rule: str) -> bool:
    """``@media`` with no condition beyond ``all``/``screen``, or ``@layer``: rules that apply to every visitor."""
    name, _, query = at_rule.partition(" ")
    if name == "@layer":
        return True
    return name == "@media" and query.strip().removeprefix("only ").strip() in ("", "all", "screen")


def style_rules(css: str, start: int = 0, depth: int = 0) -> list[Rule]:
    """The rules of one stylesheet whose selectors :class:`Selector` can read (numbered from ``start``)."""
    rules: list[Rule] = []
    for prelude, body in _blocks(_COMMENT.sub("", css)):
        prelude = " ".join(re.split(r"[;}]", prelude)[-1].split())  # class and id names are case-sensitive
        if prelude.startswith("@"):
            if depth < 4 and _on_screen(prelude.lower()):
                rules.extend(style_rules(body, start + len(rules), depth + 1))
            continue
        decls = declarations(body)
        if not decls:
            continue
        for text in prelude.split(","):
            selector = Selector.parse(text)
            if selector is not None:
                rules.append(Rule(selector, start + len(rules), decls, selector.needs))
    return rules


_NAMED = {
    "black": "#000", "white": "#fff", "red": "#f00", "lime": "#0f0", "green": "#008000", "blue": "#00f",
    "yellow": "#ff0", "cyan": "#0ff", "aqua": "#0ff", "magenta": "#f0f", "fuchsia": "#f0f", "gray": "#808080",
    "grey": "#808080", "silver": "#c0c0c0", "maroon": "#800000", "olive": "#808000", "navy": "#000080",
    "purple": "#800080", "teal": "#008080", "orange": "#ffa500", "snow": "#fffafa", "ivory": "#fffff0",
    "whitesmoke": "#f5f5f5", "ghostwhite": "#f8f8ff", "floralwhite": "#fffaf0", "azure": "#f0ffff",
    "mintcream": "#f5fffa", "aliceblue": "#f0f8ff", "seashell": "#fff5ee", "linen": "#faf0e6",
    "honeydew": "#f0fff0", "lavenderblush": "#fff0f5", "oldlace": "#fdf5e6", "beige": "#f5f5dc",
    "lightgray": "#d3d3d3", "lightgrey": "#d3d3d3", "gainsboro": "#dcdcdc", "darkgray": "#a9a9a9",
    "darkgrey": "#a9a9a9", "dimgray": "#696969", "dimgrey": "#696969",
}


def _channel(text: str, scale: float = 255.0) -> float:
    text = text.strip()
    if text.endswith("%"):
        return max(0.0, min(scale, float(text[:-1]) * scale / 100))
    return max(0.0, min(scale, float(text)))


def color(value: str) -> Color | None:
    """A CSS colour as (r, g, b, alpha), ``transparent`` as alpha 0; None for what is not a colour read here."""
    value = value.strip().lower()
    if value == "transparent":
        return (0.0, 0.0, 0.0, 0.0)
    value = _NAMED.get(value, value)
    if value.startswith("#"):
        digits = value[1:]
        if len(digits) in (3, 4):
            digits = "".join(ch * 2 for ch in digits)
        if len(digits) not in (6, 8) or not re.fullmatch(r"[0-9a-f]+", digits):
            return None
        alpha = int(digits[6:8], 16) / 255 if len(digits) == 8 else 1.0
        return (float(int(digits[0:2], 16)), float(int(digits[2:4], 16)), float(int(digits[4:6], 16)), alpha)
    m = re.fullmatch(r"(rgba?|hsla?)\((.*)\)", value)
    if m is None:
        return None
    parts = [p for p in re.split(r"[\s,/]+", m.group(2).strip()) if p]
    if len(parts) not in (3, 4):
        return None
    try:
        alpha = _channel(parts[3], 1.0) if len(parts) == 4 else 1.0
        if m.group(1).startswith("rgb"):
            r, g, b = (_channel(p) for p in parts[:3])
        else:
            hue = float(parts[0].removesuffix("deg")) / 360 % 1.0
            sat, light = _channel(parts[1], 1.0), _channel(parts[2], 1.0)
            r, g, b = (c * 255 for c in colorsys.hls_to_rgb(hue, light, sat))
    except ValueError:
        return None
    return (r, g, b, alpha)


def px(value: str, font_px: float, percent_of: float | None = None) -> float | None:
    """A length in CSS pixels (``em`` from ``font_px``, ``%`` of ``percent_of``); None when it cannot be told."""
    m = _LENGTH.match(value.strip())
    if m is None:
        return None
    number, unit = float(m.group(1)), m.group(2)
    if unit == "%":
        return None if percent_of is None else number * percent_of / 100
    if unit in _FONT_RELATIVE:
        return number * font_px * _FONT_RELATIVE[unit]
    if unit in _UNIT_PX:
        return number * _UNIT_PX[unit]
    return 0.0 if number == 0 else None
