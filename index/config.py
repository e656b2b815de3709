"""The index package's own small configuration (built from the assistant's settings at the entry point)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

__all__ = ["IndexConfig", "DEFAULT_EMBEDDER"]

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
