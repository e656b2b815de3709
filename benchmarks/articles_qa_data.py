"""What the articles-qa retrieval fit and report share: the pooled index, the question parts, evidence recall at a
character budget, the compared retrievers (the product, its two legs alone, the plain LangChain recipe).

* **Pool**: the 12 invented multi-paragraph articles of ``data/articles-qa`` and the 5 samples of ``data/articles``,
  indexed together by the product's own builder into ``tmp/benchmark/articles-qa-pool-<embedder>[-c<t>o<o>]/``
  (never the repo's ``.index``).
* **Parts**: ``data/articles-qa/split.json`` (fit / choose / report, by linked article group; written by
  ``benchmarks/articles_qa_split.py``); the answerable questions (those with sources) are scored.
* **Evidence recall at a budget**: each retriever's ranked passages are handed over best first until ``budget``
  characters (the last one cut to what is left), so every retriever hands the answerer the same number of
  characters. A question counts as found when every evidence span of it lies fully inside the passages handed over
  (its non-space characters all covered; a span across two adjacent passages counts when both are handed over);
  ``spans`` is the share of its evidence spans that do.
* **The plain LangChain recipe**: the same e5 embedder, the article files as ``TextLoader`` reads them,
  ``RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200)``, an ``InMemoryVectorStore`` and
  ``similarity_search`` top k, nothing else. Its evidence is located in the files' own text.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from retrieval_data import ROOT, SAMPLES, _fill, _open, bootstrap  # noqa: E402

from assistant.evaluation.metrics import locate  # noqa: E402
from assistant.question import analyse_question  # noqa: E402
from assistant.retrieval import Selection, retrieve  # noqa: E402
from assistant.settings import Settings  # noqa: E402
from index import IndexReader  # noqa: E402

AQ = ROOT / "data" / "articles-qa"
POOL_ROOT = ROOT / "tmp" / "benchmark"
BUDGETS = (1000, 2000, 3000, 5000)  # characters handed to the answerer
POOL = 40  # passages each retriever ranks (enough for the largest budget)

__all__ = ["AQ", "BUDGETS", "POOL", "Item", "Ranked", "CachedEmbedder", "LangChainRecipe", "open_aq_pool", "items",
           "evaluate", "product_ranked", "product_reranked", "dense_ranked", "bm25_ranked", "bootstrap", "summarise"]


@dataclass(frozen=True)
class Item:
    id: str
    question: str
    lang: str
    type: str
    sources: tuple[str, ...]
    evidence: tuple[str, ...]

    @property
    def cross_lingual(self) -> bool:
        """An English question whose evidence is in an Indonesian article (type ``cross_lingual``)."""
        return self.type == "cross_lingual"


# One ranked passage: (source, start, end, text) — offsets into the text its evidence is located in.
Ranked = tuple[str, int, int, str]


def items(part: str) -> list[Item]:
    """The answerable questions of one part of ``split.json``."""
    ids = set(json.loads((AQ / "split.json").read_text(encoding="utf-8"))[part]["questions"])
    out = []
    with open(AQ / "questions.jsonl", encoding="utf-8") as fh:
        for line in fh:
            q = json.loads(line)
            if q["id"] in ids and q["sources"]:
                out.append(Item(q["id"], q["question"], q["lang"], q["type"], tuple(q["sources"]),
                                tuple(q["evidence"])))
    return out


def _chunking(settings: Settings) -> str:
    default = Settings.model_fields
    same = (settings.chunk_tokens, settings.chunk_overlap) == (default["chunk_tokens"].default,
                                                               default["chunk_overlap"].default)
    return "" if same else f"-c{settings.chunk_tokens}o{settings.chunk_overlap}"


def open_aq_pool(settings: Settings) -> IndexReader:
    """The articles-qa + samples index (built or brought up to date by the product's builder first)."""
    folder = POOL_ROOT / f"articles-qa-pool-{settings.embedder}{_chunking(settings)}"
    _fill(folder / "articles", sorted((AQ / "articles").glob("*.txt")) + sorted(SAMPLES.iterdir()))
    reader = _open(folder / "articles", folder / "index", settings)
    reader.embedder = CachedEmbedder(reader.embedder)  # type: ignore[assignment]
    return reader


def article_files() -> dict[str, Path]:
    return {p.name: p for p in sorted((AQ / "articles").glob("*.txt")) + sorted(SAMPLES.iterdir())}


class CachedEmbedder:
    """The index's embedder with its query vectors kept (a fit asks the same questions many times)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self._q: dict[str, np.ndarray] = {}

    def embed_query(self, text: str) -> np.ndarray:
        v = self._q.get(text)
        if v is None:
            v = self._q[text] = self.inner.embed_query(text)
        return v

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return np.vstack([self.embed_query(t) for t in texts])

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


# -- the compared retrievers: each gives (source, start, end, text), best first ---------------------------------------
def product_ranked(reader: IndexReader, settings: Settings, question: str, pool: int = POOL,
                   selection: Selection | None = None, top_k: int | None = None) -> list[Ranked]:
    r = retrieve(reader, settings, question, top_k=top_k or settings.top_k, pool=pool, selection=selection)
    return [(p.source, p.start, p.end, p.text) for p in r.pool]


def product_reranked(reader: IndexReader, settings: Settings, model: Any, question: str, rerank_pool: int,
                     pool: int = POOL) -> list[Ranked]:
    """What the assistant hands its answerer: :func:`product_ranked`, its first ``rerank_pool`` passages reordered by
    the trained reader (``assistant.reader_answer.read_and_rerank``, as the QA chain does), the rest after them."""
    from assistant.reader_answer import read_and_rerank

    r = retrieve(reader, settings, question, top_k=settings.top_k, pool=max(pool, rerank_pool))
    head = r.pool[:rerank_pool]
    order, _ = read_and_rerank(model, question, head, len(head))
    return [(p.source, p.start, p.end, p.text) for p in [head[i] for i in order] + r.pool[rerank_pool:]]


def dense_ranked(reader: IndexReader, question: str, pool: int = POOL) -> list[Ranked]:
    out = []
    for h in reader.dense(reader.embedder.embed_query(question), pool):
        p = reader.passage(h.id)
        out.append((p.source, p.start, p.end, p.text))
    return out


def bm25_ranked(reader: IndexReader, question: str, pool: int = POOL) -> list[Ranked]:
    out = []
    for cid, _ in reader.bm25.search(list(analyse_question(question).terms), pool):
        p = reader.passage(cid)
        out.append((p.source, p.start, p.end, p.text))
    return out


class LangChainRecipe:
    """The plain recipe (module docstring) over the same article files, with the index's e5 embedder."""

    def __init__(self, embedder: Any) -> None:
        from langchain_core.documents import Document
        from langchain_core.embeddings import Embeddings
        from langchain_core.vectorstores import InMemoryVectorStore
        from langchain_text_splitters import RecursiveCharacterTextSplitter

        class E5(Embeddings):
            def embed_documents(self, texts: list[str]) -> list[list[float]]:
                return [list(map(float, v)) for v in embedder.embed_documents(texts)]

            def embed_query(self, text: str) -> list[float]:
                return list(map(float, embedder.embed_query(text)))

        self.texts = {name: p.read_text(encoding="utf-8") for name, p in article_files().items()}  # as TextLoader
        docs = [Document(page_content=t, metadata={"source": name}) for name, t in self.texts.items()]
        splitter = RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200, add_start_index=True)
        self.chunks = splitter.split_documents(docs)
        self.store = InMemoryVectorStore.from_documents(self.chunks, E5())

    def ranked(self, question: str, pool: int = POOL) -> list[Ranked]:
        out = []
        for d in self.store.similarity_search(question, k=pool):
            s = int(d.metadata["start_index"])
            out.append((d.metadata["source"], s, s + len(d.page_content), d.page_content))
        return out


