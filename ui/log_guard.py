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

__all__ = ["loggable", "escape_controls", "guard_output", "quiet_choice_errors", "MAX_LOG_LINE"]

MAX_LOG_LINE = 400  # characters of one output line (traceback lines are shorter; request values get cut)
# control characters (Cc, tab and line feed aside), line and paragraph separators (Zl, Zp) and every format character
# (Cf: zero-width spaces and joiners, bidi marks and overrides, the byte-order mark, soft hyphen, tag characters…)
_CONTROLS = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\xad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e"
    "\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb\U000110bd\U000110cd"
    "\U00013430-\U0001343f\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f]"
)
_CUT = " …[cut]"


def escape_controls(text: str) -> str:
    """``text`` with control, line-separator and format characters (zero-width, bidi, BOM) written as
    ``\\xNN``/``\\uNNNN``."""
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


def quiet_choice_errors() -> None:
    """Make Gradio refuse a dropdown value outside its choices (a forged request) in one log line, not a traceback.

    Gradio raises its ``Error`` from ``Dropdown.preprocess`` and prints the traceback (~30 lines, the value and every
    choice in them); here the client gets one line saying the value is not offered and the log gets one line without
    the value. Idempotent.
    """
    import gradio as gr
    from gradio.exceptions import Error

    original = gr.Dropdown.preprocess
    if getattr(original, "_quiet", False):
        return

    def preprocess(self: Any, payload: Any) -> Any:
        try:
            return original(self, payload)
        except Error as exc:
            if not getattr(exc, "print_exception", True):
                raise
            label = loggable(str(getattr(self, "label", None) or "a dropdown"), 60)
            logging.getLogger(__name__).warning("refused a value that is not among the choices of %s", label)
            raise gr.Error(f"the value sent for {label} is not one of its choices: reload the page and pick one",
                           print_exception=False) from None

    preprocess._quiet = True  # type: ignore[attr-defined]
    gr.Dropdown.preprocess = preprocess  # type: ignore[method-assign]


def guard_output(max_line: int = MAX_LOG_LINE) -> None:
    """Wrap ``sys.stdout``/``sys.stderr`` (and the log handlers already writing to them) in guarded streams, and
    make a forged dropdown value cost one log line (:func:`quiet_choice_errors`).

    Log handlers configured later (uvicorn's) pick up the guarded streams. Idempotent.
    """
    quiet_choice_errors()
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
