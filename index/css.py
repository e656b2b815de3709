"""The small part of CSS that decides whether text can be seen: declarations, simple selectors, lengths, colours.

Only what :mod:`index.html_visibility` needs: a page's own ``<style>`` rules with selectors made of tags, classes
and ids (joined by descendant or ``>`` combinators) and ``:root``, ``@media all|screen`` blocks, inline ``style``
attributes, ``!important`` and specificity, custom properties (``--name: value``) and ``var()`` references (kept
as written by :func:`declarations`, substituted by :func:`substitute` once the element's properties are known).
Anything else (other pseudo-classes, attribute selectors, ``calc()``) is ignored, which only ever means "no
opinion", never "hidden".

Style sheets and declaration lists are parsed by ``tinycss2`` (comments, strings, ``url()``, nested blocks and
error recovery as the CSS Syntax spec has them), selectors by ``cssselect`` (its parse tree and specificity). The
matching of a selector against an element is done here rather than through cssselect's XPath: each
(compound, element) pair is tried once and every try is counted against a budget, so a page built to make
matching slow is refused (:class:`TooComplex`) instead of stalling the build; XPath evaluation has no such bound.

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

import functools
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import cssselect
import tinycss2
from cssselect.parser import Class, CombinedSelector, Element, Hash, Pseudo

from index.css_values import _LENGTH, Color, color, px

__all__ = [
    "Decl", "Selector", "Rule", "TooComplex", "declarations", "expand", "features", "style_rules", "color", "px",
    "Color", "substitute", "PENDING",
]

Decl = tuple[str, bool]  # (value, !important)
MAX_COMPOUNDS = 12  # longer selectors are ignored (real style sheets rarely chain more than five)

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
_SIZE_WORDS = {"xx-small": 9.0, "x-small": 10.0, "small": 13.0, "medium": 16.0, "large": 18.0, "x-large": 24.0,
               "xx-large": 32.0, "xxx-large": 48.0}


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


def _text(tokens: Iterable[Any]) -> str:
    """Component values as CSS text, comments dropped, whitespace collapsed, lowercased."""
    return " ".join(tinycss2.serialize(t for t in tokens if t.type != "comment").split()).lower()


def declarations(text: str | Iterable[Any]) -> dict[str, Decl]:
    """The relevant declarations of one rule body or ``style`` attribute (text, or tinycss2's tokens of a rule's
    block), shorthands expanded, values lowercased; what does not parse as a declaration is skipped."""
    out: dict[str, Decl] = {}
    for decl in tinycss2.parse_declaration_list(text, skip_comments=True, skip_whitespace=True):
        if decl.type != "declaration":
            continue
        prop, value, important = decl.lower_name, _text(decl.value), decl.important
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


def _compound(node: Any) -> Compound | None:
    """A cssselect compound (an element with classes, ids and ``:root`` wrapped around it) as a :class:`Compound`;
    None for anything else (attributes, other pseudo-classes, namespaces, two different ids)."""
    classes: set[str] = set()
    idents: set[str] = set()
    root = False
    while not isinstance(node, Element):
        if isinstance(node, Class):
            classes.add(node.class_name)
        elif isinstance(node, Hash):
            idents.add(node.id)
        elif isinstance(node, Pseudo) and node.ident.lower() == "root":  # the document's root: <html>
            root = True
        else:
            return None
        node = node.selector
    if node.namespace is not None or len(idents) > 1:
        return None
    tag = node.element.lower() if node.element not in (None, "*") else None
    if root:
        if tag not in (None, "html"):
            return None
        tag = "html"
    return Compound(tag, next(iter(idents), None), frozenset(classes))


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
    @functools.lru_cache(maxsize=4096)  # pages of one site share their style sheets
    def parse(text: str) -> Selector | None:
        """The selector, or None when it uses anything beyond tags, classes, ids, ``:root``, descendant and ``>``."""
        try:
            parsed = cssselect.parse(text)
        except cssselect.SelectorError:
            return None
        if len(parsed) != 1 or parsed[0].pseudo_element is not None:
            return None
        compounds: list[Compound | None] = []  # rightmost first
        combinators: list[str] = []  # combinators[i] joins compounds[i] to the one left of it
        node: Any = parsed[0].parsed_tree
        while isinstance(node, CombinedSelector):  # (left ``combinator`` right)
            if node.combinator not in (" ", ">"):
                return None
            compounds.append(_compound(node.subselector))
            combinators.append(node.combinator)
            node = node.selector
        compounds.append(_compound(node))
        combinators.append("")
        if len(compounds) > MAX_COMPOUNDS or None in compounds:
            return None
        chain = tuple((c, comb) for c, comb in zip(compounds, combinators, strict=True) if c is not None)
        return Selector(chain, parsed[0].specificity())

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


def _on_screen(keyword: str, prelude: str) -> bool:
    """``@media`` with no condition beyond ``all``/``screen``, or ``@layer``: rules that apply to every visitor."""
    if keyword == "layer":
        return True
    return keyword == "media" and prelude.removeprefix("only ").strip() in ("", "all", "screen")


def style_rules(css: str | Iterable[Any], start: int = 0, depth: int = 0) -> list[Rule]:
    """The rules of one stylesheet (text, or tinycss2's tokens of an ``@media`` block) whose selectors
    :class:`Selector` can read, numbered from ``start``."""
    rules: list[Rule] = []
    for node in tinycss2.parse_rule_list(css, skip_comments=True, skip_whitespace=True) if depth else \
            tinycss2.parse_stylesheet(css, skip_comments=True, skip_whitespace=True):
        if node.type == "at-rule":
            if node.content is not None and depth < 4 and _on_screen(node.lower_at_keyword, _text(node.prelude)):
                rules.extend(style_rules(node.content, start + len(rules), depth + 1))
            continue
        if node.type != "qualified-rule":
            continue
        decls = declarations(node.content)
        if not decls:
            continue
        prelude = " ".join(tinycss2.serialize(node.prelude).split())  # class and id names are case-sensitive
        for text in prelude.split(","):
            selector = Selector.parse(text)
            if selector is not None:
                rules.append(Rule(selector, start + len(rules), decls, selector.needs))
    return rules
