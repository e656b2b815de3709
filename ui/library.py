"""The article library behind the Library tab: list, save uploads safely, remove, (re)build; no gradio here.

Uploads are checked on the server, whatever the browser was told: an allowed extension, a size limit, content
that fits the extension, and a sanitised plain file name inside the articles folder (never a path).

>>> safe_name("../../etc/x.txt")
'x.txt'
>>> safe_name("/home/me/.hidden..notes?.MD")
'hidden.notes.md'
"""

from __future__ import annotations

import filecmp
import json
import os
import re
import shutil
import threading
import unicodedata
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from assistant.chain import Assistant
from assistant.errors import BadInput
from assistant.library import MAX_BYTES, SUPPORTED_SUFFIXES, BuildSummary, build_library, kind_of

__all__ = ["ALLOWED_SUFFIXES", "safe_name", "library_rows", "save_uploads", "remove_article", "build", "LIBRARY_HEADERS",
           "SavedUpload", "saved_line", "summary_line", "MAX_NAME_CHARS", "trash_article", "restore_article",
           "trashed_articles"]

ALLOWED_SUFFIXES = SUPPORTED_SUFFIXES
LIBRARY_HEADERS = ["source", "title", "outlet", "date", "chunks"]
MAX_NAME_CHARS = 120
_WINDOWS_RESERVED = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(10)), *(f"lpt{i}" for i in range(10))}
_build_lock = threading.Lock()  # one build at a time; answering goes on meanwhile on the old generation
_save_lock = threading.Lock()  # check-then-write of uploads is atomic between concurrent uploads


def safe_name(name: str, allowed: Sequence[str] = ALLOWED_SUFFIXES) -> str:
    """A plain, safe file name for an upload called ``name``; raises :class:`BadInput` when none can be made.

    Only the last path component is kept (``/`` and ``\\`` both separate), every character other than letters,
    digits, ``_ - .`` and space becomes ``_`` (NUL, ``: * ? " < > |`` and control characters included), runs of dots
    collapse to one, leading and trailing dots and spaces go, Windows device names get a ``_`` prefix, the name is
    cut to :data:`MAX_NAME_CHARS` and the extension, lower-cased, must be one of ``allowed``.
    """
    base = re.split(r"[\\/]", unicodedata.normalize("NFC", name or ""))[-1]
    base = re.sub(r"[^\w.\- ]", "_", re.sub(r"\s+", " ", base))
    base = re.sub(r"\.{2,}", ".", base).strip(" ._")
    stem, dot, suffix = base.rpartition(".")
    suffix = f".{suffix.lower()}" if dot else ""
    if suffix not in allowed:
        shown = name if len(name or "") <= 60 else name[:57] + "…"
        raise BadInput(f"{shown!r} cannot be added: only {' '.join(allowed)} files are accepted")
    stem = stem.strip(" ._")
    if not stem:
        raise BadInput(f"cannot use the file name {name!r}: give a plain name such as article{suffix}")
    if stem.split(".")[0].lower() in _WINDOWS_RESERVED:
        stem = "_" + stem
    return stem[: MAX_NAME_CHARS - len(suffix)].rstrip(" ._") + suffix


@dataclass(frozen=True)
class SavedUpload:
    """One upload as stored: its file name in the articles folder and what happened (added/replaced/unchanged)."""

    name: str
    action: str


def _check_content(src: Path, name: str, size: int) -> None:
    kind = kind_of(Path(name))
    if size > MAX_BYTES[kind]:  # the indexer would skip it: refuse it now rather than store an unlisted file
        raise BadInput(f"{name} is {size / 1e6:.1f} MB; indexing takes {Path(name).suffix} files up to "
                       f"{MAX_BYTES[kind] // (1024 * 1024)} MB (one article per file)")
    with src.open("rb") as fh:
        head = fh.read(65536)
    if kind == "pdf":
        if not head.startswith(b"%PDF-"):
            raise BadInput(f"{name} is not a PDF file (it does not start with %PDF-)")
    elif b"\x00" in head and not head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise BadInput(f"{name} is not a text file (it holds binary data)")


