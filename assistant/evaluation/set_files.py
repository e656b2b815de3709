"""Reading a question-set file into rows: CSV by the csv module in strict mode (line breaks inside quotes kept, an
unbalanced quote refused naming the row where it opens), JSONL one object a line; column names lower-cased with
spaces as underscores; errors name the file and line."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path
from typing import Any

from assistant.errors import BadInput

__all__ = ["csv_rows", "jsonl_rows", "column_key", "FIELD_LIMIT"]

FIELD_LIMIT = 1_000_000  # characters in one CSV field; a list of reference contexts stays far below it


def column_key(name: str) -> str:
    """A column name as compared with the known ones.

    >>> column_key(" Question-Type ")
    'question_type'
    """
    return re.sub(r"[\s\-]+", "_", name.strip().lower())


def _decode_error(path: Path, exc: UnicodeDecodeError | None = None) -> BadInput:
    data = path.read_bytes()
    try:
        data.decode("utf-8-sig")
        start = exc.start if exc else 0
    except UnicodeDecodeError as err:
        start = err.start + (3 if data.startswith(b"\xef\xbb\xbf") else 0)
    line = data[:start].count(b"\n") + 1
    return BadInput(f"{path.name} line {line}: not UTF-8 text (save the file as UTF-8)")


def _csv_error(name: str, start: int, end: int, exc: csv.Error) -> BadInput:
    msg = str(exc)
    if "field larger than field limit" in msg:
        return BadInput(f"{name} line {start}: a field is longer than {FIELD_LIMIT:,} characters "
                        f"(or an unbalanced quote \" starts there)")
    if "unexpected end of data" in msg:
        return BadInput(f"{name} line {start}: a quote \" opened in this row is never closed (it runs to the end of "
                        f"the file); close it, and double quotes inside a field (\"\")")
    if "expected after" in msg and end > start:
        return BadInput(f"{name} line {start}: a quote \" opened in this row is not closed on its line and swallows "
                        f"the rows up to line {end}; close it, and double quotes inside a field (\"\")")
    if "expected after" in msg:
        return BadInput(f"{name} line {start}: text after a closing quote \"; quote the whole field and double quotes "
                        f"inside it (\"\")")
    return BadInput(f"{name} line {start}: not valid CSV ({msg})")


def csv_rows(path: Path) -> tuple[list[str], list[tuple[str, dict[str, Any]]]]:
    """The header and ``(where, row)`` of a CSV file, read by the csv module in strict mode.

    A line break, CRLF or U+2028 inside a quoted field is kept. An unbalanced quote is refused, naming the row where
    it opens: in a well-formed file (RFC 4180) a quote that opens a field is closed before the end of the file, and a
    closing quote is followed by a comma or a line end. A quote left open swallows the following lines up to the next
    quote in the file, which is almost always the opening quote of a later field and so is followed by text (strict
    mode's ``',' expected after '"'``), or it runs to the end of the file (``unexpected end of data``). As a further
    check, a row that spans lines must have exactly the header's number of fields. What passes all three is a quote
    closed by a literal quote that ends an unquoted field of a later row (``12",``) with the rest of that row
    filling exactly the missing fields. A single-line row with more non-empty fields than the header (an unquoted
    comma) is refused too; a shorter row leaves the rest empty.
    """
    name = path.name
    old_limit = csv.field_size_limit(FIELD_LIMIT)
    header: list[str] | None = None
    rows: list[tuple[str, dict[str, Any]]] = []
    try:
        with open(path, encoding="utf-8-sig", newline="") as fh:
            reader = csv.reader(fh, strict=True)
            while True:
                start = reader.line_num + 1
                try:
                    record = next(reader)
                except StopIteration:
                    break
                except csv.Error as exc:
                    raise _csv_error(name, start, reader.line_num, exc) from None
                if not any(v.strip() for v in record):
                    continue
                if header is None:
                    header = [column_key(h) for h in record]
                    dup = next((h for i, h in enumerate(header) if h and h in header[:i]), None)
                    if dup:
                        raise BadInput(f"{name} line {start}: column '{dup}' appears twice in the header")
                    continue
                if reader.line_num > start and len(record) != len(header):
                    raise BadInput(f"{name} line {start}: this row spans lines {start}-{reader.line_num} and has "
                                   f"{len(record)} fields instead of {len(header)}: probably an unbalanced quote \" "
                                   f"that swallowed the next row")
                if any(v.strip() for v in record[len(header):]):
                    raise BadInput(f"{name} line {start}: {len(record)} fields but the header has {len(header)}; "
                                   f"put quotes around fields that contain commas")
                rows.append((f"{name} line {start}", {h: v for h, v in zip(header, record, strict=False) if h}))
    except UnicodeDecodeError as exc:
        raise _decode_error(path, exc) from None
    finally:
        csv.field_size_limit(old_limit)
    return header or [], rows


def jsonl_rows(path: Path) -> tuple[list[str], list[tuple[str, Any]]]:
    name = path.name
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _decode_error(path, exc) from None
    rows: list[tuple[str, Any]] = []
    fields: dict[str, None] = {}
    for n, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        where = f"{name} line {n}"
        try:
            raw = json.loads(line)
        except json.JSONDecodeError as exc:
            raise BadInput(
                f"{where}: not valid JSON ({exc.msg} at column {exc.colno}); each line must be one JSON object"
            ) from None
        if isinstance(raw, dict):
            keyed = {column_key(k): v for k, v in raw.items()}
            if len(keyed) < len(raw):
                raise BadInput(f"{where}: two fields differ only in case or spacing ({', '.join(raw)})")
            raw = keyed
            fields.update(dict.fromkeys(raw))
        rows.append((where, raw))
    return list(fields), rows
