"""Hidden text that leaked past the loader in issue 29 (item 3) is dropped now; what a reader does see stays.

HTML: a fixed (or page-placed absolute) box above or left of the page, ``filter: opacity(0)`` set through a class,
white text through a custom property. PDF: text painted over by a later white rectangle, text on a box of its own
colour. Pages and PDFs are built here, with the helpers of :mod:`tests.unit.test_hidden_text`.
"""

from __future__ import annotations

import pytest
from pypdf import PdfReader

from index.loading import _load_html, load_file
from tests.unit.test_hidden_text import PDF_VISIBLE, SECRET, VISIBLE, html_page, pdf_bytes, pdf_page

S = SECRET
HTML_HIDDEN = {
    "fixed_top_500": (f'<p style="position:fixed; top:-500px">{S}</p>', ""),
    "fixed_left_percent": (f'<div style="position:fixed;left:-100%"><p>{S}</p></div>', ""),
    "absolute_on_the_page_top": (f'<p class="up">{S}</p>', ".up{position:absolute;top:-400px;left:0}"),
    "fixed_taller_box_still_above": (f'<p style="position:fixed;top:-900px;height:600px">{S}</p>', ""),
    "inset_shorthand": (f'<p style="position:fixed;inset:-300px auto auto 0">{S}</p>', ""),
    "filter_opacity_class": (f'<p class="ghost">{S}</p>', ".ghost { filter: opacity(0) }"),
    "filter_opacity_percent": (f'<p style="filter: blur(1px) opacity(2%)">{S}</p>', ""),
    "filter_on_ancestor": (f'<div class="f"><section><p>{S}</p></section></div>', "div.f{filter:opacity(0.0)}"),
    "var_color_root": (f'<p class="w">{S}</p>', ":root { --w: #fff } .w { color: var(--w) }"),
    "var_color_inline": (f'<div style="--w: #FFFFFF"><p style="color: var(--w)">{S}</p></div>', ""),
    "var_color_chain": (f'<p class="c">{S}</p>', "body{--base:#fff;--text:var(--base)} .c{color:var(--text)}"),
    "var_fallback": (f'<p style="color: var(--unset, white)">{S}</p>', ""),
    "var_opacity": (f'<p class="o">{S}</p>', "html{--o:0} .o{opacity:var(--o)}"),
    "var_background_matches": (f'<div class="d"><p>{S}</p></div>',
                               ":root{--bg:#123456} .d{background:var(--bg);color:var(--bg)}"),
    "var_position": (f'<p class="p">{S}</p>', ":root{--far:-600px} .p{position:fixed;top:var(--far)}"),
}


@pytest.mark.parametrize("name", sorted(HTML_HIDDEN))
def test_html_hidden_sentence_is_dropped(name):
    hidden, style = HTML_HIDDEN[name]
    text, _ = _load_html(html_page(hidden, style))
    assert "PELICAN" not in text
    assert all(sentence in text for sentence in VISIBLE)


HTML_SEEN = {
    "fixed_header_nudged": ('<p style="position:fixed;top:-20px">{}</p>', ""),
    "fixed_tall_box_partly_shown": ('<p style="position:fixed;top:-300px;height:400px">{}</p>', ""),
    "absolute_in_positioned_parent": ('<div style="position:relative;top:2000px"><p style="position:absolute;'
                                      'top:-500px">{}</p></div>', ""),
    "fixed_bottom_negative": ('<p style="position:fixed;bottom:-50px">{}</p>', ""),
    "filter_translucent": ('<p class="g">{}</p>', ".g{filter:opacity(0.7) blur(0)}"),
    "var_white_on_dark": ('<div class="d"><p>{}</p></div>', ":root{--w:#fff;--k:#111} .d{background:var(--k);"
                                                           "color:var(--w)}"),
    "var_unknown": ('<p style="color: var(--nowhere)">{}</p>', ""),
    "var_dark_text": ('<p class="t">{}</p>', ":root{--w:#fff;--t:#222} .t{color:var(--t)}"),
    "var_overridden_below": ('<div style="--c:#fff"><p style="--c:#333;color:var(--c)">{}</p></div>', ""),
    "var_cycle": ('<p style="--a:var(--b);--b:var(--a);color:var(--a)">{}</p>', ""),
}


@pytest.mark.parametrize("name", sorted(HTML_SEEN))
def test_html_visible_look_alikes_are_kept(name):
    sentence = f"The {name.replace('_', ' ')} line is printed for every reader."
    block, style = HTML_SEEN[name]
    text, _ = _load_html(html_page(block.format(sentence), style))
    assert sentence in text and all(s in text for s in VISIBLE)


# ---------------------------------------------------------------- PDF

