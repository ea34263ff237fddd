"""Passes to a fixed point: restore, then restore the result again.

Restored words can form a new spun phrase, and nested spintax unfolds one
level per pass, so :func:`restore_passes` reads the text again (at most
``MAX_PASSES`` times) until a pass finds nothing, composing the edits into
edits on the input.

A later pass after a pass that restored artifacts only (its text was not
spun) re-reads only the paragraphs that pass rewrote, and skips detecting the
whole text again when those paragraphs cannot have made it spun
(:func:`~despin.bounds.stays_unspun`).
"""

from __future__ import annotations

import bisect
from dataclasses import replace

import regex

from .bounds import UnspunBound, stays_unspun, surely_clean
from .detection import SpinReport, spin_report
from .edits import Edit, apply_edits, compose
from .pipeline import Resources, stage_edits
from .tokenize import Tokens, tokenize

__all__ = ["MAX_PASSES", "one_pass", "paragraphs_around", "restore_passes", "rewritten_spans"]

MAX_PASSES = 3
_BREAK_RE = regex.compile(r"(?=\n\n)")  # where each paragraph break starts ("\n\n\n" holds two)

# What a later pass knows of the text the pass before read: that text, its
# edits, and the bound on its evidence.
Previous = tuple[str, list[Edit], UnspunBound]


def restore_passes(r: Resources, text: str) -> tuple[str, list[Edit], SpinReport | None]:
    """The restored text, the edits on ``text`` that give it, and the spin
    report of ``text`` (None when the quick reject showed it clean)."""
    edits, report, bound = one_pass(r, text)
    current = apply_edits(text, edits) if edits else text
    # the latest pass's text, edits and bound (not None: its text was not spun)
    last_text, last, last_bound = text, edits, bound
    for _ in range(MAX_PASSES - 1):
        if not last:
            break
        near = previous = None
        if last_bound is not None:
            near = rewritten_spans(last)
            previous = (last_text, last, last_bound)
        more, _, last_bound = one_pass(r, current, near, previous)
        if not more:
            break
        edits = compose(text, edits, more)
        last_text, last = current, more
        current = apply_edits(current, more)
    return current, edits, report


def one_pass(
    r: Resources, text: str, near: list[tuple[int, int]] | None = None, previous: Previous | None = None
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
    and cannot have made it spun (:func:`~despin.bounds.stays_unspun`),
    this pass reads only those paragraphs, without detecting the whole
    text again. (When they are most of it, as in a text without blank
    lines, reading them twice for the bound costs more than it can save.)
    """
    spin_threshold = r.config.spin_threshold
    unprotected = r.protect_re is None  # (a protected match may cross a blank line)
    new_parts: list[tuple[int, Tokens]] | None = None  # the paragraphs around ``near``, once read
    if near is not None and previous is not None and unprotected:
        before, changes, bound = previous
        around = paragraphs_around(before, sorted((e.start, e.end) for e in changes))
        if 2 * sum(hi - lo for lo, hi in around) <= len(before):
            old_parts = [tokenize(before[lo:hi]) for lo, hi in around]
            new_parts = _paragraph_tokens(text, near)
            still = stays_unspun(bound, old_parts, [t for _, t in new_parts], r.lexicon, spin_threshold)
            if still is not None:
                return _local_edits(r, new_parts, _artifacts_only(spin_threshold)), None, still
    if surely_clean(text, r.lexicon, spin_threshold):
        return [], None, None
    tokens = tokenize(text)  # read once, by detection and by the scan
    report = spin_report(text, r.lexicon, spin_threshold, tokens)
    unspun = UnspunBound.of(report)
    if not report.spun and not report.artifacts:
        return [], report, unspun  # clean text: nothing can be restored
    if near is not None and not report.spun and unprotected:
        if new_parts is None:
            new_parts = _paragraph_tokens(text, near)
        return _local_edits(r, new_parts, report), report, unspun
    return stage_edits(r, tokens, report), report, unspun


def _artifacts_only(spin_threshold: float) -> SpinReport:
    """The report an artifact-only pass is scored with when the text's own
    report was not computed: artifacts are scored by their prior alone, and
    nothing else is restored in a text that is not spun."""
    return SpinReport(score=0.0, spun=False, threshold=spin_threshold, words=0, spun_forms=0, per_1000_words=0.0,
                      artifacts=0, llr=0.0, evidence=())


def _local_edits(r: Resources, parts: list[tuple[int, Tokens]], report: SpinReport) -> list[Edit]:
    """The edits of an artifact-only pass over ``parts`` (see :func:`_paragraph_tokens`)."""
    edits: list[Edit] = []
    for lo, part in parts:
        edits.extend(replace(e, start=e.start + lo, end=e.end + lo) for e in stage_edits(r, part, report))
    return edits


def rewritten_spans(edits: list[Edit]) -> list[tuple[int, int]] | None:
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
    """The paragraphs of ``text`` around ``spans`` (:func:`paragraphs_around`),
    each as its start offset and its tokens."""
    return [(lo, tokenize(text[lo:hi])) for lo, hi in paragraphs_around(text, spans)]


def paragraphs_around(text: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The stretches of whole paragraphs of ``text`` (paragraphs end after a blank
    line, "\\n\\n") that hold the sorted ``spans``, merged, in text order.

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
