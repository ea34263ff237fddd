"""The restorer: tokenize -> find candidates -> score -> decide -> render."""

from __future__ import annotations

import bisect
import functools
import threading
from dataclasses import replace
from typing import Any, Callable, Iterable

import regex

from .candidates import scan
from .config import Config
from .decide import decide
from .detect import SpinReport, UnspunBound, artifact_lexicon, evidence_index, spin_report, stays_unspun, surely_clean
from .edits import Edit, apply_edits, compose
from .errors import InputError
from .lexicon import Lexicon, load_lexicon
from .render import render
from .score import restored_neighbours, score_candidates
from .tokenize import Tokens, tokenize

__all__ = ["Restored", "Restorer", "restore", "restore_and_explain", "detect", "restore_batch"]

# The report an artifact-only pass is scored with when the text's own report was
# not computed: artifacts are scored by their prior alone, and nothing else is
# restored in a text that is not spun.
_ARTIFACTS_ONLY = SpinReport(score=0.0, spun=False, threshold=0.5, words=0, spun_forms=0, per_1000_words=0.0,
                             artifacts=0, llr=0.0, evidence=())

_URL_RE = regex.compile(r"(?:https?://|www\.)[^\s<>\"]+|[\w.+-]+@[\w-]+\.[\w.-]+")
_URL_TRIGGERS = ("://", "www.", "@")  # every match of _URL_RE holds one
_SPACE_RE = regex.compile(r"\s")
_SPACE_BACK_RE = regex.compile(r"\s", flags=regex.REVERSE)
_MAX_PASSES = 3


class Restored:
    """The result of :func:`restore_and_explain`: the restored ``text``, the
    ``edits`` made, and the spin ``report`` of the input (computed on first
    access when the input was recognised as clean on the fast path)."""

    __slots__ = ("text", "edits", "_report", "_make_report")

    def __init__(self, text: str, edits: tuple[Edit, ...], report: SpinReport | Callable[[], SpinReport]):
        self.text = text
        self.edits = edits
        self._report = report if isinstance(report, SpinReport) else None
        self._make_report = None if isinstance(report, SpinReport) else report

    @property
    def report(self) -> SpinReport:
        if self._report is None:
            self._report = self._make_report()  # type: ignore[misc]
        return self._report

    @property
    def changed(self) -> bool:
        return bool(self.edits)

    def __repr__(self) -> str:
        return f"Restored(text={self.text!r}, edits={self.edits!r})"


def _check_text(text: Any) -> str:
    if not isinstance(text, str):
        raise InputError(f"despin restores text (str), not {type(text).__name__}; decode bytes first")
    return text


