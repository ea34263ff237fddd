"""The face of the library: :class:`Restorer`, :class:`Restored`, and the
module-level shortcuts :func:`restore`, :func:`restore_and_explain`,
:func:`detect` and :func:`restore_batch`.

A Restorer holds a :class:`~despin.config.Config` and the resources it names
(lexicon, context model), loaded lazily; the work is done by
:mod:`despin.passes` (passes to a fixed point), :mod:`despin.pipeline`
(stages 2 to 5) and :mod:`despin.detection`.
"""

from __future__ import annotations

import functools
import os
import stat
import threading
from collections.abc import Callable, Iterable
from typing import Any

import regex

from .bounds import quick_index
from .config import Config
from .context import check_model_header, load_model
from .decision import DecisionModel, load_decision_model
from .detection import SpinReport, evidence_index, spin_report
from .edits import Edit
from .errors import ConfigError, InputError, LexiconError, ModelError
from .lexicon import Lexicon, artifact_lexicon, load_lexicon
from .lm import LMScorer
from .passes import restore_passes, unseen_evidence
from .pipeline import left_alone
from .score import ContextScorer

__all__ = ["Restored", "Restorer", "detect", "restore", "restore_and_explain", "restore_batch"]


class Restored:
    """The result of :func:`restore_and_explain`: the restored ``text``, the
    ``edits`` made, and the spin ``report`` of the input (computed on first
    access when the input was recognised as clean on the fast path).

    ``considered`` is empty unless asked for (``considered=True``); then it
    holds the candidates that were scored but not made into edits, because
    their confidence stayed below the threshold or a protected span
    (quotation, name, ``protect_pattern``, web address) covers them: each as
    the :class:`Edit` of the input it would have been, with its confidence
    and evidence. They come from the first read of the input, in text order,
    and overlap no edit.
    """

    __slots__ = ("_make_report", "_report", "considered", "edits", "text")

    def __init__(self, text: str, edits: tuple[Edit, ...], report: SpinReport | Callable[[], SpinReport],
                 considered: tuple[Edit, ...] = ()):
        self.text = text
        self.edits = edits
        self.considered = considered
        self._report = report if isinstance(report, SpinReport) else None
        self._make_report = None if isinstance(report, SpinReport) else report

    @property
    def report(self) -> SpinReport:
        if self._report is None:
            assert self._make_report is not None
            self._report = self._make_report()
        return self._report

    @property
    def changed(self) -> bool:
        return bool(self.edits)

    def __repr__(self) -> str:
        return f"Restored(text={self.text!r}, edits={self.edits!r})"


def check_text(text: Any) -> str:
    """``text`` if it is a ``str``; else :class:`~despin.errors.InputError`."""
    if not isinstance(text, str):
        raise InputError(f"despin restores text (str), not {type(text).__name__}; decode bytes first")
    return text


def check_texts(texts: Any) -> Iterable[Any]:
    """``texts`` if it is an iterable of texts (not one text); else :class:`~despin.errors.InputError`."""
    if isinstance(texts, (str, bytes, bytearray)):
        raise InputError(
            f"restore_batch takes an iterable of texts, not one {type(texts).__name__}; "
            "use restore() for one text, or wrap it in a list"
        )
    try:
        iter(texts)
    except TypeError:
        raise InputError(f"restore_batch takes an iterable of texts (str), not {type(texts).__name__}") from None
    return texts  # type: ignore[no-any-return]


def check_files(config: Config) -> None:
    """Fail now, not at the first spun text, if a file the configuration names
    cannot be read: :class:`~despin.errors.LexiconError` or
    :class:`~despin.errors.ModelError` naming it. (Their content is validated
    when they are loaded.)"""
    for path in config.lexicons:
        problem = _unreadable(path)
        if problem:
            raise LexiconError(problem, path)
    if config.context and config.model_path is not None:  # (the n-gram model's file)
        problem = _unreadable(config.model_path)
        if problem:
            raise ModelError(f"{config.model_path}: {problem} (context model)")
        check_model_header(config.model_path)


