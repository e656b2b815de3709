"""The index's own state beside Chroma: manifest of files, chunk table, stored texts and the BM25 model.

Layout under ``index_dir``::

    CURRENT                 name of the committed state folder (replaced atomically)
    state-<n>/manifest.json files, their hashes, metadata, story ids, chunk ids, build signature, collection name
    state-<n>/chunks.json   chunk id -> [doc id, start, end, position]
    state-<n>/bm25/         the bm25s model over the live chunks, in chunks.json order
    documents/<doc id>.txt  the text each file was indexed from (write-once, content-addressed)
    documents/<doc id>.terms-v<n>.json  analysed terms per chunk start, reused when BM25 is rebuilt
    documents/<doc id>.sents.json  sentence term sets, reused when stories are regrouped

A build writes a new ``state-<n+1>`` folder and then swaps ``CURRENT``; a crash at any point leaves the previous
state (and the Chroma collection it names) answering. The state just replaced is kept until the next commit, so a
reader that opened it before the swap keeps working until it refreshes.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from index.faults import checkpoint

__all__ = [
    "IndexState", "ChunkRecord", "FileRecord", "load_state", "commit_state", "documents_dir", "read_document",
    "current_name", "prune_documents",
]

STATE_VERSION = 1


@dataclass
class FileRecord:
    source: str
    content_hash: str
    doc_id: str
    kind: str
    meta: dict[str, Any]
    chunk_ids: list[str]
    story_id: str = ""
    duplicate_of: str | None = None  # source of the byte-identical file that was indexed instead


@dataclass(frozen=True)
class ChunkRecord:
    id: str
    doc_id: str
    start: int
    end: int
    position: int


@dataclass
class IndexState:
    signature: dict[str, Any] = field(default_factory=dict)
    collection: str = ""
    articles_dir: str = ""
    files: dict[str, FileRecord] = field(default_factory=dict)
    chunks: dict[str, ChunkRecord] = field(default_factory=dict)
    generation: int = 0
    folder: Path | None = None  # where it was loaded from

    def doc_sources(self) -> dict[str, FileRecord]:
        """doc id → the file record that owns it (duplicates excluded)."""
        return {f.doc_id: f for f in self.files.values() if f.duplicate_of is None}


def documents_dir(index_dir: Path) -> Path:
    return Path(index_dir) / "documents"


def read_document(index_dir: Path, doc_id: str) -> str:
    """The stored text of a document, exactly as indexed (no newline translation)."""
    with open(documents_dir(index_dir) / f"{doc_id}.txt", encoding="utf-8", newline="") as fh:
        return fh.read()


def _write_json(path: Path, data: Any) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(data, fh, ensure_ascii=False)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def current_name(index_dir: Path) -> str | None:
    """Name of the committed state folder (cheap: one small file read), or ``None`` when there is none."""
    try:
        return (Path(index_dir) / "CURRENT").read_text().strip() or None
    except FileNotFoundError:
        return None


def load_state(index_dir: Path) -> IndexState | None:
    """The committed state, or ``None`` when no index was ever committed here."""
    index_dir = Path(index_dir)
    name = current_name(index_dir)
    if name is None:
        return None
    folder = index_dir / name
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    chunks_raw = json.loads((folder / "chunks.json").read_text(encoding="utf-8"))
    state = IndexState(
        signature=manifest["signature"],
        collection=manifest["collection"],
        articles_dir=manifest.get("articles_dir", ""),
        files={s: FileRecord(**rec) for s, rec in manifest["files"].items()},
        chunks={cid: ChunkRecord(cid, *vals) for cid, vals in chunks_raw.items()},
        generation=manifest["generation"],
        folder=folder,
    )
    return state


def commit_state(index_dir: Path, state: IndexState, write_extra: Any = None) -> Path:
    """Write ``state`` as generation n+1, call ``write_extra(folder)`` (BM25), then swap ``CURRENT`` atomically."""
    index_dir = Path(index_dir)
    index_dir.mkdir(parents=True, exist_ok=True)
    state.generation += 1
    name = f"state-{state.generation}"
    folder = index_dir / name
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir()
    manifest = {
        "version": STATE_VERSION,
        "generation": state.generation,
        "signature": state.signature,
        "collection": state.collection,
        "articles_dir": state.articles_dir,
        "files": {s: vars(rec) for s, rec in sorted(state.files.items())},
    }
    _write_json(folder / "manifest.json", manifest)
    _write_json(folder / "chunks.json", {c.id: [c.doc_id, c.start, c.end, c.position] for c in state.chunks.values()})
    if write_extra is not None:
        write_extra(folder)
    checkpoint("after-state-written")
    previous = current_name(index_dir)
    tmp_pointer = index_dir / "CURRENT.tmp"
    with open(tmp_pointer, "w") as fh:
        fh.write(name)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp_pointer, index_dir / "CURRENT")
    state.folder = folder
    # keep the state just replaced (readers may still hold it); older ones and unfinished ones go
    for old in index_dir.glob("state-*"):
        if old.name not in (name, previous):
            shutil.rmtree(old, ignore_errors=True)
    return folder


def prune_documents(index_dir: Path, keep: set[str]) -> int:
    """Delete stored texts and terms of documents not in ``keep`` (doc ids); returns how many were removed."""
    removed = 0
    folder = documents_dir(index_dir)
    if not folder.exists():
        return 0
    for path in folder.iterdir():
        doc_id = path.name.split(".", 1)[0]
        if doc_id not in keep:
            path.unlink(missing_ok=True)
            removed += path.suffix == ".txt"
    return removed
