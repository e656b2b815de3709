"""The int8 ONNX recipe and the ONNX Runtime session shared by the int8 embedder (:mod:`index.e5_int8`) and the
trained reader (:mod:`assistant.reader_model`), both multilingual-e5-small's encoder with their own head:

1. export the torch module (``forward(input_ids, attention_mask)``; eager attention, so that ONNX Runtime's BERT
   optimizer can fuse it) to fp32 ONNX (``torch.onnx``, opset 17, batch and token axes dynamic);
2. fuse attention, GELU and LayerNorm (``onnxruntime.transformers.optimizer``, model type ``bert``);
3. quantize dynamically to int8: weights per output channel (signed), activations per tensor at run time
   (``onnxruntime.quantization.quantize_dynamic``). The FFN output projections stay fp32: their input (after GELU)
   has outliers that per-tensor int8 activations clip.

:func:`cpu_session` opens such a file on the CPU (``threads`` intra-op threads, 0 = ONNX Runtime's choice).
Building needs ``torch``, ``onnx`` and ``onnxruntime``; running needs only ``onnxruntime``.
"""

from __future__ import annotations

import re
import shutil
import tempfile
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = ["export_int8_onnx", "cpu_session"]

_FFN_OUT = re.compile(r"layer\.\d+/output/dense/MatMul$")  # not attention/output/dense


def export_int8_onnx(build: Callable[[], Any], out_file: Path, outputs: dict[str, dict[int, str]], first_step: str,
                     say: Callable[[str], None], hidden: int = 384, heads: int = 12, layers: int = 12) -> None:
    """Write ``out_file``, the int8 ONNX graph of the torch module ``build()`` makes (see the module docstring).

    ``outputs``: the graph's output names with their dynamic axes; ``say(line)`` hears each of the three steps as it
    starts (``first_step``: what the first one, building and exporting, is called). Fails loudly when the optimizer
    fused no attention or the graph lacks one FFN output per layer (the recipe's speed and accuracy depend on both).
    """
    import logging

    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from onnxruntime.transformers import optimizer

    work = Path(tempfile.mkdtemp(prefix=".onnx-", dir=out_file.parent))
    quiet = logging.getLogger()
    level = quiet.level
    quiet.setLevel(logging.ERROR)  # the quantizer warns about pre-processing on the root logger
    try:
        say(f"  1/3 {first_step}")
        _export_fp32(build(), work / "fp32.onnx", outputs)
        say("  2/3 fusing attention, GELU and LayerNorm")
        fused = optimizer.optimize_model(str(work / "fp32.onnx"), model_type="bert", num_heads=heads,
                                         hidden_size=hidden)
        stats = fused.get_fused_operator_statistics()
        if stats.get("Attention", 0) == 0:
            raise RuntimeError(f"ONNX Runtime did not fuse attention in the exported graph: {stats}")
        keep_fp32 = [n.name for n in fused.model.graph.node if n.op_type == "MatMul" and _FFN_OUT.search(n.name)]
        if len(keep_fp32) != layers:
            raise RuntimeError(f"expected {layers} FFN output MatMuls in the exported graph, found {len(keep_fp32)}")
        fused.save_model_to_file(str(work / "fused.onnx"))
        del fused
        say("  3/3 quantizing the weights to int8")
        quantize_dynamic(str(work / "fused.onnx"), str(out_file), weight_type=QuantType.QInt8,
                         per_channel=True, nodes_to_exclude=keep_fp32,
                         extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT})
    finally:
        quiet.setLevel(level)
        shutil.rmtree(work, ignore_errors=True)


def _export_fp32(model: Any, out: Path, outputs: dict[str, dict[int, str]]) -> None:
    import torch

    ids = torch.ones(2, 16, dtype=torch.long)
    axes = {"input_ids": {0: "batch", 1: "tokens"}, "attention_mask": {0: "batch", 1: "tokens"}, **outputs}
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, (ids, torch.ones_like(ids)), str(out), input_names=["input_ids", "attention_mask"],
                          output_names=list(outputs), dynamic_axes=axes, opset_version=17, dynamo=False)


def cpu_session(path: Path, threads: int = 0) -> Any:
    """An ``onnxruntime.InferenceSession`` over ``path`` on the CPU: ``threads`` intra-op threads, one inter-op
    thread, all graph optimizations, errors only in its log."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
