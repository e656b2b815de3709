"""What ``assistant eval`` prints: run a question set, or compare two runs."""

from __future__ import annotations

import json
import shlex
import signal
import sys
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from assistant.errors import BadInput
from assistant.evaluation.dataset import load_set
from assistant.evaluation.report import KEY_METRICS, fmt, n_of
from assistant.evaluation.runner import (
    EvalInterrupted,
    new_run_dir,
    prepare_run,
    run_eval,
    settings_snapshot,
    with_live_status,
)

__all__ = ["run_command", "compare_command", "load_run", "interrupted_message"]

SHOWN = ("hit_at_k", "mrr", "answer_correct", "token_f1", "abstention_rate", "false_abstention_rate", "accuracy",
         "citation_exactness", "citation_precision", "citation_recall", "pass_rate", "latency_p50_ms", "latency_p95_ms")


@contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """SIGTERM raises KeyboardInterrupt (as Ctrl-C does), so a terminated run keeps its partial results."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    old = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, old)


def interrupted_message(exc: EvalInterrupted, questions_path: Path, global_options: Sequence[str] = (),
                        options: Sequence[str] = ()) -> str:
    """One line: how far an interrupted run got, where its results are and the command that continues it
    (``global_options`` go before ``eval``, ``options`` after it: the flags the run was started with)."""
    hint = shlex.join(["assistant", *global_options, "eval", str(questions_path), *options, "--out", str(exc.out_dir),
                       "--resume"])
    return (f"interrupted after {exc.done}/{exc.total} questions; partial results in {exc.out_dir}/; "
            f"continue with `{hint}`")


def run_command(settings: Any, questions_path: Path, out: Path | None, workers: int = 1, as_json: bool = False,
                resume: bool = False) -> str:
    """Run the question set; return a short metric table and the output folder (or the summary as JSON).

    Notes on how the set's columns were read go to stderr first. Ctrl-C or SIGTERM stops the run with its partial
    results written and raises :class:`~assistant.evaluation.runner.EvalInterrupted`; ``resume`` continues it.
    """
    from tqdm import tqdm

    from assistant.chain import Assistant

    if workers < 1:
        raise BadInput("--workers must be at least 1")
    if resume and out is None:
        raise BadInput("--resume needs --out, the folder of the run to continue")
    qset = load_set(Path(questions_path))
    items = qset.items
    out = Path(out) if out else new_run_dir(settings.eval_runs_dir, Path(questions_path))
    if out.exists() and not out.is_dir():
        raise BadInput(f"--out {out} is a file; give a folder")
    prepare_run(out, items, settings_snapshot(settings), resume)  # refuse a mismatched resume before loading models
    for note in qset.notes:
        print(f"note: {note}", file=sys.stderr)
    assistant = Assistant(settings)
    with tqdm(total=len(items), desc="eval", unit="q", file=sys.stderr, disable=as_json and not sys.stderr.isatty()) as bar:
        def progress(done: int, total: int) -> None:
            bar.n = done
            bar.refresh()

        with _sigterm_as_interrupt():
            summary = run_eval(assistant, items, out, workers=workers, progress=progress,
                               dataset=Path(questions_path).name, resume=resume, notes=qset.notes)
    if as_json:
        return json.dumps({**summary, "out": str(out)}, ensure_ascii=False, indent=2)
    ov = summary["metrics"]["overall"]
    lines = [f"{summary['questions']} questions ({ov['n_answerable']} answerable) in {summary['duration_s']} s"]
    lines += [f"  {k:<24}{fmt(ov.get(k)):>10}" + (f"  (n={n})" if (n := n_of(ov, k)) is not None else "")
              for k in SHOWN]
    lines += [f"  failures: {', '.join(f'{k} {v}' for k, v in ov['failures'].items() if v) or 'none'}"]
    conv = summary["metrics"].get("conversation")
    if conv:
        for name, g in (("follow-ups", conv["follow_up"]), ("topic switches", conv["topic_switch"])):
            lines.append(f"  {name + ' (' + str(g['n']) + ')':<24}right rewrite decision "
                         f"{fmt(g['rewrite_decision_accuracy'])}, answer correct {fmt(g['answer_correct'])}")
        if conv["wrong_decisions"]:
            lines.append(f"  wrong rewrite decisions: {', '.join(conv['wrong_decisions'])}")
    lines += [f"warning: {w}" for w in summary["warnings"]]
    lines.append(f"results: {out}/ (report.html, report.md, summary.json, results.jsonl)")
    return "\n".join(lines)


def load_run(run: Path) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """``summary.json`` and the ``results.jsonl`` rows by id of a run folder."""
    run = Path(run)
    summary_path, results_path = run / "summary.json", run / "results.jsonl"
    if not summary_path.is_file() or not results_path.is_file():
        raise BadInput(f"{run} is not an eval run folder (summary.json and results.jsonl are needed)")
    try:
        summary = with_live_status(json.loads(summary_path.read_text(encoding="utf-8")))
        rows = [json.loads(line) for line in results_path.read_text(encoding="utf-8").splitlines() if line.strip()]
        return summary, {r["id"]: r for r in rows}
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise BadInput(f"{run}: unreadable run files ({exc})") from None


def compare(run_a: Path, run_b: Path) -> dict[str, Any]:
    """Metric deltas (b - a, overall) and the questions whose pass/fail flipped either way."""
    sa, ra = load_run(run_a)
    sb, rb = load_run(run_b)
    ma, mb = sa["metrics"]["overall"], sb["metrics"]["overall"]
    deltas = {}
    for k in (*KEY_METRICS, "latency_p50_ms", "latency_p95_ms"):
        a, b = ma.get(k), mb.get(k)
        deltas[k] = {"a": a, "b": b, "delta": None if a is None or b is None else round(b - a, 4)}
    common = [i for i in ra if i in rb]
    return {
        "a": str(run_a), "b": str(run_b), "metrics": deltas,
        "fixed": [i for i in common if not ra[i]["pass"] and rb[i]["pass"]],
        "broken": [{"id": i, "failure": rb[i]["failure"]} for i in common if ra[i]["pass"] and not rb[i]["pass"]],
        "only_in_a": [i for i in ra if i not in rb], "only_in_b": [i for i in rb if i not in ra],
        "settings_changed": {k: [sa["settings"].get(k), sb["settings"].get(k)] for k in sa.get("settings", {})
                             if sa["settings"].get(k) != sb.get("settings", {}).get(k)},
    }


def compare_command(run_a: Path, run_b: Path, as_json: bool = False) -> str:
    """Metric deltas between two runs and the questions that flipped pass/fail both ways."""
    c = compare(run_a, run_b)
    if as_json:
        return json.dumps(c, ensure_ascii=False, indent=2)
    lines = [f"A = {c['a']}", f"B = {c['b']}", f"  {'metric':<24}{'A':>10}{'B':>10}{'B-A':>10}"]
    for k, d in c["metrics"].items():
        delta = "-" if d["delta"] is None else f"{d['delta']:+.3f}"
        lines.append(f"  {k:<24}{fmt(d['a']):>10}{fmt(d['b']):>10}{delta:>10}")
    for k, (a, b) in c["settings_changed"].items():
        lines.append(f"setting {k}: {a} -> {b}")
    lines.append(f"fixed (fail -> pass): {', '.join(c['fixed']) or 'none'}")
    lines.append("broken (pass -> fail): " + (", ".join(f"{b['id']} ({b['failure']})" for b in c["broken"]) or "none"))
    if c["only_in_a"] or c["only_in_b"]:
        lines.append(f"only in A: {len(c['only_in_a'])} questions; only in B: {len(c['only_in_b'])} questions")
    return "\n".join(lines)
