"""LLM backends chosen by a string: ``extractive``, ``openai:<model>``, ``ollama:<model>``.

A small registry of factories with lazy imports; a missing optional package fails with the exact install line.
Tests register fakes through :func:`register` — the same path the real backends take.

>>> make_chat_model(Settings(llm="openai:gpt-4o-mini", openai_base_url="http://127.0.0.1:8080/v1"))  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from assistant.errors import BackendUnavailable
from assistant.settings import Settings

__all__ = ["register", "make_chat_model", "backend_names", "is_extractive"]

Factory = Callable[[str, Settings], Any]  # (model name, settings) -> a LangChain chat model
_REGISTRY: dict[str, Factory] = {}


def register(prefix: str, factory: Factory) -> None:
    """Make ``prefix:<model>`` available as a backend."""
    _REGISTRY[prefix] = factory


def backend_names() -> list[str]:
    return ["extractive", *sorted(f"{p}:<model>" for p in _REGISTRY)]


def is_extractive(name: str) -> bool:
    return name.strip() == "extractive"


def _openai(model: str, settings: Settings) -> Any:
    try:
        from langchain_openai import ChatOpenAI
    except ImportError as exc:
        raise BackendUnavailable(
            "the openai backend needs langchain-openai: pip install 'langchain-openai==1.7.3'"
        ) from exc
    return ChatOpenAI(
        model=model, base_url=settings.openai_base_url, api_key=settings.openai_api_key,
        temperature=settings.llm_temperature, max_tokens=settings.llm_max_tokens, timeout=settings.llm_timeout,
        max_retries=1,
    )


def _ollama(model: str, settings: Settings) -> Any:
    try:
        from langchain_ollama import ChatOllama
    except ImportError as exc:
        raise BackendUnavailable(
            "the ollama backend needs langchain-ollama: pip install 'langchain-ollama==1.1.0'"
        ) from exc
    return ChatOllama(model=model, base_url=settings.ollama_base_url, temperature=settings.llm_temperature,
                      num_predict=settings.llm_max_tokens)


register("openai", _openai)
register("ollama", _ollama)


def make_chat_model(settings: Settings, name: str | None = None) -> Any:
    """The chat model named by ``name`` (default ``settings.llm``); not for ``extractive``."""
    name = (name or settings.llm).strip()
    prefix, _, model = name.partition(":")
    if prefix not in _REGISTRY or not model:
        raise BackendUnavailable(
            f"unknown LLM backend {name!r}: use one of {', '.join(backend_names())} (ASSISTANT_LLM or --llm)"
        )
    return _REGISTRY[prefix](model, settings)
