"""The working state of one index build: the run's :class:`BuildSummary`, the :class:`_Build` record handed from
phase to phase (see :mod:`index.builder`), chunk ids, and the build's warnings with the paths they name printed on
one line."""

from __future__ import annotations

import hashlib
import logging
import unicodedata
from dataclasses import asdict, dataclass, field
from pathlib import Path

from index.chunking import Chunk
from index.config import IndexConfig
from index.embedding import Embedder
from index.loading import LoadedDocument
from index.state import ChunkRecord, FileRecord, IndexState
from index.store import ChunkStore

__all__ = ["BuildSummary", "chunk_id"]

log = logging.getLogger("index.builder")  # the build's warnings keep the logger name they always had


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


@dataclass
class _NewDoc:
    rec: FileRecord
    spans: list[tuple[int, int]]
    chunks: list[tuple[str, Chunk]]  # (chunk id, chunk)


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


def _warn(b: _Build, msg: str) -> None:
    b.summary.warnings.append(msg)
    log.warning(msg)


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
