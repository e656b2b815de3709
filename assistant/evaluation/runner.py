"""Run a question set through an :class:`~assistant.chain.Assistant` and write results, summary and reports."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from langchain_core.runnables import Runnable, RunnableLambda

from assistant.errors import BadInput
from assistant.evaluation import metrics as m
from assistant.evaluation.dataset import EvalItem
from assistant.evaluation.report import write_reports
from assistant.models import Answer, Turn
from index.state import load_state

__all__ = ["run_eval", "new_run_dir", "evaluate_item", "summarize", "settings_snapshot", "missing_sources", "prepare_run",
           "read_results", "read_summary", "with_live_status", "EvalInterrupted", "METRIC_KEYS", "replay",
           "conversation_summary"]

# per-question metric values, averaged over the questions where they are defined
METRIC_KEYS = ("hit_at_k", "evidence_recall_at_k", "mrr", "ndcg_at_10", "answer_correct", "token_f1",
               "citation_exactness", "citation_precision", "citation_recall")
Progress = Callable[[int, int], None]
RESULTS, SUMMARY = "results.jsonl", "summary.json"


class EvalInterrupted(KeyboardInterrupt):
    """A run stopped by Ctrl-C (or SIGTERM, see :func:`assistant.evaluation.commands.run_command`) after its partial
    results, summary and reports were written."""

    def __init__(self, done: int, total: int, out_dir: Path) -> None:
        super().__init__(f"interrupted after {done}/{total} questions")
        self.done, self.total, self.out_dir = done, total, out_dir


def new_run_dir(runs_dir: Path, dataset: Path) -> Path:
    """A new folder for a run of ``dataset`` under ``runs_dir``: ``<yyyymmdd-hhmmss>-<set name>`` (``-2``… when taken).
    The CLI's default ``--out`` and the Evaluation tab both name runs so, in ``ASSISTANT_EVAL_RUNS_DIR``, where the
    tab lists them."""
    stem = "".join(c if c.isalnum() or c in "-_" else "_" for c in Path(dataset).stem)[:40] or "set"
    base = Path(runs_dir) / f"{time.strftime('%Y%m%d-%H%M%S')}-{stem}"
    out, n = base, 1
    while out.exists():
        n += 1
        out = base.with_name(f"{base.name}-{n}")
    return out


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


def _locate(item: EvalItem, passages: Sequence[m.Span], text_of: Callable[[str], str | None],
            corpus: Sequence[str]) -> list[m.Span | None]:
    """Evidence spans in the item's sources; without sources, in the retrieved articles first, then in the rest of
    the corpus (metrics only count passages of the same article, so where an unretrieved span lies does not change
    them; the whole-corpus search only tells "not retrieved" from "not in the corpus")."""
    if item.sources or not item.evidence:
        return m.evidence_spans(item.evidence, item.sources, text_of)
    retrieved = list(dict.fromkeys(p[0] for p in passages))
    spans = m.evidence_spans(item.evidence, retrieved, text_of)
    if None in spans:
        seen = set(retrieved)
        rest = [s for s in corpus if s not in seen]
        spans = [s or m.evidence_spans([e], rest, text_of)[0] for e, s in zip(item.evidence, spans, strict=True)]
    return spans


def evaluate_item(item: EvalItem, answer: Any, latency_ms: float, text_of: Callable[[str], str | None],
                  k: int, corpus: Sequence[str] = ()) -> dict[str, Any]:
    """One ``results.jsonl`` row: the answer, its metric values, pass/fail and the failure attribution.

    Retrieval is scored on the evidence spans, or per article when only ``sources`` are given (a passage is relevant
    when it comes from a listed source), and not at all (None) with neither; the answer is scored when there is a
    reference answer or evidence. An answerable question with sources only passes when its sources are retrieved.
    """
    public = answer.public_dict()
    passages = [(p["source"], p["start"], p["end"]) for p in public["passages"]]
    ev = _locate(item, passages, text_of, corpus) if item.answerable else []
    cites = public["citations"]
    level = "evidence" if ev else "source" if item.answerable and item.sources else None
    if level == "source":  # article level: every span of a listed source counts
        ev = [(s, 0, 1) for s in item.sources]
        ret_passages = [(p[0], 0, 1) for p in passages]
        ret_cites = [{**c, "start": 0, "end": 1} for c in cites]
    else:
        ret_passages, ret_cites = passages, cites
    correct = m.answer_correct(answer.answer, answer.abstained, item.answer, item.answer_aliases,
                               item.evidence) if item.scores_answer else None
    hit = m.hit_at_k(ev, ret_passages, k)
    row = {
        "id": item.id, "question": item.question, "type": item.type, "lang": item.lang,
        "answerable": item.answerable, "reference": item.answer, "retrieval_level": level,
        "answer": answer.answer, "abstained": answer.abstained, "citations": cites,
        "passages": public["passages"], "latency_ms": round(latency_ms, 1), "timings_ms": answer.timings_ms,
        "evidence_located": sum(e is not None for e in ev) if level == "evidence" else 0,
        "evidence_total": len(ev) if level == "evidence" else 0,
        "hit_at_k": hit, "evidence_recall_at_k": m.evidence_recall_at_k(ev, ret_passages, k),
        "mrr": m.mrr(ev, ret_passages), "ndcg_at_10": m.ndcg_at_k(ev, ret_passages, 10),
        "answer_correct": correct,
        "token_f1": None if not (item.answerable and item.answer) else
        0.0 if answer.abstained else m.token_f1(answer.answer, item.answer),
        "citation_exactness": m.citation_exactness(cites, text_of),
        "citation_precision": m.citation_precision(ret_cites, ev), "citation_recall": m.citation_recall(ret_cites, ev),
    }
    row.update(_turn_fields(item, answer.standalone_question))
    row["pass"] = bool(answer.abstained) if not item.answerable else bool(correct) if item.scores_answer else bool(hit)
    row["failure"] = None if row["pass"] else (
        "abstention" if not item.answerable else "retrieval" if hit is False else "answer")
    row["error"] = None
    return row


def _turn_fields(item: EvalItem, standalone: str | None) -> dict[str, Any]:
    """The conversation columns of a row: what was searched, and whether the rewrite decision was the expected one."""
    rewritten = None if standalone is None else standalone != item.question
    return {"history": list(item.history), "standalone_question": standalone, "follow_up": item.follow_up,
            "rewritten": rewritten,
            "rewrite_correct": None if item.follow_up is None or rewritten is None else rewritten == item.follow_up}


def replay(chain: Runnable[dict[str, Any], Answer], item: EvalItem) -> list[Turn]:
    """The item's earlier questions asked through the same chain, each with the turns before it: the history the
    item's own question is asked with."""
    history: list[Turn] = []
    for question in item.history:
        history.append(Turn(question=question, answer=chain.invoke({"question": question, "history": history}).answer))
    return history


