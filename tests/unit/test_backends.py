"""Backends named by a string go through LangChain's init_chat_model; every wrong name is one clear error."""

from __future__ import annotations

import pytest

from assistant.backends import make_chat_model
from assistant.errors import BackendUnavailable
from assistant.settings import Settings


def test_openai_and_ollama_models_carry_the_settings():
    s = Settings(openai_base_url="http://127.0.0.1:9/v1", llm_max_tokens=77, llm_temperature=0.0)
    chat = make_chat_model(s, "openai:local")
    assert (type(chat).__name__, chat.model_name, chat.max_tokens, chat.openai_api_base) == (
        "ChatOpenAI", "local", 77, "http://127.0.0.1:9/v1")
    ollama = make_chat_model(s, "ollama:llama3")
    assert (type(ollama).__name__, ollama.model, ollama.num_predict) == ("ChatOllama", "llama3", 77)


@pytest.mark.parametrize(("name", "says"), [
    ("nonsense:model", "unknown LLM backend nonsense:model"),
    ("anthropic:some-model", "pip install 'langchain-anthropic'"),
    (":model", "unknown LLM backend ':model'"),
    ("openai:", "unknown LLM backend 'openai:'"),
])
def test_wrong_backends_say_what_to_do(name, says):
    with pytest.raises(BackendUnavailable) as err:
        make_chat_model(Settings(), name)
    assert says in str(err.value) and "\n" not in str(err.value)
