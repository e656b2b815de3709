"""Named crash points for testing crash safety (a failpoint is inert unless ``ASSISTANT_FAULT`` or
``ASSISTANT_FAULT_PAUSE`` names it).

``ASSISTANT_FAULT=after-upsert`` makes the process kill itself with SIGKILL when the build reaches that point, the
same as a power cut or ``kill -9`` there; tests use it to check that the previous index keeps answering.

``ASSISTANT_FAULT_PAUSE=NAME:K:FLAG`` makes the process stop at the ``K``-th time it reaches point ``NAME``: it
writes its pid to the file ``FLAG`` and waits there until it is killed. A test that waits for ``FLAG`` to appear
and then sends SIGKILL kills the build at a moment it chose, on any machine speed.
"""

from __future__ import annotations

import os
import signal
import time
from collections import Counter
from pathlib import Path

__all__ = ["checkpoint", "POINTS", "PAUSE_POINTS"]

POINTS = ("after-upsert", "before-commit", "after-state-written", "after-commit")
# where a build may be paused: after each file is read, after each batch is embedded, and the crash points
PAUSE_POINTS = ("after-file", "after-embed-batch", *POINTS)

_reached: Counter[str] = Counter()


def checkpoint(name: str) -> None:
    """Die here (SIGKILL, no cleanup) when ``ASSISTANT_FAULT`` equals ``name``; wait here to be killed when
    ``ASSISTANT_FAULT_PAUSE`` names this point and this is its K-th pass."""
    if os.environ.get("ASSISTANT_FAULT") == name:
        os.kill(os.getpid(), signal.SIGKILL)
    pause = os.environ.get("ASSISTANT_FAULT_PAUSE")
    if not pause:
        return
    point, _, rest = pause.partition(":")
    if point != name:
        return
    k, _, flag = rest.partition(":")
    _reached[name] += 1
    if _reached[name] != int(k):
        return
    tmp = Path(flag + ".tmp")
    tmp.write_text(str(os.getpid()))
    os.replace(tmp, flag)  # the flag appears whole
    while True:  # until the test kills this process
        time.sleep(0.05)
