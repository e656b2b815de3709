"""Where an index build writes and how a crash leaves the previous index answering: the per-folder build lock and
the ``BUILDING`` marker's reader (:func:`interrupted_build`), the registry of collections this index created, the
target the build opens, the commit that swaps the new state in, and the clean-up after it."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from collections.abc import Iterator
from pathlib import Path

from index.bm25 import BM25Index
from index.build_state import BuildSummary, _Build
from index.config import IndexConfig, check_signature
from index.embedding import Embedder, load_embedder
from index.errors import UserError
from index.faults import checkpoint
from index.state import IndexState, commit_state, documents_dir, load_state, prune_documents
from index.store import ChunkStore, StoreSettings

__all__ = ["interrupted_build"]


def interrupted_build(index_dir: Path) -> str | None:
    """The articles folder of a build of ``index_dir`` that was stopped before it finished (its ``BUILDING`` marker
    is left and no build holds the lock now): ``""`` when the marker does not name it, None when no build was cut
    short."""
    index_dir = Path(index_dir)
    try:
        raw = (index_dir / "BUILDING").read_text(encoding="utf-8")
    except OSError:
        return None
    try:
        with open(index_dir / "LOCK", "rb") as fh:
            fcntl.flock(fh.fileno(), fcntl.LOCK_SH | fcntl.LOCK_NB)
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
    except BlockingIOError:
        return None  # a build is running now
    except OSError:
        pass
    try:
        folder = json.loads(raw).get("articles")
    except (ValueError, AttributeError):  # a marker written before it named the folder (a pid)
        return ""
    return folder if isinstance(folder, str) else ""


@contextlib.contextmanager
def _build_lock(index_dir: Path) -> Iterator[None]:
    """One build at a time per index folder; the kernel drops the lock when the process dies, even by SIGKILL."""
    with open(index_dir / "LOCK", "a+") as fh:
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise UserError(f"another `assistant index` is writing {index_dir}; wait for it to finish") from None
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def _registry(index_dir: Path) -> Path:
    return index_dir / "collections.json"


def _register_collection(index_dir: Path, name: str) -> None:
    """Remember every collection this index creates, so later builds can drop the unused ones (and only those)."""
    path = _registry(index_dir)
    names = json.loads(path.read_text()) if path.exists() else []
    if name not in names:
        names.append(name)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(names))
        os.replace(tmp, path)


def _drop_unused_collections(config: IndexConfig, embedder: Embedder, keep: set[str]) -> None:
    path = _registry(Path(config.index_dir))
    names = json.loads(path.read_text()) if path.exists() else []
    for name in names:
        if name not in keep:
            ChunkStore(StoreSettings(config.index_dir, name, config.chroma_url), embedder).drop()
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps([n for n in names if n in keep]))
    os.replace(tmp, path)


def _open_target(path: Path, files: list[Path], config: IndexConfig, rebuild: bool, interrupted: bool) -> _Build:
    """Load the embedder, check the committed index was built with these settings, name the target collection."""
    embedder = load_embedder(config.embedder, str(config.model_cache_dir), config.embed_batch_size, config.threads)
    signature = config.signature(embedder.dimension)
    old = None if rebuild else load_state(config.index_dir)
    if old is not None:
        check_signature(old.signature, signature, f"the index in {config.index_dir}", str(path))
    previous = load_state(config.index_dir)  # what readers see now, even when rebuilding
    generation = previous.generation if previous else 0
    collection = old.collection if old else f"{config.collection_prefix}-{generation + 1}"
    if previous is not None:
        _register_collection(Path(config.index_dir), previous.collection)
    _register_collection(Path(config.index_dir), collection)
    state = IndexState(signature=signature, collection=collection, articles_dir=str(path.resolve()),
                       generation=generation)
    docs_dir = documents_dir(config.index_dir)
    docs_dir.mkdir(parents=True, exist_ok=True)
    return _Build(path=path, files=files, config=config, rebuild=rebuild, interrupted=interrupted, embedder=embedder,
                  signature=signature, old=old, previous=previous, state=state, docs_dir=docs_dir,
                  summary=BuildSummary(files=len(files)))


def _commit(b: _Build, bm25: BM25Index) -> None:
    """Write the new state with its BM25 model and swap it in: readers opened from now on see this build."""
    b.summary.removed = len(set(b.old_files) - set(b.state.files))
    checkpoint("before-commit")
    commit_state(b.config.index_dir, b.state, write_extra=lambda folder: bm25.save(folder / "bm25"))
    checkpoint("after-commit")


def _clean_up(b: _Build) -> None:
    """After the commit: delete chunks no longer referenced (all unreferenced ones when a build was interrupted),
    keep the collection a rebuild replaced for readers still on it, drop older and abandoned collections."""
    assert b.store is not None
    if b.interrupted:
        stale = [cid for cid in b.store.all_ids() if cid not in b.state.chunks]
    elif b.old is not None:
        stale = [cid for cid in b.old_chunks if cid not in b.state.chunks]
    else:
        stale = []
    if stale:
        b.store.delete(stale)
    keep = {b.state.collection} | ({b.previous.collection} if b.previous is not None else set())
    _drop_unused_collections(b.config, b.embedder, keep)
    keep_docs = {r.doc_id for r in b.state.files.values()}
    if b.previous is not None:
        keep_docs |= {r.doc_id for r in b.previous.files.values()}
    prune_documents(b.config.index_dir, keep_docs)
