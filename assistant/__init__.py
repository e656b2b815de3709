"""The assistant: settings, backends, the QA chain with verified citations, evaluation and the CLI.

The public surface: :class:`Settings`, :class:`Assistant` (``ask`` / ``stream``), the :class:`Answer` model.
Heavy parts load lazily, so ``import assistant`` stays cheap.
"""

from assistant.errors import BackendUnavailable, BadInput, IndexMissing, IndexModelMismatch, UserError
from assistant.models import Answer, Citation, RankedPassage, Turn
from assistant.settings import Settings

__all__ = [
    "Settings", "Answer", "Citation", "RankedPassage", "Turn",
    "UserError", "BadInput", "IndexMissing", "IndexModelMismatch", "BackendUnavailable",
]
