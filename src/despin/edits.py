"""Edits: what changed, where, and why; and how to replay them."""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .errors import EditError, InputError

__all__ = ["Edit", "apply_edits", "compose"]


@dataclass(frozen=True)
class Edit:
    """One change: ``text[start:end]`` was ``before`` and becomes ``after``.

    ``confidence`` is in [0, 1]: for an ordinary-English form the estimated
    probability that the edit is right, for an artifact that the span is
    spinner output; ``reason`` says which kind of evidence made the edit; ``rule``
    names the lexicon entry (``file:line``) or rule behind it; ``evidence``
    holds the numbers: ``prior`` (the entry's weight), ``context`` (nats for
    the original over the literal form), ``document`` (the spin score),
    ``unspun_original`` (nats, when the original also appears unspun), and
    ``choice`` (the probability of the chosen original among several).
    """

    start: int
    end: int
    before: str
    after: str
    confidence: float
    reason: str
    rule: str
    evidence: Mapping[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "start": self.start,
            "end": self.end,
            "before": self.before,
            "after": self.after,
            "confidence": round(self.confidence, 4),
            "reason": self.reason,
            "rule": self.rule,
            "evidence": {k: round(v, 4) for k, v in self.evidence.items()},
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Edit:
        if not isinstance(d, Mapping):
            raise EditError(f"not an edit: {d!r} (an Edit or a mapping with start, end, before and after)")
        try:
            return cls(
                int(d["start"]), int(d["end"]), str(d["before"]), str(d["after"]),
                float(d.get("confidence", 1.0)), str(d.get("reason", "")), str(d.get("rule", "")),
                dict(d.get("evidence", {})),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise EditError(f"not an edit: {d!r} ({exc})") from None


def apply_edits(text: str, edits: Iterable[Edit | Mapping[str, Any]]) -> str:
    """Replay edits on the text they were made for.

    Raises :class:`~despin.errors.EditError` if edits overlap, fall outside the
    text, or do not match it (the ``before`` text differs).
    """
    if not isinstance(text, str):
        raise InputError(f"apply_edits replays edits on a text (str), not on {type(text).__name__}")
    if isinstance(edits, (str, bytes)) or not isinstance(edits, Iterable):
        raise InputError(f"apply_edits takes an iterable of edits, not {type(edits).__name__}")
    items = sorted((e if isinstance(e, Edit) else Edit.from_dict(e) for e in edits), key=lambda e: e.start)
    out: list[str] = []
    pos = 0
    for e in items:
        if e.start < pos or e.end < e.start or e.end > len(text):
            raise EditError(f"edit {e.start}-{e.end} overlaps another edit or lies outside the text")
        if text[e.start : e.end] != e.before:
            raise EditError(
                f"edit {e.start}-{e.end} expects {e.before!r} but the text has {text[e.start:e.end]!r}"
            )
        out.append(text[pos : e.start])
        out.append(e.after)
        pos = e.end
    out.append(text[pos:])
    return "".join(out)


def compose(original: str, first: list[Edit], second: list[Edit]) -> list[Edit]:
    """Edits on ``original`` equivalent to applying ``first`` and then ``second``.

    ``second`` holds positions in the text that ``first`` produced. An edit of
    ``second`` that touches the output of an edit of ``first`` is merged with
    it into one edit spanning both (keeping the second edit's explanation).
    Edits must not be empty on either side (despin's never are: they cover
    word tokens and restore non-empty wording).
    """
    if not second:
        return sorted(first, key=lambda e: e.start)
    segments = _Segments(original, first)
    groups: list[_Group] = []
    for e2 in sorted(second, key=lambda e: e.start):
        out_start, out_end, touched = segments.touching(e2)
        last = groups[-1] if groups else None
        if last is not None and (out_start < last.out_end or touched & last.touched):
            last.out_start, last.out_end = min(last.out_start, out_start), max(last.out_end, out_end)
            last.edits.append(e2)
            last.touched |= touched
        else:
            groups.append(_Group(out_start, out_end, [e2], touched))
    text1 = apply_edits(original, first)
    merged_ids: set[int] = set()
    result: list[Edit] = []
    for g in groups:
        merged_ids |= g.touched
        result.append(g.edit(original, text1, segments))
    result.extend(e for e in first if id(e) not in merged_ids)
    return sorted(result, key=lambda e: e.start)


# A stretch of the text ``first`` produced: (out_start, out_end, in_start,
# in_end, the edit of ``first`` that wrote it or None for unedited text).
_Segment = tuple[int, int, int, int, "Edit | None"]


class _Segments:
    """The text that the edits ``first`` make of ``original``, as segments
    mapping its positions back to ``original``."""

    def __init__(self, original: str, first: list[Edit]):
        segs: list[_Segment] = []
        pin = pout = 0
        for e in sorted(first, key=lambda e: e.start):
            if e.start > pin:
                segs.append((pout, pout + e.start - pin, pin, e.start, None))
                pout += e.start - pin
            segs.append((pout, pout + len(e.after), e.start, e.end, e))
            pout += len(e.after)
            pin = e.end
        segs.append((pout, pout + len(original) - pin, pin, len(original), None))
        self.segs = segs
        self.out_starts = [seg[0] for seg in segs]

    def at(self, pos: int, end_side: bool) -> int:
        """Index of the segment holding output position ``pos`` (from the left on the end side)."""
        segs = self.segs
        k = bisect.bisect_right(self.out_starts, pos) - 1
        if end_side:
            while k > 0 and segs[k][0] == pos and segs[k - 1][1] >= pos:
                k -= 1
        return max(k, 0)

    def to_input(self, pos: int, end_side: bool) -> int:
        """The position in ``original`` of output position ``pos`` (a rewritten
        stretch maps to its whole span)."""
        os_, _, is_, ie, e = self.segs[self.at(pos, end_side)]
        if e is not None:
            return ie if end_side else is_
        return is_ + (pos - os_)

    def touching(self, e2: Edit) -> tuple[int, int, set[int]]:
        """The output span of ``e2`` grown over the rewritten stretches it
        touches, and the ids of the edits of ``first`` that wrote them."""
        segs = self.segs
        out_start, out_end = e2.start, e2.end
        touched: set[int] = set()
        k = self.at(e2.start, False)
        while k > 0 and segs[k - 1][1] > e2.start:
            k -= 1
        while k < len(segs) and segs[k][0] < e2.end:
            s_os, s_oe, _, _, e1 = segs[k]
            if e1 is not None and s_os < e2.end and e2.start < s_oe:
                touched.add(id(e1))
                out_start, out_end = min(out_start, s_os), max(out_end, s_oe)
            k += 1
        return out_start, out_end, touched


@dataclass
class _Group:
    """Edits of ``second`` that become one edit, with the output span they
    cover and the ids of the edits of ``first`` merged into it."""

    out_start: int
    out_end: int
    edits: list[Edit]
    touched: set[int]

    def edit(self, original: str, text1: str, segments: _Segments) -> Edit:
        parts, pos = [], self.out_start
        for e2 in self.edits:
            parts.append(text1[pos : e2.start])
            parts.append(e2.after)
            pos = e2.end
        parts.append(text1[pos : self.out_end])
        in_s, in_e = segments.to_input(self.out_start, False), segments.to_input(self.out_end, True)
        last = self.edits[-1]
        return Edit(
            in_s, in_e, original[in_s:in_e], "".join(parts), last.confidence, last.reason, last.rule, last.evidence
        )
