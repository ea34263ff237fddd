"""Passes to a fixed point: restore, then restore the result again.

Restoring changes what detection sees (the text may stop, or start, looking
spun), so :func:`restore_passes` reads the text again (at most
``MAX_PASSES`` times) until a pass finds nothing, composing the edits into
edits on the input.

A later pass never re-edits text an earlier edit produced. Wanting to is
the sign of a chain or a cycle in the lexicon ("horror film" -> "horror
movie" -> "horror film"; "House City" -> "Home Town", whose "Home" then
reads as the spun "White Home"): the earlier edit is unstable, so it is
withdrawn, its span of the input is frozen (never edited), and the passes
start again (:func:`_round`). A round that withdrew something is followed
by another round on its result (the text may read differently once the
edits are withdrawn: less spun, say), until a round changes nothing. The
result is a fixed point of a round, and restoring starts with a round, so
``restore(restore(x)) == restore(x)``.

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
from .context import ContextModel, load_model
from .detection import SpinReport, spin_report
from .edits import Edit, apply_edits, compose
from .errors import ModelError
from .pipeline import Resources, stage_edits
from .thesaurus import detection_evidence
from .tokenize import Tokens, tokenize

__all__ = [
    "MAX_PASSES", "one_pass", "paragraphs_around", "restore_passes", "rewritten_spans", "unseen_evidence",
    "unseen_scorer",
]

MAX_PASSES = 3
MAX_ROUNDS = 4  # rounds on the result of a round that withdrew edits
MAX_RESTARTS = 8  # restarts of a round with more frozen spans before every edit near one is given up
_BREAK_RE = regex.compile(r"(?=\n\n)")  # where each paragraph break starts ("\n\n\n" holds two)

# What a later pass knows of the text the pass before read: that text, its
# edits, and the bound on its evidence.
Previous = tuple[str, list[Edit], UnspunBound]


Span = tuple[int, int]


def restore_passes(r: Resources, text: str) -> tuple[str, list[Edit], SpinReport | None]:
    """The restored text, the edits on ``text`` that give it, and the spin
    report of ``text`` (None when the quick reject showed it clean).

    Rounds of passes (:func:`_round`) run until one changes nothing; a
    round that withdrew no edit ended with a pass that found nothing, so it
    is the last."""
    current, edits, report, settled = _round(r, text)
    for _ in range(MAX_ROUNDS - 1):
        if settled or not edits:
            break
        after, more, _, settled = _round(r, current)
        if not more:
            break
        edits = compose(text, edits, more)
        current = after
    return current, edits, report


def _round(r: Resources, text: str) -> tuple[str, list[Edit], SpinReport | None, bool]:
    """Passes until one finds nothing (:func:`_passes`); when a pass wants
    to re-edit what an earlier one wrote, the earlier edit is withdrawn and
    the passes start again with its span frozen. The restored text, its
    edits, the report of ``text``, and whether nothing was withdrawn (then
    the last pass, over the restored text, found nothing)."""
    frozen: list[Span] = []
    for _ in range(MAX_RESTARTS):
        current, edits, report, unstable = _passes(r, text, frozen)
        if not unstable:
            return current, edits, report, not frozen
        frozen = _merged(frozen + unstable)
    # Still unstable after MAX_RESTARTS restarts (not met in practice): leave
    # every span that took part alone.
    edits = _outside(edits, _merged(frozen + unstable))
    return apply_edits(text, edits), edits, report, False


def _passes(
    r: Resources, text: str, frozen: list[Span]
) -> tuple[str, list[Edit], SpinReport | None, list[Span]]:
    """Passes over ``text`` with the ``frozen`` spans never edited: the
    restored text, its edits on ``text``, the report of ``text``, and the
    spans of ``text`` whose edits a later pass wanted to re-edit (unstable;
    empty when the result is a fixed point)."""
    first, report, bound = one_pass(r, text)
    edits = _outside(first, frozen)
    current = apply_edits(text, edits) if edits else text
    # the latest pass's text, edits and bound (not None: its text was not spun)
    last_text, last, last_bound = text, edits, bound if edits == first else None
    for _ in range(MAX_PASSES - 1):
        if not last:
            break
        near = previous = None
        if last_bound is not None:
            near = rewritten_spans(last)
            previous = (last_text, last, last_bound)
        found, _, last_bound = one_pass(r, current, near, previous, report_unseen=False)
        more = _outside(found, _shifted(frozen, edits))
        if more != found:
            last_bound = None
        unstable = _re_edited(edits, more)
        if unstable:
            return current, edits, report, unstable
        if not more:
            break
        edits = compose(text, edits, more)
        last_text, last = current, more
        current = apply_edits(current, more)
    return current, edits, report, []


def _outside(edits: list[Edit], spans: list[Span]) -> list[Edit]:
    """The edits that touch none of ``spans`` (sorted, not overlapping)."""
    if not spans:
        return edits
    return [e for e in edits if not _overlaps((e.start, e.end), spans)]


def _overlaps(span: Span, spans: list[Span]) -> bool:
    """Whether ``span`` overlaps one of the sorted, non-overlapping ``spans``."""
    a, b = span
    k = bisect.bisect_right(spans, (a, float("inf"))) - 1  # the last span starting at or before a
    if k >= 0 and spans[k][1] > a:
        return True
    return k + 1 < len(spans) and spans[k + 1][0] < b


def _merged(spans: list[Span]) -> list[Span]:
    out: list[Span] = []
    for a, b in sorted(spans):
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


def _shifted(spans: list[Span], edits: list[Edit]) -> list[Span]:
    """Spans of the input (sorted, untouched by ``edits``) where they stand once ``edits`` are made."""
    if not spans:
        return spans
    ordered = sorted(edits, key=lambda e: e.start)
    out = []
    k = shift = 0
    for a, b in spans:
        while k < len(ordered) and ordered[k].end <= a:
            shift += len(ordered[k].after) - (ordered[k].end - ordered[k].start)
            k += 1
        out.append((a + shift, b + shift))
    return out


def _re_edited(edits: list[Edit], more: list[Edit]) -> list[Span]:
    """The input spans of the ``edits`` (on the input) whose wording some of
    ``more`` (edits on the text they made) would change."""
    if not more:
        return []
    later = _merged([(e.start, e.end) for e in more])
    unstable = []
    shift = 0
    for e in sorted(edits, key=lambda e: e.start):
        start = e.start + shift
        if _overlaps((start, start + len(e.after)), later):
            unstable.append((e.start, e.end))
        shift += len(e.after) - (e.end - e.start)
    return unstable


def one_pass(
    r: Resources, text: str, near: list[tuple[int, int]] | None = None, previous: Previous | None = None,
    report_unseen: bool = True,
) -> tuple[list[Edit], SpinReport | None, UnspunBound | None]:
    """Edits for one pass; the text's spin report (None when the quick reject
    showed the text clean, or when it was not computed; with ``Config.unseen``
    and ``report_unseen``, it weighs the dictionary-free evidence too); and,
    if the lexicon does not call the text spun, what is known of its lexicon
    evidence (for the next pass). The edits are those without ``unseen``.

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
            still = stays_unspun(bound, old_parts, [t for _, t in new_parts], r.lexicon, spin_threshold,
                                 r.decision.detection)
            if still is not None:
                return _local_edits(r, new_parts, _artifacts_only(spin_threshold)), None, still
    if surely_clean(text, r.lexicon, spin_threshold, r.decision.detection):
        return [], None, None
    tokens = tokenize(text)  # read once, by detection and by the scan
    report = spin_report(text, r.lexicon, spin_threshold, tokens, r.decision.detection)
    # The dictionary-free evidence (Config.unseen) changes the report, not the
    # edits: they follow the lexicon's verdict, whose spinner they belong to.
    shown = report
    if r.config.unseen and report_unseen:
        more = detection_evidence(tokens, unseen_scorer())
        if more:
            shown = spin_report(text, r.lexicon, spin_threshold, tokens, r.decision.detection, more)
    unspun = UnspunBound.of(report)
    if not report.spun and not report.artifacts:
        return [], shown, unspun  # clean text: nothing can be restored
    if near is not None and not report.spun and unprotected:
        if new_parts is None:
            new_parts = _paragraph_tokens(text, near)
        return _local_edits(r, new_parts, report), shown, unspun
    return stage_edits(r, tokens, report), shown, unspun


def unseen_scorer() -> ContextModel:
    """The context model the dictionary-free evidence (``Config.unseen``) is
    fitted with: the bundled one, whatever ``model_path`` and ``context`` say."""
    model = load_model()
    if model is None:
        raise ModelError("unseen=True needs the bundled context model (data/model/context.bin), which is missing")
    return model


def unseen_evidence(r: Resources, text: str) -> float:
    """The nats ``Config.unseen`` adds to the lexicon evidence of ``text``: 0.0
    without the option, and in a text the quick reject settles (as
    :func:`one_pass` reads it, which then never computes it)."""
    if not r.config.unseen or surely_clean(text, r.lexicon, r.config.spin_threshold, r.decision.detection):
        return 0.0
    return detection_evidence(text, unseen_scorer())


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
