"""The chat's pure parts: per-answer anchors and source groups, the filter and searched-as lines, the conversation
as the browser keeps it (validated when it comes back), and the filter picks."""

from __future__ import annotations

import re

from assistant.models import Answer, Citation, RankedPassage, RetrievalTrace
from index.state import FileRecord
from ui import history, render
from ui.filters import FilterChoice, outlets_of, sources_of


def _answer(question: str, text: str, source: str, quote: str, standalone: str | None = None,
            trace: bool = False) -> Answer:
    body = f"Awal. {quote} Akhir."
    start = body.index(quote)
    passage = RankedPassage(rank=1, id=f"{source}#0", source=source, start=0, end=len(body), text=body, score=0.9,
                            title=f"Judul <b>{source}</b>")
    cite = Citation(n=1, source=source, title=passage.title, start=start, end=start + len(quote), quote=quote)
    return Answer(question=question, standalone_question=standalone or question, answer=text, abstained=False,
                  language="id", citations=[cite], passages=[passage],
                  trace=RetrievalTrace(query=standalone or question, dense=[("x", 0.5)]) if trace else None)


FIRST = _answer("Berapa yang keluar?", "Sebanyak 64.234 orang. [1] Lihat [9].", "a.txt", "64.234 orang")
SECOND = _answer("Siapa moderatornya?", "Moderatornya Hadley Gamble. [1]", "b.txt", "Hadley Gamble",
                 standalone="Siapa moderatornya? (diskusi Putin Tokayev)", trace=True)


def test_markers_link_to_their_own_answers_cards():
    one, two = render.answer_markdown(FIRST, 1), render.answer_markdown(SECOND, 2)
    assert 'href="#a1-cite-1"' in one and 'href="#a2-cite-1"' in two
    assert "[9]" in one and "cite-9" not in one  # a marker with no citation stays plain text
    panel = render.sources_html([FIRST, SECOND])
    ids = re.findall(r'id="(a\d+-cite-\d+)"', panel)
    assert ids == ["a2-cite-1", "a1-cite-1"]  # newest first, every id unique
    assert re.search(r'<details class="src-group" id="a2-sources" data-turn="2" open>', panel)
    assert re.search(r'<details class="src-group" id="a1-sources" data-turn="1">', panel)  # folded, still there
    assert "<mark>64.234 orang</mark>" in panel and "<mark>Hadley Gamble</mark>" in panel
    assert "<b>" not in panel and "&lt;b&gt;a.txt&lt;/b&gt;" in panel


def test_filter_and_searched_as_lines_are_escaped_and_shown_only_when_they_apply():
    plain = render.answer_markdown(FIRST, 1)
    assert "Filtered" not in plain and "Searched as" not in plain
    shown = render.answer_markdown(SECOND, 2, "article <script>x</script>*.txt")
    assert shown.startswith("*Filtered: article &lt;script&gt;x&lt;/script&gt;\\*.txt*")
    assert shown.rstrip().endswith("*Searched as: Siapa moderatornya? (diskusi Putin Tokayev)*")


def test_pending_block_sits_above_the_earlier_answers_all_folded():
    panel = render.sources_html([FIRST], pending=render.pending_sources_html([]))
    assert panel.index("Searching the articles") < panel.index('id="a1-sources"')
    assert " open>" not in panel
    assert render.sources_html([]) == render.EMPTY_SOURCES


def test_history_round_trip_keeps_answers_and_filters_and_only_the_last_trace():
    picks = FilterChoice.from_inputs(["a.txt"], [], "2022-09-01", None)
    state = history.dump([history.Entry(FIRST, picks), history.Entry(SECOND.model_copy(update={}))])
    assert "trace" not in state[0]["answer"] and state[1]["answer"]["trace"]["query"].startswith("Siapa")
    back = history.load(state)
    assert [e.answer.question for e in back] == [FIRST.question, SECOND.question]
    assert back[0].filters == picks and not back[1].filters
    assert back[1].answer.citations[0].quote == "Hadley Gamble"
    assert [t.question for t in history.turns(back)] == [FIRST.question, SECOND.question]


def test_what_the_browser_sends_back_is_validated_and_capped():
    good = history.dump([history.Entry(FIRST)])[0]
    forged = [good, "text", {"answer": {"question": 3}}, {"answer": None}, {**good, "filters": "all"}, 7]
    back = history.load(forged)
    assert len(back) == 2 and all(e.answer.question == FIRST.question for e in back) and not back[1].filters
    for junk in (None, "[]", {"answer": good}, 42):
        assert history.load(junk) == []
    many = history.dump([history.Entry(FIRST)] * (history.MAX_TURNS + 5))
    assert len(many) == history.MAX_TURNS == len(history.load(many * 2))


def test_filter_picks_are_normalised_and_described():
    picks = FilterChoice.from_inputs([" a.txt", "a.txt", ""], "RIAU24.COM", " ", "2022-12-31 ")
    assert picks == FilterChoice(("a.txt",), ("RIAU24.COM",), None, "2022-12-31")
    assert picks.describe() == "article a.txt · outlet RIAU24.COM · to 2022-12-31"
    assert FilterChoice.from_dict(picks.as_dict()) == picks
    assert not FilterChoice.from_dict({"sources": 5}) and not FilterChoice.from_dict(None)
    files = [FileRecord("b.txt", "h", "d1", "txt", {"outlet": "Kompas"}, ["c1"]),
             FileRecord("a.txt", "h", "d2", "txt", {"outlet": "kompas "}, ["c2"]),
             FileRecord("c.txt", "h", "d3", "txt", {}, [], duplicate_of="a.txt")]
    assert sources_of(files) == ["b.txt", "a.txt"] and outlets_of(files) == ["Kompas"]


def test_a_page_load_without_a_saved_conversation_changes_nothing():
    """The load's restore, with nothing saved, leaves every output as it is: landing after a first question's answer
    or a new chat's status (a cold server), it must not wipe them."""
    import gradio as gr

    from ui.chat import ChatHandlers

    handlers = ChatHandlers.__new__(ChatHandlers)  # restore reads no index when nothing was saved
    for state in (None, [], history.dump([])):
        assert handlers.restore(state) == (gr.skip(),) * 7
