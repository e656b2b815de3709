"""Group articles that tell the same story (near-duplicates from different outlets) under one story id.

Two articles are one story when several of each one's sentences have a close paraphrase in the other (content-word
Jaccard ≥ 0.25, at least 3 sentences and 10% of the shorter article, both ways). Candidate pairs come from an
inverted index of each article's rarest terms, so the cost stays near-linear.

Every threshold below is set by hand, not fitted: they were chosen by looking at the five sample articles (the two
reports of one event share 4–5 such sentences, unrelated articles about the same country 0–1), which is too few
pairs to fit or to test them on. They decide which passages show the same ``story_id``, and they matter to answers
only where a per-story cap is set (the fitted selection sets none; ``ASSISTANT_MAX_PER_STORY`` can).

The story id is shown with each passage (``story_id``); retrieval no longer caps passages per story unless the fitted
selection says so (``assistant/fitted/retrieval-selection-*.json``: no cap was chosen on multi-paragraph news, where a
cap dropped the passage that answers).
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict

__all__ = ["assign_stories"]

# set by hand (see the module docstring)
_JACCARD = 0.25  # two sentences are a paraphrase at this content-word Jaccard
_MIN_SHARED = 3  # paraphrased sentences each way for one story
_MIN_FRACTION = 0.10  # ... and at least this share of the shorter article's sentences
_SIGNATURE_TERMS = 40  # an article's rarest terms indexed to find candidate pairs
_MIN_SIGNATURE_OVERLAP = 4  # shared signature terms for a pair to be compared at all


def _matched(a: list[frozenset[str]], b: list[frozenset[str]]) -> int:
    hits = 0
    for s in a:
        for t in b:
            inter = len(s & t)
            if inter and inter / len(s | t) >= _JACCARD:
                hits += 1
                break
    return hits


def assign_stories(doc_sentences: dict[str, list[frozenset[str]]]) -> dict[str, str]:
    """Map each doc id to a story id (the smallest doc id of its group) given its sentences' term sets."""
    docs = sorted(doc_sentences)
    df: Counter[str] = Counter()
    for d in docs:
        df.update(set().union(*doc_sentences[d]) if doc_sentences[d] else set())
    n = max(len(docs), 1)
    postings: dict[str, list[str]] = defaultdict(list)
    for d in docs:
        terms = Counter(t for s in doc_sentences[d] for t in s)
        ranked = sorted(terms, key=lambda t: (-terms[t] * math.log(1 + n / df[t]), t))[:_SIGNATURE_TERMS]
        for t in ranked:
            postings[t].append(d)
    pair_counts: Counter[tuple[str, str]] = Counter()
    for ds in postings.values():
        if len(ds) > 200:  # too common to discriminate
            continue
        for i, a in enumerate(ds):
            for b in ds[i + 1 :]:
                pair_counts[(a, b)] += 1
    parent = {d: d for d in docs}

    def find(x: str) -> str:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for (a, b), shared in pair_counts.items():
        if shared < _MIN_SIGNATURE_OVERLAP:
            continue
        sa, sb = doc_sentences[a], doc_sentences[b]
        if not sa or not sb:
            continue
        ab, ba = _matched(sa, sb), _matched(sb, sa)
        shorter = min(len(sa), len(sb))
        if min(ab, ba) >= _MIN_SHARED and min(ab, ba) / shorter >= _MIN_FRACTION:
            ra, rb = find(a), find(b)
            parent[max(ra, rb)] = min(ra, rb)
    return {d: find(d) for d in docs}
