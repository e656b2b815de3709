"""Titles and dates read from short articles written here: a headline when there is one, else a label from the lead
sentence and the outlet; dates in Indonesian and English forms; and a build that picks up newer metadata."""

from __future__ import annotations

import pytest

from index.cleaning import content_spans, is_timestamp_line
from index.dates import MONTHS, find_dates, parse_date
from index.metadata import METADATA_VERSION, extract_metadata, lead_label


def meta_of(text: str):
    return extract_metadata(text, content_spans(text))


@pytest.mark.parametrize(("text", "iso"), [
    ("27 September 2022", "2022-09-27"),
    ("Selasa, 27/09/2022 | 10:12 WIB", "2022-09-27"),
    ("Selasa (27/9/22)", "2022-09-27"),
    ("Sep 27, 2022", "2022-09-27"),
    ("Sept. 27, 2022, 8:00 AM", "2022-09-27"),
    ("Tuesday 27th September 2022", "2022-09-27"),
    ("the 3rd of March 2021", "2021-03-03"),
    ("2022-09-27T08:15:00+07:00", "2022-09-27"),
    ("Diperbarui 27.09.2022", "2022-09-27"),
    ("09/27/2022", "2022-09-27"),  # only month-first makes sense
    ("7 Agt 2021", "2021-08-07"),
    ("JUMAT, 30 SEPTEMBER 2022", "2022-09-30"),
])
def test_date_forms(text, iso):
    assert parse_date(text) == iso


@pytest.mark.parametrize("text", ["pada 7 Januari", "31/02/2022", "harga naik 1.000.000 rupiah", "versi 3.5.1",
                                  "2022-13-01", "tahun 2022", ""])
def test_no_date_is_invented(text):
    assert parse_date(text) is None


def test_dates_found_in_order_with_offsets():
    text = "Dibuka 1 Mei 2023, ditutup 2023-05-07."
    assert [(text[s:e], iso) for s, e, iso in find_dates(text)] == [("1 Mei 2023", "2023-05-01"),
                                                                    ("2023-05-07", "2023-05-07")]


def test_month_names_have_one_home():
    import index.cleaning
    import index.metadata

    assert index.metadata.MONTHS is MONTHS
    assert not hasattr(index.cleaning, "_MONTHS") and not hasattr(index.cleaning, "_DAYS")
    assert is_timestamp_line("Rabu, 24 Desember 2025 | 07:26") and is_timestamp_line("Sep 27, 2022 10:12 am")


def test_headline_is_the_title():
    m = meta_of("Banjir Rendam Tiga Desa di Pesisir Riau\nRIAU24.COM - Hujan deras sejak Senin merendam tiga desa.\n"
                "Warga mengungsi ke masjid.")
    assert m.title == m.headline == "Banjir Rendam Tiga Desa di Pesisir Riau"
    assert m.outlet == "RIAU24.COM" and m.version == METADATA_VERSION


def test_a_text_of_one_line_has_no_headline():
    # a lone paragraph reads like a headline when its last sentence ends in a reporter's tag or a question mark
    line = ("Menteri itu mengatakan produksi minyak naik menjadi 144.000 barrel per hari tahun ini. "
            "(REUTERS/AP/AFP/MON)")
    m = meta_of(line)
    assert m.headline is None and m.title == "Menteri itu mengatakan produksi minyak naik menjadi 144.000…"


def test_untitled_article_gets_lead_sentence_and_outlet():
    m = meta_of("RIAU24.COM - Kazakhstan tutup perbatasan bagi warga Rusia yang kabur dari wajib militer sejak "
                "pekan lalu, kata pejabat setempat.\nAntrean mengular di pos Mariinsky.")
    assert m.headline is None
    assert m.title == "Kazakhstan tutup perbatasan bagi warga Rusia yang kabur dari… — Riau24"
    assert len(m.title.split(" — ")[0]) <= 61  # ~60 characters, cut at a word boundary, ellipsis added


def test_untitled_without_outlet_keeps_a_short_lead():
    m = meta_of("Harga beras naik lagi.\nPedagang di pasar mengeluh karena pembeli berkurang sejak awal bulan.")
    assert m.title == "Pedagang di pasar mengeluh karena pembeli berkurang sejak…"  # first line of 8+ words
    m = meta_of("Kazakhstan, yang berbagi perbatasan terpanjang di dunia dengan Rusia, telah lama menyeimbangkan.")
    assert m.title == "Kazakhstan, yang berbagi perbatasan terpanjang di dunia…"


@pytest.mark.parametrize(("outlet", "short"), [("RIAU24.COM", "Riau24"), ("Intisari - Online.com", "Intisari Online"),
                                               ("JAKARTA, KOMPAS.com", "Kompas"), ("JAKARTA (ANTARA)", "Antara")])
def test_outlet_names_in_labels(outlet, short):
    assert lead_label("Presiden meresmikan jembatan baru.", outlet) == f"Presiden meresmikan jembatan baru — {short}"


def test_lead_label_skips_the_dateline_and_stops_at_the_first_sentence():
    line = "JAKARTA, KOMPAS.com - Gempa mengguncang Cianjur. Warga berhamburan keluar rumah."
    assert lead_label(line, "JAKARTA, KOMPAS.com") == "Gempa mengguncang Cianjur — Kompas"


@pytest.mark.parametrize(("text", "iso"), [
    ("Harga Cabai Turun di Pasar Induk\nJAKARTA, Selasa (27/9/2022) - Harga cabai turun sepuluh persen.", "2022-09-27"),
    ("Chili Prices Fall at the Main Market\nSep 27, 2022 | 10:15 AM\nPrices fell ten percent on Tuesday.", "2022-09-27"),
    ("Harga Cabai Turun di Pasar Induk\nDiterbitkan 2022-09-27 08:00\nHarga cabai turun sepuluh persen.", "2022-09-27"),
    ("Harga Cabai Turun di Pasar Induk\nJakarta, 27 September 2022 — Harga cabai turun sepuluh persen kemarin "
     "setelah panen raya di beberapa daerah penghasil utama di Jawa Barat dan Jawa Tengah.", "2022-09-27"),
])
def test_dates_read_from_the_text(text, iso):
    m = meta_of(text)
    assert m.date == iso
    assert m.title in ("Harga Cabai Turun di Pasar Induk", "Chili Prices Fall at the Main Market")


def test_a_date_deep_in_a_sentence_is_not_the_publication_date():
    m = meta_of("Harga Cabai Turun di Pasar Induk\nPedagang mengatakan harga mulai naik sejak panen gagal pada "
                "12 Agustus 2021 di sejumlah daerah penghasil cabai di Jawa Barat dan Jawa Tengah yang luas itu.")
    assert m.date is None
