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

from index.analysis import ANALYZER_VERSION, StemCache, analyze
from index.bm25 import BM25Index
from index.chunking import Chunk, chunk_text, split_sentences
from index.cleaning import content_spans
from index.config import IndexConfig
from index.embedding import load_embedder
from index.errors import BadInput, IndexModelMismatch, UserError
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

__all__ = ["BuildSummary", "build_index", "chunk_id"]

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


EMBED_GROUP = 4096  # chunks sorted by length together (less padding) and embedded before each Chroma upsert


def _embed_and_store(embedder, store: ChunkStore, todo: list[int], ids: list[str], texts: list[str],
                     metas: list[dict[str, object]], progress: Callable[[str, int, int], None] | None) -> None:
    """Embed the chunks ``todo`` (indexes into ids/texts/metas) in big length-sorted groups and upsert each group."""
    done = 0

    def advance(n: int) -> None:
        nonlocal done
        done += n
        if progress:
            progress("embed", done, len(todo))

    for b in range(0, len(todo), EMBED_GROUP):
        idx = todo[b : b + EMBED_GROUP]
        vecs = embedder.embed_documents([texts[i] for i in idx], progress=advance)
        store.upsert([ids[i] for i in idx], vecs, [texts[i] for i in idx], [metas[i] for i in idx])
        checkpoint("after-upsert")


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
        marker.write_text(str(os.getpid()))
        summary = _build(path, files, config, rebuild, progress, interrupted)
        marker.unlink(missing_ok=True)
    summary.seconds = round(time.perf_counter() - t0, 3)
    summary.chunks_per_second = round(summary.embedded / summary.seconds, 2) if summary.seconds else 0.0
    return summary


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


def _drop_unused_collections(config: IndexConfig, embedder, keep: set[str]) -> None:
    path = _registry(Path(config.index_dir))
    names = json.loads(path.read_text()) if path.exists() else []
    for name in names:
        if name not in keep:
            ChunkStore(StoreSettings(config.index_dir, name, config.chroma_url), embedder).drop()
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps([n for n in names if n in keep]))
    os.replace(tmp, path)


