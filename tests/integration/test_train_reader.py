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


def test_the_articles_qa_stage_goes_on_from_a_checkpoint_without_its_held_out_fold(tmp_path):
    """``--stage articles-qa`` (what `make train` runs after the epochs, and twice more with ``--hold-out-fold``)
    starts from a checkpoint's weights and trains on the articles-qa rows but those of the held-out fold."""
    import json

    base_work, out, work = tmp_path / "base", tmp_path / "out", tmp_path / "work"
    first = _train(tmp_path / "base-out", base_work, "--epochs 0.2")
    assert first.returncode == 0, first.stderr[-2000:]
    rows = [json.loads(line) for line in (ROOT / "data" / "reader" / "articles-qa-fit.jsonl").open(encoding="utf-8")]
    stage = subprocess.run(
        [sys.executable, "-m", "training.train_reader", "--freeze-layers", "4", "--stage", "articles-qa",
         "--init", str(base_work / "checkpoint.pt"), "--repeat", "1", "--replay", "4", "--hold-out-fold", "0",
         "--epochs", "0.02", "--batch", "4", "--out", str(out), "--work", str(work), "--model-cache",
         str(MODEL_CACHE)], cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert stage.returncode == 0, stage.stderr[-2000:]
    assert f"starting from the weights of {base_work / 'checkpoint.pt'}" in stage.stderr
    meta = json.loads((out / "reader.json").read_text(encoding="utf-8"))
    assert meta["stage"] == "articles-qa" and meta["hold_out_fold"] == 0 and meta["fit_questions"] == 4
    assert meta["articles_qa_rows"] == sum(r["fold"] != 0 for r in rows) < len(rows)
    assert (out / "reader-delta.safetensors").exists()
