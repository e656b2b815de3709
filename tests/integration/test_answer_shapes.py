"""Question shapes through the real chain (real embedder, Chroma on tmp_path, the trained reader), over short
articles written here: why → the cause, list → the items, comparison → one labelled quote per article, two-part →
a quote for each part the articles answer (the others named as not found when the whole is refused), English
question → English words around the quotes, unanswerable → refusal."""

from __future__ import annotations

import pytest

from assistant.prompts import REFUSALS
from assistant.reader_answer import NOT_FOUND
from tests.conftest import assistant_over

pytestmark = pytest.mark.slow

ARTICLES = {
    "pasar.txt": (
        "Pasar Tradisional Kota Lama Ditutup Sementara\n"
        "Rabu, 5 April 2023 09:00 WIB\n"
        "KABARKOTA.COM - Pemerintah kota menutup Pasar Kota Lama selama dua minggu mulai Rabu. Penutupan itu "
        "dilakukan karena atap pasar runtuh setelah hujan deras pada Senin malam. Sebanyak 340 pedagang "
        "dipindahkan ke lapangan parkir di sebelah pasar.\n"
        "Wali kota menyebut tiga masalah utama pasar tersebut. Pertama, saluran air tersumbat sampah. Kedua, kabel "
        "listrik sudah tua dan sering korsleting. Ketiga, tangga darurat tidak bisa dipakai.\n"
    ),
    "pasar-lain.txt": (
        "Ratusan Pedagang Pasar Kota Lama Pindah ke Lapangan Parkir\n"
        "Kamis, 6 April 2023 10:00 WIB\n"
        "WARTAPAGI.COM - Sekitar 400 pedagang Pasar Kota Lama mulai berjualan di lapangan parkir sejak Rabu. "
        "Mereka mengeluhkan sepinya pembeli di lokasi sementara itu.\n"
    ),
    "sekolah.txt": (
        "Sekolah Baru Dibuka di Desa Sukamaju\n"
        "Senin, 10 Juli 2023 08:00 WIB\n"
        "DESAKITA.COM - Sebuah sekolah dasar baru dibuka di Desa Sukamaju pada Senin. Sekolah itu dibangun oleh "
        "pemerintah provinsi dengan biaya dua miliar rupiah. Kepala sekolahnya adalah Ibu Ratna Dewi.\n"
    ),
}


@pytest.fixture(scope="module")
def bot(tmp_path_factory, settings, embedder):
    return assistant_over(ARTICLES, tmp_path_factory, settings, "shape")


def test_why_quotes_the_cause(bot):
    a = bot.ask("Mengapa Pasar Kota Lama ditutup?")
    assert not a.abstained and "atap pasar runtuh" in a.answer


def test_list_gathers_the_items(bot):
    a = bot.ask("Apa saja masalah utama Pasar Kota Lama menurut wali kota?")
    assert not a.abstained
    for item in ("saluran air", "kabel listrik", "tangga darurat"):
        assert item in a.answer


def test_comparison_quotes_each_article_with_its_outlet(bot):
    a = bot.ask("Berapa pedagang Pasar Kota Lama yang pindah ke lapangan parkir menurut masing-masing artikel?")
    assert not a.abstained
    assert "340" in a.answer and "400" in a.answer
    assert "KABARKOTA.COM:" in a.answer and "WARTAPAGI.COM:" in a.answer
    assert {c.source for c in a.citations} == {"pasar.txt", "pasar-lain.txt"}


def test_two_part_question_gets_a_quote_per_part(bot):
    a = bot.ask("Berapa biaya pembangunan sekolah di Desa Sukamaju dan siapa kepala sekolahnya?")
    assert not a.abstained and "dua miliar" in a.answer and "Ratna Dewi" in a.answer


@pytest.mark.xfail(strict=True, reason="known limit: for kapan … dibuka the reader takes the dateline (Senin, 10 Juli 2023), not the sentence saying it opened on Monday")
def test_a_part_the_articles_do_not_answer_gets_no_quote(bot):
    a = bot.ask("Kapan sekolah di Desa Sukamaju dibuka dan siapa pemenang piala dunia 1998?")
    assert not a.abstained and "dibuka di Desa Sukamaju pada Senin" in a.answer
    # the second part's best sentence (the dateline) would answer nothing: it is not quoted
    assert [c.source for c in a.citations] == ["sekolah.txt"] and "WIB" not in a.answer


