"""Question sets as users have them: CSV read by the csv module (line breaks kept, broken quotes refused), answer-only
sets, generated ids, the column names of other tools; and how such items are scored."""

from __future__ import annotations

import csv
import json

import pytest

from assistant.errors import BadInput
from assistant.evaluation.dataset import FIELD_LIMIT, load_items, load_set
from assistant.evaluation.runner import evaluate_item, summarize
from assistant.models import Answer, Citation, RankedPassage

HEADER = "id,question,answer\n"


def write(tmp_path, text: str, name: str = "set.csv"):
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8"))
    return path


def refused(path) -> str:
    with pytest.raises(BadInput) as err:
        load_items(path)
    message = str(err.value)
    assert "\n" not in message  # one line for the CLI
    return message


# --- item 6: CSV parsing -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("brk", ["\n", "\r\n", "\u2028"])
def test_line_breaks_inside_quoted_fields_are_kept(tmp_path, brk):
    text = (HEADER + f'q1,"Siapa yang memoderasi{brk}diskusi itu?",Simonyan\r\n'
            + f'q2,Berapa orang?,"7.644{brk}orang"\r\n' + "q3,Kapan?,17 Juni\r\n")
    q1, q2, q3 = load_items(write(tmp_path, text))
    assert q1.question == f"Siapa yang memoderasi{brk}diskusi itu?"
    assert q2.answer == f"7.644{brk}orang" and q3.id == "q3" and q3.answer == "17 Juni"


def test_jsonl_keeps_line_separators_inside_strings(tmp_path):
    rows = [{"id": "q1", "question": "Siapa yang memoderasi\u2028diskusi itu?", "answer": "Simonyan"},
            {"id": "q2", "question": "Kapan?", "answer": "17 Juni"}]
    text = "\r\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\r\n"
    q1, q2 = load_items(write(tmp_path, text, "set.jsonl"))
    assert q1.question == rows[0]["question"] and q2.answer == "17 Juni"


def test_rows_are_named_by_the_line_they_start_on(tmp_path):
    text = HEADER + 'q1,"Siapa\nyang\nmemoderasi?",Simonyan\nq2,,x\n'
    assert refused(write(tmp_path, text)) == "set.csv line 5: missing field 'question'"


@pytest.mark.parametrize(("text", "line"), [
    # the opening quote is closed by the next row's opening quote: the row after q2 would vanish
    (HEADER + 'q1,"Siapa?",a\nq2,"Berapa orang?,7644\nq3,"Kapan?",17 Juni\nq4,"Di mana?",Almaty\n', 3),
    # the quote runs to the end of the file
    (HEADER + 'q1,Siapa?,a\nq2,"Berapa orang?,7644\nq3,Kapan?,17 Juni\nq4,Di mana?,Almaty\n', 3),
    # closed by a quote before a comma in a later row: strict CSV is satisfied, but the row has too many fields
    (HEADER + 'q1,Siapa?,a\nq2,Berapa ukurannya?,"7644\nq3,Ukuran 12",x\nq4,Di mana?,Almaty\n', 3),
])
def test_an_unbalanced_quote_is_refused_naming_its_row(tmp_path, text, line):
    message = refused(write(tmp_path, text))
    assert message.startswith(f"set.csv line {line}: ") and "quote" in message


def test_five_rows_in_five_questions_or_an_error(tmp_path):
    rows = [f'q{i},"Pertanyaan nomor {i}?",jawaban {i}' for i in range(1, 6)]
    assert [it.id for it in load_items(write(tmp_path, HEADER + "\n".join(rows) + "\n"))] == [f"q{i}" for i in range(1, 6)]
    rows[1] = rows[1].replace('?"', "?")  # one closing quote lost
    assert refused(write(tmp_path, HEADER + "\n".join(rows) + "\n")).startswith("set.csv line 3: ")


def test_text_after_a_closing_quote_and_unquoted_commas_are_refused(tmp_path):
    assert refused(write(tmp_path, HEADER + 'q1,"Presiden" Tokayev berkata?,a\n')).startswith(
        "set.csv line 2: text after a closing quote")
    assert refused(write(tmp_path, HEADER + "q1,Siapa, dan kapan?,Tokayev\n")).startswith(
        "set.csv line 2: 4 fields but the header has 3")
    # a short row or trailing empty fields are fine
    short, trailing = load_items(write(tmp_path, HEADER + "q1,Siapa?\nq2,Kapan?,Juni,,\n"))
    assert short.answer == "" and trailing.answer == "Juni"


def test_long_fields_load_and_oversized_ones_are_one_line_errors(tmp_path):
    limit = csv.field_size_limit()
    context = "Tokayev berbicara kepada Putin. " * 6000  # ~190,000 characters, over the csv module's default
    item, = load_items(write(tmp_path, f'id,question,answer,sources,evidence\nq1,Apa?,x,a.txt,"{context}"\n'))
    assert item.evidence == (context.strip(),)
    huge = "x" * (FIELD_LIMIT + 1)
    message = refused(write(tmp_path, f'{HEADER}q1,Siapa?,a\nq2,"{huge}",b\n'))
    assert message.startswith(f"set.csv line 3: a field is longer than {FIELD_LIMIT:,} characters")
    assert csv.field_size_limit() == limit  # the process-wide limit is restored


