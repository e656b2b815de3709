"""Run a question set through an :class:`~assistant.chain.Assistant` and write results, summary and reports."""

from __future__ import annotations

import hashlib
import json
import subprocess
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from assistant.evaluation import metrics as m
from assistant.evaluation.dataset import EvalItem
from assistant.evaluation.report import write_reports
from index.state import load_state

__all__ = ["run_eval", "evaluate_item", "summarize", "settings_snapshot", "missing_sources", "METRIC_KEYS"]

# per-question metric values, averaged over the questions where they are defined
METRIC_KEYS = ("hit_at_k", "evidence_recall_at_k", "mrr", "ndcg_at_10", "answer_correct", "token_f1",
               "citation_exactness", "citation_precision", "citation_recall")
Progress = Callable[[int, int], None]


def _text_getter(assistant: Any) -> Callable[[str], str | None]:
    def text_of(source: str) -> str | None:
        try:
            return assistant.reader.document_text(source)
        except KeyError:
            return None
    return text_of


def missing_sources(assistant: Any, items: Sequence[EvalItem]) -> list[str]:
    """Sources named by the question set that the index does not hold."""
    files = assistant.reader.state.files
    return sorted({s for it in items for s in it.sources if s not in files})


def evaluate_item(item: EvalItem, answer: Any, latency_ms: float, text_of: Callable[[str], str | None],
                  k: int) -> dict[str, Any]:
    """One ``results.jsonl`` row: the answer, its metric values, pass/fail and the failure attribution."""
    public = answer.public_dict()
    passages = [(p["source"], p["start"], p["end"]) for p in public["passages"]]
    ev = m.evidence_spans(item.evidence, item.sources, text_of)
    cites = public["citations"]
    correct = item.answerable and m.answer_correct(answer.answer, answer.abstained, item.answer,
                                                   item.answer_aliases, item.evidence)
    hit = m.hit_at_k(ev, passages, k)
    row = {
        "id": item.id, "question": item.question, "type": item.type, "lang": item.lang,
        "answerable": item.answerable, "reference": item.answer,
        "answer": answer.answer, "abstained": answer.abstained, "citations": cites,
        "passages": public["passages"], "latency_ms": round(latency_ms, 1), "timings_ms": answer.timings_ms,
        "evidence_located": sum(e is not None for e in ev), "evidence_total": len(ev),
        "hit_at_k": hit, "evidence_recall_at_k": m.evidence_recall_at_k(ev, passages, k),
        "mrr": m.mrr(ev, passages), "ndcg_at_10": m.ndcg_at_k(ev, passages, 10),
        "answer_correct": correct if item.answerable else None,
        "token_f1": m.token_f1(answer.answer, item.answer) if item.answerable and not answer.abstained else
        (0.0 if item.answerable else None),
        "citation_exactness": m.citation_exactness(cites, text_of),
        "citation_precision": m.citation_precision(cites, ev), "citation_recall": m.citation_recall(cites, ev),
    }
    row["pass"] = bool(correct) if item.answerable else bool(answer.abstained)
    row["failure"] = None if row["pass"] else (
        "abstention" if not item.answerable else "retrieval" if not hit else "answer")
    row["error"] = None
    return row


def _error_row(item: EvalItem, exc: Exception, latency_ms: float) -> dict[str, Any]:
    row: dict[str, Any] = {"id": item.id, "question": item.question, "type": item.type, "lang": item.lang,
                           "answerable": item.answerable, "reference": item.answer, "answer": "", "abstained": False,
                           "citations": [], "passages": [], "latency_ms": round(latency_ms, 1), "timings_ms": {},
                           "evidence_located": 0, "evidence_total": 0}
    row.update(dict.fromkeys(METRIC_KEYS))
    row.update({"pass": False, "failure": "error", "error": f"{type(exc).__name__}: {exc}"})
    return row


