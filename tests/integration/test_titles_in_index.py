"""Titles and dates in a real index (real embedder, Chroma on tmp_path): every passage carries a title that is not
its file name, and an index built by an older metadata extractor gets the new titles on the next build without
embedding anything again."""

from __future__ import annotations

import json

from index import build_index
from index.metadata import METADATA_VERSION
from index.reader import open_index
from index.state import current_name, load_state

ARTICLES = {
    "a1.txt": "RIAU24.COM - Nelayan di pesisir Bengkalis menangkap ikan terubuk seberat dua kilogram pada Senin pagi "
              "setelah tiga tahun tidak terlihat.\nIkan itu dilepas kembali ke laut oleh warga desa.",
    "a2.txt": "Festival Layang-Layang Digelar di Tanjung Merbabu\nTANJUNG MERBABU, Sabtu (5/8/2023) - Ratusan layang-"
              "layang menghiasi langit pantai.\nPanitia mencatat 300 peserta dari 12 kabupaten.",
}


def test_titles_and_dates_reach_the_reader_and_a_plain_build_refreshes_old_metadata(tmp_path, settings, embedder):
    folder = tmp_path / "articles"
    folder.mkdir()
    for name, text in ARTICLES.items():
        (folder / name).write_text(text, encoding="utf-8")
    config = settings.model_copy(update={"articles_dir": folder, "index_dir": tmp_path / "idx"}).index_config()
    build_index(folder, config)

    reader = open_index(config)
    first = {p.source: p for p in (reader.passage(cid) for cid in reader.state.chunks)}
    assert first["a1.txt"].title == "Nelayan di pesisir Bengkalis menangkap ikan terubuk seberat… — Riau24"
    assert first["a2.txt"].title == "Festival Layang-Layang Digelar di Tanjung Merbabu"
    assert first["a2.txt"].date == "2023-08-05" and first["a1.txt"].date is None
    assert all(p.title and p.title != p.source for p in first.values())

    # the manifest as an older extractor wrote it: no version, no title for the untitled article
    manifest_path = tmp_path / "idx" / current_name(tmp_path / "idx") / "manifest.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    for rec in manifest["files"].values():
        rec["meta"].pop("version")
        rec["meta"].pop("headline")
        rec["meta"]["date"] = None
    manifest["files"]["a1.txt"]["meta"]["title"] = None
    manifest_path.write_text(json.dumps(manifest), encoding="utf-8")

    summary = build_index(folder, config)
    assert summary.embedded == 0 and summary.unchanged == 2
    state = load_state(tmp_path / "idx")
    metas = {s: f.meta for s, f in state.files.items()}
    assert metas["a1.txt"]["title"].endswith("— Riau24") and metas["a2.txt"]["date"] == "2023-08-05"
    assert all(m["version"] == METADATA_VERSION for m in metas.values())
