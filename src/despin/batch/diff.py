"""Word diffs of restored documents for the terminal (``despin restore --diff``).

Only the lines that edits touch are shown, each prefixed with ``LABEL:LINE:``.
Without colour, removed text is written ``[-like this-]`` and added text
``{+like this+}`` (as ``git diff --word-diff``); with colour, removed text is
red and added text green.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..edits import Edit

__all__ = ["word_diff"]

_RED = "\x1b[31m"
_GREEN = "\x1b[32m"
_BOLD = "\x1b[1m"
_RESET = "\x1b[0m"


def word_diff(text: str, edits: Sequence[Edit], label: str, *, color: bool = False, numbered: bool = True) -> str:
    """The lines of ``text`` touched by ``edits``, with the changes marked ('' if no edits).

    ``numbered`` adds the line number after the label (for whole files; JSONL
    records pass their line number in the label instead).
    """
    out: list[str] = []
    for start, end, hunk_edits, lineno in _hunks(text, edits):
        where = f"{label}:{lineno}:" if numbered else f"{label}:"
        prefix = f"{_BOLD}{where}{_RESET} " if color else f"{where} "
        out.append(prefix + _mark(text, start, end, hunk_edits, color) + "\n")
    return "".join(out)


def _hunks(text: str, edits: Sequence[Edit]) -> list[tuple[int, int, list[Edit], int]]:
    """Groups of edits with the span of whole lines around them and the first line's number."""
    hunks: list[tuple[int, int, list[Edit], int]] = []
    counted_to, lineno = 0, 1
    for e in sorted(edits, key=lambda e: e.start):
        start = text.rfind("\n", 0, e.start) + 1
        end = text.find("\n", e.end)
        end = len(text) if end < 0 else end
        if hunks and start <= hunks[-1][1]:
            s, _, group, n = hunks[-1]
            hunks[-1] = (s, max(end, hunks[-1][1]), group + [e], n)
            continue
        lineno += text.count("\n", counted_to, start)
        counted_to = start
        hunks.append((start, end, [e], lineno))
    return hunks


def _mark(text: str, start: int, end: int, edits: list[Edit], color: bool) -> str:
    parts: list[str] = []
    pos = start
    for e in edits:
        parts.append(text[pos : e.start])
        if color:
            parts.append(f"{_RED}{e.before}{_RESET}{_GREEN}{e.after}{_RESET}")
        else:
            parts.append(f"[-{e.before}-]{{+{e.after}+}}")
        pos = e.end
    parts.append(text[pos:end])
    return "".join(parts).rstrip("\r")