def test_a_question_refused_as_a_whole_is_still_answered_for_the_part_that_is_found(bot):
    a = bot.ask("Berapa jumlah penumpang kereta cepat pada bulan Mei dan siapa kepala sekolah di Sukamaju?")
    assert not a.abstained and "Ratna Dewi" in a.answer
    assert a.answer.endswith(NOT_FOUND["id"].format(parts="“Berapa jumlah penumpang kereta cepat pada bulan Mei”"))
    e = bot.ask("Berapa jumlah penumpang kereta cepat pada bulan Mei dan siapa kepala sekolah di Sukamaju?",
                language="en")  # answered in English: the words around the quotes and the parts are English
    assert "The articles say (in Indonesian):" in e.answer and "Ratna Dewi" in e.answer
    assert e.answer.endswith(NOT_FOUND["en"].format(parts="“Berapa jumlah penumpang kereta cepat pada bulan Mei”"))


def test_english_question_gets_english_words_around_unchanged_quotes(bot):
    a = bot.ask("How much did it cost to build the new school in Sukamaju village?")
    assert not a.abstained and a.language == "en"
    assert a.answer.split(" — ")[-1].startswith("The articles say (in Indonesian):") and "dua miliar" in a.answer
    for c in a.citations:
        assert f"“{c.quote}”" in a.answer  # the quote itself is unchanged
    r = bot.ask("Which team won the 1998 chess olympiad in Elista?")
    assert r.abstained and r.answer == REFUSALS["en"]


def test_unanswerable_question_is_refused(bot):
    a = bot.ask("Berapa jumlah penumpang kereta cepat pada bulan Mei?")
    assert a.abstained and a.answer == REFUSALS["id"]


PARAGRAPHS = {
    "festival.txt": (
        "Festival Layang-Layang Pantai Indah Ramai Dikunjungi\n"
        "Minggu, 13 Agustus 2023 16:00 WIB\n"
        "PESISIRNEWS.COM - Festival layang-layang tahunan di Pantai Indah berlangsung selama tiga hari sejak Jumat.\n"
        "\n"
        "Festival itu membawa banyak perubahan bagi desa nelayan di sekitar pantai. Jalan desa dipenuhi kendaraan "
        "pengunjung sejak pagi. Warung makan milik warga kehabisan persediaan ikan bakar. Penginapan di desa penuh "
        "hingga hari terakhir.\n"
        "\n"
        "Panitia menyiapkan hadiah bagi layang-layang terbesar, terpanjang, dan terunik. Pemenang diumumkan pada "
        "Minggu sore di panggung utama.\n"
    ),
}


@pytest.fixture(scope="module")
def paragraphs(tmp_path_factory, settings, embedder):
    return assistant_over(PARAGRAPHS, tmp_path_factory, settings, "paragraph")


@pytest.mark.xfail(strict=True, reason="known limit of the fitted policy (lead_by confidence, chosen on the choose parts): the confidence model leads with the next paragraph's own list sentence (hadiah … terbesar, terpanjang, dan terunik), not the sentence that opens the list asked for")
def test_list_takes_the_paragraph_its_introducing_sentence_opens(paragraphs):
    a = paragraphs.ask("Apa saja perubahan yang dibawa festival layang-layang bagi desa nelayan?")
    assert not a.abstained
    for item in ("kendaraan pengunjung", "kehabisan persediaan ikan bakar", "Penginapan di desa penuh"):
        assert item in a.answer
    assert "Panitia" not in a.answer  # the next paragraph is another matter


def test_list_that_a_sentence_holds_itself_is_quoted_alone(paragraphs):
    a = paragraphs.ask("Apa saja kategori hadiah yang disiapkan panitia festival layang-layang?")
    assert not a.abstained and "terbesar, terpanjang, dan terunik" in a.answer
    assert "Pemenang diumumkan" not in a.answer and len(a.citations) == 1
