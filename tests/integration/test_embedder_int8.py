"""The int8 ONNX embedder (`e5-small-int8`) agrees with the fp32 model on real passages and questions.

Real models only: the fp32 sentence-transformers conversion and its int8 ONNX Runtime export (built once into the
model cache, ~30 s). The bar, cosine >= 0.99 for every passage and question, is the one the int8 path had to meet
to be offered; the measured worst cases are ~0.998 (passages) and ~0.996 (questions).
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from tests.conftest import DEV_SET, MODEL_CACHE, SAMPLE, read_exact

pytestmark = pytest.mark.slow

MIN_COSINE = 0.99


@pytest.fixture(scope="module")
def pair():
    from index.embedding import load_embedder

    return (load_embedder("e5-small", str(MODEL_CACHE), 32, 0),
            load_embedder("e5-small-int8", str(MODEL_CACHE), 32, 0))


def _sample_chunks() -> list[str]:
    from index.chunking import chunk_text
    from index.cleaning import content_spans

    chunks = []
    for path in sorted(SAMPLE.glob("*.txt")):
        text = read_exact(path)
        chunks += [c.text for c in chunk_text(text, content_spans(text), 160, 30)]
    return chunks


def _dev_questions() -> list[str]:
    with open(DEV_SET, encoding="utf-8") as fh:
        return [json.loads(line)["question"] for line in fh if line.strip()]


def test_int8_passages_match_fp32(pair):
    fp32, int8 = pair
    chunks = _sample_chunks()
    assert len(chunks) >= 40
    cos = np.sum(fp32.embed_documents(chunks) * int8.embed_documents(chunks), axis=1)
    assert cos.min() >= MIN_COSINE, f"worst passage cosine {cos.min():.4f}"


def test_int8_queries_match_fp32(pair):
    fp32, int8 = pair
    qs = _dev_questions()
    cos = np.sum(fp32.embed_queries(qs) * int8.embed_queries(qs), axis=1)
    assert cos.min() >= MIN_COSINE, f"worst question cosine {cos.min():.4f}: {qs[int(cos.argmin())]!r}"


def test_int8_keeps_the_interface(pair):
    fp32, int8 = pair
    assert int8.dimension == fp32.dimension == 384
    text = "Kassym-Jomart Tokayev menyambut orang Rusia yang kabur dari wajib militer."
    assert int8.count_tokens(text) == fp32.count_tokens(text)
    assert int8.count_tokens(text, "query: ") == fp32.count_tokens(text, "query: ")
    vec = int8.embed_query(text)
    assert vec.dtype == np.float32 and abs(float(np.linalg.norm(vec)) - 1.0) < 1e-4
    long = " ".join([text] * 120)  # > 512 tokens: truncated like sentence-transformers
    assert float(np.dot(fp32.embed_documents([long])[0], int8.embed_documents([long])[0])) >= MIN_COSINE


def test_an_index_built_with_one_embedder_is_refused_by_the_other(settings, built_index):
    from index import IndexModelMismatch, open_index

    other = "e5-small-int8" if settings.embedder != "e5-small-int8" else "e5-small"
    with pytest.raises(IndexModelMismatch, match="embedder"):
        open_index(settings.model_copy(update={"embedder": other}).index_config())


def test_int8_batches_are_cut_by_token_count_and_vectors_come_back_in_input_order(pair, monkeypatch):
    _fp32, int8 = pair
    # the sample chunks plus short lines whose character and token counts disagree (digits and names split into
    # many tokens per character; plain words into few)
    texts = _sample_chunks() + ["1945 17/08 08.00 WIB Rp 1.250.000", "Presiden berkata bahwa pembangunan berlanjut"]
    texts = texts[::-1]  # an input order that is neither sorted by characters nor by tokens
    _ids, tokens = int8.backend.prepare(texts, "passage")
    seen: list[list[int]] = []
    run = int8.backend.run
    monkeypatch.setattr(int8.backend, "run", lambda inputs, kind: (seen.append([len(r) for r in inputs]),
                                                                   run(inputs, kind))[1])
    vectors = int8.embed_documents(texts)
    assert sum(len(b) for b in seen) == len(texts) and all(len(b) <= int8.batch_size for b in seen)
    for before, after in zip(seen, seen[1:], strict=False):  # each batch holds the next-longest texts by tokens
        assert max(before) <= min(after)
    padded = sum(max(b) * len(b) for b in seen)
    by_chars = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    padded_by_chars = sum(max(tokens[i] for i in by_chars[k : k + 32]) * len(by_chars[k : k + 32])
                          for k in range(0, len(texts), 32))
    assert padded <= padded_by_chars
    alone = np.vstack([int8.embed_documents([t]) for t in (texts[0], texts[-1], texts[len(texts) // 2])])
    picked = vectors[[0, len(texts) - 1, len(texts) // 2]]
    assert np.sum(alone * picked, axis=1).min() >= 0.99  # row i is text i's vector (int8: batch-mates move it a bit)