def _build(path: Path, files: list[Path], config: IndexConfig, rebuild: bool,
           progress: Callable[[str, int, int], None] | None, interrupted: bool) -> BuildSummary:
    summary = BuildSummary(files=len(files))
    warming = warm_up(StoreSettings(config.index_dir, "", config.chroma_url))  # overlaps model loading and parsing
    tokenizer = _Worker(encoding, name="tiktoken-warm-up")  # the chunker's tokenizer (~0.3 s), meanwhile too
    stems = StemCache(config.model_cache_dir)
    stems.load()
    embedder = load_embedder(config.embedder, str(config.model_cache_dir), config.embed_batch_size, config.threads)
    signature = config.signature(embedder.dimension)
    old = None if rebuild else load_state(config.index_dir)
    if old is not None and old.signature != signature:
        raise IndexModelMismatch(
            f"the index in {config.index_dir} was built with {json.dumps(old.signature)}, the settings ask for "
            f"{json.dumps(signature)}: rebuild it with `assistant index {path} --rebuild`"
        )
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
    old_files = old.files if old else {}
    old_chunks = old.chunks if old else {}

    loaded: list[tuple[LoadedDocument, list[tuple[int, int]]]] = []
    by_hash: dict[str, str] = {}
    for fpath in files:
        try:
            doc = load_file(path, fpath)
        except Skipped as why:
            if not os.path.lexists(fpath):  # deleted since the folder was listed: removed like any deleted file
                msg = f"{_printable(fpath)} no longer exists (deleted during the build): its passages are removed"
                summary.warnings.append(msg)
                log.warning(msg)
                continue
            prev = old_files.get(_source(path, fpath))
            if isinstance(why.__cause__, OSError) and prev is not None and prev.duplicate_of is None \
                    and prev.content_hash not in by_hash:
                # indexed fine before, unreadable now (permissions, I/O error): keep what it said rather than
                # silently dropping it; the next build that can read it updates it
                state.files[prev.source] = prev
                for cid in prev.chunk_ids:
                    state.chunks[cid] = old_chunks[cid]
                by_hash[prev.content_hash] = prev.source
                summary.unchanged += 1
                msg = f"kept the previous passages of {_printable(fpath)}: {why}"
                summary.warnings.append(msg)
                log.warning(msg)
                continue
            summary.skipped += 1
            msg = f"skipped {_printable(fpath)}: {why}"
            summary.warnings.append(msg)
            log.warning(msg)
            continue
        if doc.content_hash in by_hash:
            summary.duplicates += 1
            first = state.files[by_hash[doc.content_hash]]
            state.files[doc.source] = FileRecord(doc.source, doc.content_hash, first.doc_id, doc.kind, first.meta,
                                                 [], duplicate_of=first.source)
            continue
        by_hash[doc.content_hash] = doc.source
        prev = old_files.get(doc.source)
        if prev is not None and prev.content_hash == doc.content_hash and prev.duplicate_of is None:
            if prev.meta.get("version") != METADATA_VERSION:  # read by an older extractor: titles and dates again
                prev.meta = extract_metadata(doc.text, content_spans(doc.text), doc.html_meta).as_dict()
            state.files[doc.source] = prev
            for cid in prev.chunk_ids:
                state.chunks[cid] = old_chunks[cid]
            summary.unchanged += 1
            continue
        spans = content_spans(doc.text)
        if not spans:
            summary.skipped += 1
            summary.warnings.append(f"skipped {_printable(fpath)}: no article text after removing boilerplate")
            continue
        meta = extract_metadata(doc.text, spans, doc.html_meta).as_dict()
        doc_id = doc.content_hash[:20]
        state.files[doc.source] = FileRecord(doc.source, doc.content_hash, doc_id, doc.kind, meta, [])
        loaded.append((doc, spans))

    if not state.files:  # never replace an answering index with an empty one
        raise BadInput(f"no usable articles in {_printable(path)}: all {len(files)} files were skipped "
                       f"({'; '.join(summary.warnings[:3])})")

    # chunk new/changed documents (the encoder needs every text before it can sort them by length)
    tokenizer.result()
    new_ids: list[str] = []
    new_texts: list[str] = []
    new_meta: list[dict[str, object]] = []
    texts_cache: dict[str, str] = {}
    chunked: list[_NewDoc] = []
    for doc, spans in loaded:
        rec = state.files[doc.source]
        text_path = docs_dir / f"{rec.doc_id}.txt"
        if not text_path.exists():
            tmp = text_path.with_suffix(".tmp")
            tmp.write_text(doc.text, encoding="utf-8", newline="")
            tmp.replace(text_path)
        texts_cache[rec.doc_id] = doc.text
        chunks = chunk_text(doc.text, spans, config.chunk_tokens, config.chunk_overlap)
        pairs = []
        for ch in chunks:
            cid = chunk_id(doc.source, ch)
            rec.chunk_ids.append(cid)
            state.chunks[cid] = ChunkRecord(cid, rec.doc_id, ch.start, ch.end, ch.index)
            pairs.append((cid, ch))
            new_ids.append(cid)
            new_texts.append(ch.text)
            new_meta.append({
                "source": doc.source, "doc_id": rec.doc_id, "start": ch.start, "end": ch.end,
                "position": ch.index, "title": rec.meta.get("title") or "", "outlet": rec.meta.get("outlet") or "",
                "date": rec.meta.get("date") or "", "language": rec.meta.get("language") or "",
            })
        chunked.append(_NewDoc(rec, spans, pairs))
        summary.indexed += 1

    # Lexical analysis (BM25 terms, story sentence sets: pure Python) runs in a worker thread while this thread
    # embeds (the model runs outside the GIL), so the encoder is kept busy instead of waiting for it.
    sentence_sets: dict[str, list[frozenset[str]]] = {}
    new_terms: dict[str, dict[str, list[str]]] = {}
    lexical = _Worker(lambda: _analyze_new(chunked, docs_dir, dict(texts_cache), new_terms, sentence_sets),
                      name="index-analysis")

    warming.join()  # the client opened while files were parsed
    store = ChunkStore(StoreSettings(config.index_dir, collection, config.chroma_url), embedder)
    if rebuild:
        store.drop()  # a fresh collection name: the committed one stays intact until the swap
    store.open(signature, create=True)
    present = store.existing_ids(new_ids) if new_ids else set()
    todo = [i for i, cid in enumerate(new_ids) if cid not in present]
    try:
        _embed_and_store(embedder, store, todo, new_ids, new_texts, new_meta, progress)
    except BaseException:
        lexical.join()  # the embedding error is the one to report
        raise
    lexical.result()
    summary.embedded = len(todo)

    # story ids over all live documents
    for rec in state.doc_sources().values():
        if rec.doc_id not in sentence_sets:
            sentence_sets[rec.doc_id] = _cached_sentence_sets(docs_dir, rec.doc_id, texts_cache)
    stories = assign_stories(sentence_sets)
    for rec in state.files.values():
        rec.story_id = stories.get(rec.doc_id, rec.doc_id)

    # BM25 over all live chunks, from stored terms
    ids: list[str] = []
    all_terms: list[list[str]] = []
    for rec in state.doc_sources().values():
        doc_terms = new_terms.get(rec.doc_id)
        if doc_terms is None:
            terms_path = docs_dir / f"{rec.doc_id}.terms-v{ANALYZER_VERSION}.json"
            doc_terms = json.loads(terms_path.read_text(encoding="utf-8")) if terms_path.exists() else {}
        for cid in rec.chunk_ids:
            ids.append(cid)
            all_terms.append(doc_terms.get(cid) or analyze(_chunk_text(texts_cache, docs_dir, state.chunks[cid])))
    bm25 = BM25Index.build(ids, all_terms)
    stems.save()
    removed_sources = set(old_files) - set(state.files)
    summary.removed = len(removed_sources)
    checkpoint("before-commit")
    commit_state(config.index_dir, state, write_extra=lambda folder: bm25.save(folder / "bm25"))
    checkpoint("after-commit")

    # after the commit: delete chunks no longer referenced (all unreferenced ones when a build was interrupted),
    # keep the collection a rebuild replaced for readers still on it, drop older and abandoned collections
    if interrupted:
        stale = [cid for cid in store.all_ids() if cid not in state.chunks]
    elif old is not None:
        stale = [cid for cid in old_chunks if cid not in state.chunks]
    else:
        stale = []
    if stale:
        store.delete(stale)
    keep = {collection} | ({previous.collection} if previous is not None else set())
    _drop_unused_collections(config, embedder, keep)
    keep_docs = {r.doc_id for r in state.files.values()}
    if previous is not None:
        keep_docs |= {r.doc_id for r in previous.files.values()}
    prune_documents(config.index_dir, keep_docs)
    summary.chunks = len(state.chunks)
    return summary


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
