"""Keep secrets and whole documents out of the served app's logs and error messages.

:func:`install_redaction` masks the login password and API keys in every log record made in the process (its
message, arguments and traceback), whatever logger or handler it goes to. :func:`short` (one line, cut) is
:func:`ui.log_guard.loggable`, kept under this name for callers that import it from here.

>>> redact("login failed for admin:s3cret", ["s3cret"])
'login failed for admin:***'
>>> short("Kapan CSTO mengirim pasukan ke Kazakhstan?", 20)
'Kapan CSTO mengirim…'
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any

from ui.log_guard import loggable as short

__all__ = ["MASK", "redact", "secrets_of", "short", "install_redaction"]

MASK = "***"
_NOT_SECRET = {"", "not-needed", "none", "null", "empty"}


def redact(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every occurrence of each secret replaced by :data:`MASK` (longest secrets first)."""
    for secret in sorted({s for s in secrets if s}, key=len, reverse=True):
        text = text.replace(secret, MASK)
    return text


def secrets_of(settings: Any) -> list[str]:
    """The values that must never appear in a log: the login password, the whole ``user:password`` string and
    the OpenAI-compatible API key (unless it is the placeholder ``not-needed``) and the conversation history key."""
    out: list[str] = []
    auth = getattr(settings, "auth", None)
    if auth is not None:
        value = auth.get_secret_value() if hasattr(auth, "get_secret_value") else str(auth)
        out += [value, value.partition(":")[2]]
    raw = getattr(settings, "openai_api_key", None)
    key = raw.get_secret_value() if raw is not None and hasattr(raw, "get_secret_value") else raw
    if isinstance(key, str) and key.strip().lower() not in _NOT_SECRET:
        out.append(key)
    history = getattr(settings, "history_secret", None)
    if history is not None:
        out.append(history.get_secret_value() if hasattr(history, "get_secret_value") else str(history))
    return [s for s in out if s]


def install_redaction(secrets: Iterable[str]) -> Callable[[], None]:
    """Mask ``secrets`` in every log record created from now on in this process; returns the undo function.

    It wraps the log-record factory, so it covers all loggers and handlers (gradio's and uvicorn's included) and
    records of disabled levels cost nothing: their messages are never built.
    """
    values = [s for s in secrets if s]
    previous = logging.getLogRecordFactory()
    if not values:
        return lambda: None

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # a malformed log call: leave it to the handler to report
            return record
        record.msg, record.args = redact(message, values), None
        if record.exc_info and record.exc_info[0] is not None:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info), values)
        if record.stack_info:
            record.stack_info = redact(record.stack_info, values)
        return record

    logging.setLogRecordFactory(factory)

    def undo() -> None:
        if logging.getLogRecordFactory() is factory:
            logging.setLogRecordFactory(previous)

    return undo
