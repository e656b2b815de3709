"""Bad input, pure functions: decoding, the chunker on pathological lines, question cleaning, question-set errors."""

from __future__ import annotations

import codecs
import json
import time

import pytest

from assistant.errors import BadInput
from assistant.evaluation.dataset import load_items
from assistant.question import clean_question, validate_question
from index.chunking import chunk_text, split_sentences
from index.loading import MAX_RUN_CHARS, Skipped, decode_text, load_file
from index.tokens import count_tokens

TEXT = "Kafe “Café Mawar” di Bandung menjual kopi seharga €2 – murah sekali.\r\nPemiliknya berkata: ‘crème brûlée’.\n"


@pytest.mark.parametrize(
    "raw",
    [
        TEXT.encode("utf-8"),
        codecs.BOM_UTF8 + TEXT.encode("utf-8"),
        TEXT.encode("utf-16"),  # with BOM
        codecs.BOM_UTF16_BE + TEXT.encode("utf-16-be"),
        TEXT.encode("utf-32"),
        TEXT.encode("cp1252"),
    ],
    ids=["utf8", "utf8-bom", "utf16-le-bom", "utf16-be-bom", "utf32-bom", "cp1252"],
)
def test_text_encodings_decode_exactly(raw):
    assert decode_text(raw) == TEXT  # the same characters, the same \r\n: offsets into it mean the same everywhere


def test_latin1_is_decoded_as_latin1_not_a_central_european_guess():
    text = "Le café crème à Paris coûte cher. Über naïve façade, señor.\n"
    assert decode_text(text.encode("latin-1")) == text


def test_utf8_with_one_stray_byte_keeps_its_other_characters():
    raw = ("Café “Mawar” " * 10).encode("utf-8") + b"\xe9 lalu selesai."
    text = decode_text(raw)
    assert text.startswith("Café “Mawar” ") and text.endswith("\ufffd lalu selesai.")


def test_binary_and_broken_utf16_are_skipped_with_a_reason():
    with pytest.raises(Skipped, match="NUL bytes"):
        decode_text(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 8)
    with pytest.raises(Skipped, match="byte-order mark"):
        decode_text(codecs.BOM_UTF16_LE + b"a\x00b")  # odd length: half a character


