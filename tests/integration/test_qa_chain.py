"""The QA chain as one LCEL runnable over the real index: invoke, batch, stream and callbacks all run the same steps;
validation comes first; each question is analysed once; the LangChain retriever ends where the answer step begins."""

from __future__ import annotations

import pytest
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage

from assistant import qa_chain, retrieval
from assistant.backends import register
from assistant.errors import BadInput
from assistant.question import analyse_question

pytestmark = pytest.mark.slow

# Questions written for these tests (not from the dev set): a plain one, a two-part one, one in English.
QUESTIONS = [
    "Berapa orang Rusia yang masuk ke Kazakhstan?",
    "Siapa Presiden Kazakhstan dan apa yang dia katakan tentang warga Rusia?",
    "Which alliance sent troops to Kazakhstan?",
]
SCRIPT = "Sekitar 98.000 orang Rusia memasuki Kazakhstan [1]."


@pytest.fixture()
def scripted(assistant, monkeypatch):
    """A scripted chat model, registered like the real backends (no real model writes a chosen sentence)."""
    from assistant import backends

    monkeypatch.setattr(backends, "_REGISTRY", dict(backends._REGISTRY))
    monkeypatch.setattr(assistant.qa, "_models", {})
    register("scripted", lambda model, settings: GenericFakeChatModel(messages=iter([AIMessage(SCRIPT)] * 6)))
    return "scripted:test"


def _inputs(questions):
    return [{"question": q, "history": []} for q in questions]


def test_batch_gives_what_ask_gives(assistant):
    batched = assistant.chain().batch(_inputs(QUESTIONS), config={"max_concurrency": 2})
    for q, b in zip(QUESTIONS, batched, strict=True):
        a = assistant.ask(q)
        assert (b.answer, b.abstained, [c.quote for c in b.citations]) == (a.answer, a.abstained,
                                                                           [c.quote for c in a.citations])
        assert [p.id for p in b.passages] == [p.id for p in a.passages]


def test_stream_emits_passages_then_tokens_then_the_answer(assistant):
    chunks = list(assistant.qa.events().stream(_inputs(QUESTIONS[:1])[0]))
    kinds = [next(iter(c)) for c in chunks]
    assert kinds[0] == "retrieved" and kinds[-1] == "answer" and set(kinds[1:-1]) == {"token"}
    answer = chunks[-1]["answer"]
    assert "".join(c["token"] for c in chunks[1:-1]) == answer.answer
    assert [p.id for p in chunks[0]["retrieved"]["passages"]] == [p.id for p in answer.passages]


def test_a_chat_model_runs_inside_the_chain(assistant, scripted):
    """Callbacks given to the chain reach the chat model as a child run."""

    class Seen(BaseCallbackHandler):
        def __init__(self) -> None:
            self.events: list[tuple[str, bool]] = []

        def on_chat_model_start(self, serialized, messages, *, run_id, parent_run_id=None, **kw):
            self.events.append(("start", parent_run_id is not None))

        def on_llm_new_token(self, token, **kw):
            self.events.append(("token", True))

    seen = Seen()
    chain = assistant.chain(llm=scripted)
    answer = chain.invoke(_inputs(QUESTIONS[:1])[0], config={"callbacks": [seen]})
    assert seen.events[0] == ("start", True) and ("token", True) in seen.events
    assert answer.citations and answer.citations[0].supported and answer.backend == scripted


def test_validation_comes_before_anything_else(assistant, monkeypatch):
    def no_reader():
        raise AssertionError("the index was touched before the question was validated")

    monkeypatch.setattr(assistant.library, "current_reader", no_reader)
    for bad in ["", "   \u200b ", "x" * (assistant.settings.max_question_chars + 1)]:
        with pytest.raises(BadInput):
            assistant.ask(bad)


def test_each_question_is_analysed_once(assistant, monkeypatch):
    calls: list[str] = []

    def counted(text, split=True):
        calls.append(text)
        return analyse_question(text, split)

    monkeypatch.setattr(qa_chain, "analyse_question", counted)
    monkeypatch.setattr(retrieval, "analyse_question", counted)
    answer = assistant.ask(QUESTIONS[1])  # two parts: their analyses come with the question's
    assert calls == [QUESTIONS[1]]
    assert len(answer.trace.subqueries) >= 2


def test_article_retriever_gives_the_passages_the_answerer_reads(assistant):
    """The LangChain retriever runs the chain's own steps up to the answer (with the reader's rerank): its documents
    are the answer's passages, in the same order, with the same metadata."""
    from assistant.article_retriever import ArticleRetriever

    assert assistant.settings.rerank
    for top_k in (None, 3):
        docs = ArticleRetriever(assistant=assistant, top_k=top_k).invoke(QUESTIONS[1])
        answer = assistant.ask(QUESTIONS[1], top_k=top_k)
        # one shape: each document is the answer's passage, every field of it
        assert [{**d.metadata, "id": d.id, "text": d.page_content} for d in docs] == [
            p.model_dump() for p in answer.passages]
        assert all(d.metadata["story_id"] for d in docs)
        assert len(docs) == (top_k or assistant.settings.top_k)
        read = [d.metadata["reader_score"] for d in docs]  # the rerank's order: best span margin first
        assert all(isinstance(s, float) for s in read) and read == sorted(read, reverse=True)


def test_the_rerank_pool_setting_makes_the_reader_read_more_passages(settings, built_index):
    """``rerank_pool`` (unset: the fitted pool) is how many of retrieval's passages the reader reads before handing
    over ``top_k``: with 12, the 3 handed over are the reader's best 3 of retrieval's first 12."""
    from assistant.chain import Assistant
    from assistant.reader_answer import read_and_rerank

    wider = Assistant(settings.model_copy(update={"rerank_pool": 12}))
    reader = wider.library.current_reader()
    info = analyse_question(QUESTIONS[2])
    found = wider.qa.find(reader, info, top_k=3)
    pool = retrieval.retrieve(reader, wider.settings, info, 3, pool=12).pool
    assert len(pool) == 12
    order, _ = read_and_rerank(wider.qa.reader_model(), info.text, pool, 3)
    assert [p.id for p in found.passages] == [pool[i].id for i in order]


def test_warm_up_loads_the_reader_only_when_the_settings_use_it(settings, built_index):
    """``assistant serve`` warms up before it listens: the reader is prepared and loaded when the rerank or the
    extractive answerer uses it, and left alone for a chat model without the rerank."""
    from assistant.chain import Assistant
    from assistant.reader_model import load_reader

    load_reader.cache_clear()
    chat_only = Assistant(settings.model_copy(update={"rerank": False, "llm": "openai:some-model"}))
    assert chat_only.qa.warm_up() is False
    assert load_reader.cache_info().currsize == 0
    assert Assistant(settings).qa.warm_up() is True
    assert load_reader.cache_info().currsize == 1
