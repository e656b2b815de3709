"""Which reader weights to ship: span figures on the reader data's *choose* part for each candidate delta.

    .venv/bin/python benchmarks/choose_reader.py DELTA_DIR [DELTA_DIR ...]

Each ``DELTA_DIR`` holds a ``reader-delta.safetensors`` (``assistant/fitted/reader`` is the shipped one; a training
run writes its own with ``--out``); each is prepared to int8 like the shipped one (a new delta gets its own cache
folder) and read over the *choose* part's questions, each over its own paragraph, plus the foreign paragraphs that
lack its answer (no-answer precision / recall at the shipped ``answer_at``). The answer-level half of the choice is
``python benchmarks/fit_reader_answers.py --fresh`` with each delta in place: its *choose* figures are recorded in
``assistant/fitted/reader-answer.json``. The *report* part is never read here.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from report_reader import span_report  # noqa: E402

from assistant.reader_answer import load_policy  # noqa: E402
from assistant.reader_model import ReaderModel, ensure_reader  # noqa: E402
from assistant.settings import Settings  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("deltas", nargs="+", type=Path)
    ap.add_argument("--limit", type=int, default=0, help="first N choose questions only")
    args = ap.parse_args()
    settings = Settings()
    answer_at = load_policy().answer_at
    for delta in args.deltas:
        model = ReaderModel(ensure_reader(settings.model_cache_dir.expanduser(), delta.resolve()))
        figs = span_report(settings, answer_at, args.limit, part="choose", model=model)
        print(json.dumps({"delta": str(delta), **figs}), flush=True)


if __name__ == "__main__":
    main()