def test_duplicate_header_is_refused(tmp_path):
    assert refused(write(tmp_path, "id,question,answer,answer\nq1,Siapa?,a,b\n")) == \
        "set.csv line 1: column 'answer' appears twice in the header"
    assert refused(write(tmp_path, "id,Question,question\nq1,Siapa?,b\n")).startswith(
        "set.csv line 1: column 'question' appears twice")


def test_not_utf8_csv_names_the_line(tmp_path):
    path = tmp_path / "set.csv"
    path.write_bytes(HEADER.encode() + b"q1,Siapa?,a\nq2,Caf\xe9?,b\n")
    assert refused(path).startswith("set.csv line 3: not UTF-8 text")


# --- item 9: answer-only sets, ids, other tools' columns -----------------------------------------------------------

def test_answer_only_rows_are_answerable(tmp_path):
    a, b = load_items(write(tmp_path, HEADER + "q1,Siapa pemimpin redaksi Russia Today?,Margarita Simonyan\n"
                                               "q2,Berapa orang Rusia tiba?,7.644\n"))
    assert a.answerable and b.answerable and a.scores_answer and a.type == "factoid" and not a.evidence


@pytest.mark.parametrize(("row", "answerable"), [
    ({"answer": "x"}, True),
    ({"answer": ""}, False),  # nothing to score against
    ({"answer": "", "sources": ["a.txt"]}, True),  # retrieval only
    ({"answer": "Tidak disebutkan", "type": "unanswerable"}, False),
    ({"answer": "Tidak disebutkan", "answerable": False}, False),
    ({"answer": "x", "answerable": "yes"}, True),
    ({"answer": "Tidak disebutkan", "unanswerable": "true"}, False),
    ({"answer": "", "is_impossible": True}, False),
])
def test_unanswerable_only_when_marked_or_empty(tmp_path, row, answerable):
    path = write(tmp_path, json.dumps({"id": "q1", "question": "Siapa?", **row}) + "\n", "set.jsonl")
    assert load_items(path)[0].answerable is answerable


@pytest.mark.parametrize(("row", "message"), [
    ({"answerable": False, "evidence": ["x"], "sources": ["a.txt"]}, "marked unanswerable but field 'evidence'"),
    ({"answerable": True}, "marked answerable but gives no answer"),
    ({"answerable": "maybe", "answer": "x"}, "field 'answerable' must be true or false"),
    ({"type": "unanswerable", "answerable": True, "answer": "x"}, "type 'unanswerable' but marked answerable"),
])
def test_contradictory_marks_are_refused(tmp_path, row, message):
    path = write(tmp_path, json.dumps({"id": "q1", "question": "Siapa?", **row}) + "\n", "set.jsonl")
    assert refused(path).startswith(f"set.jsonl line 1: {message}")


def test_ids_are_generated_only_when_the_set_has_none(tmp_path):
    qset = load_set(write(tmp_path, "question,answer\nSiapa?,Simonyan\nKapan?,17 Juni\nBerapa?,7.644\n"))
    assert [it.id for it in qset.items] == ["row-1", "row-2", "row-3"]
    assert any("row-1 to row-3" in n for n in qset.notes)
    jsonl = write(tmp_path, json.dumps({"id": "a", "question": "Siapa?", "answer": "x"}) + "\n"
                  + json.dumps({"question": "Kapan?", "answer": "y"}) + "\n", "set.jsonl")
    assert refused(jsonl) == "set.jsonl line 2: missing field 'id'"  # a set that uses ids must give each one


def test_ragas_testset_columns_are_mapped_with_a_note(tmp_path):
    # as pandas writes a RAGAS testset: list columns as Python lists
    text = ("user_input,reference_contexts,reference,synthesizer_name\n"
            "Siapa pemimpin redaksi Russia Today?,\"['Margarita Simonyan, pemimpin redaksi Russia Today']\","
            "Margarita Simonyan,single_hop\n")
    qset = load_set(write(tmp_path, text))
    item, = qset.items
    assert item.question == "Siapa pemimpin redaksi Russia Today?" and item.answer == "Margarita Simonyan"
    assert item.evidence == ("Margarita Simonyan, pemimpin redaksi Russia Today",) and item.type == "single_hop"
    assert item.id == "row-1" and item.answerable
    assert qset.notes[0] == ("read columns user_input→question, reference→answer, reference_contexts→evidence, "
                             "synthesizer_name→type")


