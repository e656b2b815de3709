"""The trained reader, runnable: rebuilt from the shipped delta over the bundled encoder, exported to int8 ONNX.

* The project ships ``assistant/fitted/reader/reader-delta.safetensors`` (what ``make train`` learned: the trained
  layers' difference from multilingual-e5-small, int8 per row, and the span head) with ``reader.json``.
* :func:`ensure_reader` (run by ``assistant models prepare``, once per machine, ~1 min): the bundled weights
  (:func:`index.e5_convert.ensure_model`) + the delta → a torch model → ONNX → fused → int8 (the recipe it shares
  with the int8 embedder, :mod:`index.onnx_runtime`), into the model cache.
* :class:`ReaderModel` reads a question over passages: every window (:func:`assistant.reading.windows`) in one
  ONNX run, and gives per passage its best spans (:class:`assistant.reading.Span`), whose ``score`` is the span's
  margin over the no-answer score.

>>> reader = load_reader(Path("~/.cache/article-assistant/models").expanduser())  # doctest: +SKIP
>>> reader.read("Siapa yang datang?", ["Budi datang kemarin."])[0][0]  # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sys
import threading
import time
from collections.abc import Callable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from assistant.reading import Span, Window, best_spans, windows
from index.e5_convert import ensure_model, publish_folder
from index.errors import UserError
from index.onnx_runtime import cpu_session, export_int8_onnx

__all__ = ["ReaderModel", "ensure_reader", "load_reader", "reader_delta_dir", "build_torch_reader", "READER_ONNX"]

READER_ONNX = "reader_int8.onnx"
_CONFIG = "reader.json"
_DELTA = "reader-delta.safetensors"
_FORMAT_VERSION = "1"


def reader_delta_dir() -> Path:
    return Path(__file__).resolve().parent / "fitted" / "reader"


def _delta_fingerprint(delta_dir: Path) -> str:
    digest = hashlib.sha1(_FORMAT_VERSION.encode())
    digest.update((delta_dir / _DELTA).read_bytes())
    return digest.hexdigest()[:12]


def build_torch_reader(base: Path, delta_dir: Path):
    """The reader as a torch module (``forward(ids, mask) -> (start_logits, end_logits)``), base + delta."""
    import torch
    import transformers
    from safetensors.numpy import load_file
    from transformers import AutoModel

    transformers.logging.set_verbosity_error()  # the base folder's pooler, unused here, is not news
    transformers.logging.disable_progress_bar()

    class Reader(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.encoder = AutoModel.from_pretrained(str(base), dtype=torch.float32, add_pooling_layer=False,
                                                     attn_implementation="eager")
            self.qa = torch.nn.Linear(self.encoder.config.hidden_size, 2)

        def forward(self, input_ids, attention_mask):
            h = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
            logits = self.qa(h)
            return logits[..., 0], logits[..., 1]

    model = Reader()
    delta = load_file(str(delta_dir / _DELTA))
    params = dict(model.named_parameters())
    with torch.no_grad():
        for key, value in delta.items():
            name, kind = key.rsplit(".", 1) if key.endswith((".q8", ".scale", ".f16")) else (key, "full")
            if kind == "scale":
                continue
            p = params[name]
            if kind == "full":
                p.copy_(torch.from_numpy(value))
            elif kind == "q8":
                p.add_(torch.from_numpy(value.astype(np.float32) * delta[name + ".scale"]))
            else:
                p.add_(torch.from_numpy(value.astype(np.float32)))
    model.eval()
    return model


def _export(base: Path, delta_dir: Path, out_dir: Path, say: Callable[[str], None]) -> None:
    export_int8_onnx(lambda: build_torch_reader(base, delta_dir), out_dir / READER_ONNX,
                     {"start_logits": {0: "batch", 1: "tokens"}, "end_logits": {0: "batch", 1: "tokens"}},
                     "rebuilding the reader from the shipped delta and exporting it to ONNX", say)
    shutil.copy(base / "tokenizer.json", out_dir / "tokenizer.json")
    shutil.copy(delta_dir / _CONFIG, out_dir / _CONFIG)


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def reader_folder(cache_dir: Path, delta_dir: Path | None = None) -> Path:
    delta_dir = delta_dir or reader_delta_dir()
    return Path(cache_dir).expanduser() / f"reader-int8-{_delta_fingerprint(delta_dir)}"


def ensure_reader(cache_dir: Path, delta_dir: Path | None = None,
                  notify: Callable[[str], None] | None = _say) -> Path:
    """The int8 reader folder under ``cache_dir`` (built from the bundled weights and the shipped delta on first
    use, then reused; a new delta gets a new folder)."""
    delta_dir = delta_dir or reader_delta_dir()
    if not (delta_dir / _DELTA).exists():
        raise UserError(f"the trained reader is missing ({delta_dir / _DELTA}): run `make train`, or restore the "
                        "file from git")
    target = reader_folder(cache_dir, delta_dir)
    if (target / READER_ONNX).exists():
        return target
    say = notify or (lambda _m: None)
    say("preparing the reader (once per machine, about a minute; `assistant models prepare` does it ahead)")
    t0 = time.perf_counter()
    base = ensure_model(Path(cache_dir).expanduser())
    try:
        folder = publish_folder(target, READER_ONNX, lambda tmp: _export(base, delta_dir, tmp, say))
    except ImportError as exc:
        raise UserError("building the reader needs onnx, onnxruntime and torch (project dependencies): run "
                        "`make install`") from exc
    say(f"reader ready in {time.perf_counter() - t0:.0f} s: {folder}")
    return folder


class ReaderModel:
    """The int8 reader under ONNX Runtime (thread-safe: one session, runs serialised per instance)."""

    def __init__(self, folder: Path, threads: int = 0) -> None:
        from tokenizers import Tokenizer

        self.folder = folder
        self.meta: dict[str, Any] = json.loads((folder / _CONFIG).read_text(encoding="utf-8"))
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.session = cpu_session(folder / READER_ONNX, threads)
        self._lock = threading.Lock()

    def logits(self, wins: Sequence[Window], batch: int = 1) -> list[tuple[np.ndarray, np.ndarray]]:
        """Start and end logits of each window. One window per run by default: int8 activations are quantized per
        run, so a window read beside others would score a little differently with each batch (and padding costs
        more than the runs' overhead: 8 windows took 0.79 s one by one against 1.03 s in one batch of 16)."""
        out: list[tuple[np.ndarray, np.ndarray]] = [(np.zeros(0), np.zeros(0))] * len(wins)
        order = sorted(range(len(wins)), key=lambda i: len(wins[i].ids))
        for b in range(0, len(order), batch):
            chunk = order[b : b + batch]
            width = max(len(wins[i].ids) for i in chunk)
            ids = np.ones((len(chunk), width), dtype=np.int64)
            mask = np.zeros((len(chunk), width), dtype=np.int64)
            for r, i in enumerate(chunk):
                ids[r, : len(wins[i].ids)] = wins[i].ids
                mask[r, : len(wins[i].ids)] = 1
            with self._lock:
                start, end = self.session.run(None, {"input_ids": ids, "attention_mask": mask})
            for r, i in enumerate(chunk):
                n = len(wins[i].ids)
                out[i] = (start[r, :n], end[r, :n])
        return out

    def read(self, question: str, passages: Sequence[str], n: int = 3) -> list[list[Span]]:
        """Each passage's best spans (best first, over all its windows), scored as margin over no-answer."""
        wins: list[Window] = []
        owner: list[int] = []
        for k, text in enumerate(passages):
            for w in windows(self.tokenizer, question, text):
                wins.append(w)
                owner.append(k)
        result: list[list[Span]] = [[] for _ in passages]
        for w, k, (s, e) in zip(wins, owner, self.logits(wins), strict=True):
            result[k].extend(best_spans(s, e, w, passages[k], n=n))
        for spans in result:
            spans.sort(key=lambda sp: -sp.score)
            seen: list[Span] = []
            for sp in spans:
                if not any(sp.start < o.end and o.start < sp.end for o in seen):
                    seen.append(sp)
            spans[:] = seen[:n]
        return result


@lru_cache(maxsize=2)
def load_reader(cache_dir: Path, threads: int = 0) -> ReaderModel:
    """The reader for the shipped delta (prepared on first use), loaded once per process."""
    return ReaderModel(ensure_reader(Path(cache_dir)), threads)
