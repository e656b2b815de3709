"""Deterministic synthetic indexes of 1k-100k passages, recombined from the sample articles' sentences.

Not a benchmark itself (``run_all.py`` skips it); ``query_latency.py`` and ``serve_memory.py`` call
:func:`ensure_index`. Run it alone to build (or check) the cached indexes: ``python benchmarks/synthetic.py 1000 100000 [--embedder NAME]``.

* **Text**: every distinct sentence of ``data/articles/*.txt`` (the indexer's own cleaning and sentence splitter)
  goes into a pool per article. Passage *i* takes sentences of one article, drawn by a seeded RNG, until it reaches
  100-170 cl100k tokens (the indexer's chunks are <= 160), so BM25 and the answerer see real Indonesian sentences
  and a realistic term distribution. Eight passages make one synthetic document; the first *n* passages of the
  same stream form the *n*-passage corpus, so the 1k corpus is a prefix of the 10k and 100k ones.
* **Vectors (approximation)**: embedding 100k passages for real takes hours on 2 cores, so each distinct sentence
  is embedded ONCE with the real embedder (``passage: `` prompt, cached in ``benchmarks/cache/``) and a passage's
  vector is the L2-normalised mean of its sentences' vectors. Queries are embedded for real at question time, and
  the answerer embeds the retrieved sentences for real, so every query-time cost is real; only the stored passage
  vectors are approximate (the nearest-neighbour search works on the same number of 384-d vectors).
* **Terms**: BM25 terms are :func:`index.analysis.analyze` of each sentence, concatenated per passage (``analyze``
  never joins tokens across the space between sentences; checked on the first 200 passages).
* **Writing**: through the project's own index APIs — documents as files in ``documents/``, vectors via
  :meth:`index.store.ChunkStore.upsert`, :meth:`index.bm25.BM25Index.build`, and :func:`index.state.commit_state`
  with the signature :func:`index.reader.open_index` expects — so ``open_index`` and ``Assistant`` open it
  unmodified. Each index is cached under ``benchmarks/cache/index-<embedder>-<n>-v<version>/``; reruns reuse it.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
from index.offline import apply_offline_env  # noqa: E402 - the repo root is on sys.path now

apply_offline_env()

CACHE = ROOT / "benchmarks" / "cache"
ARTICLES = ROOT / "data" / "articles"
MODEL_CACHE = Path(os.environ.get("ASSISTANT_MODEL_CACHE_DIR", "~/.cache/article-assistant/models")).expanduser()
VERSION = 1  # bump when the corpus recipe changes (invalidates cached indexes)
SEED = 20221122
PASSAGES_PER_DOC = 8
APPROXIMATION = ("synthetic passages: sentences of the sample articles recombined; stored passage vector = "
                 "L2-normalised mean of its sentences' real embeddings (queries and answer sentences embedded for real)")

__all__ = ["ensure_index", "default_embedder", "unavailable", "SyntheticCorpus", "corpus", "APPROXIMATION", "CACHE"]


def default_embedder() -> str:
    """The embedder a fresh install uses (the settings' default), so benchmarks measure what users get."""
    from assistant.settings import Settings

    return Settings.model_fields["embedder"].default


def unavailable(embedder_name: str) -> str | None:
    """Why ``embedder_name`` cannot be loaded here (e.g. the int8 build needs ``onnx``), or ``None`` if it can."""
    from index.embedding import load_embedder
    from index.errors import UserError

    try:
        load_embedder(embedder_name, str(MODEL_CACHE), 32, 0)
    except UserError as exc:
        return str(exc)
    return None


@dataclass
class Article:
    source: str
    meta: dict
    sentences: list[int]  # indexes into the shared sentence pool


@dataclass
class SyntheticCorpus:
    sentences: list[str]  # distinct sentences, in first-seen order
    articles: list[Article]
    tokens: list[int]  # cl100k tokens per sentence


def corpus() -> SyntheticCorpus:
    """The distinct sentences of the sample articles, per article, with the articles' metadata."""
    from index.chunking import split_sentences
    from index.cleaning import content_spans
    from index.loading import discover, load_file
    from index.metadata import extract_metadata
    from index.tokens import count_tokens

    pool: dict[str, int] = {}
    articles = []
    for path in discover(ARTICLES):
        doc = load_file(ARTICLES, path)
        spans = content_spans(doc.text)
        meta = extract_metadata(doc.text, spans, doc.html_meta).as_dict()
        ids = []
        for a, b in spans:
            for s in split_sentences(doc.text, a, b):
                text = " ".join(doc.text[s.start : s.end].split())
                if len(text) < 25:  # datelines, captions
                    continue
                ids.append(pool.setdefault(text, len(pool)))
        articles.append(Article(doc.source, meta, sorted(set(ids))))
    sentences = list(pool)
    return SyntheticCorpus(sentences, articles, [count_tokens(s) for s in sentences])


def passages(c: SyntheticCorpus, n: int) -> list[tuple[int, list[int]]]:
    """The first ``n`` passages of the deterministic stream: (article index, sentence ids)."""
    rng = random.Random(SEED)
    out = []
    for _ in range(n):
        art = rng.randrange(len(c.articles))
        pool = c.articles[art].sentences
        target = rng.randint(100, 170)
        chosen: list[int] = []
        tokens = 0
        for sid in rng.sample(pool, len(pool)):
            if chosen and tokens + c.tokens[sid] > 190:
                continue
            chosen.append(sid)
            tokens += c.tokens[sid]
            if tokens >= target:
                break
        out.append((art, chosen))
    return out


def sentence_vectors(c: SyntheticCorpus, embedder_name: str) -> np.ndarray:
    """Real passage embeddings of every distinct sentence (computed once, cached by embedder and text)."""
    key = hashlib.sha1(json.dumps([embedder_name, c.sentences]).encode()).hexdigest()[:16]
    path = CACHE / f"sentences-{embedder_name}-{key}.npy"
    if path.exists():
        return np.load(path)
    from index.embedding import load_embedder

    emb = load_embedder(embedder_name, str(MODEL_CACHE), 32, 0)
    t0 = time.perf_counter()
    vecs = emb.embed_documents(c.sentences)
    print(f"  embedded {len(c.sentences)} distinct sentences with {embedder_name} in "
          f"{time.perf_counter() - t0:.1f} s (cached in {path.relative_to(ROOT)})", file=sys.stderr)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.save(path, vecs)
    return vecs


def index_dir(n: int, embedder_name: str) -> Path:
    return CACHE / f"index-{embedder_name}-{n}-v{VERSION}"


def ensure_index(n: int, embedder_name: str | None = None) -> Path:
    """The folder of a committed ``n``-passage synthetic index for ``embedder_name`` (built on first use)."""
    embedder_name = embedder_name or default_embedder()
    folder = index_dir(n, embedder_name)
    if (folder / "READY").exists():
        return folder
    if folder.exists():
        shutil.rmtree(folder)  # an interrupted build
    t0 = time.perf_counter()
    build(folder, n, embedder_name)
    (folder / "READY").write_text(json.dumps({"passages": n, "embedder": embedder_name,
                                              "build_seconds": round(time.perf_counter() - t0, 1)}))
    return folder


def build(folder: Path, n: int, embedder_name: str) -> None:
    from index.analysis import analyze
    from index.bm25 import BM25Index
    from index.config import IndexConfig
    from index.embedding import load_embedder
    from index.state import ChunkRecord, FileRecord, IndexState, commit_state, documents_dir
    from index.store import ChunkStore, StoreSettings

    c = corpus()
    vecs = sentence_vectors(c, embedder_name)
    sent_terms = [analyze(s) for s in c.sentences]
    stream = passages(c, n)
    config = IndexConfig(index_dir=folder, embedder=embedder_name, model_cache_dir=MODEL_CACHE)
    embedder = load_embedder(config.embedder, str(config.model_cache_dir), config.embed_batch_size, config.threads)
    signature = config.signature(embedder.dimension)
    collection = f"{config.collection_prefix}-1"
    print(f"  building the {n}-passage synthetic index in {folder.relative_to(ROOT)} …", file=sys.stderr)

    docs_dir = documents_dir(folder)
    docs_dir.mkdir(parents=True, exist_ok=True)
    state = IndexState(signature=signature, collection=collection, articles_dir=str(ARTICLES), generation=0)
    ids: list[str] = []
    texts: list[str] = []
    metas: list[dict] = []
    terms: list[list[str]] = []
    vectors = np.zeros((n, vecs.shape[1]), dtype=np.float32)
    for d in range(0, n, PASSAGES_PER_DOC):
        group = stream[d : d + PASSAGES_PER_DOC]
        art = c.articles[group[0][0]]
        pieces, offsets, pos = [], [], 0
        for _, sids in group:
            text = " ".join(c.sentences[s] for s in sids)
            offsets.append((pos, pos + len(text)))
            pieces.append(text)
            pos += len(text) + 2
        doc_text = "\n\n".join(pieces) + "\n"
        content_hash = hashlib.sha256(doc_text.encode()).hexdigest()
        doc_id = content_hash[:20]
        source = f"synthetic/{d // PASSAGES_PER_DOC:06d}.txt"
        meta = {**art.meta, "title": f"{art.meta.get('title') or 'Article'} (synthetic {d // PASSAGES_PER_DOC})"}
        rec = FileRecord(source, content_hash, doc_id, "txt", meta, [], story_id=doc_id)
        (docs_dir / f"{doc_id}.txt").write_text(doc_text, encoding="utf-8", newline="")
        for position, ((_, sids), (start, end)) in enumerate(zip(group, offsets, strict=True)):
            i = d + position
            cid = hashlib.sha1(f"{source}\x00{start}\x00{end}".encode()).hexdigest()[:24]
            rec.chunk_ids.append(cid)
            state.chunks[cid] = ChunkRecord(cid, doc_id, start, end, position)
            ids.append(cid)
            texts.append(doc_text[start:end])
            metas.append({"source": source, "doc_id": doc_id, "start": start, "end": end, "position": position,
                          "title": meta.get("title") or "", "outlet": meta.get("outlet") or "",
                          "date": meta.get("date") or "", "language": meta.get("language") or ""})
            terms.append([t for s in sids for t in sent_terms[s]])
            v = vecs[sids].mean(axis=0)
            vectors[i] = v / np.linalg.norm(v)
        state.files[source] = rec
    for i in range(min(200, n)):
        assert terms[i] == analyze(texts[i]), f"per-sentence terms differ from analyze() on passage {i}"

    t0 = time.perf_counter()
    store = ChunkStore(StoreSettings(folder, collection, None), embedder)
    store.open(signature, create=True)
    store.upsert(ids, vectors, metas)
    t_chroma = time.perf_counter() - t0
    t0 = time.perf_counter()
    bm25 = BM25Index.build(ids, terms)
    commit_state(folder, state, write_extra=lambda f: bm25.save(f / "bm25"))
    print(f"  {n} passages, {len(state.files)} documents: Chroma upsert {t_chroma:.1f} s, BM25 + commit "
          f"{time.perf_counter() - t0:.1f} s", file=sys.stderr)


if __name__ == "__main__":
    import argparse

    ap = argparse.ArgumentParser(description="Build (or find) the cached synthetic indexes.")
    ap.add_argument("sizes", nargs="*", type=int, default=[1000])
    ap.add_argument("--embedder", default=None, help="default: the settings' default embedder")
    args = ap.parse_args()
    for size in args.sizes:
        print(ensure_index(size, args.embedder))
