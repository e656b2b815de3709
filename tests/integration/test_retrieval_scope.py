"""Scoping, sub-queries and visible reasons through the real retrieval (real embedder, real Chroma on tmp_path),
over articles written here: two outlets reporting the same flood with different figures, and an unrelated article."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from assistant.retrieval import retrieve
from tests.conftest import assistant_over

pytestmark = pytest.mark.slow

ARTICLES = {
    "harian.txt": (
        "Banjir Merendam Ribuan Rumah di Pesisir Utara\n"
        "Senin, 14 Maret 2023 10:00 WIB\n"
        "KABARHARIAN.COM - Banjir merendam 2.400 rumah di pesisir utara pada Senin pagi. Air setinggi satu meter "
        "menggenangi jalan utama kota. Warga mengungsi ke masjid dan sekolah terdekat.\n"
        "Kepala badan penanggulangan bencana daerah mengatakan hujan deras turun selama dua hari berturut-turut. "
        "Tanggul sungai jebol di tiga titik sehingga air meluap ke permukiman.\n"
    ),
    "pos.txt": (
        "Ribuan Warga Pesisir Mengungsi Akibat Banjir Besar\n"
        "Selasa, 15 Maret 2023 08:30 WIB\n"
        "POSNUSANTARA.COM - Sekitar 3.100 rumah terendam banjir di pesisir utara sejak Senin. Ketinggian air "
        "mencapai satu setengah meter di beberapa desa. Pemerintah membuka dapur umum bagi para pengungsi.\n"
        "Menurut warga, banjir kali ini adalah yang terparah dalam sepuluh tahun terakhir. Sejumlah sekolah "
        "diliburkan hingga air surut.\n"
    ),
    "jembatan.txt": (
        "Jembatan Gantung Baru Menghubungkan Dua Desa di Lembah\n"
        "Minggu, 20 November 2022 09:00 WIB\n"
        "WARTADESA.COM - Pemerintah kabupaten meresmikan jembatan gantung sepanjang 120 meter yang menghubungkan "
        "dua desa di lembah. Sebelumnya warga harus menyeberangi sungai dengan rakit.\n"
        "Pembangunan jembatan memakan waktu delapan bulan dan menelan biaya empat miliar rupiah.\n"
    ),
}


@pytest.fixture(scope="module")
def scoped(tmp_path_factory, settings, embedder):
    return assistant_over(ARTICLES, tmp_path_factory, settings, "scoped")


def _sources(result) -> list[str]:
    return [p.source for p in result.passages]


def test_unscoped_question_searches_every_article(scoped):
    result = retrieve(scoped.reader, scoped.settings, "Berapa rumah yang terendam banjir di pesisir utara?")
    assert {"harian.txt", "pos.txt"} <= set(_sources(result))
    assert result.trace.scope.phrase == ""


@pytest.mark.parametrize("question, source, kind", [
    ("Berapa rumah yang terendam banjir menurut artikel PosNusantara?", "pos.txt", "outlet"),
    ("According to the KabarHarian report, how many houses were flooded?", "harian.txt", "outlet"),
    ("Menurut artikel Ribuan Warga Pesisir Mengungsi, berapa rumah terendam?", "pos.txt", "title"),
    ("In the November article, how long is the bridge?", "jembatan.txt", "date"),
    ("What does the article about a suspension bridge between two villages say about its cost?", "jembatan.txt", "topic"),
])
def test_a_named_article_restricts_retrieval(scoped, question, source, kind):
    result = retrieve(scoped.reader, scoped.settings, question)
    assert set(_sources(result)) == {source}
    assert result.trace.scope.kind == kind and result.trace.scope.sources == [source]


def test_no_matching_article_is_said_in_the_answer_and_json(scoped):
    a = scoped.ask("Menurut artikel Kompas, berapa rumah yang terendam banjir?")
    assert any("Kompas" in n for n in a.notes) and {"harian.txt", "pos.txt"} & {p.source for p in a.passages}
    out = a.public_dict()
    assert out["trace"]["scope"]["note"] and "Kompas" in out["notes"][0]
    assert all(p["legs"] and p["via"] for p in out["passages"])  # every passage says which leg and query found it


def test_each_article_question_gets_a_passage_per_article(scoped):
    result = retrieve(scoped.reader, scoped.settings, "Berapa rumah terendam menurut masing-masing artikel tentang banjir?")
    assert {"harian.txt", "pos.txt"} <= set(_sources(result))
    assert any(v.startswith("article: ") for v in result.trace.subqueries)


def test_two_asks_get_a_passage_each(scoped):
    result = retrieve(scoped.reader, scoped.settings,
                      "Berapa panjang jembatan gantung itu dan berapa lama air menggenangi pesisir utara?", top_k=3)
    assert "jembatan.txt" in _sources(result) and {"harian.txt", "pos.txt"} & set(_sources(result))
    assert [v.split(":")[0] for v in result.trace.subqueries] == ["part 1", "part 2"]
    assert {r.via for r in result.reasons} & {v for v in result.trace.subqueries}


def test_ask_json_shows_scope_and_reasons(scoped, tmp_path):
    from ui.cli import app

    env = {"ASSISTANT_INDEX_DIR": str(scoped.settings.index_dir),
           "ASSISTANT_MODEL_CACHE_DIR": str(scoped.settings.model_cache_dir)}
    res = CliRunner().invoke(app, ["ask", "Berapa rumah yang terendam menurut artikel PosNusantara?", "--json"], env=env)
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert out["trace"]["scope"] == {"phrase": "PosNusantara", "kind": "outlet", "sources": ["pos.txt"], "note": ""}
    assert {p["source"] for p in out["passages"]} == {"pos.txt"}
    assert all(set(p["legs"]) <= {"dense", "bm25"} and p["legs"] for p in out["passages"])
