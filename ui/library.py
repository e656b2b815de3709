"""The article library behind the Library tab: list, save uploads safely, remove, (re)build; no gradio here."""

from __future__ import annotations

import re
import shutil
import threading
from collections.abc import Callable
from pathlib import Path

from assistant.chain import Assistant
from assistant.errors import BadInput
from index import BuildSummary, build_index

__all__ = ["ALLOWED_SUFFIXES", "safe_name", "library_rows", "save_uploads", "remove_article", "build", "LIBRARY_HEADERS"]

ALLOWED_SUFFIXES = (".txt", ".md", ".html", ".htm", ".pdf")
LIBRARY_HEADERS = ["source", "title", "outlet", "date", "chunks"]
_build_lock = threading.Lock()  # one build at a time; answering goes on meanwhile on the old generation


def safe_name(name: str) -> str:
    """Basename only, no path tricks, allowed extension; raises :class:`BadInput` otherwise."""
    base = re.split(r"[\\/]", name or "")[-1].strip()
    base = re.sub(r"[^\w.\- ]", "_", base).strip(" .")
    if not base or base.startswith(".") or ".." in base:
        raise BadInput(f"cannot use the file name {name!r}: give a plain name such as article.txt")
    if not base.lower().endswith(ALLOWED_SUFFIXES):
        raise BadInput(f"{base}: only {' '.join(ALLOWED_SUFFIXES)} files can be added")
    return base


def library_rows(assistant: Assistant) -> list[list[object]]:
    rows: list[list[object]] = []
    for f in assistant.reader.files():
        meta = f.meta or {}
        chunks: object = len(f.chunk_ids) if not f.duplicate_of else f"duplicate of {f.duplicate_of}"
        rows.append([f.source, meta.get("title") or "", meta.get("outlet") or "", meta.get("date") or "", chunks])
    return rows


def save_uploads(paths: list[str], articles_dir: Path, max_mb: int) -> list[str]:
    """Copy uploaded temp files into ``articles_dir`` under sanitised names; returns the names saved."""
    articles_dir.mkdir(parents=True, exist_ok=True)
    checked: list[tuple[Path, str]] = []
    for p in paths:
        src = Path(p)
        name = safe_name(getattr(p, "orig_name", None) or src.name)
        size = src.stat().st_size
        if size > max_mb * 1024 * 1024:
            raise BadInput(f"{name} is {size / 1e6:.1f} MB; the limit is {max_mb} MB (ASSISTANT_UPLOAD_MAX_MB)")
        if size == 0:
            raise BadInput(f"{name} is empty")
        checked.append((src, name))
    for src, name in checked:
        shutil.copyfile(src, articles_dir / name)
    return [name for _, name in checked]


def remove_article(source: str, articles_dir: Path) -> None:
    """Delete one article file from ``articles_dir`` (refusing anything outside it)."""
    root = articles_dir.resolve()
    target = (root / source).resolve()
    if root not in target.parents or not target.is_file():
        raise BadInput(f"{source} is not a file in the articles folder {articles_dir}")
    target.unlink()


def build(assistant: Assistant, rebuild: bool = False,
          progress: Callable[[str, int, int], None] | None = None) -> BuildSummary:
    """Index ``articles_dir`` (incrementally unless ``rebuild``) and make the assistant answer from it."""
    settings = assistant.settings
    with _build_lock:
        summary = build_index(settings.articles_dir, settings.index_config(), rebuild=rebuild, progress=progress)
        assistant.refresh()
    return summary


def summary_line(summary: BuildSummary) -> str:
    text = (f"Index updated: {summary.indexed} indexed, {summary.unchanged} unchanged, {summary.removed} removed, "
            f"{summary.skipped} skipped · {summary.chunks} chunks · {summary.seconds:.1f} s")
    if summary.warnings:
        text += " · " + "; ".join(summary.warnings[:3])
    return text
