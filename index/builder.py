"""Incremental index builds: load → clean → chunk → embed → store, with a manifest of file hashes.

Unchanged files cost nothing; a changed file's chunks are replaced; deleted files are removed; byte-identical files
are indexed once. Chunk ids hash the source, offsets and text, so a re-run upserts and never duplicates. The new
state is committed only after Chroma holds every new chunk, and stale chunks are deleted only after the commit, so
a crash leaves the previous index answering (see :mod:`index.state`).

Crash safety in detail: one build at a time per index folder (an OS file lock, released by the kernel even on
``kill -9``); a ``BUILDING`` marker says a build was under way, so the next build that finds it also removes chunks
an interrupted build left in Chroma. ``--rebuild`` fills a new collection; the collection it replaces is kept until
the next build (readers that opened it keep answering), then dropped with any collection an interrupted build left.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import threading
import time
import unicodedata
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from index.analysis import ANALYZER_VERSION, StemCache, analyze
from index.bm25 import BM25Index
from index.chunking import Chunk, chunk_text, split_sentences
from index.cleaning import content_spans
from index.config import IndexConfig, check_signature
from index.embedding import Embedder, load_embedder
from index.errors import BadInput, UserError
from index.faults import checkpoint
from index.loading import LoadedDocument, Skipped, discover, load_file
from index.metadata import METADATA_VERSION, extract_metadata
from index.state import (
    ChunkRecord,
    FileRecord,
    IndexState,
    commit_state,
    documents_dir,
    load_state,
    prune_documents,
    read_document,
)
from index.store import ChunkStore, StoreSettings, warm_up
from index.stories import assign_stories
from index.tokens import encoding

__all__ = ["BuildSummary", "build_index", "chunk_id", "interrupted_build"]

log = logging.getLogger(__name__)


@dataclass
class BuildSummary:
    files: int = 0  # supported files seen
    indexed: int = 0  # new or changed files (re)indexed
    unchanged: int = 0
    skipped: int = 0
    removed: int = 0
    duplicates: int = 0
    chunks: int = 0  # live chunks in the index after the build
    embedded: int = 0  # chunks embedded by this run
    seconds: float = 0.0
    chunks_per_second: float = 0.0
    warnings: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def chunk_id(source: str, chunk: Chunk) -> str:
    """Deterministic id of a chunk: hash of its source, offsets and text."""
    h = hashlib.sha1(f"{source}\x00{chunk.start}\x00{chunk.end}\x00{chunk.text}".encode()).hexdigest()
    return h[:24]


def _sentence_sets(text: str, spans: list[tuple[int, int]]) -> list[frozenset[str]]:
    out = []
    for s, e in spans:
        for sent in split_sentences(text, s, e):
            terms = frozenset(analyze(text[sent.start : sent.end]))
            if len(terms) >= 4:
                out.append(terms)
    return out


def _cached_sentence_sets(docs_dir: Path, doc_id: str, texts: dict[str, str],
                          spans: list[tuple[int, int]] | None = None) -> list[frozenset[str]]:
    """A document's sentence term sets (for story grouping), computed once and kept beside its text."""
    path = docs_dir / f"{doc_id}.sents.json"
    try:
        return [frozenset(s) for s in json.loads(path.read_text(encoding="utf-8"))]
    except (OSError, ValueError):
        pass
    text = texts.get(doc_id)
    if text is None:
        text = texts[doc_id] = read_document(docs_dir.parent, doc_id)
    sets = _sentence_sets(text, content_spans(text) if spans is None else spans)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps([sorted(s) for s in sets], ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, path)
    return sets


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


@dataclass
class _NewDoc:
    rec: FileRecord
    spans: list[tuple[int, int]]
    chunks: list[tuple[str, Chunk]]  # (chunk id, chunk)


def _analyze_new(docs: list[_NewDoc], docs_dir: Path, texts: dict[str, str],
                 terms_out: dict[str, dict[str, list[str]]], sets_out: dict[str, list[frozenset[str]]]) -> None:
    """BM25 terms of each new chunk and the sentence term sets of each new document, stored beside its text."""
    for d in docs:
        doc_id = d.rec.doc_id
        terms = {cid: analyze(ch.text) for cid, ch in d.chunks}
        terms_tmp = docs_dir / f"{doc_id}.terms-v{ANALYZER_VERSION}.tmp"
        terms_tmp.write_text(json.dumps(terms, ensure_ascii=False), encoding="utf-8")
        os.replace(terms_tmp, docs_dir / f"{doc_id}.terms-v{ANALYZER_VERSION}.json")
        terms_out[doc_id] = terms
        sets_out[doc_id] = _cached_sentence_sets(docs_dir, doc_id, texts, d.spans)


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
def _build_lock(index_dir: Path):
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


