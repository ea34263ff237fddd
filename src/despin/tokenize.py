"""Stage 1: split text into word tokens with their character spans.

Tokens are runs of letters, marks and digits, joined by inner hyphens
("slow-moving", "COVID-19"). Apostrophes end a token, so "officers’" is the
token "officers" followed by a possessive mark that stays outside any edit.
Everything between tokens is left alone by construction: edits only ever
replace token spans.
"""

from __future__ import annotations

from dataclasses import dataclass

import regex

__all__ = ["Tokens", "tokenize", "WORD_RE", "joinable"]

WORD_RE = regex.compile(r"[\p{L}\p{M}\p{N}]+(?:-[\p{L}\p{M}\p{N}]+)*")

# Separators allowed inside a multi-word match: spaces and tabs, with at most
# one line break (text wrapped inside a sentence), never a blank line.
_INLINE_GAP = regex.compile(r"[ \t\u00a0]*(?:\r?\n)?[ \t\u00a0]*")


@dataclass(frozen=True)
class Tokens:
    """Word tokens of one text as parallel lists (cheap to build and to index)."""

    text: str
    starts: list[int]
    ends: list[int]
    words: list[str]
    lows: list[str]

    def __len__(self) -> int:
        return len(self.starts)


def tokenize(text: str) -> Tokens:
    """Find the word tokens of ``text``."""
    starts: list[int] = []
    ends: list[int] = []
    words: list[str] = []
    for m in WORD_RE.finditer(text):
        s, e = m.span()
        starts.append(s)
        ends.append(e)
        words.append(m.group())
    return Tokens(text, starts, ends, words, [w.lower() for w in words])


def joinable(tokens: Tokens, i: int) -> bool:
    """Whether token ``i`` and token ``i + 1`` are separated only by inline whitespace."""
    gap_start = tokens.ends[i]
    gap_end = tokens.starts[i + 1]
    if gap_end == gap_start:
        return False
    m = _INLINE_GAP.fullmatch(tokens.text, gap_start, gap_end)
    return m is not None
