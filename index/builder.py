"""Incremental index builds: load → clean → chunk → embed → store, with a manifest of file hashes.

Unchanged files cost nothing; a changed file's chunks are replaced; deleted files are removed; byte-identical files
are indexed once. Chunk ids hash the source, offsets and text, so a re-run upserts and never duplicates. The new
state is committed only after Chroma holds every new chunk, and stale chunks are deleted only after the commit, so
a crash leaves the previous index answering (see :mod:`index.state`).

Crash safety in detail: one build at a time per index folder (an OS file lock, released by the kernel even on
``kill -9``); a ``BUILDING`` marker says a build was under way, so the next build that finds it also removes chunks
an interrupted build left in Chroma. ``--rebuild`` fills a new collection; the collection it replaces is kept until
the next build (readers that opened it keep answering), then dropped with any collection an interrupted build left.

The phases live in modules named for their job: :mod:`index.build_files` (load, sort and chunk the files),
:mod:`index.build_lexical` (BM25 terms, sentence sets, story ids), :mod:`index.build_commit` (lock, target, commit,
clean-up), with the build's working state in :mod:`index.build_state`; this module runs them in order and embeds.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from index.analysis import StemCache
from index.build_commit import _build_lock, _clean_up, _commit, _open_target, interrupted_build
from index.build_files import _chunk_new_documents, _classify_files
from index.build_lexical import (  # noqa: F401 - _sentence_sets stays importable from here
    _analyze_new,
    _assign_story_ids,
    _build_bm25,
    _sentence_sets,
)
from index.build_state import BuildSummary, _Build, chunk_id
from index.config import IndexConfig
from index.errors import BadInput
from index.faults import checkpoint
from index.loading import discover
from index.store import ChunkStore, StoreSettings, warm_up
from index.tokens import encoding

__all__ = ["BuildSummary", "build_index", "chunk_id", "interrupted_build"]


class _Worker(threading.Thread):
    """Runs ``fn`` in a thread; :meth:`result` waits for it and re-raises what it raised."""

    def __init__(self, fn: Callable[[], None], name: str) -> None:
        super().__init__(name=name, daemon=True)
        self._fn = fn
        self._error: BaseException | None = None
        self.start()

    def run(self) -> None:
        try:
            self._fn()
        except BaseException as exc:  # handed to the joining thread
            self._error = exc

    def result(self) -> None:
        self.join()
        if self._error is not None:
            raise self._error


EMBED_GROUP = 4096  # chunks sorted by token count together (less padding) before they are embedded
SAVE_EVERY = 32  # embedded chunks are upserted at least this often: a killed build's re-run embeds only the rest


def _embed_and_store(embedder, store: ChunkStore, todo: list[int], ids: list[str], texts: list[str],
                     metas: list[dict[str, object]], progress: Callable[[str, int, int], None] | None) -> None:
    """Embed the chunks ``todo`` (indexes into ids/texts/metas) in big groups, each batched by token count by the
    embedder, and upsert their vectors every :data:`SAVE_EVERY` chunks (a re-run after a crash finds them in Chroma
    and embeds only the chunks it lacks)."""
    done = 0
    pending: list[int] = []
    vectors: list[np.ndarray] = []

    def save() -> None:
        if pending:
            store.upsert([ids[i] for i in pending], np.concatenate(vectors), [metas[i] for i in pending])
            pending.clear()
            vectors.clear()
            checkpoint("after-upsert")

    def advance(n: int) -> None:
        nonlocal done
        done += n
        if progress:
            progress("embed", done, len(todo))
        checkpoint("after-embed-batch")

    for b in range(0, len(todo), EMBED_GROUP):
        idx = todo[b : b + EMBED_GROUP]

        def keep(positions: list[int], vecs: np.ndarray, idx: list[int] = idx) -> None:
            pending.extend(idx[p] for p in positions)
            vectors.append(vecs)
            if len(pending) >= SAVE_EVERY:
                save()

        embedder.embed_documents([texts[i] for i in idx], progress=advance, on_batch=keep)
        save()


def build_index(
    path: Path,
    config: IndexConfig,
    rebuild: bool = False,
    progress: Callable[[str, int, int], None] | None = None,
) -> BuildSummary:
    """Index the articles under ``path`` into ``config.index_dir``; returns the run's summary.

    ``progress(stage, done, total)`` is called while embedding (stage ``"embed"``).
    """
    t0 = time.perf_counter()
    path = Path(path)
    files = discover(path)
    if not files:
        raise BadInput(f"no articles in {path} (supported: .txt .md .html .htm .pdf)")
    index_dir = Path(config.index_dir)
    index_dir.mkdir(parents=True, exist_ok=True)
    with _build_lock(index_dir):
        marker = index_dir / "BUILDING"
        interrupted = marker.exists()
        marker.write_text(json.dumps({"pid": os.getpid(), "articles": str(path.resolve())}))
        summary = _build(path, files, config, rebuild, progress, interrupted)
        marker.unlink(missing_ok=True)
    summary.seconds = round(time.perf_counter() - t0, 3)
    summary.chunks_per_second = round(summary.embedded / summary.seconds, 2) if summary.seconds else 0.0
    return summary


def _build(path: Path, files: list[Path], config: IndexConfig, rebuild: bool,
           progress: Callable[[str, int, int], None] | None, interrupted: bool) -> BuildSummary:
    """One build under the lock, phase by phase; the Chroma client, the tokenizer and the stem cache warm up while
    the model loads and the files are read."""
    warming = warm_up(StoreSettings(config.index_dir, "", config.chroma_url))  # overlaps model loading and parsing
    tokenizer = _Worker(encoding, name="tiktoken-warm-up")  # the chunker's tokenizer (~0.3 s), meanwhile too
    stems = StemCache(config.model_cache_dir)
    stems.load()
    b = _open_target(path, files, config, rebuild, interrupted)
    _classify_files(b)
    tokenizer.result()
    _chunk_new_documents(b)
    _embed_and_analyze(b, warming, progress)
    _assign_story_ids(b)
    bm25 = _build_bm25(b)
    stems.save()
    _commit(b, bm25)
    _clean_up(b)
    b.summary.chunks = len(b.state.chunks)
    return b.summary


def _embed_and_analyze(b: _Build, warming: threading.Thread,
                       progress: Callable[[str, int, int], None] | None) -> None:
    """Embed and store the chunks Chroma lacks while their lexical analysis runs."""
    # Lexical analysis (BM25 terms, story sentence sets: pure Python) runs in a worker thread while this thread
    # embeds (the model runs outside the GIL), so the encoder is kept busy instead of waiting for it.
    lexical = _Worker(lambda: _analyze_new(b.chunked, b.docs_dir, dict(b.texts_cache), b.new_terms, b.sentence_sets),
                      name="index-analysis")
    warming.join()  # the client opened while files were parsed
    store = b.store = ChunkStore(StoreSettings(b.config.index_dir, b.state.collection, b.config.chroma_url),
                                 b.embedder)
    if b.rebuild:
        store.drop()  # a fresh collection name: the committed one stays intact until the swap
    store.open(b.signature, create=True)
    present = store.existing_ids(b.new_ids) if b.new_ids else set()
    todo = [i for i, cid in enumerate(b.new_ids) if cid not in present]
    try:
        _embed_and_store(b.embedder, store, todo, b.new_ids, b.new_texts, b.new_meta, progress)
    except BaseException:
        lexical.join()  # the embedding error is the one to report
        raise
    lexical.result()
    b.summary.embedded = len(todo)

