"""Read article files (.txt, .md, .html/.htm, .pdf) into decoded text, never translating newlines.

For .txt/.md the returned ``text`` is exactly the file's decoded text, so ``text[start:end]`` is what the file
holds at those character offsets. For HTML (trafilatura) and PDF (pypdf) it is the extracted text, which the index
stores so that offsets keep their meaning.

>>> doc = load_file(Path("data/articles"), Path("data/articles/000_e971559feefaf698.txt"))  # doctest: +SKIP
>>> doc.text[:30]  # doctest: +SKIP
'Sekutu Putin di Asia Tengah Me'
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from pathlib import Path

from index.errors import BadInput

__all__ = ["LoadedDocument", "SUPPORTED_SUFFIXES", "load_file", "discover", "decode_text", "Skipped"]

log = logging.getLogger(__name__)

SUPPORTED_SUFFIXES = (".txt", ".md", ".html", ".htm", ".pdf")
MAX_FILE_BYTES = 64 * 1024 * 1024


@dataclass
class LoadedDocument:
    """One article as read from disk."""

    source: str  # path relative to the articles folder, with forward slashes
    text: str
    kind: str  # "text", "html" or "pdf"
    content_hash: str  # sha256 of the file's bytes
    html_meta: dict[str, str | None] = field(default_factory=dict)


class Skipped(Exception):
    """A file that cannot be read; the message names the reason (the run goes on)."""


def discover(root: Path) -> list[Path]:
    """All supported files under ``root`` (recursively, sorted, hidden files and folders ignored)."""
    root = Path(root)
    if not root.exists():
        raise BadInput(f"articles folder not found: {root} (give an existing folder: `assistant index PATH`)")
    if root.is_file():
        return [root] if root.suffix.lower() in SUPPORTED_SUFFIXES else []
    files = []
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if any(part.startswith(".") for part in rel.parts):
            continue
        if path.is_file() and path.suffix.lower() in SUPPORTED_SUFFIXES:
            files.append(path)
    return files


def decode_text(raw: bytes) -> str:
    """Decode bytes of a text file: UTF-8 (BOM stripped), UTF-16 with BOM, else charset-normalizer's best guess."""
    if raw.startswith(b"\xef\xbb\xbf"):
        return raw[3:].decode("utf-8")
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return raw.decode("utf-16")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        pass
    if b"\x00" in raw[:4096]:
        raise Skipped("binary content (NUL bytes), not text")
    from charset_normalizer import from_bytes

    best = from_bytes(raw).best()
    if best is None:
        raise Skipped("not text in any encoding charset-normalizer recognises")
    return str(best)


def _looks_binary(text: str) -> bool:
    sample = text[:8192]
    if not sample:
        return False
    bad = sum(1 for ch in sample if (ord(ch) < 32 and ch not in "\t\n\r\f") or ch == "\ufffd")
    return bad / len(sample) > 0.05


def _load_html(raw: bytes) -> tuple[str, dict[str, str | None]]:
    import trafilatura

    html = decode_text(raw)
    text = trafilatura.extract(html, include_comments=False, include_tables=True, favor_precision=True) or ""
    meta_obj = trafilatura.extract_metadata(html)
    meta: dict[str, str | None] = {}
    if meta_obj is not None:
        meta = {
            "title": meta_obj.title,
            "date": meta_obj.date,
            "author": meta_obj.author,
            "site": meta_obj.sitename,
        }
    return text, meta


def _load_pdf(path: Path) -> str:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(str(path))
        pages = [(page.extract_text() or "").strip() for page in reader.pages]
    except (PdfReadError, ValueError, KeyError, OSError) as exc:
        raise Skipped(f"unreadable PDF ({exc.__class__.__name__})") from exc
    return "\n\n".join(p for p in pages if p)


def load_file(root: Path, path: Path) -> LoadedDocument:
    """Read one file; raise :class:`Skipped` with a short reason when it cannot be used."""
    root = Path(root)
    path = Path(path)
    try:
        source = path.relative_to(root).as_posix() if root.is_dir() else path.name
    except ValueError:
        source = path.name
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise Skipped(f"file too large ({size // (1024 * 1024)} MB > {MAX_FILE_BYTES // (1024 * 1024)} MB)")
        raw = path.read_bytes()
    except OSError as exc:
        raise Skipped(f"cannot read ({exc.strerror or exc})") from exc
    if not raw.strip():
        raise Skipped("empty file")
    digest = hashlib.sha256(raw).hexdigest()
    suffix = path.suffix.lower()
    meta: dict[str, str | None] = {}
    if suffix == ".pdf":
        text, kind = _load_pdf(path), "pdf"
        if not text.strip():
            raise Skipped("PDF has no text layer (scanned?); run OCR first")
    elif suffix in (".html", ".htm"):
        text, meta = _load_html(raw)
        kind = "html"
        if not text.strip():
            raise Skipped("no article text found in the HTML")
    else:
        text, kind = decode_text(raw), "text"
        if _looks_binary(text):
            raise Skipped("binary content, not text")
    if not text.strip():
        raise Skipped("no text")
    return LoadedDocument(source=source, text=text, kind=kind, content_hash=digest, html_meta=meta)
