"""Stage 1: what a word, a gap, a quotation and spintax are, and the splitters.

Tokens are runs of letters, marks and digits, joined by inner hyphens
("slow-moving", "COVID-19"). Apostrophes end a token, so "officers’" is the
token "officers" followed by a possessive mark that stays outside any edit.
Everything between tokens (a *gap*) is left alone by construction: edits only
ever replace token spans.

Every definition of these things lives here; the rest of despin reads them:

* :data:`WORD_RE` and :func:`tokenize` (the tokens with their offsets); the
  ASCII patterns give the same words faster where the text is ASCII;
* :func:`space_out` and :func:`split_words`, the fast split without offsets
  that the quick reject (:mod:`despin.bounds`) uses;
* :func:`joinable`, :func:`norm_gap` and :func:`gap_fits`: which gaps may
  stand inside a multi-word form;
* :func:`quote_spans` (quotations) and :data:`SPINTAX_RE` (spintax leftovers).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import accumulate

import regex

__all__ = [
    "ASCII_LOWER_WORD_RE",
    "ASCII_WORD_RE",
    "NON_WORD_CHAR_RE",
    "SPINTAX_RE",
    "WORD_RE",
    "Tokens",
    "gap_fits",
    "joinable",
    "norm_gap",
    "quote_spans",
    "space_out",
    "split_words",
    "tokenize",
]

# What words are made of: letters, marks and digits (regex's Unicode classes).
_W = r"\p{L}\p{M}\p{N}"
WORD_RE = regex.compile(rf"[{_W}]+(?:-[{_W}]+)*")
# One character that no word token contains (the complement of WORD_RE's class).
NON_WORD_CHAR_RE = regex.compile(rf"[^{_W}]")
# A character beyond the Basic Multilingual Plane that no word token contains.
_ASTRAL_NON_WORD_RE = regex.compile(rf"[^{_W}\x00-\uffff]")
# Text split into gap, word, gap, word, ..., gap.
_SPLIT_RE = regex.compile(rf"([{_W}]+(?:-[{_W}]+)*)")
# The same for ASCII text, where letters, marks and digits are [A-Za-z0-9] (faster in re).
_ASCII_SPLIT_RE = re.compile(r"([A-Za-z0-9]+(?:-[A-Za-z0-9]+)*)")
ASCII_WORD_RE = re.compile(r"[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*")
ASCII_LOWER_WORD_RE = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")  # the words of lower-cased ASCII text

# Separators allowed inside a multi-word match: spaces and tabs, with at most
# one line break (text wrapped inside a sentence), never a blank line.
_INLINE_GAP = regex.compile(r"[ \t\u00a0]*(?:\r?\n)?[ \t\u00a0]*")

# Spintax leftovers: braces around words with spaces or | alternatives.
SPINTAX_RE = regex.compile(r"\{([\p{L}][\p{L}'’ \-]*(?:\|[\p{L}'’ \-]*)*)\}")
# Quotations: curly or straight double quotes, within a line.
_QUOTE_RE = regex.compile(r"“[^“”\n]{0,3000}”|\"[^\"\n]{0,3000}\"")


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


# -- gaps ------------------------------------------------------------------------------------


def joinable(tokens: Tokens, i: int) -> bool:
    """Whether token ``i`` and token ``i + 1`` are separated only by inline whitespace."""
    gap = tokens.gaps[i]
    if gap == " ":
        return True
    return bool(gap) and _INLINE_GAP.fullmatch(gap) is not None


def norm_gap(gap: str) -> str:
    """Gaps compare with curly apostrophes folded to straight ones and whitespace to one space."""
    gap = gap.replace("\u2019", "'")
    return " " if gap.isspace() else gap


def gap_fits(tokens: Tokens, k: int, want: str) -> bool:
    """Whether the text between token k and token k + 1 is the separator a
    multi-word form asks for there: inline whitespace for " ", else that
    punctuation (apostrophes folded)."""
    if want == " ":
        return joinable(tokens, k)
    return norm_gap(tokens.gaps[k]) == want


# -- quotations ------------------------------------------------------------------------------


def quote_spans(text: str) -> list[tuple[int, int]]:
    """Character spans of quotations (curly or straight double quotes, within a line)."""
    if "“" not in text and '"' not in text:
        return []
    return [m.span() for m in _QUOTE_RE.finditer(text)]


# -- the fast split (words without offsets) ----------------------------------------------------

_SPACE_TABLE: dict[int, str] | None = None


def _space_table() -> dict[int, str]:
    """Every Basic Multilingual Plane character that cannot be part of a word
    token (punctuation, symbols, separators, controls) -> space; hyphens stay.

    The word characters are those of the tokenizer's own pattern (the
    ``regex`` module's Unicode tables, which can be newer than
    ``unicodedata``'s), so the split gives the tokenizer's words."""
    global _SPACE_TABLE
    if _SPACE_TABLE is None:
        bmp = "".join(map(chr, range(0x10000)))
        _SPACE_TABLE = dict.fromkeys(map(ord, NON_WORD_CHAR_RE.findall(bmp)), " ")
        del _SPACE_TABLE[ord("-")]
    return _SPACE_TABLE


def space_out(text: str) -> str:
    """``text`` with every character that no word holds made a space, hyphens
    apart: one ``str.translate`` (the table covers the Basic Multilingual
    Plane), and a search for the rest (emoji, say) only when they occur."""
    spaced = text.translate(_space_table())
    if not spaced.isascii() and max(spaced) > "\uffff":
        spaced = _ASTRAL_NON_WORD_RE.sub(" ", spaced)
    return spaced


def split_words(spaced: str) -> list[str]:
    """The tokenizer's words of a text whose every non-word character (but the
    hyphen) is already a space (:func:`space_out`): a hyphen joins two words
    only between two word characters, so the others become spaces too before
    the split."""
    if "-" in spaced and (
        "--" in spaced or " -" in spaced or "- " in spaced or spaced[:1] == "-" or spaced[-1:] == "-"
    ):
        # After the first replace no two hyphens touch, so every hyphen left
        # that is not between two word characters has a space on one side.
        spaced = (" " + spaced + " ").replace("--", "  ").replace(" -", "  ").replace("- ", "  ")
    return spaced.split()
