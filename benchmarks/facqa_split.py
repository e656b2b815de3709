"""Split FacQA-train by passage into fit / choose / report parts (fixed seed); writes data/external/facqa-train/split.json.

Questions about one passage always land in the same part, so a part never sees another part's passages. The file is
committed: re-running with the same seed reproduces it byte for byte.

    .venv/bin/python benchmarks/facqa_split.py [--seed 20261127]
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FACQA = ROOT / "data" / "external" / "facqa-train"
SPLIT = FACQA / "split.json"
SHARES = {"fit": 0.5, "choose": 0.25, "report": 0.25}


def load_questions() -> list[dict]:
    return [json.loads(line) for line in (FACQA / "questions.jsonl").read_text(encoding="utf-8").splitlines() if line]


def make_split(seed: int) -> dict:
    questions = load_questions()
    passages = sorted({q["sources"][0] for q in questions})
    random.Random(seed).shuffle(passages)
    n_fit = round(len(passages) * SHARES["fit"])
    n_choose = round(len(passages) * SHARES["choose"])
    parts = {"fit": passages[:n_fit], "choose": passages[n_fit:n_fit + n_choose], "report": passages[n_fit + n_choose:]}
    part_of = {p: name for name, ps in parts.items() for p in ps}
    ids: dict[str, list[str]] = {name: [] for name in parts}
    for q in questions:
        ids[part_of[q["sources"][0]]].append(q["id"])
    return {"seed": seed, "by": "passage", "shares": SHARES,
            "passages": {k: sorted(v) for k, v in parts.items()}, "questions": ids}


def load_split() -> dict:
    return json.loads(SPLIT.read_text(encoding="utf-8"))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=20261127)
    args = ap.parse_args()
    split = make_split(args.seed)
    SPLIT.write_text(json.dumps(split, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(" · ".join(f"{k}: {len(split['passages'][k])} passages, {len(split['questions'][k])} questions"
                     for k in SHARES))


if __name__ == "__main__":
    main()
