"""Cleaning, metadata, chunking, loading and analysis on the sample articles and hand-made texts."""

from __future__ import annotations

import pytest

from index.analysis import analyze, normalize_number
from index.chunking import chunk_text, split_sentences
from index.cleaning import content_spans, is_call_to_action, is_timestamp_line
from index.errors import BadInput
from index.loading import Skipped, discover, load_file
from index.metadata import extract_metadata, parse_date
from index.stories import assign_stories
from tests.conftest import SAMPLE, read_exact

FILES = sorted(SAMPLE.glob("*.txt"))


def kept(text: str) -> str:
    return "\n".join(text[s:e] for s, e in content_spans(text))


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name[:3])
def test_no_boilerplate_survives_cleaning(path):
    text = read_exact(path)
    body = kept(text)
    for marker in ("Selengkapnya", "Populer\n", "UPDATE\n", "Tinggal klik di sini", "berlangganan Majalah"):
        assert marker not in body
    assert "Tessa Mahardhika" not in body and "Pajak Digital" not in body  # headline-list items
    assert len(body) > 0.5 * len(text.strip())


def test_article_text_is_kept():
    text = read_exact(SAMPLE / "001_7539421ef6c581f1.txt")
    body = kept(text)
    assert "Sejak 21 September sekitar 98.000 orang Rusia memasuki Kazakhstan dan 64.234 orang" in body
    assert "Masuknya orang Rusia dapat memicu ketegangan." in body
    text3 = read_exact(SAMPLE / "003_f7d36d96d32c9e6b.txt")
    assert "Blinken menegaskan kembali dukungan" in kept(text3)


def test_headline_list_shape_in_other_words():
    text = ("Judul Artikel Yang Panjang\nIsi pertama artikel ini.\nIsi kedua.\n\nTerpopuler\n\n"
            "Banjir Besar Melanda Kota Contoh\n\n3 jam lalu\n\nHarga Cabai Naik Lagi Minggu Ini\n\n"
            "Senin, 4 Maret 2024 | 09:30 WIB\n\nLihat semua\n")
    body = kept(text)
    assert "Isi kedua." in body and "Banjir" not in body and "Harga Cabai" not in body
    assert is_timestamp_line("Senin, 29 Desember 2025 | 10:12")
    assert is_timestamp_line("March 3, 2024 10:15 am")
    assert not is_timestamp_line("Pada 6 Januari, Sekretaris Pers Gedung Putih mengatakan hal itu.")
    assert is_call_to_action("Baca juga: Harga BBM naik")
    assert is_call_to_action("Subscribe to our newsletter for more")


def test_metadata_of_the_sample():
    meta = {}
    for p in FILES:
        text = read_exact(p)
        meta[p.name[:3]] = extract_metadata(text, content_spans(text))
    assert meta["000"].title == "Sekutu Putin di Asia Tengah Merangkul Orang Rusia yang Kabur dari Wajib Militer"
    assert meta["000"].outlet == "RIAU24.COM"
    assert meta["001"].date == "2022-09-30"
    assert meta["001"].author == "Reni Erina"
    assert meta["001"].title.startswith("Kazakhstan Menyambut Kedatangan Warga Rusia")
    assert meta["003"].outlet == "Intisari - Online.com"
    assert meta["004"].title.startswith("Negara Sahabat Rusia Telah Menandatangani Perjanjian Militer")
    assert all(m.language == "id" for m in meta.values())
    assert parse_date("March 5, 2021") == "2021-03-05"


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name[:3])
def test_chunk_offsets_are_exact_and_sentence_aligned(path):
    text = read_exact(path)
    spans = content_spans(text)
    chunks = chunk_text(text, spans, chunk_tokens=160, overlap_tokens=30)
    assert chunks
    starts = {s.start for s, e in [(s, e) for s, e in spans] for s in split_sentences(text, s, e)}
    for c in chunks:
        assert text[c.start : c.end] == c.text
        assert c.tokens <= 160
        assert c.start in starts  # never starts mid-sentence (no sentence here exceeds the limit)


def test_crlf_offsets_are_not_translated(tmp_path):
    raw = b"Judul Berita Contoh Yang Panjang\r\nKalimat pertama di sini. Kalimat kedua di sana.\r\n"
    f = tmp_path / "a.txt"
    f.write_bytes(raw)
    doc = load_file(tmp_path, f)
    assert "\r\n" in doc.text
    for c in chunk_text(doc.text, content_spans(doc.text), 160, 0):
        assert doc.text[c.start : c.end] == c.text


