"""Errors for people, raised by the index package (the assistant re-exports and extends them)."""

__all__ = ["UserError", "BadInput", "IndexMissing", "IndexModelMismatch"]


class UserError(Exception):
    """Base class: a mistake or a missing piece the user can fix; its message says how."""


class BadInput(UserError):
    """A path, file, question or question set that cannot be used as given."""


class IndexMissing(UserError):
    """No index exists where the settings point."""


class IndexModelMismatch(UserError):
    """The index was built with another embedder or other chunk settings than the ones asked for now."""
