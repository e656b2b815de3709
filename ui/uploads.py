"""Files clients uploaded to Gradio's upload route, until they are deleted: at most :data:`UPLOAD_TTL_S` seconds.

Gradio keeps every file posted to ``/gradio_api/upload`` in its temp folder until its own hourly clean-up, whether or
not an event ever uses it: ten requests of ten 19 MB files would hold 1.9 GB. :class:`UploadLedger` (used by
:class:`ui.http_guard.RequestGuard`) records each stored file with the client that sent it, deletes it
:data:`UPLOAD_TTL_S` seconds later (the Library copies the files it takes into the articles folder when the upload
event runs, right after the upload, and then discards them at once: :func:`discard`), and tells how many bytes a
client holds so that the guard can refuse more past a quota.

Only files inside Gradio's upload folder are ever deleted.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Iterable
from pathlib import Path

__all__ = ["UploadLedger", "UPLOAD_TTL_S", "SWEEP_EVERY_S", "discard", "upload_folder"]

log = logging.getLogger(__name__)

UPLOAD_TTL_S = 45.0  # an upload no event took is deleted this long after it arrived…
SWEEP_EVERY_S = 5.0  # …checked this often: gone within a minute


def upload_folder() -> Path:
    """Gradio's upload folder (``GRADIO_TEMP_DIR``, default ``<tmp>/gradio``), resolved."""
    import gradio as gr

    return Path(gr.utils.get_upload_folder()).resolve()


def _delete(path: Path, root: Path) -> bool:
    """Delete the uploaded file ``path`` (and its folder, when that is left empty); only inside ``root``."""
    try:
        resolved = path.resolve()
    except (OSError, RuntimeError):
        return False
    if resolved == root or not resolved.is_relative_to(root):
        return False
    try:
        os.unlink(resolved)
    except FileNotFoundError:
        pass
    except OSError as exc:
        log.warning("could not delete an expired upload (%s)", exc.strerror or exc)
        return False
    parent = resolved.parent
    if parent != root and parent.is_relative_to(root):
        try:
            parent.rmdir()  # Gradio stores each upload in a folder of its own
        except OSError:
            pass  # not empty: another upload of the same content, or a cache entry
    return True


def discard(paths: Iterable[str | Path]) -> None:
    """Delete uploaded files an event has taken what it needs from (they count against their client's quota until
    then); paths outside Gradio's upload folder are left alone."""
    root = upload_folder()
    for p in paths:
        _delete(Path(p), root)


class UploadLedger:
    """Uploaded files by client, each deleted ``ttl_s`` after it arrived (a daemon thread sweeps)."""

    def __init__(self, ttl_s: float = UPLOAD_TTL_S, sweep_every_s: float = SWEEP_EVERY_S,
                 root: Path | None = None) -> None:
        self.ttl_s = ttl_s
        self.sweep_every_s = sweep_every_s
        self._root = root
        self._files: dict[Path, tuple[str, float]] = {}  # path -> (client, arrival time)
        self._lock = threading.Lock()
        self._sweeper: threading.Thread | None = None

    @property
    def root(self) -> Path:
        if self._root is None:
            self._root = upload_folder()
        return self._root

    def record(self, client: str, paths: Iterable[str]) -> None:
        """Remember files the upload route stored for ``client`` (only those inside the upload folder)."""
        now = time.monotonic()
        root = self.root
        with self._lock:
            for p in paths:
                path = Path(p)
                try:
                    inside = path.resolve().is_relative_to(root)
                except (OSError, RuntimeError):
                    inside = False
                if inside:
                    self._files[path] = (client, now)
            if self._files and self._sweeper is None:
                self._sweeper = threading.Thread(target=self._sweep_forever, name="upload-sweeper", daemon=True)
                self._sweeper.start()

    def held(self, client: str) -> int:
        """Bytes of uploads ``client`` has on disk now (after deleting expired ones)."""
        self.sweep()
        with self._lock:
            mine = [p for p, (c, _) in self._files.items() if c == client]
        total = 0
        for p in mine:
            try:
                total += p.stat().st_size
            except OSError:
                pass
        return total

    def sweep(self, now: float | None = None) -> int:
        """Delete the uploads older than ``ttl_s`` (and forget those already gone); how many were deleted."""
        now = time.monotonic() if now is None else now
        with self._lock:
            expired = [p for p, (_, t) in self._files.items() if now - t >= self.ttl_s]
            for p in expired:
                del self._files[p]
            gone = [p for p in self._files if not p.exists()]
            for p in gone:
                del self._files[p]
        deleted = sum(_delete(p, self.root) for p in expired if p.exists())
        if deleted:
            log.info("deleted %d upload(s) no event took within %g s", deleted, self.ttl_s)
        return deleted

    def _sweep_forever(self) -> None:
        while True:
            time.sleep(self.sweep_every_s)
            try:
                self.sweep()
            except Exception as exc:  # noqa: BLE001 - the sweeper must outlive any one failure
                log.warning("upload sweep failed (%s)", exc.__class__.__name__)
