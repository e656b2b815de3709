"""Read article files (.txt, .md, .html/.htm, .pdf) into decoded text, never translating newlines.

For .txt/.md the returned ``text`` is exactly the file's decoded text, so ``text[start:end]`` is what the file
holds at those character offsets. For HTML (trafilatura) and PDF (pypdf) it is the extracted text, which the index
stores so that offsets keep their meaning. Text a reader of the page never sees (the classic carrier of injected
instructions) is removed before extraction: see :mod:`index.html_visibility` and :mod:`index.pdf_visibility`.

>>> doc = load_file(Path("data/articles"), Path("data/articles/000_e971559feefaf698.txt"))  # doctest: +SKIP
>>> doc.text[:30]  # doctest: +SKIP
'Sekutu Putin di Asia Tengah Me'

Files that cannot be used raise :class:`Skipped` with a one-line reason (the build reports it and goes on): empty
or binary files, files too large to be one article (:data:`MAX_BYTES`, checked before reading), text with a run of
more than :data:`MAX_RUN_CHARS` characters without a space or line break (encoded or minified data), PDFs without a
text layer, HTML without article text, and links that point outside the articles folder.
"""

from __future__ import annotations

import codecs
import errno
import hashlib
import logging
import re
import stat
from copy import deepcopy
from dataclasses import dataclass, field
from pathlib import Path

from index.errors import BadInput

__all__ = [
    "LoadedDocument", "SUPPORTED_SUFFIXES", "MAX_BYTES", "MAX_TEXT_CHARS", "MAX_RUN_CHARS", "load_file", "discover",
    "decode_text", "kind_of", "Skipped",
]

log = logging.getLogger(__name__)

SUPPORTED_SUFFIXES = (".txt", ".md", ".html", ".htm", ".pdf")
_MB = 1024 * 1024
# Largest file of each kind that is still one article (checked with stat, before a byte is read). A 5 MB text is
# about 1.3 million tokens, some 8,000 passages: tens of minutes of embedding on a laptop CPU. HTML carries markup and
# PDF carries fonts and images, so their files may be larger for the same text.
MAX_BYTES = {"text": 5 * _MB, "html": 20 * _MB, "pdf": 64 * _MB}
MAX_TEXT_CHARS = 5_000_000  # extracted text of an HTML page or PDF
MAX_RUN_CHARS = 10_000  # longest run without a space or line break that can still be prose (long URLs are < 2,000)
_LONG_RUN = re.compile(rf"(?<!\S)\S{{{MAX_RUN_CHARS + 1}}}")  # anchored at a run's start: linear time
_RUN = re.compile(r"\S+")


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


def kind_of(path: Path) -> str:
    """``pdf``, ``html`` or ``text``: how a file with this name is read (and which size limit applies)."""
    suffix = path.suffix.lower()
    return "pdf" if suffix == ".pdf" else "html" if suffix in (".html", ".htm") else "text"


def discover(root: Path) -> list[Path]:
    """All supported files under ``root`` (recursively, sorted, hidden files and folders ignored).

    Links are listed too (not followed into folders); :func:`load_file` skips one that leads outside ``root``.
    Entries that are not regular files but carry an article's name (a named pipe, a socket, a device, a link loop)
    and links to folders (whatever their name) are listed as well, so that the build skips each with a warning
    that says what it is instead of passing over it in silence.
    """
    root = Path(root)
    if not root.exists():
        raise BadInput(f"articles folder not found: {root} (give an existing folder: `assistant index PATH`)")
    if root.is_file():
        return [root] if root.suffix.lower() in SUPPORTED_SUFFIXES else []
    if not root.is_dir():
        raise BadInput(f"{root} is neither a folder nor a file (give a folder of articles: `assistant index PATH`)")
    files = []
    try:
        for path in sorted(root.rglob("*")):
            rel = path.relative_to(root)
            if any(part.startswith(".") for part in rel.parts):
                continue
            supported = path.suffix.lower() in SUPPORTED_SUFFIXES
            if path.is_symlink():
                if supported or path.is_dir():  # a link to a folder is not followed: say so
                    files.append(path)
            elif supported and not path.is_dir():  # regular files, and pipes, sockets, devices named like articles
                files.append(path)
    except OSError as exc:
        raise BadInput(f"cannot list {root} ({exc.strerror or exc}): check the folder's permissions") from None
    return files


