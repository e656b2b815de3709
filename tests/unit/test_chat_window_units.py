"""Issue 27 pieces without a browser: the articles trash, the data folder, the OpenAI route's parsing and chunks,
and the small texts (refusal cards without scores, the status counting markers)."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.errors import BadInput
from assistant.models import Answer, Citation, RankedPassage
from assistant.settings import Settings


def _answer(abstained: bool = False) -> Answer:
    passage = RankedPassage(rank=1, id="a.txt#0", source="a.txt", start=0, end=20, text="Dubnov kata sesuatu.",
                            score=-1.592)
    cites = [] if abstained else [
        Citation(n=1, source="a.txt", start=0, end=6, quote="Dubnov"),
        Citation(n=1, source="a.txt", start=7, end=11, quote="kata"),
    ]
    return Answer(question="q?", standalone_question="q?", answer="No." if abstained else "Dubnov [1]. Kata [1].",
                  abstained=abstained, language="id", citations=cites, passages=[passage])


def test_trash_moves_the_file_lists_it_and_restores_it(tmp_path):
    from ui.library import restore_article, trash_article, trashed_articles

    articles, trash = tmp_path / "articles", tmp_path / "data" / "trash"
    articles.mkdir()
    (articles / "a.txt").write_text("Artikel A", encoding="utf-8")
    entry = trash_article("a.txt", articles, trash)
    assert not (articles / "a.txt").exists() and (entry / "a.txt").read_text(encoding="utf-8") == "Artikel A"
    listed = trashed_articles(trash)
    assert [p for _, p in listed] == [str(entry)] and listed[0][0].startswith("a.txt (removed ")
    (articles / "a.txt").write_text("another", encoding="utf-8")  # the name is taken again meanwhile
    with pytest.raises(BadInput, match="exists again"):
        restore_article(entry, articles, trash)
    (articles / "a.txt").unlink()
    assert restore_article(entry, articles, trash) == "a.txt"
    assert (articles / "a.txt").read_text(encoding="utf-8") == "Artikel A" and trashed_articles(trash) == []
    with pytest.raises(BadInput):
        restore_article(tmp_path, articles, trash)  # not a trash entry
    with pytest.raises(BadInput):
        trash_article("../outside.txt", articles, trash)


def test_data_folder_holds_feedback_runs_and_trash_never_the_current_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for key in ("ASSISTANT_DATA_DIR", "ASSISTANT_FEEDBACK_PATH", "ASSISTANT_EVAL_RUNS_DIR"):
        monkeypatch.delenv(key, raising=False)
    s = Settings(_env_file=None)
    assert s.data_dir.is_absolute() and tmp_path not in s.data_dir.parents
    assert s.feedback_path == s.data_dir / "feedback.jsonl" and s.eval_runs_dir == s.data_dir / "runs"
    assert s.trash_dir == s.data_dir / "trash"
    mine = Settings(_env_file=None, data_dir=tmp_path / "d", feedback_path=tmp_path / "f.jsonl")
    assert mine.feedback_path == tmp_path / "f.jsonl" and mine.eval_runs_dir == tmp_path / "d" / "runs"
    monkeypatch.setenv("ASSISTANT_DATA_DIR", str(tmp_path / "env"))
    assert Settings(_env_file=None).eval_runs_dir == tmp_path / "env" / "runs"


def test_openai_conversation_and_stream_chunks():
    from ui.clients import completion, completion_chunks, conversation

    question, turns, top_k = conversation({"messages": [
        {"role": "system", "content": "be brief"}, {"role": "user", "content": "Siapa A?"},
        {"role": "assistant", "content": "A adalah B [1]."},
        {"role": "user", "content": [{"type": "text", "text": "Dan C?"}]}], "top_k": 3})
    assert question == "Dan C?" and [(t.question, t.answer) for t in turns] == [("Siapa A?", "A adalah B [1].")]
    assert top_k == 3
    for bad in ({}, {"messages": []}, {"messages": [{"role": "assistant", "content": "x"}]},
                {"messages": [{"role": "user", "content": "x"}], "top_k": 99}):
        with pytest.raises(Exception, match="messages|question|top_k"):
            conversation(bad)
    answer = _answer()
    full = completion(answer, "id1", 1)
    assert full["choices"][0]["message"]["content"] == "Dubnov [1]. Kata [1]." and full["citations"][0]["n"] == 1
    events = [{"type": "retrieved", "passages": []}, {"type": "token", "text": "Dubnov [1]."},
              {"type": "answer", "answer": answer}]
    chunks = list(completion_chunks(iter(events), "id1", 1))
    text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks)
    assert text == answer.answer  # the tokens, then the rest of the final text
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop" and len(chunks[-1]["citations"]) == 2


def test_refusal_cards_show_no_scores_and_status_counts_markers():
    from ui import render
    from ui.chat import ChatHandlers

    cards = render.sources_html([_answer(abstained=True)])
    assert "score" not in cards and "-1.592" not in cards and "Closest passage 1" in cards
    assert ChatHandlers._status(_answer()).startswith("1 citation ·")  # two sentences behind one [1]
    picked = render.sources_html([_answer(), _answer()], picked=(1, 1))
    assert 'class="src-card src-picked" id="a1-cite-1"' in picked and 'class="src-card" id="a2-cite-1"' in picked


def test_mcp_tools_are_named_ask_and_search_with_json_text():
    from ui.clients import ClientTools, mcp_functions

    class Fake:
        settings = Settings(_env_file=None, data_dir=Path("/tmp/unused"))

        def ask(self, question, history=None, top_k=None):
            return _answer()

        def validate(self, q):
            return q

        def stream(self, question, top_k=None):
            yield {"type": "retrieved", "standalone_question": question, "passages": _answer().passages}
            raise AssertionError("search must stop before the answerer")

    ask, search = mcp_functions(ClientTools(Fake()))  # type: ignore[arg-type]
    assert (ask.__name__, search.__name__) == ("ask", "search") and "citations" in (ask.__doc__ or "")
    import json

    assert json.loads(ask("q?"))["citations"][0]["quote"] == "Dubnov"
    assert json.loads(search("Dubnov", 2))["passages"][0]["source"] == "a.txt"
