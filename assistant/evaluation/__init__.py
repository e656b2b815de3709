"""Evaluation of the assistant on question sets: load a set, ask every question, score retrieval, answers,
abstention and citations, and write ``results.jsonl``, ``summary.json``, ``report.md`` and ``report.html``.

``dataset`` reads and validates sets, ``metrics`` holds the pure metric functions, ``runner`` runs a set,
``scoring`` scores one question, ``summary`` sums up a run, ``run_folder`` reads and names a run's files,
``report`` renders a run, ``commands`` is what ``assistant eval`` prints.
"""

from assistant.evaluation.commands import compare_command, run_command
from assistant.evaluation.dataset import EvalItem, load_items
from assistant.evaluation.runner import run_eval

__all__ = ["EvalItem", "load_items", "run_eval", "run_command", "compare_command"]
