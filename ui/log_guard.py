r"""Keep what clients send out of the served app's log: short, escaped questions and bounded lines.

:func:`loggable` is how a question is logged (at ``-v``): one line, control characters escaped, cut to a limit.
:func:`guard_output` wraps the process's stdout and stderr (and the log handlers writing to them, Gradio's and
uvicorn's included) so that no line is longer than ``max_line`` characters and no control character reaches the
log raw: a traceback Gradio prints with a request's values in it costs one cut line, not the request.

>>> loggable("Siapa\x00 Tokayev?\n" + "x" * 100, 20)
'Siapa\\x00 Tokayev? …'
"""

from __future__ import annotations

import io
import logging
import re
import sys
import threading
from typing import Any, TextIO

__all__ = ["loggable", "escape_controls", "guard_output", "MAX_LOG_LINE"]

MAX_LOG_LINE = 400  # characters of one output line (traceback lines are shorter; request values get cut)
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_CUT = " …[cut]"


def escape_controls(text: str) -> str:
    """``text`` with control, line-separator and bidi-override characters written as ``\\xNN``/``\\uNNNN``."""
    return _CONTROLS.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


def loggable(text: str, limit: int) -> str:
    """One log line of at most ``limit`` characters: whitespace runs as one space, controls escaped, then cut."""
    if limit <= 0:
        return ""
    line = escape_controls(" ".join((text or "").split()))
    return line if len(line) <= limit else line[: max(0, limit - 1)] + "…"


class _GuardedStream(io.TextIOBase):
    """A text stream that escapes control characters and cuts lines longer than ``max_line`` characters."""

    def __init__(self, stream: TextIO, max_line: int) -> None:
        self._stream = stream
        self._max = max_line
        self._column = 0
        self._cut = False
        self._lock = threading.Lock()

    def write(self, text: str) -> int:
        out: list[str] = []
        with self._lock:
            for piece in re.split(r"(\n)", text):
                if piece == "\n":
                    out.append("\n")
                    self._column, self._cut = 0, False
                    continue
                if not piece:
                    continue
                if self._cut:
                    continue
                piece = escape_controls(piece)
                room = self._max - self._column
                out.append(piece[:room])
                self._column += min(len(piece), room)
                if len(piece) > room:
                    out.append(_CUT)
                    self._cut = True
            self._stream.write("".join(out))
        return len(text)

    def flush(self) -> None:
        self._stream.flush()

    def writable(self) -> bool:
        return True

    def isatty(self) -> bool:
        return self._stream.isatty()

    def fileno(self) -> int:
        return self._stream.fileno()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return getattr(self._stream, "encoding", "utf-8")

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def guard_output(max_line: int = MAX_LOG_LINE) -> None:
    """Wrap ``sys.stdout``/``sys.stderr`` (and the log handlers already writing to them) in guarded streams.

    Log handlers configured later (uvicorn's) pick up the guarded streams. Idempotent.
    """
    swaps: dict[int, _GuardedStream] = {}
    for name in ("stdout", "stderr"):
        stream = getattr(sys, name)
        if isinstance(stream, _GuardedStream) or stream is None:
            continue
        guarded = _GuardedStream(stream, max_line)
        swaps[id(stream)] = guarded
        setattr(sys, name, guarded)
    loggers = [logging.getLogger()] + [logging.getLogger(n) for n in list(logging.root.manager.loggerDict)]
    for logger in loggers:
        for handler in getattr(logger, "handlers", []):
            if isinstance(handler, logging.StreamHandler) and id(handler.stream) in swaps:
                handler.setStream(swaps[id(handler.stream)])
