"""despin: restore article-spun text to its original wording.

>>> import despin
>>> despin.restore("The satellite tv for pc was launched.")
'The satellite was launched.'
"""

from __future__ import annotations

from .config import Config
from .detection import Evidence, SpinReport
from .edits import Edit, apply_edits
from .errors import (
    ConfigError,
    DespinError,
    EditError,
    InputError,
    LexiconError,
    LexiconWarning,
    LMUnavailableError,
    ModelError,
    UsageError,
)
from .report import report_html
from .restorer import Restored, Restorer, detect, restore, restore_and_explain, restore_batch

__version__ = "0.1.0"

__all__ = [
    "restore",
    "restore_and_explain",
    "apply_edits",
    "detect",
    "restore_batch",
    "report_html",
    "Restorer",
    "Restored",
    "Config",
    "Edit",
    "SpinReport",
    "Evidence",
    "DespinError",
    "ConfigError",
    "LexiconError",
    "LexiconWarning",
    "ModelError",
    "EditError",
    "InputError",
    "UsageError",
    "LMUnavailableError",
    "__version__",
]
