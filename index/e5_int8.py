"""An int8 ONNX Runtime copy of the converted multilingual-e5-small (``e5-small-int8``): ~2x faster on CPU.

:func:`ensure_int8_model` builds it once from the fp32 sentence-transformers folder of :mod:`index.e5_convert`, by
the int8 recipe of :mod:`index.onnx_runtime` (shared with the trained reader):

1. export the XLM-RoBERTa encoder with mean pooling and L2 normalisation inside the graph (``torch.onnx``, eager
   attention so that ONNX Runtime's BERT optimizer can fuse it);
2. fuse attention, GELU and LayerNorm (``onnxruntime.transformers.optimizer``, model type ``bert``);
3. quantize dynamically to int8: weights per output channel (signed), activations per tensor at run time
   (``onnxruntime.quantization.quantize_dynamic``), the word-embedding table too (139 MB on disk). The 12 FFN
   output projections stay fp32: their input (after GELU) has outliers that per-tensor int8 activations clip;
   keeping them raises the worst query cosine with fp32 from 0.991 to 0.996 for ~15 % of the speed-up.

Measured on the sample passages and the dev questions: cosine with the fp32 model >= 0.995 (see
``tests/integration/test_embedder_int8.py``). Building needs the ``onnx`` package (once, ~30 s, ~2 GB peak);
running needs only ``onnxruntime`` and ``tokenizers``.

>>> folder = ensure_int8_model(Path("~/.cache/article-assistant/models").expanduser())  # doctest: +SKIP
>>> sorted(p.name for p in folder.iterdir())  # doctest: +SKIP
['e5_int8.json', 'model_int8.onnx', 'tokenizer.json']
"""

from __future__ import annotations

import json
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path

from index.e5_convert import MODEL_NAME, PROMPTS, ensure_model, publish_folder
from index.errors import UserError
from index.onnx_runtime import export_int8_onnx

__all__ = ["ensure_int8_model", "export_int8", "int8_folder", "INT8_FILE", "INT8_CONFIG"]

INT8_FILE = "model_int8.onnx"
INT8_CONFIG = "e5_int8.json"
_FORMAT_VERSION = "2"  # bump when the exported graph or the quantization recipe (index.onnx_runtime) changes
_ONNX_MISSING = ("building the int8 embedder needs the packages onnx and onnxruntime (project dependencies): run "
                 "`make install` (or use ASSISTANT_EMBEDDER=e5-small)")


def _pooled_model(src: Path):
    """The fp32 encoder of ``src`` with mean pooling and L2 normalisation: ``(input_ids, attention_mask) ->
    embedding``."""
    import torch
    import transformers
    from transformers import AutoModel

    transformers.logging.set_verbosity_error()
    transformers.logging.disable_progress_bar()  # "Loading weights" would break the export's own progress lines
    model = AutoModel.from_pretrained(str(src), attn_implementation="eager", dtype=torch.float32)
    model.eval()

    class _Pooled(torch.nn.Module):
        def __init__(self, encoder: torch.nn.Module) -> None:
            super().__init__()
            self.encoder = encoder

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
            hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            mean = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(mean, p=2.0, dim=-1)

    return _Pooled(model)


def _to_stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def export_int8(src: Path, out_dir: Path, hidden: int = 384, heads: int = 12, layers: int = 12,
                notify: Callable[[str], None] | None = None) -> Path:
    """Write ``model_int8.onnx``, ``tokenizer.json`` and ``e5_int8.json`` for the fp32 folder ``src``;
    ``notify(line)`` hears each of the three steps as it starts."""
    say = notify or (lambda _m: None)
    try:
        import onnx  # noqa: F401  (the recipe's, checked before any work)
    except ImportError as exc:
        raise UserError(_ONNX_MISSING) from exc

    out_dir.mkdir(parents=True, exist_ok=True)
    export_int8_onnx(lambda: _pooled_model(src), out_dir / INT8_FILE, {"embedding": {0: "batch"}},
                     "exporting the fp32 model to ONNX", say, hidden=hidden, heads=heads, layers=layers)
    shutil.copy(src / "tokenizer.json", out_dir / "tokenizer.json")
    max_len = json.loads((src / "sentence_bert_config.json").read_text())["max_seq_length"]
    config = {"dimension": hidden, "max_seq_length": max_len, "prompts": PROMPTS, "source": src.name,
              "format": _FORMAT_VERSION}
    (out_dir / INT8_CONFIG).write_text(json.dumps(config, indent=2))
    return out_dir


def int8_folder(cache_dir: Path) -> Path:
    """Where the int8 model for the bundled weights lives under ``cache_dir`` (it may not be built yet)."""
    src = ensure_model(Path(cache_dir))
    return src.parent / f"{MODEL_NAME}-int8-{_FORMAT_VERSION}-{src.name.rsplit('-', 1)[-1]}"


def ensure_int8_model(cache_dir: Path, notify: Callable[[str], None] | None = _to_stderr) -> Path:
    """The int8 folder under ``cache_dir`` (built from the fp32 conversion on first use, then reused).

    The one-time build takes ~30 s on 2 cores: ``notify`` (default: a line on stderr) hears when it starts, each
    step, and when it is done; ``assistant models prepare`` runs it ahead (e.g. at install).
    """
    src = ensure_model(Path(cache_dir))
    target = int8_folder(cache_dir)
    if (target / INT8_CONFIG).exists():
        return target
    say = notify or (lambda _m: None)
    say("preparing the int8 embedder (once per machine, about 30 s; `assistant models prepare` does it ahead)")
    t0 = time.perf_counter()
    folder = publish_folder(target, INT8_CONFIG, lambda tmp: export_int8(src, tmp, notify=say))
    say(f"int8 embedder ready in {time.perf_counter() - t0:.0f} s: {folder}")
    return folder
