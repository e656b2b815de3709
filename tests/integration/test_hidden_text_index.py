"""Hidden text never reaches the index: a real build (real embedder, real Chroma on tmp_path) of an HTML page and a
PDF that each hide injected instructions among visible article text."""

from __future__ import annotations

import pytest

from index import IndexConfig, build_index, open_index
from tests.unit.test_hidden_text import (
    HTML_HIDDEN,
    PDF_HIDDEN,
    SECRET,
    VISIBLE,
    html_page,
    pdf_bytes,
    pdf_page,
)

pytestmark = pytest.mark.slow


def test_hidden_sentences_never_reach_a_chunk(tmp_path, embedder, settings):
    arts = tmp_path / "articles"
    arts.mkdir()
    hidden_html = "".join(HTML_HIDDEN[name][0] for name in ("absolute_left", "opacity_zero", "white_on_page",
                                                             "template", "font_size_zero", "class_rule"))
    (arts / "festival.html").write_bytes(html_page(hidden_html, HTML_HIDDEN["class_rule"][1]))
    hidden_pdf = b" ".join(PDF_HIDDEN[name] for name in ("render_mode_3", "white_rgb", "font_0_3_pt", "left_of_page"))
    (arts / "festival.pdf").write_bytes(pdf_bytes(pdf_page(hidden_pdf)))
    cfg = IndexConfig(index_dir=tmp_path / "idx", model_cache_dir=settings.model_cache_dir)

    summary = build_index(arts, cfg)

    assert summary.files == 2 and summary.skipped == 0 and summary.chunks >= 2
    reader = open_index(cfg)
    passages = [reader.passage(cid) for cid in reader.state.chunks]
    assert {p.source for p in passages} == {"festival.html", "festival.pdf"}
    indexed = " ".join(" ".join(p.text.split()) for p in passages)
    assert "PELICAN" not in indexed and "previous instructions" not in indexed
    for source in ("festival.html", "festival.pdf"):
        assert "PELICAN" not in reader.document_text(source)
    assert all(sentence in indexed for sentence in VISIBLE)
    assert "forty thousand visitors" in " ".join(p.text for p in passages if p.source == "festival.pdf")
    assert SECRET not in indexed