class Restorer:
    """Restores and detects with one configuration.

    Holds the compiled lexicon and context model (loaded lazily, once per
    process and shared between Restorers with the same files). Immutable, so
    one instance can be shared across threads; it pickles as its
    configuration only, so sending it to worker processes is cheap.
    """

    def __init__(self, config: Config | None = None, **options: Any):
        base = config if config is not None else Config()
        self.config: Config = base.replace(**options)
        self._lock = threading.Lock()
        self._lexicon: Lexicon | None = None
        self._model: Any = None
        self._model_loaded = False
        self._protect_re = regex.compile(self.config.protect_pattern) if self.config.protect_pattern else None

    # -- pickling: configuration only -------------------------------------------------
    def __getstate__(self) -> dict[str, Any]:
        return {"config": self.config}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["config"])  # type: ignore[misc]

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
    def model(self) -> Any:
        if not self._model_loaded:
            with self._lock:
                if not self._model_loaded:
                    if self.config.context:
                        from .context import load_model

                        self._model = load_model(self.config.model_path)
                    self._model_loaded = True
        return self._model

    def prepare(self, detect_only: bool = False) -> Restorer:
        """Load the lexicon (and, unless ``detect_only``, the context model) and
        build the indexes that detection and restoring use, now rather than on
        the first text. Call it before forking worker processes, so that they
        inherit this work instead of each repeating it. Returns ``self``."""
        evidence_index(self.lexicon)
        if not detect_only:
            artifact_lexicon(self.lexicon)
            self.model  # noqa: B018
        return self

    # -- operations -------------------------------------------------------------------
    def detect(self, text: str) -> SpinReport:
        """How spun ``text`` looks (score, verdict, evidence)."""
        text = _check_text(text)
        return spin_report(text, self.lexicon, self.config.spin_threshold)

    def _one_pass(
        self, text: str, near: list[tuple[int, int]] | None = None,
        previous: tuple[str, list[Edit], UnspunBound] | None = None,
    ) -> tuple[list[Edit], SpinReport | None, UnspunBound | None]:
        """Edits for one pass; the text's spin report (None when the quick reject
        showed the text clean, or when it was not computed); and, if the text is
        not spun, what is known of its evidence (for the next pass).

        ``near`` lists the spans of ``text`` that the previous pass rewrote, when
        that pass restored artifacts only (its text was not spun). If this text
        is not spun either, only the paragraphs holding those spans are read
        again: an artifact-only pass reads each paragraph on its own (nothing
        it matches, quotes or protects crosses a blank line, and the counts of
        originals play no part), so an untouched paragraph, which gave no edit
        when last read, gives none now.

        ``previous`` is the text that pass read, its edits and the bound on its
        evidence. When the rewritten paragraphs are at most half of the text
        and cannot have made it spun (:func:`~despin.detect.stays_unspun`),
        this pass reads only those paragraphs, without detecting the whole
        text again. (When they are most of it, as in a text without blank
        lines, reading them twice for the bound costs more than it can save.)
        """
        cfg = self.config
        new_parts: list[tuple[int, Tokens]] | None = None  # the paragraphs around ``near``, once read
        if near is not None and previous is not None and self._protect_re is None:
            before, changes, bound = previous
            around = _paragraphs_around(before, sorted((e.start, e.end) for e in changes))
            if 2 * sum(hi - lo for lo, hi in around) <= len(before):
                old_parts = [tokenize(before[lo:hi]) for lo, hi in around]
                new_parts = _paragraph_tokens(text, near)
                still = stays_unspun(bound, old_parts, [t for _, t in new_parts], self.lexicon, cfg.spin_threshold)
                if still is not None:
                    return self._local_edits(new_parts, _ARTIFACTS_ONLY), None, still
        if surely_clean(text, self.lexicon, cfg.spin_threshold):
            return [], None, None
        tokens = tokenize(text)  # read once, by detection and by the scan
        report = spin_report(text, self.lexicon, cfg.spin_threshold, tokens)
        bound = UnspunBound.of(report)
        if not report.spun and not report.artifacts:
            return [], report, bound  # clean text: nothing can be restored
        if near is not None and not report.spun and self._protect_re is None:
            if new_parts is None:
                new_parts = _paragraph_tokens(text, near)
            return self._local_edits(new_parts, report), report, bound
        return self._edits(tokens, report), report, bound

    def _local_edits(self, parts: list[tuple[int, Tokens]], report: SpinReport) -> list[Edit]:
        """The edits of an artifact-only pass over ``parts`` (see :func:`_paragraph_tokens`)."""
        edits: list[Edit] = []
        for lo, part in parts:
            edits.extend(replace(e, start=e.start + lo, end=e.end + lo) for e in self._edits(part, report))
        return edits

    def _edits(self, tokens: Tokens, report: SpinReport) -> list[Edit]:
        """The edits for the text of ``tokens`` whose spin report is ``report``."""
        cfg = self.config
        text = tokens.text
        if report.spun:  # every entry may apply
            found = scan(tokens, self.lexicon, cfg.numerals)
        else:  # only artifacts can be restored, and they owe nothing to the counts of originals
            found = scan(tokens, artifact_lexicon(self.lexicon), numerals=False, count_originals=False)
        if not found.candidates:
            return []
        model = self.model if report.spun else None
        scored = score_candidates(tokens, found.candidates, report, model, found.original_counts)
        protected = self._protected_spans(text, found.quotes)
        chosen = decide(scored, cfg.threshold, protected, protect_names="names" in cfg.protect)
        if model is not None and chosen:
            # Read the context again, with restored neighbours in place, for the
            # candidates next to an edit.
            neighbours = restored_neighbours(chosen)
            again = [c for c in found.candidates if c.i >= 0 and (c.i - 1 in neighbours or c.j in neighbours)]
            if again:
                rescored = score_candidates(tokens, again, report, model, found.original_counts, neighbours)
                redone = {id(s.cand) for s in rescored}
                scored = [s for s in scored if id(s.cand) not in redone] + rescored
                chosen = decide(scored, cfg.threshold, protected, protect_names="names" in cfg.protect)
        return render(tokens, chosen)

    def _protected_spans(self, text: str, quotes: list[tuple[int, int]]) -> list[tuple[int, int]]:
        spans: list[tuple[int, int]] = []
        if "quotes" in self.config.protect:
            spans.extend(quotes)
        if self._protect_re is not None:
            spans.extend(m.span() for m in self._protect_re.finditer(text))
        spans.extend(_url_spans(text))
        spans.sort()
        merged: list[tuple[int, int]] = []
        for a, b in spans:
            if merged and a <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(merged[-1][1], b))
            else:
                merged.append((a, b))
        return merged

    def restore_and_explain(self, text: str) -> Restored:
        """Restore ``text`` and list every edit with its span, confidence and reason."""
        text = _check_text(text)
        edits, report, bound = self._one_pass(text)
        current = apply_edits(text, edits) if edits else text
        # the latest pass's text, edits and bound (not None: its text was not spun)
        last_text, last, last_bound = text, edits, bound
        for _ in range(_MAX_PASSES - 1):
            if not last:
                break
            near = previous = None
            if last_bound is not None:
                near = _rewritten_spans(last)
                previous = (last_text, last, last_bound)
            more, _, last_bound = self._one_pass(current, near, previous)
            if not more:
                break
            edits = compose(text, edits, more)
            last_text, last = current, more
            current = apply_edits(current, more)
        if report is None:
            return Restored(current, tuple(edits), lambda: self.detect(text))
        return Restored(current, tuple(edits), report)

    def restore(self, text: str) -> str:
        """The restored text."""
        return self.restore_and_explain(text).text

    def restore_batch(self, texts: Iterable[str]) -> list[str]:
        """Restore each text of a list (or any iterable), in order."""
        return [self.restore(t) for t in texts]