def test_long_sentence_is_split_under_the_limit():
    text = " ".join(["kata"] * 500) + "."
    chunks = chunk_text(text, [(0, len(text))], chunk_tokens=64, overlap_tokens=0)
    assert len(chunks) > 1 and all(c.tokens <= 70 for c in chunks)
    assert all(text[c.start : c.end] == c.text for c in chunks)


def test_loading_encodings_and_bad_files(tmp_path):
    (tmp_path / "latin.txt").write_bytes("Caf\xe9 di Jakarta dibuka kembali pada hari Senin.".encode("latin-1"))
    (tmp_path / "u16.txt").write_bytes("Berita dalam UTF-16 dengan BOM.".encode("utf-16"))
    (tmp_path / "bin.txt").write_bytes(bytes(range(256)) * 20)
    (tmp_path / "empty.txt").write_bytes(b"")
    (tmp_path / "skip.docx").write_bytes(b"x")
    files = discover(tmp_path)
    assert [f.name for f in files] == ["bin.txt", "empty.txt", "latin.txt", "u16.txt"]
    assert "Café" in load_file(tmp_path, tmp_path / "latin.txt").text
    assert load_file(tmp_path, tmp_path / "u16.txt").text.startswith("Berita dalam UTF-16")
    for name in ("bin.txt", "empty.txt"):
        with pytest.raises(Skipped):
            load_file(tmp_path, tmp_path / name)
    with pytest.raises(BadInput):
        discover(tmp_path / "missing")


def test_html_goes_through_trafilatura(tmp_path):
    html = ("<html><head><title>Festival Layang-layang</title><script>alert('x')</script>"
            "<style>p{color:red}</style></head><body><nav>Home | News</nav><article><h1>Festival Layang-layang"
            "</h1><p>" + "Festival layang-layang digelar di Pantai Contoh pada hari Minggu. " * 5 +
            "</p></article></body></html>")
    (tmp_path / "a.html").write_text(html, encoding="utf-8")
    doc = load_file(tmp_path, tmp_path / "a.html")
    assert "Festival layang-layang digelar" in doc.text
    assert "alert" not in doc.text and "color:red" not in doc.text


def test_analysis_normalises_numbers_and_stems():
    assert normalize_number("7.644") == normalize_number("7,644") == "7644"
    terms = analyze("Orang-orang Rusia mengekstradisi 100.000 pengungsi")
    assert "orang" in terms and "100000" in terms and "ekstradisi" in terms
    assert analyze("the extradited Russians") == ["extradited", "russians"]


def test_same_story_articles_share_a_story_id():
    sets = {}
    for p in FILES:
        text = read_exact(p)
        sets[p.name[:3]] = [frozenset(analyze(text[s.start : s.end])) for a, b in content_spans(text)
                            for s in split_sentences(text, a, b)]
        sets[p.name[:3]] = [s for s in sets[p.name[:3]] if len(s) >= 4]
    stories = assign_stories(sets)
    assert stories["000"] == stories["001"]
    assert len({stories[k] for k in ("000", "002", "003", "004")}) == 4


def test_link_lists_under_a_read_also_heading_are_dropped_and_content_lists_kept():
    text = ("Tarif baru berlaku 1 Juni.\n\nBerikut tarif baru:\n- Niaga kecil: Rp 8.900 per m³\n- Sosial: Rp 2.100\n\n"
            "Baca Juga:\n- Harga Cabai Rawit di Pasar Induk Mulai Turun\n- Jembatan Gantung Kembali Dibuka\n\n"
            "DPRD minta layanan dibenahi\n\nPabrik itu mendapat tiga catatan terkait keselamatan kebakaran.\n\n"
            "Related stories\n\nFloods hit the north coast again\nMayor opens new bridge\n")
    kept = [text[s:e] for s, e in content_spans(text)]
    assert "- Niaga kecil: Rp 8.900 per m³" in kept and "Berikut tarif baru:" in kept
    assert not any("Cabai" in k or "Jembatan" in k or "Baca" in k for k in kept)
    assert "DPRD minta layanan dibenahi" in kept  # a section heading after the blank line stays
    assert "Pabrik itu mendapat tiga catatan terkait keselamatan kebakaran." in kept
    assert not any("Floods" in k or "Mayor" in k or "Related" in k for k in kept)