def _strict(raw: bytes, codec: str, label: str) -> str:
    try:
        return raw.decode(codec)
    except UnicodeDecodeError as exc:
        raise Skipped(f"starts with a {label} byte-order mark but byte {exc.start} is not valid {label}") from None


def decode_text(raw: bytes) -> str:
    """Decode the bytes of a text file; raise :class:`Skipped` when they are not text.

    In order: a byte-order mark (UTF-8, UTF-16, UTF-32) decides; then UTF-8; then UTF-8 with the odd bad byte
    replaced (U+FFFD) when nearly all non-ASCII bytes are UTF-8; then Windows-1252 (a superset of Latin-1's
    printable characters) when it yields Western text; then charset-normalizer's best guess (Cyrillic, CJK…).

    >>> decode_text("café “€”".encode("cp1252")), decode_text("café".encode("utf-16"))
    ('café “€”', 'café')
    """
    if raw.startswith(codecs.BOM_UTF8):
        raw = raw[len(codecs.BOM_UTF8) :]
    elif raw.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        return _strict(raw, "utf-32", "UTF-32")
    elif raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return _strict(raw, "utf-16", "UTF-16")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        pass
    if b"\x00" in raw[:4096]:
        raise Skipped("binary content (NUL bytes), not text (UTF-16 text needs a byte-order mark)")
    mostly = _mostly_utf8(raw)
    if mostly is not None:
        return mostly
    western = _western(raw)
    if western is not None:
        return western
    from charset_normalizer import from_bytes

    best = from_bytes(raw).best()
    if best is None:
        raise Skipped("not text in any encoding charset-normalizer recognises")
    return str(best)


def _mostly_utf8(raw: bytes) -> str | None:
    """UTF-8 with a few bad bytes (a file pasted together from two sources): those become U+FFFD."""
    text = raw.decode("utf-8", errors="replace")
    bad = text.count("\ufffd")
    good = sum(1 for ch in text if ord(ch) > 127 and ch != "\ufffd")
    return text if good >= 20 * bad else None


_WESTERN_MAX_SHARE = 0.3  # Western European and Indonesian text: few letters outside ASCII (Cyrillic: nearly all)


def _western(raw: bytes) -> str | None:
    """Windows-1252 text (Latin-1 and the curly quotes, dashes and € that Windows adds), or None."""
    try:
        text = raw.decode("cp1252")
    except UnicodeDecodeError:  # 0x81, 0x8d, 0x8f, 0x90, 0x9d are unassigned: not cp1252
        return None
    letters = sum(1 for ch in text if ch.isalpha())
    foreign = sum(1 for ch in text if ord(ch) > 127 and ch.isalpha())
    return text if letters and foreign <= _WESTERN_MAX_SHARE * letters else None


def _long_run(text: str) -> int:
    """Length of the first run longer than :data:`MAX_RUN_CHARS` without a space or line break, else 0."""
    m = _LONG_RUN.search(text)
    if m is None:
        return 0
    run = _RUN.match(text, m.start())
    return len(run.group()) if run else 0


def _looks_binary(text: str) -> bool:
    sample = text[:8192]
    if not sample:
        return False
    bad = sum(1 for ch in sample if (ord(ch) < 32 and ch not in "\t\n\r\f") or ch == "\ufffd")
    return bad / len(sample) > 0.05


def _load_html(raw: bytes) -> tuple[str, dict[str, str | None]]:
    import trafilatura
    from trafilatura.utils import load_html

    from index.css import TooComplex
    from index.html_visibility import drop_hidden

    html = decode_text(raw)
    try:  # trafilatura drops <script>, <style>, navigation and comments; malformed markup must not stop the build
        tree = load_html(html)  # the parse trafilatura makes of the string itself
        if tree is None:
            return "", {}
        hidden = drop_hidden(tree)  # text a visitor never sees (a carrier of injected instructions) goes first
        if hidden:
            log.info("dropped %d hidden HTML element(s) before extraction", hidden)
        meta_obj = trafilatura.extract_metadata(deepcopy(tree))
        text = trafilatura.extract(tree, include_comments=False, include_tables=True, favor_precision=True) or ""
    except TooComplex as exc:  # hidden text cannot be told from visible text in reasonable time
        raise Skipped(str(exc)) from exc
    except Exception as exc:  # noqa: BLE001 - any parser failure means: skip this file, go on with the others
        raise Skipped(f"unreadable HTML ({exc.__class__.__name__})") from exc
    meta: dict[str, str | None] = {}
    if meta_obj is not None:
        meta = {
            "title": meta_obj.title,
            "date": meta_obj.date,
            "author": meta_obj.author,
            "site": meta_obj.sitename,
        }
    return text, meta


