"""The shipped reader answers through the real chain (real embedder, Chroma on tmp_path, the int8 reader rebuilt from
the committed delta): a flood report written here, asked in Indonesian and in English, among unrelated articles."""

from __future__ import annotations

import pytest

from assistant.prompts import REFUSALS
from tests.conftest import assistant_over

pytestmark = pytest.mark.slow

ARTICLES = {
    "banjir.txt": (
        "Banjir Rendam Sukamaju, Ribuan Warga Mengungsi\n"
        "Selasa, 14 Januari 2025 18:20 WIB\n"
        "KABARDAERAH.COM - Hujan deras yang turun selama tiga hari berturut-turut membuat Sungai Cibeureum meluap "
        "dan merendam sebagian besar Desa Sukamaju sejak Senin malam.\n"
        "Sebanyak 1.250 warga terpaksa mengungsi ke gedung sekolah dan balai desa. Ketinggian air di permukiman "
        "mencapai 1,5 meter.\n"
        "Bupati menetapkan status tanggap darurat selama 14 hari agar bantuan logistik bisa segera disalurkan. "
        "Dinas Sosial mendirikan empat dapur umum di lokasi pengungsian.\n"
    ),
    "pelabuhan.txt": (
        "Arus Peti Kemas di Pelabuhan Tanjung Batu Naik\n"
        "Rabu, 8 Januari 2025 10:00 WIB\n"
        "NIAGAKITA.COM - Arus peti kemas di Pelabuhan Tanjung Batu naik 12 persen sepanjang 2024. Manajer "
        "operasional menyebut kenaikan itu didorong ekspor kopi dan kakao.\n"
    ),
    "sekolah.txt": (
        "Sekolah Baru Dibuka di Desa Mekarsari\n"
        "Senin, 10 Juli 2023 08:00 WIB\n"
        "DESAKITA.COM - Sebuah sekolah dasar baru dibuka di Desa Mekarsari pada Senin. Sekolah itu dibangun oleh "
        "pemerintah provinsi dengan biaya dua miliar rupiah. Kepala sekolahnya adalah Ibu Ratna Dewi.\n"
    ),
}


@pytest.fixture(scope="module")
def bot(tmp_path_factory, settings, embedder):
    return assistant_over(ARTICLES, tmp_path_factory, settings, "flood")


def test_the_number_of_evacuees_is_read_in_indonesian(bot):
    a = bot.ask("Berapa warga yang mengungsi akibat banjir di Sukamaju?")
    assert not a.abstained and "1.250" in a.answer
    assert a.citations and a.citations[0].source == "banjir.txt" and "1.250 warga" in a.citations[0].quote


def test_the_number_of_evacuees_is_read_in_english(bot):
    a = bot.ask("How many residents had to evacuate because of the flood in Sukamaju?")
    assert not a.abstained and a.language == "en" and "1.250" in a.answer
    assert a.answer.split(" — ")[-1].startswith("The articles say (in Indonesian):")


def test_the_state_of_emergency_is_not_answered_with_the_rain(bot):
    a = bot.ask("How long is the state of emergency?")
    assert not a.abstained and "14 hari" in a.answer and "tiga hari" not in a.answer


def test_the_quote_is_the_exact_text_with_its_marker(bot):
    a = bot.ask("Berapa dapur umum yang didirikan Dinas Sosial?")
    assert not a.abstained and "empat" in a.answer
    for c in a.citations:
        text = (bot.settings.articles_dir / c.source).read_text(encoding="utf-8")
        assert text[c.start : c.end] == c.quote and f"[{c.n}]" in a.answer


def test_a_question_the_articles_do_not_answer_is_refused(bot):
    a = bot.ask("Siapa pelatih tim nasional bulu tangkis Indonesia?")
    assert a.abstained and a.answer == REFUSALS["id"]
