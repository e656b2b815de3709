"""An index built before a cleaning rule existed is cleaned again on its next plain build: a link list under
"Baca juga:" leaves the passages, and the chunks that come out the same keep their stored vectors (not embedded
again). Real embedder, real index and Chroma in the test's own temporary folder."""

from __future__ import annotations

import pytest

import index.build_files as build_files
import index.cleaning as cleaning
from index import build_index, open_index

pytestmark = pytest.mark.slow

BODY = ("Banjir merendam Desa Sukamaju sejak Senin. Sebanyak 1.250 warga terpaksa mengungsi ke balai desa.\n\n"
        "Pemerintah kabupaten menetapkan status tanggap darurat selama 14 hari.\n\n")
LINKS = "Baca Juga:\n- Harga Cabai Rawit di Pasar Induk Mulai Turun\n- Jembatan Gantung Kembali Dibuka\n\n"
TAIL = "Petugas membagikan makanan dan selimut kepada pengungsi setiap pagi dan sore.\n"


def test_an_older_index_is_cleaned_again_and_keeps_unchanged_vectors(tmp_path, settings, embedder, monkeypatch):
    folder = tmp_path / "articles"
    folder.mkdir()
    (folder / "banjir.txt").write_text("Banjir di Sukamaju\n\n" + BODY + LINKS + TAIL, encoding="utf-8")
    (folder / "lain.txt").write_text("Pasar Murah Digelar\n\nOperasi pasar murah digelar di lima kecamatan.\n",
                                     encoding="utf-8")
    config = settings.model_copy(update={"articles_dir": folder, "index_dir": tmp_path / "idx"}).index_config()
    with monkeypatch.context() as m:  # the build an older release made: no link-list rule, cleaning version 1
        m.setattr(cleaning, "_link_list_lines", lambda text, lines: set())
        m.setattr(build_files, "CLEANING_VERSION", 1)
        build_index(folder, config)
    old = open_index(config)
    assert any("Cabai" in old.passage(c).text for c in old.state.chunks)

    summary = build_index(folder, config)  # a plain build with today's cleaning
    new = open_index(config)
    texts = [new.passage(c).text for c in new.state.chunks]
    assert not any("Cabai" in t or "Baca Juga" in t for t in texts)
    assert any("1.250 warga" in t for t in texts) and any("Operasi pasar murah" in t for t in texts)
    assert summary.embedded < summary.chunks  # the other article's chunk kept its vector
    assert build_index(folder, config).embedded == 0  # and the next build has nothing to do
