"""Prompt files (``prompts/<name>/<version>.yaml``) as LangChain ``ChatPromptTemplate``s (a system and a human
message), checked strictly: a placeholder not declared in ``variables``, or a call with a missing or unknown variable,
fails loudly."""

from __future__ import annotations

import string
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

import yaml
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import RunnableLambda, RunnableSerializable

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

    @cached_property
    def chat(self) -> ChatPromptTemplate:
        """The prompt as a ``ChatPromptTemplate`` (system + human message, f-string placeholders)."""
        return ChatPromptTemplate.from_messages([("system", self.system), ("human", self.user)])

    def check(self, values: dict[str, str]) -> dict[str, str]:
        """``values`` unchanged when its names equal the declared variables exactly, else :class:`PromptError`."""
        given = set(values)
        if given != self.variables:
            missing, unknown = sorted(self.variables - given), sorted(given - self.variables)
            raise PromptError(f"prompt {self.name}: missing variables {missing}, unknown variables {unknown}")
        return values

    def runnable(self) -> RunnableSerializable[dict[str, str], Any]:
        """``{variables}`` → chat messages, as one LCEL step: the strict check, then the ``ChatPromptTemplate``."""
        return RunnableLambda(self.check, name=f"check {self.name}") | self.chat


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
