"""The QA chain on the sample corpus with the default extractive backend (real embedder, real Chroma)."""

from __future__ import annotations

import json
import re

import pytest

from assistant.backends import register
from assistant.errors import BackendUnavailable, BadInput
from assistant.models import Turn
from assistant.prompts import REFUSALS, PromptError, load_prompt
from tests.conftest import DEV_SET, read_exact

pytestmark = pytest.mark.slow


def _norm(t: str) -> str:
    return re.sub(r"(\d)[.,](\d{3})", r"\1\2", t.lower())


@pytest.fixture(scope="module")
def dev_answers(assistant):
    items = [json.loads(line) for line in DEV_SET.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [(item, assistant.ask(item["question"])) for item in items]


def test_dev_set_floors(dev_answers, settings):
    answerable = [(i, a) for i, a in dev_answers if i["evidence"]]
    unanswerable = [(i, a) for i, a in dev_answers if not i["evidence"]]
    contains = sum(1 for i, a in answerable if not a.abstained and any(
        _norm(ref) in _norm(a.answer) for ref in [i["answer"], *i["answer_aliases"]]))
    answered = sum(1 for _, a in answerable if not a.abstained)
    abstained = sum(1 for _, a in unanswerable if a.abstained)
    # Regression floors under the smoke-test figures of `make report` (benchmarks/report_reader.py: the answer-
    # confidence model fitted on FacQA and articles-qa answers 23 of the 25 answerables here, 0.72 right, and refuses
    # 1 of the 5 unanswerables: refusing what the articles do not say is a known limit, see the reader's model card).
    assert answered / len(answerable) >= 0.8
    # verbatim reference (10 of 25 at the last report; two less allowed: int8 vectors move with the batch an index
    # was embedded in); the eval's broader measures are higher
    assert contains / len(answerable) >= 0.32
    assert abstained / len(unanswerable) >= 0.2
    for _, a in dev_answers:
        assert a.abstained or a.citations
        for c in a.citations:
            assert read_exact(settings.articles_dir / c.source)[c.start : c.end] == c.quote
            assert 1 <= c.n <= len(a.passages) and f"[{c.n}]" in a.answer


@pytest.mark.parametrize("q", [
    pytest.param("Siapa mantan Jubir KPK yang lolos tiga besar calon Direktur Penyelidikan KPK?",
                 marks=pytest.mark.xfail(strict=True, reason=(
                     "known limit of the fitted policy (lead_by confidence, chosen on the choose parts by one question): "
                     "the confidence model leads with a sentence of an unrelated article (Kazakhstan's refugees) "
                     "and finds it likely enough; refusing what the articles do not say is weak (see the reader's "
                     "model card)"))),
    "How much digital tax revenue was collected, and which AI company became a new VAT collector?",
])
def test_boilerplate_traps_abstain(assistant, q):
    a = assistant.ask(q)
    assert a.abstained and a.answer in REFUSALS.values() and a.passages


def test_english_question_finds_indonesian_passage(assistant):
    a = assistant.ask("On what date did White House Press Secretary Jen Psaki comment on the CSTO troops?")
    assert not a.abstained and a.language == "en"
    assert "6 Januari" in a.answer and a.citations[0].source.startswith("003")


def test_follow_up_is_rewritten(assistant):
    first = "Berapa orang Rusia yang memasuki Kazakhstan sejak 21 September?"
    a1 = assistant.ask(first)
    a2 = assistant.ask("Dan berapa yang meninggalkan negara itu?", history=[Turn(question=first, answer=a1.answer)])
    assert a2.standalone_question != a2.question and "Kazakhstan" in a2.standalone_question
    assert "64.234" in a2.answer


def test_comparison_retrieves_both_articles(assistant):
    a = assistant.ask("Bandingkan penjelasan kedua artikel tentang kapan Kazakhstan mengekstradisi orang Rusia.")
    assert {"000_e971559feefaf698.txt", "001_7539421ef6c581f1.txt"} <= {p.source for p in a.passages}


def test_stream_yields_tokens_then_answer(assistant):
    events = list(assistant.stream("Siapa pemimpin redaksi Russia Today?"))
    kinds = [e["type"] for e in events]
    assert kinds[0] == "retrieved" and kinds[-1] == "answer" and "token" in kinds
    final = events[-1]["answer"]
    assert "".join(e["text"] for e in events if e["type"] == "token") == final.answer


def test_bad_questions(assistant):
    for q in ("", "   \u200b ", "x" * 100_000):
        with pytest.raises(BadInput):
            assistant.ask(q)
    a = assistant.ask("Siapa\u200b pemimpin\x07 redaksi Russia Today?")
    assert a.question == "Siapa pemimpin redaksi Russia Today?"


def test_prompts_render_strictly(settings):
    qa = load_prompt(settings.prompts_dir, "qa/v1")
    with pytest.raises(PromptError):
        qa.runnable().invoke({"question": "q", "passages": "p", "language": "English"})
    with pytest.raises(PromptError):
        qa.runnable().invoke({"question": "q", "passages": "p", "language": "English", "refusal": "r", "extra": "x"})
    system, human = qa.runnable().invoke({"question": "q?", "passages": "{p}", "language": "English",
                                          "refusal": "r"}).to_messages()
    assert (system.type, human.type) == ("system", "human")
    assert "in English" in system.content and "{p}" in human.content and "q?" in human.content
    with pytest.raises(BackendUnavailable):
        from assistant.backends import make_chat_model

        make_chat_model(settings, "nonsense:model")


def test_generative_path_with_registered_fake(assistant, monkeypatch):
    """A scripted chat model registered like the real backends: marker cleanup and support flagging (no real model
    can be made to write a marker to a missing passage or an unsupported sentence on purpose)."""
    from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
    from langchain_core.messages import AIMessage

    from assistant import backends

    monkeypatch.setattr(backends, "_REGISTRY", dict(backends._REGISTRY))  # the registration ends with the test
    monkeypatch.setattr(assistant.qa, "_models", dict(assistant.qa._models))

    script = ("Sekitar 98.000 orang Rusia memasuki Kazakhstan dan 64.234 orang meninggalkan negara itu [1]. "
              "Menara Eiffel dicat ungu oleh para astronot Mars [2]. Ini fakta lain [9].")
    register("scripted", lambda model, settings: GenericFakeChatModel(messages=iter([AIMessage(script)] * 3)))
    a = assistant.ask("Berapa orang yang meninggalkan Kazakhstan sejak 21 September?", llm="scripted:one")
    assert a.removed_markers == [9] and "[9]" not in a.answer
    by_sentence = {c.sentence[:13]: c for c in a.citations}
    assert by_sentence["Sekitar 98.00"].supported
    assert not by_sentence["Menara Eiffel"].supported