def test_the_evaluated_systems_output_is_not_taken_for_references(tmp_path):
    # RAGAS evaluation set: response and retrieved_contexts are what some system produced
    new = {"user_input": "Siapa?", "response": "Putin", "retrieved_contexts": ["Putin berkata"],
           "reference": "Simonyan"}
    qset = load_set(write(tmp_path, json.dumps(new) + "\n", "set.jsonl"))
    assert qset.items[0].answer == "Simonyan" and qset.items[0].evidence == ()
    assert "ignored columns response, retrieved_contexts (the evaluated system's output, not references)" in qset.notes
    # RAGAS 0.1: `answer` and `contexts` are the system's, `ground_truths` the references
    old = {"question": "Siapa?", "answer": "Putin", "contexts": ["Putin berkata"],
           "ground_truths": ["Margarita Simonyan", "Simonyan"]}
    qset = load_set(write(tmp_path, json.dumps(old) + "\n", "set.jsonl"))
    item, = qset.items
    assert (item.answer, item.answer_aliases, item.evidence) == ("Margarita Simonyan", ("Simonyan",), ())
    assert qset.notes == ["read columns ground_truths→answer",
                          "ignored columns answer, contexts (the evaluated system's output, not references)",
                          "no id column: questions are numbered row-1 to row-1 in file order"]
    # a RAGAS 0.1 testset (no system output): contexts are the reference contexts
    gen = {"question": "Siapa?", "contexts": ["Margarita Simonyan, pemimpin"], "ground_truth": "Simonyan"}
    assert load_items(write(tmp_path, json.dumps(gen) + "\n", "set.jsonl"))[0].evidence == (
        "Margarita Simonyan, pemimpin",)


def test_a_file_read_as_named_has_no_notes(tmp_path):
    assert load_set(write(tmp_path, HEADER + "q1,Siapa?,a\n")).notes == []


# --- scoring of such items -----------------------------------------------------------------------------------------

TEXT = "Margarita Simonyan, pemimpin redaksi Russia Today, memoderasi diskusi Putin dan Tokayev pada 17 Juni."
DOCS = {"a.txt": TEXT, "b.txt": "Pipa CPC membawa lebih dari separuh ekspor minyak Kazakhstan."}


def answer(text: str, source: str = "a.txt", abstained: bool = False) -> Answer:
    end = len(DOCS[source])
    return Answer(question="q", standalone_question="q", answer=text, abstained=abstained, language="id",
                  citations=[Citation(n=1, source=source, start=0, end=end, quote=DOCS[source])],
                  passages=[RankedPassage(rank=1, id="c1", source=source, start=0, end=end, text=DOCS[source],
                                          score=1.0)])


def test_answer_only_items_are_scored_on_the_answer_without_retrieval(tmp_path):
    items = load_items(write(tmp_path, HEADER + "q1,Siapa pemimpin redaksi Russia Today?,Margarita Simonyan\n"
                                                "q2,Kapan diskusi itu?,17 Juni\n"))
    rows = [evaluate_item(items[0], answer("Margarita Simonyan [1]."), 5.0, DOCS.get, 5),
            evaluate_item(items[1], answer("Pada 17 Juni [1]."), 5.0, DOCS.get, 5)]
    assert [r["pass"] for r in rows] == [True, True] and rows[0]["answer_correct"] is True
    assert rows[0]["hit_at_k"] is None and rows[0]["mrr"] is None and rows[0]["retrieval_level"] is None
    ov = summarize(rows)["overall"]
    assert ov["n_answerable"] == 2 and ov["accuracy"] == 1.0 and ov["answer_correct"] == 1.0
    assert ov["failures"] == {"retrieval": 0, "answer": 0, "abstention": 0, "error": 0}
    assert ov["hit_at_k"] is None
    wrong = evaluate_item(items[0], answer("Putin [1]."), 5.0, DOCS.get, 5)
    assert wrong["pass"] is False and wrong["failure"] == "answer"  # not "retrieval": there is none to blame


def test_sources_without_evidence_score_retrieval_per_article(tmp_path):
    path = write(tmp_path, "id,question,answer,sources\nq1,Siapa?,Margarita Simonyan,a.txt\nq2,Apa?,,b.txt\n")
    q1, q2 = load_items(path)
    good = evaluate_item(q1, answer("Margarita Simonyan [1]."), 1.0, DOCS.get, 5)
    assert good["retrieval_level"] == "source" and good["hit_at_k"] is True and good["mrr"] == 1.0
    assert good["citation_precision"] == 1.0
    missed = evaluate_item(q2, answer("Putin berkata [1]."), 1.0, DOCS.get, 5)  # retrieval-only item, a.txt found
    assert missed["answer_correct"] is None and missed["hit_at_k"] is False and missed["pass"] is False
    assert missed["failure"] == "retrieval" and missed["token_f1"] is None


def test_evidence_without_sources_is_located_in_the_corpus(tmp_path):
    row = {"user_input": "Apa yang dibawa pipa CPC?", "reference": "minyak",
           "reference_contexts": ["separuh ekspor minyak Kazakhstan"]}
    item, = load_items(write(tmp_path, json.dumps(row) + "\n", "set.jsonl"))
    got = evaluate_item(item, answer("Minyak [1].", "a.txt"), 1.0, DOCS.get, 5, corpus=sorted(DOCS))
    assert got["retrieval_level"] == "evidence" and got["evidence_located"] == 1 and got["hit_at_k"] is False
    got = evaluate_item(item, answer("Minyak [1].", "b.txt"), 1.0, DOCS.get, 5, corpus=sorted(DOCS))
    assert got["hit_at_k"] is True and got["pass"] is True