def _group(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {"n": len(rows), "n_answerable": sum(r["answerable"] for r in rows)}
    out["n_unanswerable"] = out["n"] - out["n_answerable"]
    for key in METRIC_KEYS:
        vals = [float(r[key]) for r in rows if r[key] is not None]
        out[key] = round(sum(vals) / len(vals), 4) if vals else None
    out.update({k: None if v is None else round(v, 4) for k, v in m.abstention_metrics(
        [(r["answerable"], r["abstained"], bool(r["answer_correct"])) for r in rows if r["error"] is None]).items()})
    lat = [r["latency_ms"] for r in rows]
    for p in (50, 95):
        v = m.percentile(lat, p)
        out[f"latency_p{p}_ms"] = None if v is None else round(v, 1)
    out["pass_rate"] = round(sum(r["pass"] for r in rows) / len(rows), 4) if rows else None
    out["failures"] = {f: sum(r["failure"] == f for r in rows) for f in ("retrieval", "answer", "abstention", "error")}
    return out


def summarize(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Every metric overall, per question type and per language."""
    by = lambda key: {v: _group([r for r in rows if r[key] == v]) for v in sorted({r[key] for r in rows})}  # noqa: E731
    return {"overall": _group(rows), "by_type": by("type"), "by_lang": by("lang")}


def _git_commit() -> str | None:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5,
                             cwd=Path(__file__).resolve().parent)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


def corpus_hash(index_dir: Path) -> str | None:
    """sha256 over the sorted ``source:content_hash`` lines of the index manifest (None without an index)."""
    state = load_state(index_dir)
    if state is None:
        return None
    lines = "\n".join(f"{s}:{f.content_hash}" for s, f in sorted(state.files.items()))
    return hashlib.sha256(lines.encode()).hexdigest()


def settings_snapshot(settings: Any) -> dict[str, Any]:
    """What produced a run: backends, prompt versions, chunking, top_k, git commit, corpus manifest hash."""
    d = settings.model_dump(mode="json")
    keys = ("embedder", "llm", "qa_prompt", "condense_prompt", "chunk_tokens", "chunk_overlap", "top_k",
            "candidates", "max_per_story", "answer_language", "index_dir")
    return {**{k: d.get(k) for k in keys}, "git_commit": _git_commit(), "corpus_hash": corpus_hash(settings.index_dir),
            "corpus_files": len(state.files) if (state := load_state(settings.index_dir)) else 0}


def run_eval(assistant: Any, items: Sequence[EvalItem], out_dir: Path, workers: int = 1,
             progress: Progress | None = None, dataset: str = "") -> dict[str, Any]:
    """Ask every question (``workers`` threads when > 1), write ``results.jsonl``, ``summary.json``, ``report.md``
    and ``report.html`` into ``out_dir``, and return the summary."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    text_of = _text_getter(assistant)
    k = assistant.settings.top_k
    done, lock = [0], threading.Lock()
    started = time.time()

    def one(item: EvalItem) -> dict[str, Any]:
        t0 = time.perf_counter()
        try:
            answer = assistant.ask(item.question)
            row = evaluate_item(item, answer, (time.perf_counter() - t0) * 1000, text_of, k)
        except Exception as exc:  # one broken question must not lose the run; it is reported as an error
            row = _error_row(item, exc, (time.perf_counter() - t0) * 1000)
        with lock:
            done[0] += 1
            if progress:
                progress(done[0], len(items))
        return row

    if workers > 1:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            rows = list(pool.map(one, items))
    else:
        rows = [one(it) for it in items]
    with open(out_dir / "results.jsonl", "w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    missing = missing_sources(assistant, items)
    unlocated = [r["id"] for r in rows if r["evidence_total"] and r["evidence_located"] < r["evidence_total"]]
    summary = {
        "dataset": dataset, "questions": len(rows), "k": k, "workers": workers,
        "started": time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(started)),
        "duration_s": round(time.time() - started, 1),
        "settings": settings_snapshot(assistant.settings),
        "warnings": ([f"sources not in the index: {', '.join(missing)}"] if missing else [])
        + ([f"evidence not found verbatim in the article text: {', '.join(unlocated)}"] if unlocated else []),
        "metrics": summarize(rows),
    }
    (out_dir / "summary.json").write_text(json.dumps(summary, ensure_ascii=False, indent=2), encoding="utf-8")
    write_reports(out_dir, summary, rows)
    return summary