def test_chunker_on_a_1_mb_line_without_spaces_is_fast_exact_and_under_the_limit():
    text = "Judul Berita\n" + "QUJD" * (1024 * 1024 // 4) + "\n"
    spans = [(0, 12), (13, len(text) - 1)]
    t0 = time.perf_counter()
    chunks = chunk_text(text, spans, chunk_tokens=160, overlap_tokens=30)
    assert time.perf_counter() - t0 < 20
    assert all(c.tokens <= 160 and text[c.start : c.end] == c.text for c in chunks)
    assert chunks[0].text == "Judul Berita" and chunks[-1].end == len(text) - 1
    assert all(a.end == b.start for a, b in zip(chunks[1:], chunks[2:], strict=False))  # no gap, no overlap


def test_chunker_cuts_multibyte_runs_on_character_boundaries():
    text = "日本語のテキスト🙂" * 3000  # characters whose bytes token boundaries split
    chunks = chunk_text(text, [(0, len(text))], chunk_tokens=64, overlap_tokens=0)
    assert "".join(c.text for c in chunks) == text
    assert all(c.tokens <= 64 and count_tokens(c.text) == c.tokens for c in chunks)


@pytest.mark.parametrize("line", [
    "Presiden berbicara di Jakarta pada hari Senin. " * 22_000,  # 1 MB of prose on one line
    "x. y. z! " * 120_000,  # boundaries that are all rejected (a lowercase letter follows)
    "." * 1_000_000 + " Akhir.",  # one run of a million full stops
], ids=["prose", "rejected-boundaries", "dots"])
def test_sentence_splitter_is_linear_on_a_1_mb_line(line):
    t0 = time.perf_counter()
    sentences = split_sentences(line)
    assert time.perf_counter() - t0 < 5
    assert sentences and all(line[s.start : s.end].strip() == line[s.start : s.end] for s in sentences)


def test_long_urls_are_prose_but_a_run_over_the_limit_is_skipped(tmp_path):
    url = "https://contoh.id/berita?" + "a=1&" * 500  # a 2,000-character link is still an article
    (tmp_path / "url.md").write_text(f"Sumber berita lengkap ada di {url} menurut redaksi.\n", encoding="utf-8")
    assert url in load_file(tmp_path, tmp_path / "url.md").text
    (tmp_path / "run.md").write_text("Judul\n" + "x" * (MAX_RUN_CHARS + 1) + "\n", encoding="utf-8")
    with pytest.raises(Skipped, match=f"a run of {MAX_RUN_CHARS + 1:,} characters without a space"):
        load_file(tmp_path, tmp_path / "run.md")


def test_question_control_and_zero_width_characters_are_stripped():
    raw = "\ufeffSiapa\u200b yang\x00 membuka\u2060 kembali\u202e Café\u00ad Mawar\udcff?\x07\u2028"
    assert clean_question(raw) == "Siapa yang membuka kembali Café Mawar?"
    assert clean_question("Cafe\u0301  dan\tkopi\n") == "Café dan kopi"  # NFC, whitespace collapsed


@pytest.mark.parametrize("raw", ["", "   ", "\n\t ", "\u200b\u200d\ufeff", "\x00\x01", None])
def test_empty_or_invisible_question_is_refused(raw):
    with pytest.raises(BadInput, match="the question is empty"):
        validate_question(raw, 2000)


def test_100k_character_question_is_refused_quickly_with_the_limit():
    t0 = time.perf_counter()
    with pytest.raises(BadInput) as err:
        validate_question("Siapa presiden Kazakhstan? " * 3704, 2000)
    assert time.perf_counter() - t0 < 1
    assert "100,007 characters" in str(err.value) and "2,000" in str(err.value) and "\n" not in str(err.value)


GOOD = {"id": "q1", "question": "Siapa presiden Kazakhstan?", "answer": "Tokayev", "sources": ["a.txt"],
        "evidence": ["Presiden Kazakhstan Tokayev"]}


@pytest.mark.parametrize(("content", "message"), [
    (json.dumps(GOOD) + "\n\n{\"id\": \"q2\", \"question\": \n", "set.jsonl line 3: not valid JSON"),
    (json.dumps(GOOD) + "\n" + json.dumps({"id": "q2"}) + "\n", "set.jsonl line 2: missing field 'question'"),
    (json.dumps(GOOD) + "\n" + json.dumps({"question": "Kapan?"}) + "\n", "set.jsonl line 2: missing field 'id'"),
    (json.dumps({"id": "q1", "question": "\u200b \u200d"}) + "\n", "set.jsonl line 1: missing field 'question'"),
    ("[1, 2]\n", "set.jsonl line 1: expected a JSON object"),
    (json.dumps(GOOD) + "\n" + json.dumps({**GOOD, "sources": "[bad"}) + "\n", "set.jsonl line 2: field 'sources'"),
    (json.dumps(GOOD) + "\n" + json.dumps(GOOD) + "\n", "set.jsonl line 2: duplicate id 'q1' (first at set.jsonl line 1)"),
    ("\n  \n", "set.jsonl: no questions in the file"),
])
def test_question_set_errors_name_the_line(tmp_path, content, message):
    path = tmp_path / "set.jsonl"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(BadInput) as err:
        load_items(path)
    assert str(err.value).startswith(message) and "\n" not in str(err.value)


def test_question_set_not_utf8_and_csv_missing_field_name_the_line(tmp_path):
    path = tmp_path / "set.jsonl"
    path.write_bytes(json.dumps(GOOD).encode() + b"\n" + '{"id": "q2", "question": "Caf\xe9?"}'.encode("latin-1"))
    with pytest.raises(BadInput, match=r"^set.jsonl line 2: not UTF-8 text"):
        load_items(path)
    csv_path = tmp_path / "set.csv"
    csv_path.write_text("id,question,answer\nq1,Siapa presiden?,Tokayev\nq2,,Putin\n", encoding="utf-8")
    with pytest.raises(BadInput, match=r"^set.csv line 3: missing field 'question'"):
        load_items(csv_path)
    with pytest.raises(BadInput, match="question set not found"):
        load_items(tmp_path / "missing.jsonl")
