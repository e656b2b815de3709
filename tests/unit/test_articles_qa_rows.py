"""The reader's articles-qa training rows come from the fit part only, and their answer offsets are exact."""

from __future__ import annotations

import json

from training.articles_qa_rows import AQ, OUT, _answer_span
from training.reader_data import load_file_rows


def test_the_answer_span_is_the_alias_inside_the_evidence_else_the_whole_sentence():
    text = "Bandar - Sebanyak 340 keluarga dipindahkan. Pompa bekerja 12 hari."
    s = text.index("Sebanyak")
    e = text.index(".") + 1
    assert text[slice(*_answer_span(text, s, e, ["340", "340 Keluarga"]))] == "340 keluarga"  # longest first
    assert _answer_span(text, s, e, ["12 hari"]) == (s, e)  # the alias is outside the evidence: the sentence
    assert _answer_span(text, s, e, []) == (s, e)


def test_the_committed_rows_read_only_the_fit_part_and_their_offsets_hold():
    split = json.loads((AQ / "split.json").read_text(encoding="utf-8"))
    fit = set(split["fit"]["questions"])
    rows = load_file_rows(OUT)
    assert rows and {r.id.rsplit("-p", 1)[0] for r in rows} <= fit
    assert any(r.answerable for r in rows) and any(not r.answerable for r in rows)
    raw = [json.loads(line) for line in OUT.open(encoding="utf-8")]
    for r, row in zip(raw, rows, strict=True):
        if row.answerable:
            assert row.context[row.start : row.end] == r["answers"][0]["text"]
    others = {q for part in ("choose", "report") for q in split[part]["questions"]}
    assert not {r.id.rsplit("-p", 1)[0] for r in rows} & others


def test_each_fold_is_a_group_of_linked_articles():
    """The answer policy is fitted on these questions read out of fold, so no article may be in two folds."""
    questions = {json.loads(line)["id"]: json.loads(line) for line in (AQ / "questions.jsonl").open(encoding="utf-8")}
    raw = [json.loads(line) for line in OUT.open(encoding="utf-8")]
    assert {r["fold"] for r in raw} == {0, 1}
    fold_of_article: dict[str, set[int]] = {}
    for r in raw:
        for src in questions[r["id"].rsplit("-p", 1)[0]]["sources"]:
            fold_of_article.setdefault(src, set()).add(r["fold"])
    assert fold_of_article and all(len(f) == 1 for f in fold_of_article.values())
