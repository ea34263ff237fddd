"""Stages 2 to 5 on one read of a text: find candidates, score them, decide, render.

:func:`stage_edits` is what one pass (:mod:`despin.passes`) runs once the
text's spin report is known. It reads the resources of a
:class:`~despin.restorer.Restorer` through :class:`Resources`.
"""

from __future__ import annotations

from typing import Protocol

import regex

from .candidates import scan
from .config import Config
from .decide import decide
from .detection import SpinReport
from .edits import Edit
from .lexicon import Lexicon, artifact_lexicon
from .protect import protected_spans
from .render import render
from .score import ContextScorer, restored_neighbours, score_candidates
from .tokenize import Tokens

__all__ = ["Resources", "stage_edits"]


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


def stage_edits(r: Resources, tokens: Tokens, report: SpinReport) -> list[Edit]:
    """The edits for the text of ``tokens`` whose spin report is ``report``."""
    cfg = r.config
    if report.spun:  # every entry may apply
        found = scan(tokens, r.lexicon, cfg.numerals)
    else:  # only artifacts can be restored, and they owe nothing to the counts of originals
        found = scan(tokens, artifact_lexicon(r.lexicon), numerals=False, count_originals=False)
    if not found.candidates:
        return []
    model = r.model if report.spun else None
    scored = score_candidates(tokens, found.candidates, report, model, found.original_counts)
    protected = protected_spans(tokens.text, found.quotes, "quotes" in cfg.protect, r.protect_re)
    protect_names = "names" in cfg.protect
    chosen = decide(scored, cfg.threshold, protected, protect_names)
    if model is not None and chosen:
        # Read the context again, with restored neighbours in place, for the
        # candidates next to an edit.
        neighbours = restored_neighbours(chosen)
        again = [c for c in found.candidates if c.i >= 0 and (c.i - 1 in neighbours or c.j in neighbours)]
        if again:
            rescored = score_candidates(tokens, again, report, model, found.original_counts, neighbours)
            redone = {id(s.cand) for s in rescored}
            scored = [s for s in scored if id(s.cand) not in redone] + rescored
            chosen = decide(scored, cfg.threshold, protected, protect_names)
    return render(tokens, chosen)
