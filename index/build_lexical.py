"""The lexical phases of an index build: BM25 terms of each new chunk and sentence term sets of each new document
(both stored beside the document's text), story ids over all live documents, and the BM25 model over all live
chunks."""

from __future__ import annotations

import json
import os
from pathlib import Path

from index.analysis import ANALYZER_VERSION, analyze
from index.bm25 import BM25Index
from index.build_state import _Build, _NewDoc
from index.chunking import split_sentences
from index.cleaning import content_spans
from index.state import ChunkRecord, read_document
from index.stories import assign_stories


def _sentence_sets(text: str, spans: list[tuple[int, int]]) -> list[frozenset[str]]:
    out = []
    for s, e in spans:
        for sent in split_sentences(text, s, e):
            terms = frozenset(analyze(text[sent.start : sent.end]))
            if len(terms) >= 4:
                out.append(terms)
    return out


def _cached_sentence_sets(docs_dir: Path, doc_id: str, texts: dict[str, str],
                          spans: list[tuple[int, int]] | None = None) -> list[frozenset[str]]:
    """A document's sentence term sets (for story grouping), computed once and kept beside its text."""
    path = docs_dir / f"{doc_id}.sents.json"
    try:
        return [frozenset(s) for s in json.loads(path.read_text(encoding="utf-8"))]
    except (OSError, ValueError):
        pass
    text = texts.get(doc_id)
    if text is None:
        text = texts[doc_id] = read_document(docs_dir.parent, doc_id)
    sets = _sentence_sets(text, content_spans(text) if spans is None else spans)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps([sorted(s) for s in sets], ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, path)
    return sets


def _analyze_new(docs: list[_NewDoc], docs_dir: Path, texts: dict[str, str],
                 terms_out: dict[str, dict[str, list[str]]], sets_out: dict[str, list[frozenset[str]]]) -> None:
    """BM25 terms of each new chunk and the sentence term sets of each new document, stored beside its text."""
    for d in docs:
        doc_id = d.rec.doc_id
        terms = {cid: analyze(ch.text) for cid, ch in d.chunks}
        terms_tmp = docs_dir / f"{doc_id}.terms-v{ANALYZER_VERSION}.tmp"
        terms_tmp.write_text(json.dumps(terms, ensure_ascii=False), encoding="utf-8")
        os.replace(terms_tmp, docs_dir / f"{doc_id}.terms-v{ANALYZER_VERSION}.json")
        terms_out[doc_id] = terms
        sets_out[doc_id] = _cached_sentence_sets(docs_dir, doc_id, texts, d.spans)


def _assign_story_ids(b: _Build) -> None:
    """Story ids over all live documents."""
    for rec in b.state.doc_sources().values():
        if rec.doc_id not in b.sentence_sets:
            b.sentence_sets[rec.doc_id] = _cached_sentence_sets(b.docs_dir, rec.doc_id, b.texts_cache)
    stories = assign_stories(b.sentence_sets)
    for rec in b.state.files.values():
        rec.story_id = stories.get(rec.doc_id, rec.doc_id)


def _build_bm25(b: _Build) -> BM25Index:
    """BM25 over all live chunks, from stored terms."""
    ids: list[str] = []
    all_terms: list[list[str]] = []
    for rec in b.state.doc_sources().values():
        doc_terms = b.new_terms.get(rec.doc_id)
        if doc_terms is None:
            terms_path = b.docs_dir / f"{rec.doc_id}.terms-v{ANALYZER_VERSION}.json"
            doc_terms = json.loads(terms_path.read_text(encoding="utf-8")) if terms_path.exists() else {}
        for cid in rec.chunk_ids:
            ids.append(cid)
            all_terms.append(doc_terms.get(cid) or analyze(_chunk_text(b.texts_cache, b.docs_dir, b.state.chunks[cid])))
    return BM25Index.build(ids, all_terms)


def _chunk_text(cache: dict[str, str], docs_dir: Path, rec: ChunkRecord) -> str:
    text = cache.get(rec.doc_id)
    if text is None:
        text = cache[rec.doc_id] = read_document(docs_dir.parent, rec.doc_id)
    return text[rec.start : rec.end]
