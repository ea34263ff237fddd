"""The one configuration object.

:class:`Config` is frozen; every entry point takes keyword overrides and
builds a new Config with :meth:`Config.replace`, so unknown options raise
:class:`~despin.errors.ConfigError` in one place instead of being ignored.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from typing import Any

from .errors import ConfigError

__all__ = ["Config", "PROTECT_KINDS"]

#: Kinds of span that can be protected from edits by name.
PROTECT_KINDS = frozenset({"quotes", "names"})


@dataclass(frozen=True)
class Config:
    """Settings for restoring and detecting.

    threshold
        How sure an edit must be, in [0, 1]; edits with a lower confidence are
        not made. Higher means fewer, safer edits.
    lexicons
        Extra lexicon files (same TSV format as the bundled ones), loaded after
        the bundled lexicon. A spun form listed in a user file replaces the
        bundled entry for it; class ``keep`` switches a form off.
    bundled_lexicon
        Whether to load the lexicon shipped with despin.
    protect
        Spans never to edit: any of ``"quotes"`` (text between quotation
        marks) and ``"names"`` (runs of capitalised words, except known
        spinner artifacts such as "Chilly Conflict").
    protect_pattern
        A regular expression (``regex`` syntax); text it matches is never edited.
    context
        Whether to use the bundled context model (n-gram statistics) when
        scoring words that are also ordinary English.
    model_path
        A context model built with ``despin build-model``, used instead of the
        bundled one.
    numerals
        Whether to spell out the digits 1-9 that spinners write for "one" to
        "nine" (only in documents detected as spun).
    spin_threshold
        The document spin score at and above which :func:`despin.detect`
        calls a text spun. Ordinary-English words are restored only in such
        documents.
    """

    threshold: float = 0.5
    lexicons: tuple[str, ...] = ()
    bundled_lexicon: bool = True
    protect: frozenset[str] = field(default_factory=frozenset)
    protect_pattern: str | None = None
    context: bool = True
    model_path: str | None = None
    numerals: bool = True
    spin_threshold: float = 0.5

    def __post_init__(self) -> None:
        _check_unit("threshold", self.threshold)
        _check_unit("spin_threshold", self.spin_threshold)
        if isinstance(self.lexicons, (str, os.PathLike)):
            object.__setattr__(self, "lexicons", (self.lexicons,))
        try:
            lexicons = tuple(os.fspath(p) for p in self.lexicons)
        except TypeError as exc:
            raise ConfigError(f"lexicons must be a list of paths, got {self.lexicons!r}") from exc
        object.__setattr__(self, "lexicons", lexicons)
        protect = self.protect
        if isinstance(protect, str):
            protect = (protect,)
        try:
            protect = frozenset(protect)
        except TypeError as exc:
            raise ConfigError(f"protect must be a set of names, got {self.protect!r}") from exc
        unknown = protect - PROTECT_KINDS
        if unknown:
            raise ConfigError(
                f"unknown protect kind(s) {sorted(unknown)}; choose from {sorted(PROTECT_KINDS)}"
            )
        object.__setattr__(self, "protect", protect)
        if self.protect_pattern is not None:
            import regex

            if not isinstance(self.protect_pattern, str):
                raise ConfigError("protect_pattern must be a string")
            try:
                regex.compile(self.protect_pattern)
            except regex.error as exc:
                raise ConfigError(f"protect_pattern is not a valid regex: {exc}") from exc
        if self.model_path is not None:
            object.__setattr__(self, "model_path", os.fspath(self.model_path))
        for name in ("bundled_lexicon", "context", "numerals"):
            if not isinstance(getattr(self, name), bool):
                raise ConfigError(f"{name} must be True or False, got {getattr(self, name)!r}")

    def replace(self, **options: Any) -> "Config":
        """A copy with some options changed; unknown option names raise ConfigError."""
        if not options:
            return self
        known = {f.name for f in dataclasses.fields(self)}
        unknown = sorted(set(options) - known)
        if unknown:
            raise ConfigError(
                f"unknown option(s) {', '.join(unknown)}; known options: {', '.join(sorted(known))}"
            )
        return dataclasses.replace(self, **options)


def _check_unit(name: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value <= 1.0:
        raise ConfigError(f"{name} must be a number in [0, 1], got {value!r}")