def save_uploads(paths: Sequence[str | Path], articles_dir: Path, max_mb: int, replace: bool = False,
                 allowed: Sequence[str] = ALLOWED_SUFFIXES) -> list[SavedUpload]:
    """Copy uploaded temp files into ``articles_dir`` under :func:`safe_name` names.

    All files are checked before any is written; one bad file refuses the whole upload with one clear line. A file
    whose name is taken by different content is refused unless ``replace``; identical content is left alone.
    Files are written under a hidden temporary name and renamed into place (never through an existing link).
    """
    articles_dir.mkdir(parents=True, exist_ok=True)
    root = articles_dir.resolve()
    checked: list[tuple[Path, str]] = []
    for p in paths:
        src = Path(p)
        name = safe_name(getattr(p, "orig_name", None) or src.name, allowed)
        if not src.is_file():
            raise BadInput(f"{name}: the upload did not arrive, try again")
        size = src.stat().st_size
        if size > max_mb * 1024 * 1024:
            raise BadInput(f"{name} is {size / 1e6:.1f} MB; the limit is {max_mb} MB (ASSISTANT_UPLOAD_MAX_MB)")
        if size == 0:
            raise BadInput(f"{name} is empty")
        _check_content(src, name, size)
        if any(n.lower() == name.lower() for _, n in checked):
            raise BadInput(f"two of the files are both named {name}: rename one")
        checked.append((src, name))
    saved: list[SavedUpload] = []
    with _save_lock:
        for src, name in checked:
            target = root / name
            if target.resolve().parent != root and not target.is_symlink():
                raise BadInput(f"{name} cannot be written inside the articles folder")
            if target.is_symlink() or (target.exists() and not target.is_file()):
                raise BadInput(f"{name} exists in the articles folder and is not a plain file: remove it first")
            if target.exists() and not replace and not filecmp.cmp(src, target, shallow=False):
                raise BadInput(f"{name} already exists with different content: tick “Replace files with the same "
                               "name” to update it, or rename the file")
        for src, name in checked:
            target = root / name
            if target.exists() and filecmp.cmp(src, target, shallow=False):
                saved.append(SavedUpload(name, "unchanged"))
                continue
            action = "replaced" if target.exists() else "added"
            tmp = root / f".upload-{uuid.uuid4().hex}.part"  # hidden: the indexer never picks it up
            try:
                shutil.copyfile(src, tmp)
                os.replace(tmp, target)
            finally:
                tmp.unlink(missing_ok=True)
            saved.append(SavedUpload(name, action))
    return saved


def saved_line(saved: Sequence[SavedUpload]) -> str:
    """One line saying what happened to each upload."""
    parts = []
    for action, label in (("added", "Added"), ("replaced", "Replaced"), ("unchanged", "Already in the library")):
        names = [s.name for s in saved if s.action == action]
        if names:
            parts.append(f"{label}: {', '.join(names)}.")
    return " ".join(parts)


def library_rows(assistant: Assistant) -> list[list[object]]:
    rows: list[list[object]] = []
    for f in assistant.reader.files():
        meta = f.meta or {}
        chunks: object = len(f.chunk_ids) if not f.duplicate_of else f"duplicate of {f.duplicate_of}"
        rows.append([f.source, meta.get("title") or "", meta.get("outlet") or "", meta.get("date") or "", chunks])
    return rows


def _article_entry(source: str, articles_dir: Path) -> Path:
    """The path of article ``source`` inside ``articles_dir`` (the entry itself: a link is never followed)."""
    root = articles_dir.resolve()
    entry = root / source
    parent = entry.parent.resolve()  # folders above the entry may be followed; the entry itself never is
    target = parent / entry.name
    inside = parent == root or root in parent.parents
    if not inside or entry.name in ("", ".", "..") or not (target.is_symlink() or target.is_file()):
        raise BadInput(f"{source} is not a file in the articles folder {articles_dir}")
    return target