def _page_text(page, reader) -> str:
    """The text a reader of the page can see: invisible, white, tiny and off-page text is blanked first."""
    from index.pdf_visibility import blank_hidden_text

    blank_hidden_text(page, reader)
    return (page.extract_text() or "").strip()


def _load_pdf(path: Path) -> str:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(str(path))
        pages = [_page_text(page, reader) for page in reader.pages]
    except PdfReadError as exc:  # also encrypted files (FileNotDecryptedError)
        raise Skipped(f"unreadable PDF ({exc.__class__.__name__}: {' '.join(str(exc).split())[:80]})") from exc
    except Exception as exc:  # noqa: BLE001 - malformed PDFs raise all sorts; skip this file, go on with the others
        raise Skipped(f"unreadable PDF ({exc.__class__.__name__})") from exc
    return "\n\n".join(p for p in pages if p)


def _not_regular(path: Path) -> str:
    """Why ``path`` (not a regular file, or a link to something else) cannot be read, in a few words."""
    try:
        mode = path.stat().st_mode
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return "a symbolic link loop (the link leads back to itself): remove it or point it at an article"
        if path.is_symlink():
            return "not a regular file (a broken link: its target does not exist)"
        return f"cannot read ({exc.strerror or exc})"
    if stat.S_ISDIR(mode):
        return "a link to a folder (links to folders are not followed: copy its articles in, or index it directly)"
    if stat.S_ISFIFO(mode):
        return "not a regular file (a named pipe, FIFO): reading it could wait forever"
    if stat.S_ISSOCK(mode):
        return "not a regular file (a socket)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "not a regular file (a device)"
    return "not a regular file"


def _mb(size: int) -> str:
    return f"{size / _MB:.1f} MB"


def load_file(root: Path, path: Path) -> LoadedDocument:
    """Read one file; raise :class:`Skipped` with a short reason when it cannot be used."""
    root = Path(root)
    path = Path(path)
    try:
        source = path.relative_to(root).as_posix() if root.is_dir() else path.name
    except ValueError:
        source = path.name
    kind = kind_of(path)
    try:
        source.encode("utf-8")
    except UnicodeEncodeError:
        raise Skipped("its name is not valid UTF-8 (rename the file)") from None
    try:
        if root.is_dir():
            try:
                target = path.resolve()
            except RuntimeError:  # "Symlink loop from …" (Python < 3.13)
                raise Skipped(_not_regular(path)) from None
            if not target.is_relative_to(root.resolve()):
                raise Skipped(f"it links to {target}, outside the articles folder (copy the file in instead)")
        if not path.is_file():  # a broken link, a link loop, a link to a folder, a pipe or a device
            raise Skipped(_not_regular(path))
        size = path.stat().st_size
        if size > MAX_BYTES[kind]:
            raise Skipped(
                f"too large to be one article ({_mb(size)}; the limit for {path.suffix.lower()} files is "
                f"{_mb(MAX_BYTES[kind])}): split it into one file per article"
            )
        raw = path.read_bytes()
    except OSError as exc:
        raise Skipped(f"cannot read ({exc.strerror or exc})") from exc
    if not raw.strip():
        raise Skipped("empty file")
    digest = hashlib.sha256(raw).hexdigest()
    meta: dict[str, str | None] = {}
    if kind == "pdf":
        text = _load_pdf(path)
        if not text.strip():
            raise Skipped("PDF has no text layer (scanned?); run OCR first")
    elif kind == "html":
        text, meta = _load_html(raw)
        if not text.strip():
            raise Skipped("no article text found in the HTML")
    else:
        text = decode_text(raw)
        if _looks_binary(text):
            raise Skipped("binary content, not text")
    if not text.strip():
        raise Skipped("empty file (only whitespace)")
    if kind != "text" and len(text) > MAX_TEXT_CHARS:
        raise Skipped(f"too much text to be one article ({len(text):,} characters; the limit is {MAX_TEXT_CHARS:,})")
    run = _long_run(text)
    if run:
        raise Skipped(
            f"has a run of {run:,} characters without a space or line break (encoded or minified data, not article "
            f"text; the limit is {MAX_RUN_CHARS:,})"
        )
    return LoadedDocument(source=source, text=text, kind=kind, content_hash=digest, html_meta=meta)
