"""Reader training rows from articles-qa's *fit* part: what the product's reader reads there, labelled.

    python -m training.articles_qa_rows    # writes data/reader/articles-qa-fit.jsonl (deterministic)

The reader data (TyDi QA, IDK-MRC, FacQA) is single paragraphs of encyclopaedia and wire text; a user's folder is
multi-paragraph news with datelines, leads and boilerplate, where the passages retrieval hands over share the
question's names without answering it. For each question of articles-qa's *fit* part (never choose or report), the
product's retrieval (the fitted selection over the articles-qa + samples index, restricted to the fit part's
articles, so that no other part's text is read) gives the passages the reader would read; each becomes a row:

* a passage that holds a whole evidence sentence: answerable, the answer span being the first of the question's
  ``answer_aliases`` found inside that sentence (a factoid's value), else the sentence itself (why, list);
* the best-ranked ``NEGATIVES`` passages that hold no evidence, and every passage for an unanswerable question:
  no answer.

Evidence passages retrieval missed are added too (the reader must learn them wherever they rank). The rows use
the schema of the other ``data/reader`` files; :mod:`training.train_reader` ``--stage articles-qa`` trains on them.

Each row carries its question's ``fold``: the fit part's articles linked by its questions form two groups (the
same rule as ``benchmarks/articles_qa_split.py``), one fold each; an unanswerable question (no sources) takes the
fold of its id's CRC-32 parity. The answer policy is fitted on these same questions, so it must not read them with
a reader that trained on them: ``benchmarks/fit_reader_answers.py --aq-fit-folds`` reads each fold with a reader
whose stage held that fold out (``train_reader --hold-out-fold``), the usual cross-fitting.
"""

from __future__ import annotations

import json
import sys
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

OUT = ROOT / "data" / "reader" / "articles-qa-fit.jsonl"
AQ = ROOT / "data" / "articles-qa"
POOL = 8  # set by hand: the passages the shipped reader reads per question (the fitted rerank pool)
NEGATIVES = 3  # set by hand: the hardest answer-less passages kept per answerable question (about 1 in 2 rows)


def _answer_span(text: str, start: int, end: int, aliases: list[str]) -> tuple[int, int]:
    """The first alias (longest first) inside ``text[start:end]``, else the whole span."""
    low = text[start:end].lower()
    for alias in sorted(aliases, key=len, reverse=True):
        i = low.find(alias.lower()) if alias.strip() else -1
        if i >= 0:
            return start + i, start + i + len(alias)
    return start, end


def folds(questions: list[dict], articles: list[str]) -> dict[str, int]:
    """Question id → fold (0, 1, …): one fold per linked group of ``articles``, ordered by their first article."""
    from articles_qa_split import _groups

    groups = sorted(_groups(questions, [a.removesuffix(".txt") for a in articles]), key=min)
    out = {}
    for q in questions:
        first = q["sources"][0].removesuffix(".txt") if q["sources"] else None
        where = [i for i, g in enumerate(groups) if first in g]
        out[q["id"]] = where[0] if where else zlib.crc32(q["id"].encode()) % len(groups)
    return out


def build_rows() -> list[dict]:
    from articles_qa_data import open_aq_pool, reader_texts

    from assistant.evaluation.metrics import locate
    from assistant.retrieval import Filters, retrieve
    from assistant.settings import Settings

    split = json.loads((AQ / "split.json").read_text(encoding="utf-8"))["fit"]
    fit_ids, fit_articles = set(split["questions"]), frozenset(split["articles"])
    settings = Settings(embedder="e5-small-int8", _env_file=None)
    reader = open_aq_pool(settings)
    texts = reader_texts(reader)
    questions = [q for q in map(json.loads, (AQ / "questions.jsonl").open(encoding="utf-8")) if q["id"] in fit_ids]
    fold_of = folds(questions, sorted(fit_articles))
    rows = []
    for q in questions:
        spans = []  # (source, start, end) of each evidence sentence in the stored text
        for ev in q["evidence"]:
            for src in q["sources"]:
                pos = locate(ev, texts.get(src, ""))
                if pos:
                    spans.append((src, *pos))
                    break
        found = retrieve(reader, settings, q["question"], top_k=POOL, pool=POOL,
                         filters=Filters(sources=fit_articles)).pool
        passages = [(p.source, p.start, p.end) for p in found]
        for src, s, e in spans:
            if not any(ps == src and a <= s and e <= b for ps, a, b in passages):
                passages.append((src, max(0, s - 200), min(len(texts[src]), e + 200)))
        negatives = 0
        for k, (src, a, b) in enumerate(passages):
            context = texts[src][a:b]
            inside = [(s, e) for ps, s, e in spans if ps == src and a <= s and e <= b]
            row = {"id": f"{q['id']}-p{k}", "lang": q["lang"], "question": q["question"], "context": context,
                   "answers": [], "unanswerable": True, "source": "articles-qa fit part", "fold": fold_of[q["id"]]}
            if inside:
                s, e = _answer_span(texts[src], *inside[0], q["answer_aliases"] if q["type"] != "unanswerable"
                                    else [])
                row.update(answers=[{"text": texts[src][s:e], "start": s - a}], unanswerable=False)
            elif spans and negatives >= NEGATIVES:
                continue
            else:
                negatives += 1
            rows.append(row)
    return rows


def main() -> int:
    rows = build_rows()
    with OUT.open("w", encoding="utf-8") as fh:
        for r in rows:
            fh.write(json.dumps(r, ensure_ascii=False) + "\n")
    answered = sum(not r["unanswerable"] for r in rows)
    print(f"{len(rows)} rows ({answered} with an answer) from {len({r['question'] for r in rows})} questions "
          f"-> {OUT.relative_to(ROOT)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
