"""The process environment every entry point sets before the model libraries load: no hub downloads, no telemetry,
no analytics, quiet tokenizers. Library code never changes the environment; the entry points (the CLI, the
benchmarks, the test session) call :func:`apply_offline_env` first.
"""

from __future__ import annotations

import os

__all__ = ["OFFLINE_ENV", "apply_offline_env"]

OFFLINE_ENV = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",
    "TOKENIZERS_PARALLELISM": "false",
    "ANONYMIZED_TELEMETRY": "False",
    "GRADIO_ANALYTICS_ENABLED": "False",
}


def apply_offline_env() -> None:
    """Set each of :data:`OFFLINE_ENV` unless the environment already says otherwise."""
    for key, value in OFFLINE_ENV.items():
        os.environ.setdefault(key, value)