def _error_row(item: EvalItem, exc: Exception, latency_ms: float) -> dict[str, Any]:
    """The row of a question that raised: every metric its question is scored on counts as failed (an error is
    not a correct answer, nor a hit), so it stays in every denominator."""
    row: dict[str, Any] = {"id": item.id, "question": item.question, "type": item.type, "lang": item.lang,
                           "answerable": item.answerable, "reference": item.answer, "retrieval_level": None,
                           "answer": "", "abstained": False,
                           "citations": [], "passages": [], "latency_ms": round(latency_ms, 1), "timings_ms": {},
                           "evidence_located": 0, "evidence_total": 0}
    row.update(dict.fromkeys(METRIC_KEYS))
    if item.evidence or (item.answerable and item.sources):  # what evaluate_item scores retrieval on
        row.update({"hit_at_k": False, "evidence_recall_at_k": 0.0, "mrr": 0.0, "ndcg_at_10": 0.0,
                    "citation_recall": 0.0})
    if item.scores_answer:
        row["answer_correct"] = False
    if item.answerable and item.answer:
        row["token_f1"] = 0.0
    row.update(_turn_fields(item, None))
    row.update({"pass": False, "failure": "error", "error": f"{type(exc).__name__}: {exc}"})
    return row


def _metric_value(row: dict[str, Any], key: str) -> Any:
    value = row.get(key)
    if value is None and key == "answer_correct" and row.get("error") and row["answerable"] and row["reference"]:
        return False  # an error row written before errors were scored as failures
    return value


