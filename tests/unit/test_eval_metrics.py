"""Metric functions and question-set loading of the evaluator, on hand-made cases."""

from __future__ import annotations

import json

import pytest

from assistant.errors import BadInput
from assistant.evaluation import metrics as m
from assistant.evaluation.dataset import load_items

TEXT = "Hampir 7.644 orang Rusia tiba di Almaty. Tokayev berbicara kepada Putin di St. Petersburg pada 17 Juni."
DOCS = {"a.txt": TEXT, "b.txt": "Pipa CPC membawa lebih dari separuh ekspor minyak Kazakhstan."}
EV1 = ("a.txt", 0, 40)  # first sentence
EV2 = ("a.txt", 41, len(TEXT))


def test_normalisation_and_numbers():
    assert m.normalize("Hampir 7.644 orang!") == m.normalize("hampir 7,644 orang") == "hampir 7644 orang"
    assert m.normalize("3.5 persen") == "3.5 persen"  # a decimal point is not a thousands separator
    assert m.content_words("the number of Russians") == ["number", "russians"]


def test_locate_and_evidence_spans():
    assert m.locate("Tokayev berbicara", TEXT) == (41, 58)
    assert m.locate("Tokayev   berbicara\nkepada", TEXT) == (41, 65)  # whitespace-tolerant fallback
    assert m.locate("tidak ada", TEXT) is None
    spans = m.evidence_spans(["ekspor minyak", "tidak ada"], ["a.txt", "b.txt"], DOCS.get)
    start = DOCS["b.txt"].index("ekspor")
    assert spans == [("b.txt", start, start + 13), None]


def test_retrieval_perfect_partial_empty():
    assert m.coverage(EV1, [("a.txt", 0, 20), ("a.txt", 10, 40)]) == 1.0
    assert m.coverage(EV1, [("b.txt", 0, 40)]) == 0.0  # wrong source never counts
    assert m.coverage(None, [("a.txt", 0, 99)]) == 0.0
    passages = [("b.txt", 0, 30), ("a.txt", 0, 35), ("a.txt", 41, 70)]
    assert m.hit_at_k([EV1], passages, k=2) is True  # 35/40 = 87.5% >= 80%
    assert m.hit_at_k([EV1], passages, k=1) is False
    assert m.evidence_recall_at_k([EV1, EV2], passages, k=3) == 0.5  # EV2 only ~47% covered
    assert m.hit_at_k([EV1, EV2], passages, k=3) is False
    assert m.mrr([EV1, EV2], passages) == 0.5
    assert m.mrr([EV1], [("b.txt", 0, 9)]) == 0.0
    assert m.hit_at_k([], passages, 5) is None and m.mrr([], passages) is None  # unanswerable: undefined


def test_ndcg():
    assert m.ndcg_at_k([EV1], [("a.txt", 0, 40)]) == pytest.approx(1.0)
    assert m.ndcg_at_k([EV1], [("b.txt", 0, 9), ("a.txt", 0, 40)]) == pytest.approx(1 / 1.5849625, rel=1e-6)
    # two evidence spans, only one found at rank 1: DCG 1 / IDCG (1 + 1/log2(3))
    assert m.ndcg_at_k([EV1, EV2], [("a.txt", 0, 40)]) == pytest.approx(1 / (1 + 1 / 1.5849625), rel=1e-6)
    assert m.ndcg_at_k([EV1], []) == 0.0


def test_answer_correct():
    ev = [TEXT[:40]]
    assert m.answer_correct("Sebanyak 7644 orang.", False, "7.644", [], ev)
    assert m.answer_correct("Ia adalah Margarita Simonyan [1].", False, "Simonyan", [])
    assert m.answer_correct("It was Perviy Otdel.", False, "Perviy Otdel (First Department)", ["Perviy Otdel"])
    assert not m.answer_correct("7.644", True, "7.644")  # abstained is never correct
    assert not m.answer_correct("", False, "7.644")
    assert not m.answer_correct("76445 orang", False, "7.644")  # word-bounded containment
    # >= 60% of the reference's content words
    assert m.answer_correct("pasukan keamanan Kazakhstan mengendalikan situasi", False,
                            "Pasukan keamanan Kazakhstan dan CSTO mengendalikan situasi")
    # quotes >= 80% of each evidence span's content words
    assert m.answer_correct(TEXT[:40], False, "sesuatu yang lain sama sekali", [], ev)
    assert not m.answer_correct(TEXT[:40], False, "sesuatu yang lain", [], ev + ["Tokayev berbicara kepada Putin"])


