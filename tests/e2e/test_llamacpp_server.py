"""The OpenAI-compatible path against a real llama.cpp server process on loopback (SmolLM2-135M from PyPI).

Answer quality is not the point: streaming, condensing and verification through the real wire protocol are. The
135M model seldom writes [n] markers, so any it writes are checked here, and marker parsing itself is tested on
scripted output in tests/integration/test_answers.py.
"""

from __future__ import annotations

import pytest

from tests.conftest import read_exact

pytestmark = [pytest.mark.server, pytest.mark.slow]


@pytest.fixture(scope="module")
def generative(settings, built_index, llama_server):
    from assistant.chain import Assistant

    s = settings.model_copy(update={"llm": "openai:smollm2", "openai_base_url": llama_server, "llm_max_tokens": 96})
    return Assistant(s)


def test_stream_through_real_server(generative, settings):
    events = list(generative.stream("Berapa orang yang meninggalkan Kazakhstan sejak 21 September?", top_k=3))
    assert events[0]["type"] == "retrieved" and events[-1]["type"] == "answer"
    tokens = [e for e in events if e["type"] == "token"]
    assert len(tokens) > 1  # really streamed, not one block
    answer = events[-1]["answer"]
    assert answer.backend == "openai:smollm2" and answer.answer
    assert len(answer.passages) == 3
    for c in answer.citations:
        assert 1 <= c.n <= 3 and f"[{c.n}]" in answer.answer
        assert read_exact(settings.articles_dir / c.source)[c.start : c.end] == c.quote
        assert isinstance(c.supported, bool)
    assert all(m > 3 or m < 1 for m in answer.removed_markers)


def test_condense_and_ask_through_real_server(generative, monkeypatch):
    from assistant.models import Turn

    def no_fallback(*_args):
        raise AssertionError("the model's rewrite was not used (the rule fallback ran)")

    monkeypatch.setattr("assistant.qa_chain.condense_rule", no_fallback)
    hist = [Turn(question="Berapa orang Rusia yang memasuki Kazakhstan?", answer="Sekitar 98.000 orang. [1]")]
    question = "Dan berapa yang meninggalkan negara itu?"
    answer = generative.ask(question, history=hist, top_k=3)
    assert answer.standalone_question and answer.standalone_question != question  # rewritten by the model
    assert len(answer.passages) == 3


def test_article_retriever_documents_carry_passage_metadata(generative):
    from assistant.article_retriever import ArticleRetriever

    docs = ArticleRetriever(assistant=generative, top_k=3).invoke("Siapa yang memoderasi diskusi Putin dan Tokayev?")
    assert len(docs) == 3
    for d in docs:
        m = d.metadata
        assert {"source", "start", "end", "title", "outlet", "date", "score", "legs", "via", "reader_score"} <= set(m)
        text = generative.current_reader().document_text(m["source"])
        assert text[m["start"]:m["end"]] == d.page_content and m["legs"] and m["via"]


def test_readme_own_chain_example_runs_against_the_real_server(settings, built_index, llama_server, tmp_path):
    import re
    import subprocess
    import sys
    from pathlib import Path

    from tests.conftest import served_env

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    code = re.search(r"<!-- example: own-chain[^>]*-->\n```python\n(.*?)```", readme, re.S).group(1)
    env = served_env(tmp_path)
    env.update(ASSISTANT_INDEX_DIR=str(settings.index_dir), OPENAI_BASE_URL=llama_server)
    done = subprocess.run([sys.executable, "-c", code], env=env, cwd=tmp_path, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip()  # the chat model's answer over the retrieved passages
