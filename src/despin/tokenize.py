"""Stage 1: split text into word tokens with their character spans.

Tokens are runs of letters, marks and digits, joined by inner hyphens
("slow-moving", "COVID-19"). Apostrophes end a token, so "officers’" is the
token "officers" followed by a possessive mark that stays outside any edit.
Everything between tokens is left alone by construction: edits only ever
replace token spans.
"""

from __future__ import annotations

from dataclasses import dataclass
import re
from itertools import accumulate

import regex

__all__ = ["Tokens", "tokenize", "WORD_RE", "joinable"]

WORD_RE = regex.compile(r"[\p{L}\p{M}\p{N}]+(?:-[\p{L}\p{M}\p{N}]+)*")
# One character that no word token contains (the complement of WORD_RE's class).
NON_WORD_CHAR_RE = regex.compile(r"[^\p{L}\p{M}\p{N}]")

# Separators allowed inside a multi-word match: spaces and tabs, with at most
# one line break (text wrapped inside a sentence), never a blank line.
_INLINE_GAP = regex.compile(r"[ \t\u00a0]*(?:\r?\n)?[ \t\u00a0]*")


_SPLIT_RE = regex.compile(r"([\p{L}\p{M}\p{N}]+(?:-[\p{L}\p{M}\p{N}]+)*)")
# The same split for ASCII text, where letters, marks and digits are [A-Za-z0-9] (faster in re).
_ASCII_SPLIT_RE = re.compile(r"([A-Za-z0-9]+(?:-[A-Za-z0-9]+)*)")


@dataclass(frozen=True)
class Tokens:
    """Word tokens of one text as parallel lists (cheap to build and to index).

    ``gaps[i]`` is the text between token i and token i + 1 (after the last
    token: the rest of the text).
    """

    text: str
    starts: list[int]
    ends: list[int]
    words: list[str]
    lows: list[str]
    gaps: list[str]

    def __len__(self) -> int:
        return len(self.starts)


def tokenize(text: str) -> Tokens:
    """Find the word tokens of ``text`` (splitting and offsets run in C)."""
    pieces = (_ASCII_SPLIT_RE if text.isascii() else _SPLIT_RE).split(text)  # gap, word, gap, word, ..., gap
    words = pieces[1::2]
    offsets = list(accumulate(map(len, pieces)))
    starts = offsets[0:-1:2]
    ends = offsets[1::2]
    return Tokens(text, starts, ends, words, list(map(str.lower, words)), pieces[2::2])


def joinable(tokens: Tokens, i: int) -> bool:
    """Whether token ``i`` and token ``i + 1`` are separated only by inline whitespace."""
    gap = tokens.gaps[i]
    if gap == " ":
        return True
    return bool(gap) and _INLINE_GAP.fullmatch(gap) is not None
