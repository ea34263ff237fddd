"""Exceptions raised by despin.

Every error despin raises on purpose is a :class:`DespinError`; the command
line turns them into a message on stderr and an exit code.
"""

from __future__ import annotations

__all__ = [
    "ConfigError", "DespinError", "EditError", "InputError", "LexiconError", "LexiconWarning", "LMUnavailableError",
    "ModelError",
    "UsageError",
]


class DespinError(Exception):
    """Base class of every error despin raises on purpose."""

    exit_code = 2


class ConfigError(DespinError, ValueError):
    """An unknown option, or an option with a value of the wrong kind."""


class LexiconError(DespinError, ValueError):
    """A lexicon file that cannot be read or does not follow the format.

    The message starts with ``path:line:`` so that editors can jump to it.
    """

    def __init__(self, message: str, path: str | None = None, line: int | None = None):
        self.path = path
        self.line = line
        where = ""
        if path is not None:
            where = f"{path}:{line}: " if line is not None else f"{path}: "
        super().__init__(where + message)


class LexiconWarning(UserWarning):
    """A lexicon that loads but holds chains: originals that are spun forms
    themselves, or artifacts that people write (see :mod:`despin.lexcheck`)."""


class ModelError(DespinError, ValueError):
    """A context-model file that cannot be read or has the wrong format."""


class EditError(DespinError, ValueError):
    """Edits that cannot be applied to the given text (overlap, or text that does not match)."""


class InputError(DespinError, TypeError):
    """Input that is not text (despin takes ``str``; decode bytes first)."""


class UsageError(DespinError):
    """Options that cannot work together, or a batch run that would overwrite its inputs."""

    exit_code = 2


class LMUnavailableError(DespinError, RuntimeError):
    """``context="lm"`` was asked for, but its optional dependencies or the
    language-model weights are not installed; the message says what to install."""
