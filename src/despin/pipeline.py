"""Stages 2 to 5 on one read of a text: find candidates, score them, decide, render.

:func:`stage_edits` is what one pass (:mod:`despin.passes`) runs once the
text's spin report is known. It reads the resources of a
:class:`~despin.restorer.Restorer` through :class:`Resources`.
"""

from __future__ import annotations

import bisect
from typing import Protocol

import regex

from .candidates import scan
from .config import Config
from .decide import decide
from .decision import DecisionModel
from .detection import SpinReport
from .edits import Edit
from .lexicon import Lexicon, artifact_lexicon
from .protect import protected_spans
from .render import render
from .score import ContextScorer, Scored, decide_one, measure, reread, restored_neighbours, score_artifacts
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
    measured = []
    if report.spun:
        measured = measure(tokens, found.candidates, report, r.lexicon, r.decision, model, found.original_counts)
        scored += [decide_one(m, r.decision, tokens, report) for m in measured]
    protected = protected_spans(tokens.text, found.quotes, "quotes" in cfg.protect, r.protect_re)
    protect_names = "names" in cfg.protect
    chosen = decide(scored, cfg.threshold, protected, protect_names)
    if model is not None and chosen and measured:
        # Read the context again, with restored neighbours in place, for the
        # candidates next to an edit.
        neighbours = restored_neighbours(chosen)
        again = [m for m in measured if m.cand.i >= 0 and (m.cand.i - 1 in neighbours or m.cand.j in neighbours)]
        if again:
            for m in again:
                m.advantages = reread(tokens, m, model, neighbours)
            redone = {id(m.cand) for m in again}
            scored = [s for s in scored if id(s.cand) not in redone]
            scored += [decide_one(m, r.decision, tokens, report) for m in again]
            chosen = decide(scored, cfg.threshold, protected, protect_names)
    if considered is not None:  # the candidates left alone, each as the edit it would have been
        made = {id(s) for s in chosen}
        considered.extend(e for s in scored if id(s) not in made for e in render(tokens, [s]))
    return render(tokens, chosen)


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
