"""What the reader's fitting and report scripts share: each question read once, then answered under any policy.

A *run* is one question through the product's retrieval (its ``pool`` of ``POOL_MAX`` passages, in retrieval
order) with the trained reader's spans over every pool passage (and over each part of a multi-part question), so a
grid over the answer policy (:class:`assistant.reader_answer.AnswerPolicy`: pool size, ``answer_at``, ``more_at``)
re-answers without reading again. Question sets:

* ``aq-<part>``: ``data/articles-qa`` (its fit / choose / report part, unanswerables included) over the articles-qa
  + samples index (:func:`articles_qa_data.open_aq_pool`);
* ``facqa-<part>``: a seeded sample of FacQA-train's part (:data:`FACQA_SAMPLE`) over the FacQA + samples pool,
  each question also *removed*: asked with its own paragraph filtered out of the pool (unanswerable by
  construction);
* ``dev``: the smoke test over the sample articles.
"""

from __future__ import annotations

import json
import random
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from articles_qa_data import AQ, open_aq_pool  # noqa: E402
from retrieval_data import DEV, ROOT, open_pool, open_samples, part  # noqa: E402

from assistant.evaluation.dataset import EvalItem, load_items  # noqa: E402
from assistant.evaluation.metrics import answer_correct, content_words  # noqa: E402
from assistant.question import QuestionInfo, analyse_question  # noqa: E402
from assistant.reader_answer import AnswerPolicy, ReaderAnswer, compose, rerank_order  # noqa: E402
from assistant.reader_model import load_reader  # noqa: E402
from assistant.reading import Span  # noqa: E402
from assistant.retrieval import Filters, retrieve  # noqa: E402
from assistant.sentences import candidate_sentences  # noqa: E402
from assistant.settings import Settings  # noqa: E402
from index import IndexReader  # noqa: E402
from index.reader import Passage  # noqa: E402

POOL_MAX = 16  # passages read per question: the largest pool benchmarks/fit_articles_retrieval.py measures
# FacQA questions read per part (seeded samples, each read twice: as asked and with its paragraph removed); set by
# hand so that fitting and reporting take minutes on 2 cores, not an hour
FACQA_SAMPLE = {"fit": 150, "choose": 150, "report": 200}


@dataclass
class Run:
    item: EvalItem
    removed: bool  # FacQA: asked with its own paragraph filtered out (unanswerable by construction)
    info: QuestionInfo
    pool: list[Passage]
    spans: list[list[Span]]  # the reader's spans per pool passage
    ask_spans: dict[str, dict[str, list[Span]]] = field(default_factory=dict)  # ask text -> passage text -> spans
    views: dict[tuple[int, int], Any] = field(default_factory=dict)  # (pool, top_k) -> reranked passages, spans

    @property
    def answerable(self) -> bool:
        return self.item.answerable and not self.removed


class CachedReader:
    """Hands :func:`compose` the spans read ahead for each part of a multi-part question."""

    def __init__(self, run: Run, model: Any) -> None:
        self.run, self.model = run, model

    def read(self, question: str, passages: list[str], n: int = 3) -> list[list[Span]]:
        known = self.run.ask_spans.setdefault(question, {})
        todo = [t for t in dict.fromkeys(passages) if t not in known]
        if todo:
            known.update(zip(todo, self.model.read(question, todo), strict=True))
        return [known[t] for t in passages]


def aq_items(part_name: str) -> list[EvalItem]:
    ids = set(json.loads((AQ / "split.json").read_text(encoding="utf-8"))[part_name]["questions"])
    return [it for it in load_items(AQ / "questions.jsonl") if it.id in ids]


def _collect(reader: IndexReader, settings: Settings, items: list[EvalItem], model: Any,
             all_sources: set[str] | None) -> list[Run]:
    runs = []
    for it in items:
        variants = [False, True] if all_sources is not None else [False]
        for removed in variants:
            filters = Filters(sources=frozenset(all_sources - set(it.sources))) if removed and all_sources else None
            info = analyse_question(it.question)
            result = retrieve(reader, settings, info, settings.top_k, filters, pool=POOL_MAX)
            spans = model.read(it.question, [p.text for p in result.pool])
            run = Run(it, removed, info, result.pool, spans)
            if len(info.asks) > 1:
                cached = CachedReader(run, model)
                for ask in info.asks:
                    cached.read(ask.text, [p.text for p in result.pool])
            runs.append(run)
    return runs


def settings_for_index(reader: IndexReader, **overrides: Any) -> Settings:
    return Settings(index_dir=reader.config.index_dir, embedder=reader.config.embedder, **overrides)


