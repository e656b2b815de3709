"""Prompt files (``prompts/<name>/<version>.yaml``) rendered strictly: a missing or unknown variable fails loudly."""

from __future__ import annotations

import string
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from assistant.errors import UserError

__all__ = ["PromptTemplate", "load_prompt", "PromptError", "REFUSALS"]

REFUSALS = {
    "id": "Artikel-artikel tidak menyebutkan hal itu.",
    "en": "The articles don't say.",
}


class PromptError(UserError):
    """A prompt file is missing, malformed, or rendered with the wrong variables."""


@dataclass(frozen=True)
class PromptTemplate:
    name: str
    variables: frozenset[str]
    system: str
    user: str

    def render(self, **values: str) -> tuple[str, str]:
        """``(system, user)`` texts; the given names must equal the declared variables exactly."""
        given = set(values)
        if given != self.variables:
            missing, unknown = sorted(self.variables - given), sorted(given - self.variables)
            raise PromptError(f"prompt {self.name}: missing variables {missing}, unknown variables {unknown}")
        return self.system.format(**values), self.user.format(**values)


def _fields(text: str) -> set[str]:
    return {f for _, f, _, _ in string.Formatter().parse(text) if f}


def load_prompt(prompts_dir: Path, name: str) -> PromptTemplate:
    """Load ``prompts_dir/name.yaml`` (``name`` like ``qa/v1``) and check its placeholders against ``variables``.
    Parsed once per version of the file: an edited prompt is read again on its next use."""
    path = Path(prompts_dir) / f"{name}.yaml"
    try:
        stamp = path.stat().st_mtime_ns
    except OSError:
        raise PromptError(f"prompt file not found: {path}") from None
    return _parse_prompt(path, name, stamp)


@lru_cache(maxsize=32)
def _parse_prompt(path: Path, name: str, stamp: int) -> PromptTemplate:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    try:
        variables = frozenset(data["variables"])
        system, user = data["system"], data["user"]
    except (KeyError, TypeError) as exc:
        raise PromptError(f"prompt {path} needs `variables`, `system` and `user`") from exc
    used = _fields(system) | _fields(user)
    if used != variables:
        raise PromptError(f"prompt {path}: placeholders {sorted(used)} differ from declared {sorted(variables)}")
    return PromptTemplate(name, variables, system, user)