def test_token_f1():
    assert m.token_f1("Margarita Simonyan", "Margarita Simonyan") == 1.0
    assert m.token_f1("Simonyan", "Margarita Simonyan") == pytest.approx(2 / 3)
    assert m.token_f1("", "Simonyan") == 0.0
    assert m.token_f1("7,644 people", "7644") == pytest.approx(2 / 3)


def test_abstention_metrics():
    rows = [(True, False, True), (True, True, False), (True, False, False), (False, True, False), (False, False, False)]
    got = m.abstention_metrics(rows)
    assert got == {"abstention_rate": 0.5, "false_abstention_rate": pytest.approx(1 / 3),
                   "answer_precision": pytest.approx(1 / 3), "accuracy": pytest.approx(2 / 5)}
    assert m.abstention_metrics([])["accuracy"] is None


def test_citations():
    good = {"source": "a.txt", "start": 41, "end": 58, "quote": "Tokayev berbicara"}
    bad = {"source": "a.txt", "start": 0, "end": 6, "quote": "hampir"}
    other = {"source": "b.txt", "start": 0, "end": 4, "quote": "Pipa"}
    assert m.citation_exactness([good, other], DOCS.get) == 1.0
    assert m.citation_exactness([good, bad], DOCS.get) == 0.5
    assert m.citation_exactness([], DOCS.get) is None
    assert m.citation_precision([good, other], [EV1, EV2]) == 0.5
    assert m.citation_recall([good, other], [EV1, EV2]) == 0.5
    assert m.citation_recall([], [EV1]) == 0.0
    assert m.citation_precision([good], []) is None and m.citation_recall([good], []) is None


def test_percentile():
    assert m.percentile([], 50) is None
    assert m.percentile([10.0], 95) == 10.0
    assert m.percentile([1, 2, 3, 4], 50) == 2.5
    assert m.percentile(list(range(1, 101)), 95) == pytest.approx(95.05)


def test_load_items_jsonl_csv_and_errors(tmp_path):
    good = {"id": "q1", "question": "Berapa?", "lang": "id", "type": "numeric", "answer": "7.644",
            "answer_aliases": ["7644"], "sources": ["a.txt"], "evidence": ["Hampir 7.644"], "extra": 1}
    path = tmp_path / "set.jsonl"
    path.write_text(json.dumps(good) + "\n\n" + json.dumps({"id": "q2", "question": "Who?"}) + "\n")
    items = load_items(path)
    assert items[0].evidence == ("Hampir 7.644",) and items[0].answerable
    assert not items[1].answerable and items[1].type == "unanswerable" and items[1].lang == "en"

    csv_path = tmp_path / "set.csv"
    csv_path.write_text('id,question,answer,answer_aliases,sources,evidence\n'
                        'c1,Siapa?,Simonyan,Margarita Simonyan|Simonyan,a.txt,"[""Margarita Simonyan, pemimpin""]"\n'
                        'c2,Apa?,,,,\n')
    c1, c2 = load_items(csv_path)
    assert c1.answer_aliases == ("Margarita Simonyan", "Simonyan") and c1.evidence == ("Margarita Simonyan, pemimpin",)
    assert not c2.answerable

    cases = {
        json.dumps(good) + "\n{not json\n": "set.jsonl line 2: not valid JSON",
        json.dumps({"id": "x"}): "set.jsonl line 1: missing field 'question'",
        json.dumps({**good, "evidence": "text"}): None,  # a plain string is one item
        json.dumps({**good, "sources": [1]}): "set.jsonl line 1: field 'sources' must be a list of strings",
        json.dumps(good) + "\n" + json.dumps(good): "set.jsonl line 2: duplicate id 'q1'",
        "": "set.jsonl: no questions",
    }
    for text, message in cases.items():
        path.write_text(text)
        if message is None:
            assert load_items(path)[0].evidence == ("text",)
            continue
        with pytest.raises(BadInput, match=message):
            load_items(path)
    with pytest.raises(BadInput, match="not found"):
        load_items(tmp_path / "missing.jsonl")