def collect(name: str, settings: Settings) -> list[Run]:
    """The runs of question set ``name`` (see the module docstring)."""
    model = load_reader(settings.model_cache_dir.expanduser())
    kind, _, part_name = name.partition("-")
    if kind == "aq":
        reader = open_aq_pool(settings)
        return _collect(reader, settings_for_index(reader), aq_items(part_name), model, None)
    if kind == "facqa":
        reader = open_pool(settings)
        items = part(part_name)
        items = random.Random(7).sample(items, min(FACQA_SAMPLE[part_name], len(items)))
        sources = {f.source for f in reader.files()}
        return _collect(reader, settings_for_index(reader), items, model, sources)
    if kind == "dev":
        reader = open_samples(settings)
        return _collect(reader, settings_for_index(reader), load_items(DEV), model, None)
    raise ValueError(name)


def collect_aq_fit_out_of_fold(settings: Settings, deltas: list[Path]) -> list[Run]:
    """articles-qa's fit runs, each question read by the reader whose articles-qa stage held its fold out
    (``deltas[k]``: trained with ``--hold-out-fold k``; folds from ``data/reader/articles-qa-fit.jsonl``), so that
    the answer policy fitted on them never sees a reader's scores on the questions it trained on."""
    from assistant.reader_model import ReaderModel, ensure_reader

    fold = {}
    for line in (ROOT / "data" / "reader" / "articles-qa-fit.jsonl").open(encoding="utf-8"):
        row = json.loads(line)
        fold[row["id"].rsplit("-p", 1)[0]] = row["fold"]
    reader = open_aq_pool(settings)
    items = aq_items("fit")
    done: dict[str, Run] = {}
    for k, delta in enumerate(deltas):
        model = ReaderModel(ensure_reader(settings.model_cache_dir.expanduser(), delta.resolve()))
        mine = [it for it in items if fold[it.id] == k]
        done.update((r.item.id, r) for r in _collect(reader, settings_for_index(reader), mine, model, None))
    return [done[it.id] for it in items]


def answer(run: Run, policy: AnswerPolicy, top_k: int, model: Any = None) -> tuple[ReaderAnswer, list[Passage]]:
    """The product's answer for ``run`` under ``policy``: the first ``policy.pool`` passages reranked by the
    reader, its ``top_k`` best composed."""
    key = (max(policy.pool, top_k), top_k)
    if key not in run.views:
        pool = run.pool[: key[0]]
        spans = run.spans[: len(pool)]
        order = rerank_order(spans)[:top_k]
        passages = [pool[i] for i in order]
        run.views[key] = (passages, [spans[i] for i in order], candidate_sentences(passages))
    passages, spans, sents = run.views[key]
    out = compose(run.info, passages, spans, policy, CachedReader(run, model), sents)
    return out, passages


def text_of(out: ReaderAnswer, passages: list[Passage], run: Run) -> str:
    return out.answer_text(passages, run.info.language, run.info.is_("compare")) if not out.abstained else ""


def supported(run: Run, quotes: list[str]) -> float:
    """The share of ``quotes`` (the answer's quoted sentences) that hold evidence: at least half of one evidence
    span's content words, or half of their own content words found in one (the answer itself where a set gives no
    evidence sentences)."""
    it = run.item
    spans = [set(content_words(e)) for e in (it.evidence or (it.answer,))]
    spans = [e for e in spans if e]
    if not quotes or not spans:
        return 0.0
    def holds(q: str) -> bool:
        words = set(content_words(q))
        return bool(words) and any(len(e & words) / len(e) >= 0.5 or len(e & words) / len(words) >= 0.5
                                   for e in spans)
    return sum(holds(q) for q in quotes) / len(quotes)


def judge(run: Run, text: str, abstained: bool, quotes: list[str] | None = None) -> dict[str, float]:
    """right (answerable and correct), supported (the share of its quotes that hold evidence; with ``quotes``),
    refused, and which kind of question it was."""
    it = run.item
    right = run.answerable and answer_correct(text, abstained, it.answer, it.answer_aliases, it.evidence)
    out = {"right": float(right), "refused": float(abstained), "answerable": float(run.answerable)}
    if quotes is not None:
        out["supported"] = supported(run, quotes) if right else 0.0
    return out


# set by hand: a right answer earns half its credit for being right and half for the share of its quotes that hold
# evidence (all credit for accuracy pads answers with every plausible sentence: on the choose parts two quotes in
# three on articles-qa, one in two on FacQA held no evidence; all credit for citation precision never quotes a second)
SUPPORT_WEIGHT = 0.5


def objective(scores: list[dict[str, float]]) -> float:
    """The share of runs handled right: an answerable one answered correctly (its credit reduced by
    ``SUPPORT_WEIGHT`` times the share of its quotes that hold no evidence, where known), an unanswerable one
    refused."""
    return sum(s["right"] * (1 - SUPPORT_WEIGHT * (1 - s.get("supported", 1.0))) if s["answerable"] else s["refused"]
               for s in scores) / max(1, len(scores))


def root() -> Path:
    return ROOT