# -- scoring ----------------------------------------------------------------------------------------------------------
def handed_over(ranked: Sequence[Ranked], budget: int) -> list[tuple[str, int, int]]:
    """The spans handed to the answerer within ``budget`` characters: best first, the last one cut to fit."""
    out, left = [], budget
    for src, s, e, _ in ranked:
        if left <= 0:
            break
        take = min(e - s, left)
        out.append((src, s, s + take))
        left -= take
    return out


def _fully_inside(span: tuple[str, int, int] | None, text: str, passages: Sequence[tuple[str, int, int]]) -> bool:
    if span is None:
        return False
    src, s, e = span
    covered = np.zeros(e - s, dtype=bool)
    for psrc, ps, pe in passages:
        if psrc == src and ps < e and s < pe:
            covered[max(ps, s) - s : min(pe, e) - s] = True
    return all(covered[i] or text[s + i].isspace() for i in range(e - s))


def _spans(item: Item, texts: dict[str, str]) -> list[tuple[str, int, int] | None]:
    """Each evidence string located in the first of the item's sources whose text holds it."""
    out = []
    for ev in item.evidence:
        found = None
        for src in item.sources:
            text = texts.get(src)
            pos = locate(ev, text) if text is not None else None
            if pos:
                found = (src, *pos)
                break
        out.append(found)
    return out


def evidence_found(item: Item, texts: dict[str, str], passages: Sequence[tuple[str, int, int]]) -> tuple[float, float]:
    """(1.0 when every evidence span is fully inside ``passages``, else 0.0; the share of spans that are)."""
    inside = [_fully_inside(sp, texts[sp[0]] if sp else "", passages) for sp in _spans(item, texts)]
    return float(all(inside)), sum(inside) / len(inside)


def reader_texts(reader: IndexReader) -> dict[str, str]:
    """Source → the stored text the product's offsets refer to."""
    return {rec.source: reader.document_text(rec.source) for rec in reader.files() if rec.chunk_ids}


def evaluate(ranked: dict[str, list[Ranked]], its: list[Item], texts: dict[str, str],
             budgets: Sequence[int] = BUDGETS) -> dict[int, list[tuple[float, float]]]:
    """Per budget, per question: (all evidence inside, share of spans inside)."""
    return {b: [evidence_found(it, texts, handed_over(ranked[it.id], b)) for it in its] for b in budgets}


def summarise(values: list[float]) -> list[float]:
    est, lo, hi = bootstrap(values)
    return [round(est, 4), round(lo, 4), round(hi, 4)]
