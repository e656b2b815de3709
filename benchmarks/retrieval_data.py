"""What the retrieval fitting and report scripts share: the scoring pool, the question parts, gold chunks, metrics.

The pool mixes FacQA-train's 849 news paragraphs with the sample articles in one index, built by the product's own
indexer (cached in ``benchmarks/cache/pool-<embedder>/``). A question *hits* at k when the top k passages cover its
evidence span (``assistant.evaluation.metrics.hit_at_k``, the evaluator's own definition).
"""

from __future__ import annotations

import json
import random
import shutil
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from facqa_split import FACQA, load_split  # noqa: E402

from assistant.evaluation.dataset import EvalItem, load_items  # noqa: E402
from assistant.evaluation.metrics import Span, evidence_spans, hit_at_k, mrr  # noqa: E402
from assistant.settings import Settings  # noqa: E402
from index import IndexReader, UserError, build_index, open_index  # noqa: E402

CACHE = ROOT / "benchmarks" / "cache"
SAMPLES = ROOT / "data" / "articles"
DEV = ROOT / "data" / "eval" / "dev.jsonl"


def settings_for(index_dir: Path, **overrides) -> Settings:
    return Settings(index_dir=index_dir, **overrides)


def _fill(folder: Path, sources: Sequence[Path]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    wanted = {p.name for p in sources}
    for old in folder.iterdir():
        if old.name not in wanted:
            old.unlink()
    for p in sources:
        dst = folder / p.name
        if not dst.exists() or dst.read_bytes() != p.read_bytes():
            shutil.copyfile(p, dst)


def _open(articles: Path, index_dir: Path, settings: Settings) -> IndexReader:
    s = settings_for(index_dir, embedder=settings.embedder, model_cache_dir=settings.model_cache_dir,
                     chunk_tokens=settings.chunk_tokens, chunk_overlap=settings.chunk_overlap)
    try:
        build_index(articles, s.index_config())
    except UserError:  # another script is bringing the same cached index up to date: wait until it is done
        import fcntl

        with open(index_dir / "LOCK", "a+") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
    return open_index(s.index_config())


def open_pool(settings: Settings) -> IndexReader:
    """The FacQA + sample-articles pool index for ``settings.embedder`` (built or brought up to date first)."""
    folder = CACHE / f"pool-{settings.embedder}{_chunking(settings)}"
    _fill(folder / "articles", sorted((FACQA / "articles").glob("*.txt")) + sorted(SAMPLES.iterdir()))
    return _open(folder / "articles", folder / "index", settings)


def open_samples(settings: Settings) -> IndexReader:
    """An index of the sample articles alone (for the dev smoke test)."""
    return _open(SAMPLES, CACHE / f"samples-{settings.embedder}{_chunking(settings)}" / "index", settings)


def _chunking(settings: Settings) -> str:
    default = Settings.model_fields
    same = (settings.chunk_tokens, settings.chunk_overlap) == (default["chunk_tokens"].default,
                                                               default["chunk_overlap"].default)
    return "" if same else f"-c{settings.chunk_tokens}o{settings.chunk_overlap}"


def add_index_options(ap) -> None:
    """The embedder and chunking options every fitting/report script takes."""
    ap.add_argument("--embedder", default="e5-small")
    ap.add_argument("--chunk-tokens", type=int, default=Settings.model_fields["chunk_tokens"].default)
    ap.add_argument("--chunk-overlap", type=int, default=Settings.model_fields["chunk_overlap"].default)


def pool_from_args(description: str, default_embedder: str) -> tuple[Any, Settings, IndexReader]:
    """Parse the index options (:func:`add_index_options`, ``default_embedder`` unless given) and open the pool."""
    import argparse

    ap = argparse.ArgumentParser(description=description)
    add_index_options(ap)
    ap.set_defaults(embedder=default_embedder)
    args = ap.parse_args()
    settings = settings_from(args)
    return args, settings, open_pool(settings)


def settings_from(args) -> Settings:
    return settings_for(Path("unused"), embedder=args.embedder, chunk_tokens=args.chunk_tokens,
                        chunk_overlap=args.chunk_overlap)


def part(name: str) -> list[EvalItem]:
    """The FacQA-train questions of one split part (``fit``, ``choose`` or ``report``)."""
    ids = set(load_split()["questions"][name])
    return [it for it in load_items(FACQA / "questions.jsonl") if it.id in ids]


def dev_items() -> list[EvalItem]:
    return [it for it in load_items(DEV) if it.answerable]


def gold(reader: IndexReader, item: EvalItem) -> list[Span | None]:
    def text_of(src: str) -> str | None:
        try:
            return reader.document_text(src)
        except KeyError:
            return None

    return evidence_spans(item.evidence, item.sources, text_of)


def spans(reader: IndexReader, ids: Sequence[str]) -> list[Span]:
    out = []
    for cid in ids:
        p = reader.passage(cid)
        out.append((p.source, p.start, p.end))
    return out


def covers(evidence: list[Span | None], span: Span) -> bool:
    """True when ``span`` (source, start, end) overlaps one of the gold ``evidence`` spans (the fitting label)."""
    return any(e is not None and e[0] == span[0] and e[1] < span[2] and span[1] < e[2] for e in evidence)


def score(evidence: list[Span | None], passages: list[Span], k: int = 5) -> tuple[float, float]:
    """(hit@k as 0/1, reciprocal rank)."""
    return float(bool(hit_at_k(evidence, passages, k))), float(mrr(evidence, passages) or 0.0)


def bootstrap(values: Sequence[Any], stat: Callable[[list[Any]], float] = lambda v: sum(v) / len(v),
              rounds: int = 2000, seed: int = 7) -> tuple[float, float, float]:
    """(estimate, low, high): the 95% percentile bootstrap interval over questions."""
    vals = list(values)
    rng = random.Random(seed)
    draws = sorted(stat([vals[rng.randrange(len(vals))] for _ in vals]) for _ in range(rounds))
    return stat(vals), draws[int(0.025 * rounds)], draws[int(0.975 * rounds) - 1]


def write_json(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
