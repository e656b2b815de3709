"""The builder, the reader and the Chroma store refuse an index built with other settings through one check, each
naming where the index is, the setting that differs (built with / asked for) and the rebuild command."""

from __future__ import annotations

import pytest

from index import IndexConfig, build_index, open_index
from index.errors import IndexModelMismatch
from index.store import ChunkStore, StoreSettings
from tests.conftest import SAMPLE, read_exact

DIFF = "chunk_tokens=160 (settings: 200)"


@pytest.fixture()
def one_article_index(tmp_path, settings, embedder):
    arts = tmp_path / "arts"
    arts.mkdir()
    name = sorted(SAMPLE.glob("*.txt"))[0].name
    (arts / name).write_text(read_exact(SAMPLE / name), encoding="utf-8")
    cfg = IndexConfig(index_dir=tmp_path / "idx", model_cache_dir=settings.model_cache_dir)
    build_index(arts, cfg)
    return arts, cfg


def test_reader_and_builder_name_the_differing_setting(one_article_index):
    arts, cfg = one_article_index
    other = IndexConfig(index_dir=cfg.index_dir, model_cache_dir=cfg.model_cache_dir, chunk_tokens=200)
    with pytest.raises(IndexModelMismatch) as read_err:
        open_index(other)
    assert str(read_err.value).startswith(f"the index in {cfg.index_dir} was built with {DIFF}: ")
    assert "`assistant index PATH --rebuild`" in str(read_err.value)
    with pytest.raises(IndexModelMismatch) as build_err:
        build_index(arts, other)
    assert str(build_err.value).startswith(f"the index in {cfg.index_dir} was built with {DIFF}: ")
    assert f"`assistant index {arts} --rebuild`" in str(build_err.value)  # the folder being indexed
    assert open_index(cfg).store.count() > 0  # the refused build changed nothing


def test_store_refuses_a_collection_recorded_with_other_settings(one_article_index, embedder):
    _, cfg = one_article_index
    reader = open_index(cfg)
    asked = {**reader.state.signature, "chunk_tokens": 200}
    store = ChunkStore(StoreSettings(cfg.index_dir, reader.state.collection), embedder)
    with pytest.raises(IndexModelMismatch) as err:
        store.open(asked, create=False)
    assert str(err.value).startswith(f"the collection {reader.state.collection!r} in {cfg.index_dir / 'chroma'} "
                                     f"was built with {DIFF}: ")
    store.open(reader.state.signature, create=False)  # the signature it was built with opens it
    store.close()