@dataclass
class _Build:
    """The working state of one build, handed from phase to phase."""

    path: Path
    files: list[Path]
    config: IndexConfig
    rebuild: bool
    interrupted: bool
    embedder: Embedder
    signature: dict[str, object]
    old: IndexState | None  # the state this build updates (None: from scratch, or --rebuild)
    previous: IndexState | None  # what readers see now, even when rebuilding
    state: IndexState  # the state being built
    docs_dir: Path
    summary: BuildSummary
    store: ChunkStore | None = None
    loaded: list[tuple[LoadedDocument, list[tuple[int, int]]]] = field(default_factory=list)  # new/changed
    by_hash: dict[str, str] = field(default_factory=dict)  # content hash -> source indexed for it
    chunked: list[_NewDoc] = field(default_factory=list)
    new_ids: list[str] = field(default_factory=list)
    new_texts: list[str] = field(default_factory=list)
    new_meta: list[dict[str, object]] = field(default_factory=list)
    texts_cache: dict[str, str] = field(default_factory=dict)
    new_terms: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    sentence_sets: dict[str, list[frozenset[str]]] = field(default_factory=dict)

    @property
    def old_files(self) -> dict[str, FileRecord]:
        return self.old.files if self.old else {}

    @property
    def old_chunks(self) -> dict[str, ChunkRecord]:
        return self.old.chunks if self.old else {}


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


def _warn(b: _Build, msg: str) -> None:
    b.summary.warnings.append(msg)
    log.warning(msg)


def _reuse(b: _Build, prev: FileRecord) -> None:
    """Carry a file's previous record and its chunks into the new state unchanged."""
    b.state.files[prev.source] = prev
    for cid in prev.chunk_ids:
        b.state.chunks[cid] = b.old_chunks[cid]
    b.summary.unchanged += 1


def _classify_files(b: _Build) -> None:
    """Load every file and sort it: unchanged (reused), duplicate, new or changed (to chunk), skipped, or kept
    from the previous build when it cannot be read now."""
    for fpath in b.files:
        try:
            doc = load_file(b.path, fpath)
        except Skipped as why:
            _unreadable(b, fpath, why)
        else:
            _classify_loaded(b, fpath, doc)
        checkpoint("after-file")
    if not b.state.files:  # never replace an answering index with an empty one
        raise BadInput(f"no usable articles in {_printable(b.path)}: all {len(b.files)} files were skipped "
                       f"({'; '.join(b.summary.warnings[:3])})")


def _unreadable(b: _Build, fpath: Path, why: Skipped) -> None:
    if not os.path.lexists(fpath):  # deleted since the folder was listed: removed like any deleted file
        _warn(b, f"{_printable(fpath)} no longer exists (deleted during the build): its passages are removed")
        return
    prev = b.old_files.get(_source(b.path, fpath))
    if isinstance(why.__cause__, OSError) and prev is not None and prev.duplicate_of is None \
            and prev.content_hash not in b.by_hash:
        # indexed fine before, unreadable now (permissions, I/O error): keep what it said rather than
        # silently dropping it; the next build that can read it updates it
        _reuse(b, prev)
        b.by_hash[prev.content_hash] = prev.source
        _warn(b, f"kept the previous passages of {_printable(fpath)}: {why}")
        return
    b.summary.skipped += 1
    _warn(b, f"skipped {_printable(fpath)}: {why}")


