"""Named crash points for testing crash safety (a failpoint is inert unless ``ASSISTANT_FAULT`` names it).

``ASSISTANT_FAULT=after-upsert`` makes the process kill itself with SIGKILL when the build reaches that point, the
same as a power cut or ``kill -9`` there; tests use it to check that the previous index keeps answering.
"""

from __future__ import annotations

import os
import signal

__all__ = ["checkpoint", "POINTS"]

POINTS = ("after-upsert", "before-commit", "after-state-written", "after-commit")


def checkpoint(name: str) -> None:
    """Die here (SIGKILL, no cleanup) when ``ASSISTANT_FAULT`` equals ``name``."""
    if os.environ.get("ASSISTANT_FAULT") == name:
        os.kill(os.getpid(), signal.SIGKILL)