PDF_HIDDEN = {
    # the secret, then a white rectangle over it (12 pt Helvetica, its glyphs from 72 to 482.8 pt)
    "white_rectangle_over": b"BT /F1 12 Tf 72 600 Td {S} Tj ET 1 1 1 rg 70 596 420 16 re f",
    "white_rectangle_tight": b"BT /F1 12 Tf 72 600 Td {S} Tj ET 1 g 71 598 413 11 re f",
    "white_rectangle_cmyk": b"BT /F1 12 Tf 72 600 Td {S} Tj ET 0 0 0 0 k 60 590 480 30 re f",
    "black_rectangle_over": b"BT /F1 12 Tf 72 600 Td {S} Tj ET 0 g 60 590 480 30 re f",
    "black_on_black_box": b"0 0 0 rg 60 590 480 30 re f BT /F1 12 Tf 72 600 Td {S} Tj ET",
    "navy_on_navy_box": b"0 0 0.5 rg 60 590 480 30 re f 0 0 0.5 rg BT /F1 12 Tf 72 600 Td {S} Tj ET",
    "gray_on_near_gray": b"0.5 g 60 590 480 30 re f 0.52 g BT /F1 12 Tf 72 600 Td {S} Tj ET",
}


@pytest.mark.parametrize("name", sorted(PDF_HIDDEN))
def test_pdf_hidden_sentence_is_dropped(tmp_path, name):
    path = tmp_path / "festival.pdf"
    path.write_bytes(pdf_bytes(pdf_page(PDF_HIDDEN[name])))
    assert SECRET in PdfReader(path).pages[0].extract_text()  # pypdf alone would index it
    text = load_file(tmp_path, path).text
    assert "PELICAN" not in text
    assert all(line.decode() in text for line in PDF_VISIBLE)


PDF_SEEN = {
    "white_on_black_box": b"0 g 60 590 480 30 re f 1 g BT /F1 12 Tf 72 600 Td ({}) Tj ET",
    "rectangle_covers_half": b"BT /F1 12 Tf 72 600 Td ({}) Tj ET 1 g 60 590 150 30 re f",
    "rectangle_below_the_line": b"BT /F1 12 Tf 72 600 Td ({}) Tj ET 1 g 60 560 480 30 re f",
    "translucent_rectangle": b"BT /F1 12 Tf 72 600 Td ({}) Tj ET /GSHalf gs 1 g 60 590 480 30 re f",
    "multiply_highlight": b"BT /F1 12 Tf 72 600 Td ({}) Tj ET /GSMul gs 1 1 0 rg 60 590 480 30 re f",
    "stroked_frame": b"BT /F1 12 Tf 72 600 Td ({}) Tj ET 0 G 60 590 480 30 re S",
    "black_text_on_white_box_on_black": b"0 g 50 580 500 50 re f 1 g 60 590 480 30 re f 0 g BT /F1 12 Tf 72 600 Td "
                                        b"({}) Tj ET",
    "box_before_and_elsewhere": b"0 g 60 300 480 30 re f BT /F1 12 Tf 72 600 Td ({}) Tj ET",
}


@pytest.mark.parametrize("name", sorted(PDF_SEEN))
def test_pdf_visible_look_alikes_are_kept(tmp_path, name):
    sentence = f"The {name.replace('_', ' ')} line is printed for every reader."
    path = tmp_path / "festival.pdf"
    path.write_bytes(_with_states(pdf_bytes(pdf_page(PDF_SEEN[name].replace(b"{}", sentence.encode())))))
    text = load_file(tmp_path, path).text
    assert " ".join(sentence.split()) in " ".join(text.split())
    assert all(line.decode() in text for line in PDF_VISIBLE)


def _with_states(data: bytes) -> bytes:
    """``data`` with two more graphics states on its page: /GSHalf (fill alpha 0.5), /GSMul (blend mode Multiply)."""
    import io

    from pypdf import PdfWriter
    from pypdf.generic import DictionaryObject, FloatObject, NameObject

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(data)))
    states = writer.pages[0]["/Resources"]["/ExtGState"]
    states[NameObject("/GSHalf")] = DictionaryObject({NameObject("/ca"): FloatObject(0.5)})
    states[NameObject("/GSMul")] = DictionaryObject({NameObject("/BM"): NameObject("/Multiply")})
    buf = io.BytesIO()
    writer.write(buf)
    return buf.getvalue()


def test_html_custom_properties_built_to_blow_up_are_invalid_not_slow():
    import time

    levels = ";".join(f"--v{i + 1}:" + f"var(--v{i})" * 10 for i in range(12))
    style = f":root{{--v0:#fff;{levels}}} .b{{color:var(--v12)}} .c{{--a:var(--b);--b:var(--a);color:var(--a)}}"
    sentence = "The blow-up line is printed for every reader."
    start = time.monotonic()
    text, _ = _load_html(html_page(f'<p class="b">{sentence}</p><p class="c">{sentence}</p>', style))
    assert time.monotonic() - start < 5
    assert text.count(sentence) == 2  # invalid colours: no opinion, the text stays
