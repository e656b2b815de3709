"""A rare name the question asks about survives selection (issue 29 item 9, issue 25): in a folder of many similar
short articles (one story to the story grouping), the passage naming "Pulau Rubiah" with its fare reaches the passages
handed to the answerer. With the old fixed cap of 3 passages per story it ranked 4th, behind three reports that name
the island in passing beside Pulau Weh's price, and was dropped, even with top_k 10. And the answer quotes the
fare to the island asked about, never another island's price (the fitted ``skip_rivals``: a sentence naming "Pulau
Weh" where the question names "Pulau Rubiah" is not quoted).

Real embedder, real index and Chroma in the test's own temporary folder."""

from __future__ import annotations

import pytest

from assistant.retrieval import Selection, retrieve
from index import build_index, open_index

pytestmark = pytest.mark.slow

QUESTION = "Berapa harga tiket kapal feri ke Pulau Rubiah?"
OUTLETS = ["Kabar Sabang", "Serambi Wisata", "Lintas Aceh", "Warta Pelabuhan", "Suara Ulee Lheue", "Pos Bahari",
           "Harian Teluk", "Info Feri", "Jelajah Aceh", "Berita Dermaga", "Kabar Pesisir", "Lensa Laut"]
# a few reports mention the small island in passing, next to Pulau Weh's price
PASSING = " Sebagian penumpang kapal feri itu melanjutkan perjalanan ke Pulau Rubiah."
PRICES = [27000, 28000, 30000, 32000, 33000, 35000, 36000, 38000, 40000, 42000, 45000, 47000]


def _article(i: int) -> str:
    """A short ferry-price report; every one tells the same story with its own figures."""
    outlet, price = OUTLETS[i], f"{PRICES[i]:,}".replace(",", ".")
    text = (
        f"Harga Tiket Kapal Feri ke Pulau Weh Naik Menjelang Libur Panjang\n\n"
        f"BANDA ACEH, {outlet.upper()} - Harga tiket kapal feri dari Pelabuhan Ulee Lheue ke Pulau Weh naik "
        f"menjadi Rp {price} per orang menjelang libur panjang.{PASSING if i in (1, 4, 9) else ''}\n\n"
        f"Penumpang kapal feri lambat ke Pulau Weh membayar tiket lebih murah daripada penumpang kapal cepat. "
        f"Petugas pelabuhan mengatakan antrean tiket kapal feri mengular sejak pagi.\n\n"
        f"Wisatawan yang berlibur ke Pulau Weh diminta membeli tiket kapal feri lebih awal karena kursi terbatas. "
        f"Kapal feri berangkat dua kali sehari dari Ulee Lheue menuju Balohan di Pulau Weh.\n"
    )
    if i == 7:  # the one passage that names the island the question asks about, in a later part of its article
        text += (
            "\nPemerintah kota berencana menambah jadwal keberangkatan pada akhir pekan. Dinas perhubungan juga akan "
            "memeriksa kelaikan setiap kapal sebelum musim liburan dimulai. Pedagang di sekitar pelabuhan berharap "
            "jumlah pengunjung terus bertambah setelah jalan menuju dermaga diperbaiki tahun lalu.\n\n"
            "Selain itu, banyak penyelam singgah di Pulau Rubiah yang terkenal dengan taman lautnya. Terumbu karang "
            "di sana masih terjaga dan airnya jernih. Penyeberangan dari Iboih ke Pulau Rubiah dengan perahu "
            "motor dikenai tarif Rp 60.000 per orang pulang pergi.\n"
        )
    return text


class _Over:
    def __init__(self, reader, settings) -> None:
        self.reader, self.settings = reader, settings


@pytest.fixture(scope="module")
def ferries(tmp_path_factory, settings, embedder):
    folder = tmp_path_factory.mktemp("ferries-articles")
    for i in range(len(OUTLETS)):
        (folder / f"feri_{i:02d}.txt").write_text(_article(i), encoding="utf-8")
    s = settings.model_copy(update={"articles_dir": folder, "index_dir": tmp_path_factory.mktemp("ferries-index")})
    build_index(folder, s.index_config())
    return _Over(open_index(s.index_config()), s)


def _names_rubiah(result) -> bool:
    """The passage that answers: it names the island and its fare (other reports name the island only in passing)."""
    return any("Pulau Rubiah" in p.text and "60.000" in p.text for p in result.passages)


@pytest.mark.parametrize("top_k", [5, 10])
def test_the_passage_naming_the_asked_for_island_is_handed_over(ferries, top_k):
    result = retrieve(ferries.reader, ferries.settings, QUESTION, top_k=top_k)
    assert _names_rubiah(result), [p.text[:60] for p in result.passages]


def test_the_old_cap_would_have_dropped_it(ferries):
    """The case is the one the issue describes: the articles are one story, and a cap of 3 per story drops it."""
    stories = {p.story_id for p in (ferries.reader.passage(c) for c in ferries.reader.state.chunks)}
    assert len(stories) < len(OUTLETS)  # the similar reports are grouped into stories
    capped = retrieve(ferries.reader, ferries.settings, QUESTION, top_k=10, selection=Selection(max_per_story=3))
    assert not _names_rubiah(capped)


def test_a_pool_larger_than_top_k_starts_with_the_passages(ferries):
    result = retrieve(ferries.reader, ferries.settings, QUESTION, top_k=3, pool=12)
    assert len(result.passages) == 3 and len(result.pool) == 12 == len(result.pool_reasons)
    assert [p.id for p in result.pool[:3]] == [p.id for p in result.passages]
    assert len({p.id for p in result.pool}) == 12


@pytest.mark.parametrize("question", [QUESTION, "How much is the boat fare to Pulau Rubiah?"])
def test_the_answer_quotes_the_asked_for_islands_fare_not_another(ferries, question):
    from assistant.chain import Assistant

    a = Assistant(ferries.settings).ask(question)
    quotes = " ".join(c.quote for c in a.citations)
    assert "Pulau Weh" not in quotes, a.answer
    assert not a.abstained and "60.000" in a.answer and "Pulau Rubiah" in quotes, a.answer


def test_a_names_only_leg_searches_the_english_questions_names(ferries):
    """``Selection.names_only`` (a family the selection fit tries): an English question's BM25 leg searches only its
    names and numbers, which read the same in the Indonesian articles, so the passage naming "Iboih" is a BM25 hit;
    a question without names falls back to the dense leg alone."""
    names = Selection(names_only=frozenset({"en"}))
    result = retrieve(ferries.reader, ferries.settings, "How much does the boat from Iboih cost?", top_k=5,
                      selection=names)
    assert "names and numbers" in result.trace.fusion
    hits = [ferries.reader.passage(c).text for c, _ in result.trace.bm25]
    assert hits and all("Iboih" in t for t in hits)
    assert any("Iboih" in p.text for p in result.passages)
    plain = retrieve(ferries.reader, ferries.settings, "how much does the boat cost?", top_k=5, selection=names)
    assert "dense only" in plain.trace.fusion
