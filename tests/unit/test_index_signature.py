"""The one index-signature check (index.config.check_signature): silent on a match, else one error naming each
setting that differs, what the index was built with, what the settings ask for, and the rebuild command."""

from __future__ import annotations

import pytest

from index.config import IndexConfig, check_signature
from index.errors import IndexModelMismatch

BUILT = IndexConfig(index_dir=".index").signature(384)


def test_the_same_signature_passes():
    check_signature(dict(BUILT), IndexConfig(index_dir="elsewhere").signature(384), "the index in .index")


def test_each_differing_setting_is_named_with_both_values():
    asked = IndexConfig(index_dir=".index", embedder="e5-small", chunk_tokens=200).signature(384)
    with pytest.raises(IndexModelMismatch) as err:
        check_signature(BUILT, asked, "the index in .index", "data/articles")
    msg = str(err.value)
    assert msg.startswith("the index in .index was built with ")
    assert "embedder='e5-small-int8' (settings: 'e5-small')" in msg
    assert "chunk_tokens=160 (settings: 200)" in msg
    assert "dimension" not in msg and "chunk_overlap" not in msg  # settings that agree are not listed
    assert "`assistant index data/articles --rebuild`" in msg and "\n" not in msg


def test_a_missing_or_extra_key_is_a_mismatch_too():
    with pytest.raises(IndexModelMismatch, match=r"chunker=None \(settings: 'sentence-cl100k-v1'\)"):
        check_signature({k: v for k, v in BUILT.items() if k != "chunker"}, BUILT, "the index")
    with pytest.raises(IndexModelMismatch, match=r"stemmer='x' \(settings: None\)"):
        check_signature({**BUILT, "stemmer": "x"}, BUILT, "the index")


def test_an_unrecorded_signature_names_every_setting():
    with pytest.raises(IndexModelMismatch) as err:
        check_signature({}, BUILT, "the collection 'articles-1' in .index/chroma")
    assert all(f"{k}=None" in str(err.value) for k in BUILT)
    assert "`assistant index PATH --rebuild`" in str(err.value)  # no articles folder known: a placeholder
