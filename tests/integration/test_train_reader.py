"""`make train` runs for real on a tiny slice (a few steps), checkpoints, resumes, and writes a delta that the
product rebuilds into a reader whose weights are the trained ones."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import MODEL_CACHE

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]


def _train(out: Path, work: Path, *extra: str) -> subprocess.CompletedProcess:
    args = f"--out {out} --work {work} --model-cache {MODEL_CACHE} --batch 4 --save-every 1 " + " ".join(extra)
    env = {**os.environ, "PY": sys.executable}
    return subprocess.run(["make", "-s", "train", "LIMIT=6", f"TRAIN_ARGS={args}", f"PY={sys.executable}"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)


def test_make_train_runs_resumes_and_ships_a_loadable_delta(tmp_path):
    import torch

    from assistant.reader_model import build_torch_reader
    from index.e5_convert import ensure_model

    out, work = tmp_path / "out", tmp_path / "work"
    first = _train(out, work, "--epochs 0.5")
    assert first.returncode == 0, first.stderr[-2000:]
    assert "training the reader" in first.stderr and (work / "checkpoint.pt").exists()
    assert {p.name for p in out.iterdir()} == {"reader-delta.safetensors", "reader.json"}

    again = _train(out, work, "--epochs 1", "--resume")
    assert again.returncode == 0, again.stderr[-2000:]
    assert "resumed at step" in again.stderr

    state = torch.load(work / "checkpoint.pt", weights_only=False)["model"]
    model = build_torch_reader(ensure_model(MODEL_CACHE), out)
    trained = dict(model.named_parameters())
    assert torch.equal(trained["qa.weight"], state["qa.weight"])  # the head is shipped as is
    name = "encoder.encoder.layer.11.output.dense.weight"  # a matrix: shipped as an int8 delta over the base
    err = (trained[name] - state[name]).abs().max().item()
    assert err < 1e-3
