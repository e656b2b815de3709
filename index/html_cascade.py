"""Which declarations win on an HTML element: the page's own ``<style>`` rules (indexed by what their rightmost
compound needs, matched within a step budget), presentational attributes (``<font color>``, ``bgcolor``) and the
inline ``style``, in cascade order, with custom properties inherited and ``var()`` substituted. What the winners
hide is judged in :mod:`index.html_rules`; the tree walk is :mod:`index.html_visibility`."""

from __future__ import annotations

import re
from collections import defaultdict

from index.css import PENDING, Decl, Rule, declarations, expand, style_rules, substitute


class _Sheet:
    """The page's own ``<style>`` rules, indexed by what their rightmost compound needs (as browsers do)."""

    def __init__(self, root, max_steps: int) -> None:
        rules: list[Rule] = []
        for style in root.iter("style"):
            media = (style.get("media") or "all").strip().lower().removeprefix("only ").strip()
            if media in ("all", "screen", ""):
                rules.extend(style_rules("".join(style.itertext()), start=len(rules)))
        self.budget = [max_steps]  # selector tests left for this page (index.html_visibility.MAX_SELECTOR_STEPS)
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

