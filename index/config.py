"""The index package's own small configuration (built from the assistant's settings at the entry point)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

__all__ = ["IndexConfig"]


@dataclass(frozen=True)
class IndexConfig:
    index_dir: Path
    embedder: str = "e5-small"
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
