"""A reader picks up builds made by other processes for dense retrieval too, and frees what it replaced.

chromadb keeps one engine per folder and process, and that engine never reloads the HNSW segments it has loaded:
before each store got an engine of its own, a long-running reader answered from a stale vector index after another
process's build (its manifest and BM25 were new, its dense candidates old).
"""

from __future__ import annotations

import gc
import os
import shutil
import subprocess
import sys
import weakref
from pathlib import Path

import pytest

from tests.conftest import MODEL_CACHE, NEW_ARTICLE, NEW_TEXT, SAMPLE

ASSISTANT = Path(sys.executable).parent / "assistant"
NEW_QUESTION = "Berapa layang-layang raksasa yang akan diterbangkan di Festival Layang-Layang Kelapa Ungu?"


def _engines(folder: Path) -> list[str]:
    """The chromadb engines (systems) this process holds for the index folder ``folder``."""
    from chromadb.api.shared_system_client import SharedSystemClient

    root = str(folder.resolve())
    return [k for k in SharedSystemClient._identifier_to_system if k.startswith(root)]


@pytest.fixture()
def own_index(tmp_path):
    from assistant.settings import Settings

    shutil.copytree(SAMPLE, tmp_path / "articles")
    settings = Settings(articles_dir=tmp_path / "articles", index_dir=tmp_path / "idx", model_cache_dir=MODEL_CACHE,
                        _env_file=None)
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    env.update(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", ANONYMIZED_TELEMETRY="False",
               TOKENIZERS_PARALLELISM="false", ASSISTANT_INDEX_DIR=str(tmp_path / "idx"),
               ASSISTANT_MODEL_CACHE_DIR=str(MODEL_CACHE))
    return settings, env


def _index_in_another_process(settings, env) -> None:
    out = subprocess.run([str(ASSISTANT), "index", str(settings.articles_dir)], env=env, capture_output=True,
                         text=True, timeout=900)
    assert out.returncode == 0, out.stderr[-2000:]


def test_build_by_another_process_reaches_dense_search_and_old_engines_are_freed(own_index):
    from assistant.chain import Assistant
    from index import build_index

    settings, env = own_index
    build_index(settings.articles_dir, settings.index_config())
    assistant = Assistant(settings)
    reader = assistant.current_reader()
    vector = reader.embedder.embed_query(NEW_QUESTION)
    assert not any(reader.passage(h.id).source == NEW_ARTICLE for h in reader.dense(vector, 30))
    before = assistant.ask(NEW_QUESTION)
    assert "412" not in before.answer
    old = weakref.ref(reader)
    del reader

    (settings.articles_dir / NEW_ARTICLE).write_text(NEW_TEXT, encoding="utf-8")
    _index_in_another_process(settings, env)

    reader = assistant.current_reader()
    assert old() is not reader
    dense = [reader.passage(h.id).source for h in reader.dense(vector, 30)]
    assert NEW_ARTICLE in dense, dense  # the new chunks are among the dense candidates (they were not before)
    answer = assistant.ask(NEW_QUESTION)
    assert "412" in answer.answer and any(c.source == NEW_ARTICLE for c in answer.citations), answer.answer
    new_passages = [p for p in answer.passages if p.source == NEW_ARTICLE]
    assert new_passages and "dense" in new_passages[0].legs

    # the replaced reader, its store and its chromadb engine are gone once nothing uses them
    del reader, answer, before, new_passages
    gc.collect()
    assert old() is None
    assert len(_engines(settings.index_dir)) == 1, _engines(settings.index_dir)


def test_reopening_many_times_holds_one_engine(own_index):
    """Each refresh opens a new engine; the replaced ones (and every build's) stop: no memory grows per build."""
    from assistant.chain import Assistant
    from index import build_index

    settings, _ = own_index
    build_index(settings.articles_dir, settings.index_config())
    assistant = Assistant(settings)
    article = sorted(settings.articles_dir.iterdir())[0]
    original = article.read_text(encoding="utf-8")
    generations = {assistant.current_reader().state.generation}
    for i in range(4):
        article.write_text(original + f"\n\nParagraf tambahan nomor {i} tentang kebun anggrek Cempaka Biru.\n",
                           encoding="utf-8")
        build_index(settings.articles_dir, settings.index_config())
        reader = assistant.current_reader()
        generations.add(reader.state.generation)
        hits = reader.dense(reader.embedder.embed_query(f"Paragraf tambahan nomor {i} kebun anggrek"), 30)
        assert any(f"nomor {i} " in reader.passage(h.id).text for h in hits)
        del reader, hits
        gc.collect()
        assert len(_engines(settings.index_dir)) == 1, _engines(settings.index_dir)
    assert len(generations) == 5
