"""The reader's training data: ``data/reader/*.jsonl`` deduplicated, split by paragraph, turned into examples.

* **Deduplication**: IDK-MRC repeats most TyDi QA Indonesian questions; one row per (question, paragraph) is kept
  (the first file in :data:`FILES` order wins).
* **Split** (``data/reader/split.json``, written by ``python -m training.reader_data``): by paragraph, seeded, into
  fit / choose / report (:data:`SHARES`); FacQA questions keep their part of ``data/external/facqa-train/split.json``
  so that FacQA's report part stays unseen by every fitted piece of the product.
* **Examples**: each question with its own paragraph (answer span, or no answer for IDK-MRC's unanswerables), plus
  *foreign* examples: the question paired with the most similar other paragraph of its part (TF-IDF cosine), which
  does not contain the answer: what retrieval hands the reader when the gold paragraph is missing.
"""

from __future__ import annotations

import hashlib
import json
import random
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data" / "reader"
FILES = ("id-tydiqa-train.jsonl", "id-idkmrc-train.jsonl", "en-tydiqa-train.jsonl", "id-facqa-train.jsonl")
SPLIT = DATA / "split.json"
AQ_ROWS = DATA / "articles-qa-fit.jsonl"  # written by ``python -m training.articles_qa_rows`` (fit part only)
SEED = 20261205
SHARES = {"fit": 0.86, "choose": 0.07, "report": 0.07}  # set by hand: ~1,000 questions each to choose and report on
FOREIGN_SHARE = 0.25  # set by hand: one answerable question in four also gets a foreign paragraph (no answer)


@dataclass(frozen=True)
class Row:
    id: str
    lang: str
    question: str
    context: str
    start: int  # -1: unanswerable
    end: int
    source: str

    @property
    def answerable(self) -> bool:
        return self.start >= 0


def paragraph_key(context: str) -> str:
    return hashlib.sha1(context.strip().encode("utf-8")).hexdigest()[:16]


def _row(r: dict, name: str) -> Row:
    if r["unanswerable"] or not r["answers"]:
        start = end = -1
    else:
        a = r["answers"][0]
        start, end = a["start"], a["start"] + len(a["text"])
    return Row(r["id"], r["lang"], r["question"], r["context"], start, end, name)


def load_rows() -> list[Row]:
    seen: set[tuple[str, str]] = set()
    rows = []
    for name in FILES:
        for line in (DATA / name).open(encoding="utf-8"):
            r = json.loads(line)
            key = (r["question"].strip().lower(), r["context"].strip())
            if key in seen:
                continue
            seen.add(key)
            rows.append(_row(r, name))
    return rows


def load_file_rows(path: Path, hold_out_fold: int | None = None) -> list[Row]:
    """The rows of one file in the reader data's schema (e.g. :data:`AQ_ROWS`), but those of ``hold_out_fold``."""
    rows = (json.loads(line) for line in path.open(encoding="utf-8"))
    return [_row(r, path.name) for r in rows if hold_out_fold is None or r.get("fold") != hold_out_fold]


def write_split(rows: list[Row]) -> dict[str, list[str]]:
    facqa = json.loads((ROOT / "data/external/facqa-train/split.json").read_text(encoding="utf-8"))
    facqa_part = {q: part for part, ids in facqa["questions"].items() for q in ids}
    keys = sorted({paragraph_key(r.context) for r in rows if r.id not in facqa_part})
    random.Random(SEED).shuffle(keys)
    cut1 = int(len(keys) * SHARES["fit"])
    cut2 = cut1 + int(len(keys) * SHARES["choose"])
    part_of = {k: "fit" for k in keys[:cut1]} | {k: "choose" for k in keys[cut1:cut2]} | {
        k: "report" for k in keys[cut2:]}
    split: dict[str, list[str]] = {p: [] for p in SHARES}
    for r in rows:
        part = facqa_part.get(r.id) or part_of[paragraph_key(r.context)]
        split[part].append(r.id)
    SPLIT.write_text(json.dumps({"seed": SEED, "by": "paragraph", "shares": SHARES, "questions": split}) + "\n",
                     encoding="utf-8")
    return split


def rows_by_part() -> dict[str, list[Row]]:
    rows = load_rows()
    split = json.loads(SPLIT.read_text(encoding="utf-8"))["questions"] if SPLIT.exists() else write_split(rows)
    by_id = {r.id: r for r in rows}
    return {part: [by_id[i] for i in ids if i in by_id] for part, ids in split.items()}


def foreign_rows(rows: list[Row], share: float = FOREIGN_SHARE, seed: int = SEED) -> list[Row]:
    """For ``share`` of the answerable rows: the question over the most similar other paragraph of ``rows`` in its
    language that does not contain the answer text (no answer)."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    rng = random.Random(seed)
    picked = [r for r in rows if r.answerable and rng.random() < share]
    out = []
    for lang in sorted({r.lang for r in rows}):
        paras = sorted({r.context for r in rows if r.lang == lang})
        mine = [r for r in picked if r.lang == lang]
        if not mine or len(paras) < 2:
            continue
        vec = TfidfVectorizer(min_df=2, sublinear_tf=True).fit(paras)
        p = vec.transform(paras)
        q = vec.transform([r.question for r in mine])
        sims = (q @ p.T).toarray()
        for r, row in zip(mine, sims, strict=True):
            answer = r.context[r.start : r.end].lower()
            for j in row.argsort()[::-1][:10]:
                other = paras[j]
                if other != r.context and answer not in other.lower():
                    out.append(Row(r.id + "#foreign", r.lang, r.question, other, -1, -1, r.source))
                    break
    return out


if __name__ == "__main__":
    parts = write_split(load_rows())
    print({p: len(v) for p, v in parts.items()})
