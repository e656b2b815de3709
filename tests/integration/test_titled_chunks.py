"""Chunks are embedded with their article's title (``titled_chunks``, the default): a later paragraph that never
names what its article is about ("Sebanyak 1.250 warga mengungsi") is found by a question that names it, through the
headline; a new headline over the same words is new vectors, in an incremental build too.

Real embedder, real index and Chroma in the test's own temporary folder."""

from __future__ import annotations

import numpy as np
import pytest

from index import build_index, open_index
from index.chunking import embedded_text

pytestmark = pytest.mark.slow

BODY = (
    "Hujan deras sejak Senin sore membuat sungai meluap dan merendam permukiman di tepi sungai.\n\n"
    "Air setinggi satu meter masuk ke rumah-rumah dan memutus jalan desa.\n\n"
    "Sebanyak {n} warga mengungsi ke balai desa dan masjid terdekat.\n"
)
TOWNS = {"Demak": "1.250", "Kudus": "900"}  # same-length names: a new headline keeps every offset


def _write(folder, town: str, n: str, name: str | None = None) -> None:
    (folder / (name or f"banjir_{town.lower()}.txt")).write_text(
        f"Banjir Bandang Terjang {town}\n\n" + BODY.format(n=n), encoding="utf-8")


@pytest.fixture()
def floods(tmp_path, settings):
    folder = tmp_path / "articles"
    folder.mkdir()
    for town, n in TOWNS.items():
        _write(folder, town, n)
    # one paragraph per chunk: the evacuation figure is a chunk of its own, without the town's name
    s = settings.model_copy(update={"articles_dir": folder, "index_dir": tmp_path / "index", "chunk_tokens": 32,
                                    "chunk_overlap": 0})
    build_index(folder, s.index_config())
    return folder, s


def _evacuation(reader) -> dict[str, object]:
    """The chunk holding each article's evacuation figure, by source."""
    out = {}
    for cid in reader.state.chunks:
        p = reader.passage(cid)
        if "mengungsi" in p.text:
            out[p.source] = p
    return out


def test_the_stored_vector_is_the_chunk_read_under_its_title(floods, embedder):
    folder, s = floods
    reader = open_index(s.index_config())
    chunk = _evacuation(reader)["banjir_demak.txt"]
    assert "Demak" not in chunk.text
    assert embedded_text(chunk.text, chunk.title) == f"Banjir Bandang Terjang Demak\n{chunk.text}"
    q = embedder.embed_query("warga yang mengungsi karena banjir")
    hit = next(h for h in reader.dense(q, 20) if h.id == chunk.id)
    # each alone: the int8 encoder quantizes per batch, so the build's batch gives a vector a little different
    (titled,), (alone,) = (embedder.embed_documents([t]) for t in (embedded_text(chunk.text, chunk.title), chunk.text))
    assert abs(float(np.dot(q, titled)) - hit.score) < 0.005 < abs(float(np.dot(q, alone)) - hit.score)


def test_a_question_naming_the_town_finds_its_unnamed_figure_first(floods, embedder):
    folder, s = floods
    reader = open_index(s.index_config())
    chunks = _evacuation(reader)
    for town, source in (("Demak", "banjir_demak.txt"), ("Kudus", "banjir_kudus.txt")):
        q = embedder.embed_query(f"Berapa warga {town} yang mengungsi?")
        ranked = [h.id for h in reader.dense(q, 20) if h.id in {c.id for c in chunks.values()}]
        assert ranked[0] == chunks[source].id, town


def test_a_new_headline_over_the_same_words_is_new_vectors(floods, embedder):
    folder, s = floods
    before = _evacuation(open_index(s.index_config()))["banjir_demak.txt"]
    _write(folder, "Blora", TOWNS["Demak"], name="banjir_demak.txt")  # same length: every offset and text kept
    summary = build_index(folder, s.index_config())
    after = _evacuation(open_index(s.index_config()))["banjir_demak.txt"]
    assert (after.start, after.end, after.text) == (before.start, before.end, before.text)
    assert after.id != before.id and summary.embedded >= 3  # every chunk of the retitled article, embedded again