def remove_article(source: str, articles_dir: Path) -> None:
    """Delete one article file from ``articles_dir`` (refusing anything outside it).

    A symbolic link is removed itself, never followed: deleting ``alias.txt`` that points at another article (or at
    a file outside the folder) leaves the target untouched.
    """
    _article_entry(source, articles_dir).unlink()


TRASH_NOTE = "trashed.json"  # in each trash entry: the article's name in the articles folder and when it went


def trash_article(source: str, articles_dir: Path, trash_dir: Path) -> Path:
    """Move one article file (or link, never followed) from ``articles_dir`` into a new entry folder of
    ``trash_dir``; returns that entry (:func:`restore_article` puts it back)."""
    target = _article_entry(source, articles_dir)
    root = articles_dir.resolve()
    relative = target.relative_to(root) if target.is_relative_to(root) else Path(target.name)
    entry = trash_dir / f"{datetime.now().strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:6]}"
    (entry / relative).parent.mkdir(parents=True, exist_ok=True)
    (entry / TRASH_NOTE).write_text(json.dumps({"source": relative.as_posix(), "trashed": datetime.now().isoformat(
        timespec="seconds")}), encoding="utf-8")
    shutil.move(str(target), str(entry / relative))
    return entry


def trashed_articles(trash_dir: Path) -> list[tuple[str, str]]:
    """The trash, newest first, as ``(label, entry folder)`` pairs: ``a.txt (removed 2026-12-05 08:01)``."""
    found = []
    for entry in Path(trash_dir).iterdir() if Path(trash_dir).is_dir() else []:
        try:
            note = json.loads((entry / TRASH_NOTE).read_text(encoding="utf-8"))
            source, when = str(note["source"]), str(note.get("trashed", ""))
        except (OSError, ValueError, KeyError, TypeError):
            continue
        if (entry / source).is_file() or (entry / source).is_symlink():
            found.append((when, f"{source} (removed {when.replace('T', ' ')[:16]})", str(entry)))
    found.sort(reverse=True)
    return [(label, path) for _, label, path in found]


def restore_article(entry: str | Path, articles_dir: Path, trash_dir: Path) -> str:
    """Put a trashed article back where it was; returns its name. Refuses an entry outside ``trash_dir`` and a name
    that is taken again meanwhile (rename or remove that file first)."""
    folder = Path(entry).resolve()
    if folder.parent != Path(trash_dir).resolve():
        raise BadInput("pick an article from the trash list")
    try:
        source = str(json.loads((folder / TRASH_NOTE).read_text(encoding="utf-8"))["source"])
    except (OSError, ValueError, KeyError, TypeError):
        raise BadInput("that trash entry cannot be read") from None
    kept = folder / source
    if Path(source).is_absolute() or ".." in Path(source).parts or not (kept.is_file() or kept.is_symlink()):
        raise BadInput("that trash entry holds no article")
    back = articles_dir / source
    if back.exists() or back.is_symlink():
        raise BadInput(f"{source} exists again in the articles folder: rename or remove it first")
    back.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(str(kept), str(back))
    shutil.rmtree(folder, ignore_errors=True)
    return source


def build(assistant: Assistant, rebuild: bool = False,
          progress: Callable[[str, int, int], None] | None = None) -> BuildSummary:
    """Index ``articles_dir`` (incrementally unless ``rebuild``) and make the assistant answer from it."""
    settings = assistant.settings
    with _build_lock:
        summary = build_library(settings, settings.articles_dir, rebuild=rebuild, progress=progress)
        assistant.refresh()
    return summary


def summary_line(summary: BuildSummary) -> str:
    text = (f"Index updated: {summary.indexed} indexed, {summary.unchanged} unchanged, {summary.removed} removed, "
            f"{summary.skipped} skipped · {summary.chunks} chunks · {summary.seconds:.1f} s")
    if summary.warnings:
        text += " · " + "; ".join(summary.warnings[:3])
    return text
