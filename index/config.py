"""The index package's own small configuration (built from the assistant's settings at the entry point), and the
one check that an index was built with the settings asked for now."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from index.errors import IndexModelMismatch

__all__ = ["IndexConfig", "DEFAULT_EMBEDDER", "check_signature"]

# Chosen on FacQA-train's report part (README, "Fitted constants"): the int8 export of multilingual-e5-small gives
# the same retrieval and answer figures as fp32 within their intervals, ~2.6x faster, half the memory.
DEFAULT_EMBEDDER = "e5-small-int8"


@dataclass(frozen=True)
class IndexConfig:
    index_dir: Path
    embedder: str = DEFAULT_EMBEDDER
    model_cache_dir: Path = Path("~/.cache/article-assistant/models")
    chroma_url: str | None = None
    collection_prefix: str = "articles"
    chunk_tokens: int = 160
    chunk_overlap: int = 30
    embed_batch_size: int = 32
    threads: int = 0

    def signature(self, dimension: int) -> dict[str, object]:
        """What an index must have been built with to be read with this configuration."""
        return {
            "embedder": self.embedder,
            "dimension": dimension,
            "chunk_tokens": self.chunk_tokens,
            "chunk_overlap": self.chunk_overlap,
            "chunker": "sentence-cl100k-v1",
        }


def check_signature(found: Mapping[str, object], expected: Mapping[str, object], subject: str,
                    articles: str = "PATH") -> None:
    """Raise :class:`IndexModelMismatch` unless the stored signature ``found`` is ``expected``.

    The message names ``subject`` (e.g. "the index in .index"), each setting that differs with the value it was
    built with and the one asked for now, and the command that rebuilds it from ``articles``.
    """
    keys = [*expected, *(k for k in found if k not in expected)]
    diffs = [f"{k}={found.get(k)!r} (settings: {expected.get(k)!r})" for k in keys if found.get(k) != expected.get(k)]
    if diffs:
        raise IndexModelMismatch(
            f"{subject} was built with {', '.join(diffs)}: rebuild it with `assistant index {articles} --rebuild`, "
            "or use the settings it was built with"
        )
