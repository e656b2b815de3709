"""Dense search restricted to a few chunks is exact over their stored vectors (real embedder, real Chroma on
tmp_path): the same hits, order and scores as Chroma's filtered query, only quicker; larger sets still go to Chroma."""

from __future__ import annotations

import numpy as np
import pytest

import index.reader
from index.reader import open_index

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def reader(settings, built_index):
    return open_index(settings.index_config())


def test_a_few_allowed_chunks_are_ranked_exactly_as_chroma_ranks_them(reader):
    files = reader.files()
    allowed = set(files[0].chunk_ids) | set(files[1].chunk_ids)
    sources = sorted({files[0].source, files[1].source})
    for question in ("Berapa panjang perbatasan Kazakhstan dan Rusia?", "Who moderated the discussion?"):
        v = reader.embedder.embed_query(question)
        exact = reader.dense(v, 5, allowed)
        chroma = reader.store.search(v, 5, {"source": {"$in": sources}})
        assert [h.id for h in exact] == [h.id for h in chroma] and len(exact) == 5
        assert np.allclose([h.score for h in exact], [h.score for h in chroma], atol=1e-5)
        # every allowed chunk is scored: its score is its cosine similarity with the question
        scores = [h.score for h in reader.dense(v, len(allowed), allowed)]
        assert len(scores) == len(allowed) and scores == sorted(scores, reverse=True)


def test_chunks_outside_the_allowed_set_or_unknown_to_chroma_never_come_back(reader):
    files = reader.files()
    v = reader.embedder.embed_query("Kazakhstan")
    allowed = set(files[2].chunk_ids)
    assert {h.id for h in reader.dense(v, 50, allowed)} == allowed
    assert reader.store.nearest_among(v, ["no-such-chunk"], 5) == []
    assert reader.dense(v, 5, set()) == []


def test_the_way_depends_on_the_size_and_share_of_the_allowed_set():
    assert index.reader.search_plan(8, 100_000, 30) == ("exact", 0)
    assert index.reader.search_plan(20_000, 100_000, 30) == ("over-fetch", 460)  # 2 x 46 hits / a fifth of the index
    assert index.reader.search_plan(2_000, 100_000, 30) == ("filtered", 46)  # over-fetching would need 4,600 hits


@pytest.mark.parametrize("way", ["over-fetch", "filtered"])
def test_a_larger_allowed_set_is_searched_through_chroma_with_the_same_hits(reader, monkeypatch, way):
    files = reader.files()
    allowed = set(files[0].chunk_ids) | set(files[3].chunk_ids)
    v = reader.embedder.embed_query("Siapa presiden Kazakhstan?")
    exact = [h.id for h in reader.dense(v, 5, allowed)]
    calls = []
    search = reader.store.search
    monkeypatch.setattr(reader.store, "search", lambda *a, **k: calls.append(a[2:] or k) or search(*a, **k))
    monkeypatch.setattr(index.reader, "EXACT_SEARCH_MAX", len(allowed) - 1)
    if way == "filtered":
        monkeypatch.setattr(index.reader, "OVERFETCH_MAX", 0)
    assert index.reader.search_plan(len(allowed), len(reader.state.chunks), 5)[0] == way
    assert [h.id for h in reader.dense(v, 5, allowed)] == exact
    assert len(calls) == 1 and bool(calls[0]) == (way == "filtered")  # only the filtered query passes a where
