"""LLM backends chosen by a string: ``extractive``, ``openai:<model>``, ``ollama:<model>``, or ``<provider>:<model>``
for any other provider LangChain's ``init_chat_model`` knows (its integration package installed, its keys in the
environment).

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


def _langchain_model(provider: str, model: str, **params: Any) -> Any:
    """A chat model through LangChain's ``init_chat_model`` (any provider whose integration package is installed)."""
    from langchain.chat_models import init_chat_model

    try:
        return init_chat_model(model, model_provider=provider, **params)
    except ImportError as exc:  # the provider's integration package is missing: say which one to install
        package = _PACKAGES.get(provider) or f"langchain-{provider.replace('_', '-')}"
        raise BackendUnavailable(f"the {provider} backend needs {package.split('==')[0]}: pip install '{package}'"
                                 ) from exc
    except ValueError as exc:  # a provider LangChain does not know
        raise BackendUnavailable(
            f"unknown LLM backend {provider}:{model}: use one of {', '.join(backend_names())} or a provider "
            f"LangChain's init_chat_model supports (ASSISTANT_LLM or --llm)") from exc


_PACKAGES = {"openai": "langchain-openai==1.7.3", "ollama": "langchain-ollama==1.1.0"}


def _openai(model: str, settings: Settings) -> Any:
    return _langchain_model(
        "openai", model, base_url=settings.openai_base_url, api_key=settings.openai_api_key,
        temperature=settings.llm_temperature, max_tokens=settings.llm_max_tokens, timeout=settings.llm_timeout,
        max_retries=1,
    )


def _ollama(model: str, settings: Settings) -> Any:
    return _langchain_model("ollama", model, base_url=settings.ollama_base_url, temperature=settings.llm_temperature,
                            num_predict=settings.llm_max_tokens)


register("openai", _openai)
register("ollama", _ollama)


def make_chat_model(settings: Settings, name: str | None = None) -> Any:
    """The chat model named by ``name`` (default ``settings.llm``); not for ``extractive``."""
    name = (name or settings.llm).strip()
    prefix, _, model = name.partition(":")
    if not prefix or not model:
        raise BackendUnavailable(
            f"unknown LLM backend {name!r}: use one of {', '.join(backend_names())} (ASSISTANT_LLM or --llm)"
        )
    if prefix not in _REGISTRY:  # another LangChain provider (anthropic:…, mistralai:…): its own package and keys
        return _langchain_model(prefix, model, temperature=settings.llm_temperature, max_tokens=settings.llm_max_tokens)
    return _REGISTRY[prefix](model, settings)