def _url_spans(text: str) -> list[tuple[int, int]]:
    """The spans of ``_URL_RE.finditer(text)``, found by reading only the runs
    of non-space characters that hold a trigger ("://", "www.", "@"): no match
    crosses a space, and each holds a trigger. (Reading the whole text costs
    about 0.1 s per MB, for one e-mail address in it.)"""
    runs: set[tuple[int, int]] = set()
    for trigger in _URL_TRIGGERS:
        p = text.find(trigger)
        while p >= 0:
            before = _SPACE_BACK_RE.search(text, 0, p)
            after = _SPACE_RE.search(text, p)
            lo = before.end() if before else 0
            hi = after.start() if after else len(text)
            runs.add((lo, hi))
            p = text.find(trigger, hi)  # the next run
    return [m.span() for lo, hi in sorted(runs) for m in _URL_RE.finditer(text, lo, hi)]


def _rewritten_spans(edits: list[Edit]) -> list[tuple[int, int]] | None:
    """Where the (non-overlapping) ``edits`` put their new wording in the edited
    text; None if an edit's wording could change where paragraphs break."""
    spans: list[tuple[int, int]] = []
    shift = 0
    for e in sorted(edits, key=lambda e: e.start):
        for s in (e.before, e.after):
            if "\n\n" in s or s[:1] == "\n" or s[-1:] == "\n":
                return None
        start = e.start + shift
        spans.append((start, start + len(e.after)))
        shift += len(e.after) - (e.end - e.start)
    return spans


def _paragraph_tokens(text: str, spans: list[tuple[int, int]]) -> list[tuple[int, Tokens]]:
    """The paragraphs of ``text`` around ``spans`` (:func:`_paragraphs_around`),
    each as its start offset and its tokens."""
    return [(lo, tokenize(text[lo:hi])) for lo, hi in _paragraphs_around(text, spans)]


_BREAK_RE = regex.compile(r"(?=\n\n)")  # where each paragraph break starts ("\n\n\n" holds two)


def _paragraphs_around(text: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The stretches of whole paragraphs of ``text`` (paragraphs end after a blank
    line, "\n\n") that hold the sorted ``spans``, merged, in text order.

    The breaks are found once, so many spans in a long text cost no more than
    a pass over it."""
    starts = [m.start() for m in _BREAK_RE.finditer(text)] if "\n\n" in text else []
    out: list[tuple[int, int]] = []
    for a, b in spans:
        k = bisect.bisect_right(starts, a - 2) - 1  # the last break ending at or before a
        lo = 0 if k < 0 else starts[k] + 2
        k = bisect.bisect_left(starts, max(b - 2, 0))  # the first break ending at or after b
        hi = len(text) if k == len(starts) else starts[k] + 2
        if out and lo <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], hi))
        else:
            out.append((lo, hi))
    return out


@functools.lru_cache(maxsize=32)
def _restorer(config: Config) -> Restorer:
    return Restorer(config)


_DEFAULT = Config()


def _get(options: dict[str, Any]) -> Restorer:
    return _restorer(_DEFAULT.replace(**options))


def restore(text: str, **options: Any) -> str:
    """Restore spun ``text`` to its original wording. Options are :class:`Config` fields."""
    return _get(options).restore(text)


def restore_and_explain(text: str, **options: Any) -> Restored:
    """Like :func:`restore`, and list every edit (span, before, after, confidence, reason)."""
    return _get(options).restore_and_explain(text)


def detect(text: str, **options: Any) -> SpinReport:
    """Score how spun ``text`` looks; ``.spun`` is the verdict at ``spin_threshold``."""
    return _get(options).detect(text)


def restore_batch(texts: Iterable[str], **options: Any) -> list[str]:
    """Restore a batch of texts with one configuration (for pipeline engines)."""
    return _get(options).restore_batch(texts)
