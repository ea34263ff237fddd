"""Spans never edited: quotations (on request), web and e-mail addresses
(always), and whatever the user's ``protect_pattern`` matches.

Names are protected differently, candidate by candidate (``protect={"names"}``
in :func:`despin.decide.decide`), because whether a word stands in a name is
known from its candidate.
"""

from __future__ import annotations

import regex

__all__ = ["URL_RE", "protected_spans", "url_spans"]

URL_RE = regex.compile(r"(?:https?://|www\.)[^\s<>\"]+|[\w.+-]+@[\w-]+\.[\w.-]+")
_URL_TRIGGERS = ("://", "www.", "@")  # every match of URL_RE holds one
_SPACE_RE = regex.compile(r"\s")
_SPACE_BACK_RE = regex.compile(r"\s", flags=regex.REVERSE)


def protected_spans(
    text: str, quotes: list[tuple[int, int]], protect_quotes: bool, pattern: regex.Pattern[str] | None
) -> list[tuple[int, int]]:
    """The sorted, merged spans of ``text`` never to edit: its web and e-mail
    addresses, the matches of ``pattern``, and its ``quotes`` if
    ``protect_quotes``."""
    spans: list[tuple[int, int]] = []
    if protect_quotes:
        spans.extend(quotes)
    if pattern is not None:
        spans.extend(m.span() for m in pattern.finditer(text))
    spans.extend(url_spans(text))
    spans.sort()
    merged: list[tuple[int, int]] = []
    for a, b in spans:
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], b))
        else:
            merged.append((a, b))
    return merged


def url_spans(text: str) -> list[tuple[int, int]]:
    """The spans of ``URL_RE.finditer(text)``, found by reading only the runs
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
    return [m.span() for lo, hi in sorted(runs) for m in URL_RE.finditer(text, lo, hi)]
