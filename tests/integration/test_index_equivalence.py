"""The build pipeline stores exactly what its parts compute file by file: same chunks, vectors, BM25 terms, stories.

The builder batches across files (length-sorted embedding groups, analysis in a worker thread, stems cached on
disk); this recomputes every output the plain way — one file at a time, one text per encoder call — and compares.
"""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from index import IndexConfig, build_index
from index.analysis import ANALYZER_VERSION, analyze
from index.bm25 import BM25Index
from index.builder import _sentence_sets, chunk_id
from index.chunking import chunk_text
from index.cleaning import content_spans
from index.loading import discover, load_file
from index.state import documents_dir, load_state
from index.store import ChunkStore, StoreSettings
from index.stories import assign_stories
from tests.conftest import ROOT, SAMPLE

pytestmark = pytest.mark.slow

FACQA = ROOT / "data" / "external" / "facqa-train" / "articles"


def _folder(tmp_path):
    arts = tmp_path / "arts"
    arts.mkdir()
    for f in sorted(SAMPLE.glob("*.txt"))[:3]:  # long articles: several chunks each, overlap, stories
        shutil.copy(f, arts / f.name)
    shutil.copy(sorted(SAMPLE.glob("*.txt"))[0], arts / "same-story-copy.txt")  # a duplicate by content
    for f in sorted(FACQA.glob("*.txt"))[:12]:  # short real passages: one chunk each
        shutil.copy(f, arts / f.name)
    return arts


def _expected(arts, cfg):
    """Chunks (id -> (source, start, end, position, text)), terms per chunk and sentence sets, file by file."""
    chunks, terms, sets, by_hash = {}, {}, {}, set()
    for path in discover(arts):
        doc = load_file(arts, path)
        if doc.content_hash in by_hash:
            continue
        by_hash.add(doc.content_hash)
        spans = content_spans(doc.text)
        sets[doc.content_hash[:20]] = _sentence_sets(doc.text, spans)
        for ch in chunk_text(doc.text, spans, cfg.chunk_tokens, cfg.chunk_overlap):
            cid = chunk_id(doc.source, ch)
            chunks[cid] = (doc.source, ch.start, ch.end, ch.index, ch.text)
            terms[cid] = analyze(ch.text)
    return chunks, terms, sets


def test_build_stores_what_file_by_file_processing_computes(tmp_path, settings, embedder, monkeypatch):
    import index.builder as builder

    monkeypatch.setattr(builder, "EMBED_GROUP", 16)  # several groups, each length-sorted, each upserted
    arts = _folder(tmp_path)
    cfg = IndexConfig(index_dir=tmp_path / "idx", embedder=settings.embedder, model_cache_dir=tmp_path / "models")
    (tmp_path / "models").mkdir()
    for entry in settings.model_cache_dir.iterdir():  # the converted models, but an empty stem cache
        (tmp_path / "models" / entry.name).symlink_to(entry)
    summary = build_index(arts, cfg)
    chunks, terms, sets = _expected(arts, cfg)
    assert summary.embedded == len(chunks) > 16 and summary.duplicates == 1

    state = load_state(cfg.index_dir)
    assert {cid: (r.doc_id, r.start, r.end, r.position) for cid, r in state.chunks.items()} == {
        cid: (state.files[src].doc_id, s, e, pos) for cid, (src, s, e, pos, _) in chunks.items()}
    for rec in state.doc_sources().values():
        assert [c for c in chunks if chunks[c][0] == rec.source] == rec.chunk_ids  # article order kept
        stored = json.loads((documents_dir(cfg.index_dir) / f"{rec.doc_id}.terms-v{ANALYZER_VERSION}.json")
                            .read_text(encoding="utf-8"))
        assert stored == {cid: terms[cid] for cid in rec.chunk_ids}

    # BM25: the committed model equals one built from the expected terms in the committed order
    bm25 = BM25Index.load(state.folder / "bm25")
    reference = BM25Index.build(bm25.ids, [terms[cid] for cid in bm25.ids])
    assert sorted(bm25.ids) == sorted(chunks)
    for q in (["rusia", "kazakhstan"], ["presiden"], analyze("logam Mott tidak menghasilkan panas")):
        assert bm25.search(q, 10) == reference.search(q, 10)

    # vectors: each chunk's stored vector is its own text embedded alone (batching and order change nothing). The
    # int8 model quantizes activations per batch (dynamic quantization), so there a vector depends a little on its
    # batch-mates; the fp32 model gives the same vector to 1e-4.
    from index.embedding import E5_INT8_ALIASES

    same = 0.995 if settings.embedder in E5_INT8_ALIASES else 0.9999
    store = ChunkStore(StoreSettings(cfg.index_dir, state.collection), embedder)
    store.open(state.signature, create=False)
    got = store.collection.get(ids=list(chunks), include=["embeddings", "documents", "metadatas"])
    for cid, vec, text, meta in zip(got["ids"], got["embeddings"], got["documents"], got["metadatas"], strict=True):
        source, start, end, _, expected_text = chunks[cid]
        assert (meta["source"], meta["start"], meta["end"]) == (source, start, end)
        assert text is None  # Chroma keeps no copy of the texts: quotes are read from the stored articles
        alone = embedder.embed_documents([expected_text])[0]
        assert float(np.dot(np.asarray(vec, dtype=np.float32), alone)) > same, cid
    store.close()

    # stories: grouped from the same sentence sets as file-by-file analysis gives
    stories = assign_stories(sets)
    assert {r.source: r.story_id for r in state.doc_sources().values()} == {
        r.source: stories[r.doc_id] for r in state.doc_sources().values()}

    # the stems learnt by this build are on disk; a second build over an edited folder reuses them and agrees
    assert list((tmp_path / "models").glob("stems-*.json"))
    (arts / "new.txt").write_text("Presiden meresmikan jembatan baru di Kalimantan Timur pada hari Senin.\n",
                                  encoding="utf-8")
    again = build_index(arts, cfg)
    assert again.indexed == 1 and again.embedded == 1
    state2 = load_state(cfg.index_dir)
    new_rec = state2.files["new.txt"]
    stored = json.loads((documents_dir(cfg.index_dir) / f"{new_rec.doc_id}.terms-v{ANALYZER_VERSION}.json")
                        .read_text(encoding="utf-8"))
    assert list(stored.values()) == [analyze("Presiden meresmikan jembatan baru di Kalimantan Timur pada hari Senin.")]
