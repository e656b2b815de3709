"""The article library the assistant answers over: building the index, and the index lifecycle of a running
assistant (open, reopen when a build commits a new state, the reader one question uses).

This is the index as the interfaces see it: the CLI and the UI build, list and check articles through here and never
import :mod:`index` themselves (``ui → assistant → index``).

>>> summary = build_library(Settings(), Path("data/articles"))  # doctest: +SKIP
>>> library = Library(Settings())  # doctest: +SKIP
>>> [f.source for f in library.current_reader().files()]  # doctest: +SKIP
"""

from __future__ import annotations

import shlex
import threading
from collections.abc import Callable, Iterable
from pathlib import Path

from assistant.settings import Settings
from index import BuildSummary, IndexReader, build_index, open_index
from index.builder import interrupted_build
from index.embedding import prepare_embedder
from index.errors import IndexMissing, IndexModelMismatch
from index.loading import MAX_BYTES, SUPPORTED_SUFFIXES, kind_of
from index.state import FileRecord, current_name, load_state

__all__ = ["Library", "BuildSummary", "FileRecord", "MAX_BYTES", "SUPPORTED_SUFFIXES", "kind_of", "build_library",
           "prepare_models", "Progress", "missing_index_message"]

Progress = Callable[[str, int, int], None]  # (stage, done, total)


def build_library(settings: Settings, folder: Path | None = None, rebuild: bool = False,
                  progress: Progress | None = None, if_stale: bool = False,
                  notify: Callable[[str], None] | None = None) -> BuildSummary:
    """Index ``folder`` (default: the articles folder of the settings), incrementally unless ``rebuild``.

    ``if_stale``: an index built with other settings (another embedder, other chunking) is rebuilt, saying so
    through ``notify``, instead of refusing with :class:`~assistant.errors.IndexModelMismatch`.
    """
    path = folder or settings.articles_dir
    try:
        return build_index(path, settings.index_config(), rebuild=rebuild, progress=progress)
    except IndexModelMismatch:
        if not if_stale:
            raise
        if notify:
            notify("the index was built with other settings (embedder or chunking): rebuilding it")
        return build_index(path, settings.index_config(), rebuild=True, progress=progress)


def prepare_models(settings: Settings, names: Iterable[str], notify: Callable[[str], None] | None = None
                   ) -> list[tuple[str, str]]:
    """Do each embedder's one-time preparation now, and the reader's (``reader``, the default answerer and
    reranker: rebuilt from the shipped delta, exported to int8); ``(name, where it is)`` for each."""
    from assistant.reader_model import ensure_reader

    cache = str(settings.index_config().model_cache_dir)
    out = [(name, prepare_embedder(name, cache, notify=notify)) for name in dict.fromkeys(names) if name != "reader"]
    out.append(("reader", str(ensure_reader(Path(cache), notify=notify))))
    return out


def missing_index_message(settings: Settings) -> str:
    """Why there is no index to answer from, and the command that builds it from the configured articles folder
    (or from the folder of a first build that was killed before it committed)."""
    folder = interrupted_build(settings.index_dir)
    if folder is not None:
        articles = folder or str(settings.articles_dir)
        return (f"no index in {settings.index_dir} yet: the first build (of {articles}) was stopped before it "
                f"finished; run `assistant index {shlex.quote(articles)}` again (it reuses the passages already "
                "embedded)")
    return (f"no index in {settings.index_dir}: build it with `assistant index "
            f"{shlex.quote(str(settings.articles_dir))}` (or `make run`)")


def _open(settings: Settings) -> IndexReader:
    try:
        return open_index(settings.index_config())
    except IndexMissing:
        if load_state(settings.index_dir) is not None:
            raise  # a committed index whose vectors are missing: the store's own message says what to do
        raise IndexMissing(missing_index_message(settings)) from None


class Library:
    """One index, kept current for a long-running assistant; safe to share between threads (the UI's workers)."""

    def __init__(self, settings: Settings, reader: IndexReader | None = None) -> None:
        self.settings = settings
        self.reader = reader or _open(settings)
        self._lock = threading.Lock()

    def refresh(self) -> bool:
        """Reopen the index if a build committed a new state since; returns whether it did.

        Cheap when nothing changed (one small file read), so it runs before every question: a build committed by
        another process or the Library tab is picked up by the next question, and a question in flight finishes on
        the reader it started with (the builder keeps the replaced state and collection until the next build).
        """
        name = current_name(self.settings.index_dir)
        folder = self.reader.state.folder
        if name is None or (folder is not None and folder.name == name):
            return False
        with self._lock:
            folder = self.reader.state.folder
            if folder is None or folder.name != name:
                self.reader = open_index(self.settings.index_config())
                return True
        return False

    def current_reader(self) -> IndexReader:
        """The reader for the next question (after :meth:`refresh`); callers keep it for the whole question."""
        self.refresh()
        return self.reader
