"""Stages 2 to 5 on one read of a text: find candidates, score them, decide, render.

:func:`stage_edits` is what one pass (:mod:`despin.passes`) runs once the
text's spin report is known. It reads the resources of a
:class:`~despin.restorer.Restorer` through :class:`Resources`.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from typing import Protocol

import regex

from .candidates import scan
from .config import Config
from .decide import decide
from .decision import DecisionModel
from .detection import SpinReport
from .edits import Edit
from .lexicon import Lexicon, artifact_lexicon
from .lm import LMScorer, SlotRequest
from .protect import protected_spans
from .render import render
from .score import (
    ContextScorer,
    Measured,
    Scored,
    decide_one,
    decide_with_lm,
    measure,
    reread,
    restored_neighbours,
    score_artifacts,
)
from .tokenize import Tokens, tokenize

__all__ = ["Resources", "left_alone", "stage_edits"]


class Resources(Protocol):
    """What the stages read: the options, the lexicon, the context model (None
    without one; loaded on first use) and the compiled ``protect_pattern``."""

    @property
    def config(self) -> Config: ...

    @property
    def lexicon(self) -> Lexicon: ...

    @property
    def model(self) -> ContextScorer | None: ...

    @property
    def protect_re(self) -> regex.Pattern[str] | None: ...

    @property
    def decision(self) -> DecisionModel: ...

    @property
    def lm(self) -> LMScorer | None: ...


def stage_edits(r: Resources, tokens: Tokens, report: SpinReport, considered: list[Edit] | None = None) -> list[Edit]:
    """The edits for the text of ``tokens`` whose spin report is ``report``; the
    scored candidates not chosen are added to ``considered``, if given."""
    cfg = r.config
    if report.spun:  # every entry may apply
        found = scan(tokens, r.lexicon, cfg.numerals)
    else:  # only artifacts can be restored, and they owe nothing to the counts of originals
        found = scan(tokens, artifact_lexicon(r.lexicon), numerals=False, count_originals=False)
    if not found.candidates:
        return []
    model = r.model if report.spun else None
    scored: list[Scored] = score_artifacts(tokens, found.candidates, model, r.decision)
    measured: list[Measured] = []
    by_lm: set[int] = set()
    if report.spun:
        measured = measure(tokens, found.candidates, report, r.lexicon, r.decision, model, found.original_counts)
        decided = [decide_one(m, r.decision, tokens, report) for m in measured]
        decided, by_lm = _with_lm(r, tokens, report, measured, decided)
        scored += decided
    protected = protected_spans(tokens.text, found.quotes, "quotes" in cfg.protect, r.protect_re)
    protect_names = "names" in cfg.protect
    chosen = decide(scored, cfg.threshold, protected, protect_names)
    if model is not None and chosen and measured:
        # Read the context again, with restored neighbours in place, for the
        # candidates next to an edit.
        neighbours = restored_neighbours(chosen)
        again = [m for m in measured if m.cand.i >= 0 and (m.cand.i - 1 in neighbours or m.cand.j in neighbours)
                 and id(m.cand) not in by_lm]
        if again:
            for m in again:
                reread(tokens, m, model, neighbours)
            redone = {id(m.cand) for m in again}
            scored = [s for s in scored if id(s.cand) not in redone]
            scored += [decide_one(m, r.decision, tokens, report) for m in again]
            chosen = decide(scored, cfg.threshold, protected, protect_names)
    if considered is not None:  # the candidates left alone, each as the edit it would have been
        made = {id(s) for s in chosen}
        considered.extend(e for s in scored if id(s) not in made for e in render(tokens, [s]))
    return render(tokens, chosen)


def _with_lm(r: Resources, tokens: Tokens, report: SpinReport, measured: list[Measured],
             decided: list[Scored]) -> tuple[list[Scored], set[int]]:
    """``decided`` with the candidates whose confidence lies in the band of the
    ``context="lm"`` model decided again by it, with the neural language
    model read in one batch for them only; and the ids of those candidates."""
    lm_model = r.decision.lm
    if r.lm is None or lm_model is None:
        return decided, set()
    lo, hi = lm_model.band
    uncertain = [k for k, s in enumerate(decided) if lo <= s.confidence <= hi]
    if not uncertain:
        return decided, set()
    advantages = lm_advantages(r.lm, tokens, [measured[k] for k in uncertain])
    out = list(decided)
    for k, adv in zip(uncertain, advantages, strict=True):
        out[k] = decide_with_lm(measured[k], lm_model, adv, tokens, report)
    return out, {id(measured[k].cand) for k in uncertain}


def lm_advantages(lm: LMScorer, tokens: Tokens, measured: Sequence[Measured]) -> list[list[float]]:
    """The neural language model's advantage of each original over the literal
    form, for each measured candidate (all read in one batch)."""
    requests = [SlotRequest(tokens, m.cand.i, m.cand.j, (tokens.text[m.cand.start : m.cand.end], *m.cand.originals))
                for m in measured]
    return [[x - logprobs[0] for x in logprobs[1:]] for logprobs in lm.window_logprobs_batch(requests)]


def left_alone(r: Resources, text: str, report: SpinReport, edits: tuple[Edit, ...]) -> tuple[Edit, ...]:
    """The candidates of a first read of ``text`` that were scored but not made
    into ``edits`` (below the threshold, or protected), in text order, none
    overlapping an edit or each other."""
    if not (report.spun or report.artifacts):
        return ()  # nothing is scored in such a text
    found: list[Edit] = []
    stage_edits(r, tokenize(text), report, found)
    spans = sorted((e.start, e.end) for e in edits)
    out: list[Edit] = []
    for e in sorted(found, key=lambda e: (e.start, -e.end)):
        k = bisect.bisect_left(spans, (e.end, e.end))
        if (k > 0 and spans[k - 1][1] > e.start) or (out and out[-1].end > e.start):
            continue
        out.append(e)
    return tuple(out)
