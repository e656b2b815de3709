"""Indexing: load → clean → chunk → embed → store, plus read access to a built index.

The assistant builds an :class:`IndexConfig` from its settings and calls :func:`build_index` or
:func:`open_index`; nothing here imports the assistant.
"""

from index.builder import BuildSummary, build_index
from index.config import IndexConfig
from index.errors import BadInput, IndexMissing, IndexModelMismatch, UserError
from index.reader import IndexReader, Passage, open_index

__all__ = [
    "BuildSummary", "build_index", "IndexConfig", "IndexReader", "Passage", "open_index",
    "UserError", "BadInput", "IndexMissing", "IndexModelMismatch",
]
