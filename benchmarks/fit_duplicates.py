"""Choose when retrieval skips a passage as a near-duplicate of one already chosen, on FacQA-train's fit/choose parts.

    .venv/bin/python benchmarks/fit_duplicates.py [--embedder e5-small-int8]

:func:`assistant.retrieval.retrieve` skips a passage whose content terms overlap a chosen one's by at least the
threshold (term Jaccard) so the same paragraph is not shown twice. FacQA holds re-published paragraphs that differ
only in spacing ("1, 2 juta" / "1,2 juta"), and paragraphs that share much wording but state different facts, so
the threshold matters. For each candidate threshold (and none), the product's top 5 on each part:

* **answer in top 5**: a passage states the reference answer or an alias (normalised containment, as
  ``benchmarks/report_retrieval.py`` checks): indifferent to *which* of two identical paragraphs is kept, so it is
  the measure of choice;
* **span hit@5**: the evaluator's hit@5 (the gold file's span covered), shown for reference.

Chosen: the best answer-in-top-5 on *choose*; ties go to the better *fit* figure, then to the lowest threshold
(the most duplicates removed). Written to ``assistant/fitted/duplicates.json``; the *report* part is never read.
"""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import numpy as np  # noqa: E402
from report_retrieval import holds_answer  # noqa: E402
from retrieval_data import ROOT, gold, part, pool_from_args, score, write_json  # noqa: E402

from assistant import retrieval  # noqa: E402
from assistant.fusion import FITTED_DIR  # noqa: E402

THRESHOLDS: tuple[float | None, ...] = (0.5, 0.6, 0.7, 0.8, 0.9, 0.95, None)  # None: no passage is skipped


def measure(reader, settings, name: str, threshold: float | None) -> tuple[float, float]:
    """(answer in top 5, span hit@5) of the product's retrieval on one part with ``threshold``."""
    retrieval.duplicate_jaccard = lambda: threshold if threshold is not None else float("inf")  # type: ignore
    answers, spans = [], []
    for it in part(name):
        result = retrieval.retrieve(reader, settings, it.question, top_k=5)
        answers.append(float(any(holds_answer(p.text, it) for p in result.passages)))
        spans.append(score(gold(reader, it), [(p.source, p.start, p.end) for p in result.passages])[0])
    return float(np.mean(answers)), float(np.mean(spans))


def main() -> None:
    args, settings, reader = pool_from_args(__doc__.splitlines()[0], "e5-small-int8")
    print(f"Near-duplicate threshold ({args.embedder}): answer in top 5 / span hit@5 of the product's retrieval")
    print(f"{'threshold':>9} {'fit answer':>10} {'fit span':>8} {'choose answer':>13} {'choose span':>11}")
    rows = {}
    for t in THRESHOLDS:
        fit, choose = measure(reader, settings, "fit", t), measure(reader, settings, "choose", t)
        rows[t] = {"fit": fit, "choose": choose}
        print(f"{t if t is not None else 'none':>9} {fit[0]:>10.4f} {fit[1]:>8.4f} {choose[0]:>13.4f} {choose[1]:>11.4f}",
              flush=True)
    best = max(rows, key=lambda t: (rows[t]["choose"][0], rows[t]["fit"][0], -(t if t is not None else 2.0)))
    print(f"chosen: {best if best is not None else 'none'}")
    commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    write_json(FITTED_DIR / "duplicates.json", {
        "jaccard": best,
        "meta": {"measured_on": "data/external/facqa-train fit and choose parts (split.json)",
                 "chosen_on": "choose part: answer in top 5 (ties: fit part, then the lowest threshold)",
                 "command": " ".join(["python benchmarks/fit_duplicates.py", *sys.argv[1:]]),
                 "embedder": args.embedder, "git_commit": commit, "date": dt.date.today().isoformat(),
                 "figures": {str(t): {"fit_answer_top5": round(v["fit"][0], 4), "fit_span_hit5": round(v["fit"][1], 4),
                                      "choose_answer_top5": round(v["choose"][0], 4),
                                      "choose_span_hit5": round(v["choose"][1], 4)} for t, v in rows.items()}},
    })
    print(f"wrote {(FITTED_DIR / 'duplicates.json').relative_to(ROOT)}")


if __name__ == "__main__":
    main()
