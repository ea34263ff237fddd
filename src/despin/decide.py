"""Stage 4: choose which scored candidates become edits.

A candidate becomes an edit when its confidence reaches the threshold and no
protected span (quotations, names, a user pattern) covers it. Candidates do
not overlap by construction of the scan, except spintax, which wins.
"""

from __future__ import annotations

from collections.abc import Sequence

from .score import Scored

__all__ = ["decide"]


def decide(
    scored: list[Scored],
    threshold: float,
    protected: Sequence[tuple[int, int]] = (),
    protect_names: bool = False,
) -> list[Scored]:
    """The scored candidates to apply, in text order, non-overlapping."""
    chosen: list[Scored] = []
    last_end = -1
    pi = 0
    prot = sorted(protected)
    for s in sorted(scored, key=lambda s: (s.cand.start, -s.cand.end)):
        c = s.cand
        if s.confidence < threshold or s.confidence <= 0.0:
            continue
        if c.start < last_end:
            continue
        if protect_names and c.in_name and not (c.entry is not None and c.entry.cased):
            continue
        while pi < len(prot) and prot[pi][1] <= c.start:
            pi += 1
        if any(a < c.end and c.start < b for a, b in prot[pi : pi + 8]):
            continue
        chosen.append(s)
        last_end = c.end
    return chosen
