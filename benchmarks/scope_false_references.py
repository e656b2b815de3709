"""How often scoping reads a question as naming an article when it names none: FacQA-train's *fit* and *choose* parts.

    .venv/bin/python benchmarks/scope_false_references.py

FacQA questions are asked of single news paragraphs and never name an article, so every question
:func:`assistant.scope.reference` reads as naming one is a false reading (it narrows or annotates the search for
nothing). Prints each such question with the phrase read; the *report* part is not read.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from retrieval_data import part  # noqa: E402

from assistant.scope import reference  # noqa: E402


def main() -> None:
    items = [it for name in ("fit", "choose") for it in part(name)]
    found = [(it, reference(it.question)) for it in items]
    found = [(it, ref) for it, ref in found if ref]
    for it, (kind, phrase) in found:
        print(f"{it.id}  {kind:<5} “{phrase}”  ← {it.question}")
    print(f"{len(found)} of {len(items)} questions read as naming an article (all falsely)")


if __name__ == "__main__":
    main()