def _classify_loaded(b: _Build, fpath: Path, doc: LoadedDocument) -> None:
    state = b.state
    if doc.content_hash in b.by_hash:
        b.summary.duplicates += 1
        first = state.files[b.by_hash[doc.content_hash]]
        state.files[doc.source] = FileRecord(doc.source, doc.content_hash, first.doc_id, doc.kind, first.meta,
                                             [], duplicate_of=first.source)
        return
    b.by_hash[doc.content_hash] = doc.source
    prev = b.old_files.get(doc.source)
    if prev is not None and prev.content_hash == doc.content_hash and prev.duplicate_of is None:
        if prev.meta.get("version") != METADATA_VERSION:  # read by an older extractor: titles and dates again
            prev.meta = extract_metadata(doc.text, content_spans(doc.text), doc.html_meta).as_dict()
        _reuse(b, prev)
        return
    spans = content_spans(doc.text)
    if not spans:
        b.summary.skipped += 1
        b.summary.warnings.append(f"skipped {_printable(fpath)}: no article text after removing boilerplate")
        return
    meta = extract_metadata(doc.text, spans, doc.html_meta).as_dict()
    doc_id = doc.content_hash[:20]
    state.files[doc.source] = FileRecord(doc.source, doc.content_hash, doc_id, doc.kind, meta, [])
    b.loaded.append((doc, spans))


def _chunk_new_documents(b: _Build) -> None:
    """Chunk new/changed documents and store their texts (the encoder needs every text before it can sort them by
    length)."""
    for doc, spans in b.loaded:
        rec = b.state.files[doc.source]
        text_path = b.docs_dir / f"{rec.doc_id}.txt"
        if not text_path.exists():
            tmp = text_path.with_suffix(".tmp")
            tmp.write_text(doc.text, encoding="utf-8", newline="")
            tmp.replace(text_path)
        b.texts_cache[rec.doc_id] = doc.text
        chunks = chunk_text(doc.text, spans, b.config.chunk_tokens, b.config.chunk_overlap)
        pairs = []
        for ch in chunks:
            cid = chunk_id(doc.source, ch)
            rec.chunk_ids.append(cid)
            b.state.chunks[cid] = ChunkRecord(cid, rec.doc_id, ch.start, ch.end, ch.index)
            pairs.append((cid, ch))
            b.new_ids.append(cid)
            b.new_texts.append(ch.text)
            b.new_meta.append({
                "source": doc.source, "doc_id": rec.doc_id, "start": ch.start, "end": ch.end,
                "position": ch.index, "title": rec.meta.get("title") or "", "outlet": rec.meta.get("outlet") or "",
                "date": rec.meta.get("date") or "", "language": rec.meta.get("language") or "",
            })
        b.chunked.append(_NewDoc(rec, spans, pairs))
        b.summary.indexed += 1


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


def _assign_story_ids(b: _Build) -> None:
    """Story ids over all live documents."""
    for rec in b.state.doc_sources().values():
        if rec.doc_id not in b.sentence_sets:
            b.sentence_sets[rec.doc_id] = _cached_sentence_sets(b.docs_dir, rec.doc_id, b.texts_cache)
    stories = assign_stories(b.sentence_sets)
    for rec in b.state.files.values():
        rec.story_id = stories.get(rec.doc_id, rec.doc_id)


def _build_bm25(b: _Build) -> BM25Index:
    """BM25 over all live chunks, from stored terms."""
    ids: list[str] = []
    all_terms: list[list[str]] = []
    for rec in b.state.doc_sources().values():
        doc_terms = b.new_terms.get(rec.doc_id)
        if doc_terms is None:
            terms_path = b.docs_dir / f"{rec.doc_id}.terms-v{ANALYZER_VERSION}.json"
            doc_terms = json.loads(terms_path.read_text(encoding="utf-8")) if terms_path.exists() else {}
        for cid in rec.chunk_ids:
            ids.append(cid)
            all_terms.append(doc_terms.get(cid) or analyze(_chunk_text(b.texts_cache, b.docs_dir, b.state.chunks[cid])))
    return BM25Index.build(ids, all_terms)


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


def _source(root: Path, path: Path) -> str:
    """The name :func:`index.loading.load_file` gives the file ``path`` under ``root`` (its key in the manifest)."""
    try:
        return path.relative_to(root).as_posix() if root.is_dir() else path.name
    except ValueError:
        return path.name


def _printable(path: Path) -> str:
    """A path on one line: control characters in file names (a newline, a tab) written as escapes."""
    return "".join(c.encode("unicode_escape").decode("ascii") if unicodedata.category(c) == "Cc" else c
                   for c in str(path))


def _chunk_text(cache: dict[str, str], docs_dir: Path, rec: ChunkRecord) -> str:
    text = cache.get(rec.doc_id)
    if text is None:
        text = cache[rec.doc_id] = read_document(docs_dir.parent, rec.doc_id)
    return text[rec.start : rec.end]