def _unreadable(path: str) -> str | None:
    """Why ``path`` cannot be read as a file, or None."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return "no such file"
    except OSError as exc:
        return f"cannot read: {exc.strerror}"
    if stat.S_ISDIR(st.st_mode):
        return "is a folder, not a file"
    if not os.access(path, os.R_OK):
        return "cannot read: permission denied"
    return None


class Restorer:
    """Restores and detects with one configuration.

    Holds the compiled lexicon and context model (loaded lazily, once per
    process and shared between Restorers with the same files). Immutable, so
    one instance can be shared across threads; it pickles as its
    configuration only, so sending it to worker processes is cheap.
    """

    def __init__(self, config: Config | None = None, **options: Any):
        self._setup(config, options)
        check_files(self.config)

    def _setup(self, config: Config | None, options: dict[str, Any]) -> None:
        if config is not None and not isinstance(config, Config):
            raise ConfigError(
                f"Restorer takes a despin.Config or keyword options, not {type(config).__name__} "
                "(e.g. Restorer(threshold=0.7) or Restorer(Config(threshold=0.7)))"
            )
        base = config if config is not None else Config()
        self.config: Config = base.replace(**options)
        self._lock = threading.Lock()
        self._lexicon: Lexicon | None = None
        self._model: ContextScorer | None = None
        self._model_loaded = False
        self._decision: DecisionModel | None = None
        self._lm: LMScorer | None = None
        if self.config.context == "lm":
            # Fails now, with what to install, if the extra or the weights are
            # missing; the model itself is read on first use.
            self._lm = LMScorer(self.config.lm_path)
        pattern = self.config.protect_pattern
        self._protect_re = regex.compile(pattern) if pattern else None

    # -- pickling: configuration only -------------------------------------------------
    def __getstate__(self) -> dict[str, Any]:
        return {"config": self.config}

    def __setstate__(self, state: dict[str, Any]) -> None:
        # (no file checks here: a worker that lacks the files says so at its first text)
        self._setup(state["config"], {})

    def __repr__(self) -> str:
        return f"Restorer({self.config!r})"

    # -- resources --------------------------------------------------------------------
    @property
    def lexicon(self) -> Lexicon:
        if self._lexicon is None:
            with self._lock:
                if self._lexicon is None:
                    self._lexicon = load_lexicon(self.config.lexicons, self.config.bundled_lexicon)
        return self._lexicon

    @property
    def model(self) -> ContextScorer | None:
        """The context model (None with ``context=False``; the neural scorer with
        ``context="lm"``), loaded on first use."""
        if not self._model_loaded:
            with self._lock:
                if not self._model_loaded:
                    if self.config.context:
                        self._model = load_model(self.config.model_path)
                    self._model_loaded = True
        return self._model

    @property
    def lm(self) -> LMScorer | None:
        """The neural scorer with ``context="lm"`` (which decides again the
        candidates the n-gram model leaves uncertain), else None."""
        return self._lm

    @property
    def decision(self) -> DecisionModel:
        """The fitted decision model (``decision_model``, else the bundled one),
        read on first use."""
        decision = self._decision
        if decision is None:
            decision = self._decision = load_decision_model(self.config.decision_model)
        return decision

    @property
    def protect_re(self) -> regex.Pattern[str] | None:
        """The compiled ``protect_pattern`` (None without one)."""
        return self._protect_re

    def prepare(self, detect_only: bool = False) -> Restorer:
        """Load the lexicon (and, unless ``detect_only``, the context model) and
        build the indexes that detection and restoring use, now rather than on
        the first text. Call it before forking worker processes, so that they
        inherit this work instead of each repeating it. Returns ``self``."""
        evidence_index(self.lexicon)
        if not detect_only:
            quick_index(self.lexicon)
            artifact_lexicon(self.lexicon)
            _ = self.model
            if self._lm is not None:
                self._lm.load_weights()
            _ = self.decision
        return self

    # -- operations -------------------------------------------------------------------
    def detect(self, text: str) -> SpinReport:
        """How spun ``text`` looks (score, verdict, evidence)."""
        text = check_text(text)
        return spin_report(text, self.lexicon, self.config.spin_threshold, params=self.decision.detection,
                           unseen=unseen_evidence(self, text))

    def restore_and_explain(self, text: str, *, considered: bool = False) -> Restored:
        """Restore ``text`` and list every edit with its span, confidence and reason;
        with ``considered``, also the candidates left alone (:attr:`Restored.considered`)."""
        text = check_text(text)
        restored, edits, report = restore_passes(self, text)
        if considered:
            report = report if report is not None else self.detect(text)
            return Restored(restored, tuple(edits), report, left_alone(self, text, report, tuple(edits)))
        if report is None:
            return Restored(restored, tuple(edits), lambda: self.detect(text))
        return Restored(restored, tuple(edits), report)

    def restore(self, text: str) -> str:
        """The restored text."""
        return self.restore_and_explain(text).text

    def restore_batch(self, texts: Iterable[str]) -> list[str]:
        """Restore each text of a list (or any iterable), in order.

        A ``str`` (or bytes) on its own is refused with
        :class:`~despin.errors.InputError` rather than restored character by
        character; so is anything that is not iterable."""
        return [self.restore(t) for t in check_texts(texts)]


# -- module-level shortcuts: one Restorer per configuration ------------------------------


@functools.lru_cache(maxsize=32)
def _restorer(config: Config) -> Restorer:
    return Restorer(config)


_DEFAULT = Config()


def restorer_for(**options: Any) -> Restorer:
    """The shared Restorer for these options (what the shortcuts below use)."""
    return _restorer(_DEFAULT.replace(**options))


def restore(text: str, **options: Any) -> str:
    """Restore spun ``text`` to its original wording. Options are :class:`Config` fields."""
    return restorer_for(**options).restore(text)


def restore_and_explain(text: str, *, considered: bool = False, **options: Any) -> Restored:
    """Like :func:`restore`, and list every edit (span, before, after, confidence, reason);
    with ``considered``, also the candidates left alone (:attr:`Restored.considered`)."""
    return restorer_for(**options).restore_and_explain(text, considered=considered)


def detect(text: str, **options: Any) -> SpinReport:
    """Score how spun ``text`` looks; ``.spun`` is the verdict at ``spin_threshold``."""
    return restorer_for(**options).detect(text)


def restore_batch(texts: Iterable[str], **options: Any) -> list[str]:
    """Restore a batch of texts with one configuration (for pipeline engines)."""
    return restorer_for(**options).restore_batch(texts)
