"""The small family of errors meant for people: each message says what went wrong and how to fix it.

The CLI prints ``str(error)`` on one line and exits with code 1; nothing here ever becomes a traceback.
The index package raises the same classes (it re-exports them from :mod:`index.errors`).
"""

from index.errors import BadInput, IndexMissing, IndexModelMismatch, UserError

__all__ = ["UserError", "BadInput", "IndexMissing", "IndexModelMismatch", "BackendUnavailable"]


class BackendUnavailable(UserError):
    """An LLM or embedding backend cannot be used (missing package, server down, unknown name)."""
