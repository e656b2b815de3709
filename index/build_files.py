"""The file-walking phases of an index build: load every listed file and sort it (unchanged and reused, duplicate,
new or changed, skipped, or kept from the previous build when it cannot be read now), then chunk the new and
changed documents and store their texts beside the index."""

from __future__ import annotations

import os
from pathlib import Path

from index.build_state import _Build, _NewDoc, _printable, _source, _warn, chunk_id
from index.chunking import chunk_text
from index.cleaning import CLEANING_VERSION, content_spans
from index.errors import BadInput
from index.faults import checkpoint
from index.loading import LoadedDocument, Skipped, load_file
from index.metadata import METADATA_VERSION, extract_metadata
from index.state import ChunkRecord, FileRecord


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
    if (prev is not None and prev.content_hash == doc.content_hash and prev.duplicate_of is None
            and prev.meta.get("cleaning", 1) == CLEANING_VERSION):  # else cleaned again (unchanged chunks keep vectors)
        if prev.meta.get("version") != METADATA_VERSION:  # read by an older extractor: titles and dates again
            prev.meta = {**extract_metadata(doc.text, content_spans(doc.text), doc.html_meta).as_dict(),
                         "cleaning": CLEANING_VERSION}
        _reuse(b, prev)
        return
    spans = content_spans(doc.text)
    if not spans:
        b.summary.skipped += 1
        b.summary.warnings.append(f"skipped {_printable(fpath)}: no article text after removing boilerplate")
        return
    meta = {**extract_metadata(doc.text, spans, doc.html_meta).as_dict(), "cleaning": CLEANING_VERSION}
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
