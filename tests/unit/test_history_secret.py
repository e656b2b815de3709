"""The key of the browser-kept conversation: configured, else kept in the index folder so a restart keeps it."""

from __future__ import annotations

import logging
import stat
from pathlib import Path

from assistant.settings import Settings
from ui.history import SECRET_FILE, history_secret
from ui.redaction import secrets_of


def test_configured_key_wins(tmp_path):
    assert history_secret("shared-by-every-replica", tmp_path) == "shared-by-every-replica"
    assert not (tmp_path / SECRET_FILE).exists()


def test_key_made_once_owner_only_and_reused(tmp_path):
    first = history_secret(None, tmp_path / "index")
    path = tmp_path / "index" / SECRET_FILE
    assert len(first) >= 32 and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert history_secret(None, tmp_path / "index") == first  # the next start (a restart) finds the same key


def test_folder_that_cannot_be_made_gives_a_process_key_and_a_log_line(caplog):
    """A folder the server cannot create (here under /proc, refused even to root): a key for this process only."""
    where = Path("/proc/self/article-assistant-index")
    with caplog.at_level(logging.WARNING):
        a, b = history_secret(None, where), history_secret(None, where)
    assert a != b and len(a) >= 32 and "cannot keep the conversation history key" in caplog.text
    assert "ASSISTANT_HISTORY_SECRET" in caplog.text


def test_unreadable_key_file_is_replaced_by_a_process_key(tmp_path, caplog):
    (tmp_path / SECRET_FILE).write_text("", encoding="ascii")
    with caplog.at_level(logging.WARNING):
        key = history_secret(None, tmp_path)
    assert len(key) >= 32 and "unreadable" in caplog.text


def test_the_key_is_never_logged(tmp_path):
    assert "k3y-for-the-browser-history" in secrets_of(Settings(history_secret="k3y-for-the-browser-history"))