def _group(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The metrics of ``rows``; ``n_of`` gives, per metric, how many questions it is the mean over. A question that
    raised counts as not correct in answer_correct, accuracy and pass_rate (and as a miss in retrieval metrics);
    the abstention rates and answer_precision are over the questions that got an answer or a refusal."""
    out: dict[str, Any] = {"n": len(rows), "n_answerable": sum(r["answerable"] for r in rows)}
    out["n_unanswerable"] = out["n"] - out["n_answerable"]
    n_of: dict[str, int] = {}
    for key in METRIC_KEYS:
        vals = [float(v) for r in rows if (v := _metric_value(r, key)) is not None]
        out[key] = round(sum(vals) / len(vals), 4) if vals else None
        n_of[key] = len(vals)
    ran = [r for r in rows if not r.get("error")]
    shares = m.abstention_metrics([(r["answerable"], r["abstained"], bool(r["pass"])) for r in ran])
    shares["accuracy"] = m.abstention_metrics(  # every question: one that raised was not answered right
        [(r["answerable"], r["abstained"] and not r.get("error"), bool(r["pass"])) for r in rows])["accuracy"]
    out.update({k: None if v is None else round(v, 4) for k, v in shares.items()})
    n_of.update({"abstention_rate": sum(not r["answerable"] for r in ran),
                 "false_abstention_rate": sum(bool(r["answerable"]) for r in ran),
                 "answer_precision": sum(not r["abstained"] for r in ran), "accuracy": len(rows),
                 "pass_rate": len(rows)})
    out["n_of"] = n_of
    lat = [r["latency_ms"] for r in rows]
    for p in (50, 95):
        v = m.percentile(lat, p)
        out[f"latency_p{p}_ms"] = None if v is None else round(v, 1)
    out["pass_rate"] = round(sum(r["pass"] for r in rows) / len(rows), 4) if rows else None
    out["failures"] = {f: sum(r["failure"] == f for r in rows) for f in ("retrieval", "answer", "abstention", "error")}
    return out


def _rate(values: Sequence[Any]) -> float | None:
    known = [bool(v) for v in values if v is not None]
    return round(sum(known) / len(known), 4) if known else None


def conversation_summary(rows: Sequence[dict[str, Any]]) -> dict[str, Any] | None:
    """For the rows tagged follow-up or topic switch: the share of right rewrite decisions (a follow-up rewritten, a
    topic switch searched as typed) and the answers' accuracy, overall and per kind; None when no row is tagged."""
    tagged = [r for r in rows if r.get("follow_up") is not None]
    if not tagged:
        return None

    def group(rs: list[dict[str, Any]]) -> dict[str, Any]:
        return {"n": len(rs), "rewrite_decision_accuracy": _rate([r.get("rewrite_correct") for r in rs]),
                "rewritten_rate": _rate([r.get("rewritten") for r in rs]),
                "answer_correct": _rate([r.get("answer_correct") for r in rs]),
                "pass_rate": _rate([r.get("pass") for r in rs]),
                "wrong_decisions": [r["id"] for r in rs if r.get("rewrite_correct") is False]}

    return {**group(tagged), "follow_up": group([r for r in tagged if r["follow_up"]]),
            "topic_switch": group([r for r in tagged if not r["follow_up"]])}


def summarize(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Every metric overall, per question type and per language (and per conversation kind, when tagged)."""
    by = lambda key: {v: _group([r for r in rows if r[key] == v]) for v in sorted({r[key] for r in rows})}  # noqa: E731
    out = {"overall": _group(rows), "by_type": by("type"), "by_lang": by("lang")}
    conversation = conversation_summary(rows)
    if conversation is not None:
        out["conversation"] = conversation
    return out


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


def read_results(out_dir: Path) -> list[dict[str, Any]]:
    """The rows of ``results.jsonl`` (none when absent); a last line cut short by a kill is dropped."""
    path = Path(out_dir) / RESULTS
    if not path.is_file():
        return []
    lines = path.read_text(encoding="utf-8").split("\n")
    rows = []
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            if n == len(lines):  # no line end: the process died while writing it
                continue
            row = None
        if not isinstance(row, dict) or not isinstance(row.get("id"), str):
            raise BadInput(f"{path} line {n}: not a result row; start a new run with another --out")
        rows.append(row)
    return rows


def _process_start(pid: int) -> str | None:
    """When process ``pid`` started (clock ticks since boot, from /proc), to tell it from a later process that got
    the same id; None where /proc cannot say."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[-1].split()
    return fields[19] if len(fields) > 19 else None


def _still_running(summary: dict[str, Any]) -> bool:
    """Whether the process that wrote a ``running`` summary is alive (another host's runs are taken at their word)."""
    pid = summary.get("pid")
    if summary.get("host") not in (None, socket.gethostname()):
        return True
    if not isinstance(pid, int) or isinstance(pid, bool) or pid <= 0:
        return False  # written before runs recorded their process: nothing says it is still running
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # alive, another user's
    started = summary.get("process_started")
    return started is None or _process_start(pid) in (None, started)


def with_live_status(summary: dict[str, Any]) -> dict[str, Any]:
    """``summary`` as read from disk, with ``status: running`` turned to ``interrupted`` when the process that wrote
    it is gone (a ``kill -9``, a power cut): such a run will never finish, and ``--resume`` continues it."""
    if isinstance(summary, dict) and summary.get("status") == "running" and not _still_running(summary):
        return {**summary, "status": "interrupted"}
    return summary


def read_summary(out_dir: Path) -> dict[str, Any]:
    """``summary.json`` of a run folder ({} when absent or unreadable), with :func:`with_live_status` applied."""
    try:
        summary = json.loads((Path(out_dir) / SUMMARY).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return with_live_status(summary) if isinstance(summary, dict) else {}



def _short(text: str) -> str:
    return text if len(text) <= 60 else text[:57] + "..."


def prepare_run(out_dir: Path, items: Sequence[EvalItem], snapshot: dict[str, Any], resume: bool
                ) -> tuple[dict[str, dict[str, Any]], dict[str, Any]]:
    """The rows already done (by id) and the summary of the run in ``out_dir`` that ``--resume`` continues, after
    checking they belong to these questions and settings; for a new run, refuse a folder holding an unfinished run."""
    out_dir = Path(out_dir)
    rows, summary = read_results(out_dir), read_summary(out_dir)
    if not resume:
        if rows and summary.get("status", "complete") != "complete":
            raise BadInput(f"{out_dir} holds an unfinished run ({len(rows)} questions done); continue it with "
                           f"--resume, or choose another --out")
        return {}, {}
    if not rows:
        raise BadInput(f"--resume: {out_dir} holds no results to continue; run without --resume")
    by_id = {it.id: it for it in items}
    done: dict[str, dict[str, Any]] = {}
    for row in rows:
        item = by_id.get(row["id"])
        if item is None:
            raise BadInput(f"--resume: {out_dir} has a result for id '{row['id']}', which the question set no longer "
                           f"holds (the file changed); start a new run with another --out")
        if row.get("question") != item.question:
            raise BadInput(f"--resume: id '{item.id}' was asked \"{_short(str(row.get('question')))}\" but the question "
                           f"set now has \"{_short(item.question)}\" (the file changed); start a new run with another --out")
        done.setdefault(row["id"], row)
    before = summary.get("settings") or {}
    for key, value in snapshot.items():
        if key != "git_commit" and key in before and before[key] != value:
            raise BadInput(f"--resume: setting {key} was {before[key]} in the interrupted run and is {value} now; "
                           f"resume with the same settings, or start a new run with another --out")
    return done, summary


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


@contextmanager
def _signals_held() -> Iterator[None]:
    """Ignore Ctrl-C and SIGTERM while the partial run is written (main thread only; elsewhere a no-op)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    old = {s: signal.signal(s, signal.SIG_IGN) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for s, handler in old.items():
            signal.signal(s, handler)


def run_eval(assistant: Any, items: Sequence[EvalItem], out_dir: Path, workers: int = 1,
             progress: Progress | None = None, dataset: str = "", resume: bool = False,
             notes: Sequence[str] = ()) -> dict[str, Any]:
    """Ask every question (``workers`` threads when > 1) and return the summary.

    Each row is appended to ``out_dir/results.jsonl`` and flushed as soon as it is scored; at the end the rows are
    rewritten in question order and ``summary.json``, ``report.md`` and ``report.html`` written. On Ctrl-C
    (KeyboardInterrupt) the same files are written for the questions done, with ``status: interrupted``, and
    :class:`EvalInterrupted` is raised. ``resume=True`` continues such a run: ids already in ``results.jsonl`` are
    skipped (see :func:`prepare_run` for what is refused).
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    snapshot = settings_snapshot(assistant.settings)
    done, before = prepare_run(out_dir, items, snapshot, resume)
    text_of = _text_getter(assistant)
    k = assistant.settings.top_k
    corpus = sorted(assistant.reader.state.files)
    missing = missing_sources(assistant, items)
    started, t0 = time.time(), time.perf_counter()
    meta = {"dataset": dataset, "k": k, "workers": workers, "pid": os.getpid(), "host": socket.gethostname(),
            "process_started": _process_start(os.getpid()),
            "started": before.get("started") or time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(started)),
            "sessions": int(before.get("sessions", 1)) + 1 if resume else 1, "notes": list(notes),
            "settings": snapshot}

    def finish(status: str) -> dict[str, Any]:
        rows = [done[it.id] for it in items if it.id in done]
        _write_atomic(out_dir / RESULTS, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
        unlocated = [r["id"] for r in rows if r["evidence_total"] and r["evidence_located"] < r["evidence_total"]]
        summary = {
            **meta, "status": status, "questions": len(rows), "total": len(items),
            "duration_s": round(float(before.get("duration_s", 0.0)) + time.perf_counter() - t0, 1),
            "warnings": ([f"sources not in the index: {', '.join(missing)}"] if missing else [])
            + ([f"evidence not found verbatim in the article text: {', '.join(unlocated)}"] if unlocated else []),
            "metrics": summarize(rows),
        }
        _write_atomic(out_dir / SUMMARY, json.dumps(summary, ensure_ascii=False, indent=2))
        if status != "running":
            write_reports(out_dir, summary, rows)
        return summary

    finish("running")  # a run killed outright is still recognisable, and resumable
    fh = open(out_dir / RESULTS, "a", encoding="utf-8")
    chain = assistant.chain()

    def asked(item: EvalItem) -> dict[str, Any]:
        return {"question": item.question, "history": replay(chain, item)}

    # every question through the one QA chain, ``workers`` at a time; rows are written as questions finish
    todo = [it for it in items if it.id not in done]
    runs = (RunnableLambda(asked, name="replay history") | chain).batch_as_completed(
        todo, config={"max_concurrency": max(1, workers)}, return_exceptions=True)
    try:
        if progress and done:  # a resumed run starts part-way
            progress(len(done), len(items))
        for i, answer in runs:
            item = todo[i]
            if isinstance(answer, Exception):  # one broken question must not lose the run; it is reported
                row = _error_row(item, answer, 0.0)
            else:  # the latency of the scored question alone, as the chain measured it
                row = evaluate_item(item, answer, answer.timings_ms.get("total", 0.0), text_of, k, corpus)
            done[item.id] = row  # first: a Ctrl-C after the line is written must still count it
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
            fh.flush()
            if progress:
                progress(len(done), len(items))
    except KeyboardInterrupt:
        with _signals_held():
            runs.close()  # cancels the questions not started
            fh.close()
            finish("interrupted")
        raise EvalInterrupted(len(done), len(items), out_dir) from None
    finally:
        fh.close()
    return finish("complete")
