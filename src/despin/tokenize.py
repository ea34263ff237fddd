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
* :func:`joinable`, :func:`same_line`, :func:`norm_gap` and :func:`gap_fits`:
  which gaps may stand inside a multi-word form (spaces on one line: a
  spun phrase never crosses a line break) and between neighbouring words;
* :func:`quote_spans` (quotations), :data:`SPINTAX_RE` (what may be spintax)
  and :func:`spintax_groups` (what looks like a spinner's leftover spintax).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import accumulate
from typing import NamedTuple

import regex

__all__ = [
    "ASCII_LOWER_WORD_RE",
    "ASCII_WORD_RE",
    "NON_WORD_CHAR_RE",
    "SENTENCE_BREAK",
    "SPINTAX_RE",
    "WORD_RE",
    "Tokens",
    "gap_fits",
    "joinable",
    "norm_gap",
    "quote_spans",
    "same_line",
    "Spintax",
    "spintax_groups",
    "sentence_initial",
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

# Neighbouring words (for context): spaces and tabs, with at most one line
# break (text wrapped inside a sentence), never a blank line.
_INLINE_GAP = regex.compile(r"[ \t\u00a0]*(?:\r?\n)?[ \t\u00a0]*")
# Separators allowed inside a multi-word form or original: spaces and tabs on
# one line. In real spun pages a line break ends a paragraph, a heading or an
# item (176 single line breaks in the 37 target pairs of corpus/real: 96 %
# after a full stop, a closing quote or a heading, no substitution across
# one), and the clean corpora hold none inside a sentence; a form matched
# across one would also lose it ("White House\nCity officials").
_SAME_LINE_GAP = regex.compile(r"[ \t\u00a0]+")

# Braces around letters with spaces or | alternatives: what may be spintax.
# Every group :func:`spintax_groups` finds holds a match (the bounds of
# despin.bounds rely on it).
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


def same_line(tokens: Tokens, i: int) -> bool:
    """Whether token ``i`` and token ``i + 1`` are separated by spaces on one line."""
    gap = tokens.gaps[i]
    return gap == " " or _SAME_LINE_GAP.fullmatch(gap) is not None


def norm_gap(gap: str) -> str:
    """Gaps compare with curly apostrophes folded to straight ones and whitespace to one space."""
    gap = gap.replace("\u2019", "'")
    return " " if gap.isspace() else gap


def gap_fits(tokens: Tokens, k: int, want: str) -> bool:
    """Whether the text between token k and token k + 1 is the separator a
    multi-word form asks for there: spaces on one line for " ", else that
    punctuation (apostrophes folded)."""
    if want == " ":
        return same_line(tokens, k)
    return norm_gap(tokens.gaps[k]) == want


#: Characters in the gap before a word that make it start a sentence, a line
#: or a quotation (so that a capital there says nothing of a name).
SENTENCE_BREAK = frozenset(".!?:;\"“”‘—–\n(")


def sentence_initial(tokens: Tokens, i: int) -> bool:
    """Whether token ``i`` starts a sentence, a line or a quotation."""
    if i == 0:
        return True
    gap = tokens.text[tokens.ends[i - 1] : tokens.starts[i]]
    return any(ch in SENTENCE_BREAK for ch in gap)


# -- quotations ------------------------------------------------------------------------------


def quote_spans(text: str) -> list[tuple[int, int]]:
    """Character spans of quotations (curly or straight double quotes, within a line)."""
    if "“" not in text and '"' not in text:
        return []
    return [m.span() for m in _QUOTE_RE.finditer(text)]


# -- spintax ------------------------------------------------------------------------------------

# The words of one spintax alternative: letters, apostrophes, hyphens, single spaces.
_ALTERNATIVE_RE = regex.compile(r"\p{L}[\p{L}'’\-]*(?: [\p{L}'’\-]+)*")
_MAX_ALTERNATIVE_WORDS = 6
_MAX_ALTERNATIVE_CHARS = 60


class Spintax(NamedTuple):
    """A spintax group left in a text: ``text[start:end]``, its first
    alternative (nested groups resolved the same way), and whether it holds
    or stands in another group."""

    start: int
    end: int
    first: str
    nested: bool


def spintax_groups(text: str) -> list[Spintax]:
    """The groups of ``text`` that look like a spinner's leftover spintax:
    ``{a|b|c}`` with short word alternatives written without spaces around
    the bars (``{big|large}``, ``{in response to|according to}``), groups
    nested in them (``{a|{b|c}}``), or braces around a few words
    (``{that a}``). Mathematics and templates are not: ``{n | n is prime}``
    (spaces around the bar), ``{x : x > 0}``, ``{1}``, ``{name}``, code.

    Whether a text's spintax is restored also depends on other evidence in
    it (:func:`despin.detection.spin_report`)."""
    if "{" not in text:
        return []
    groups: list[Spintax] = []
    pos = text.find("{")
    while pos >= 0:
        parsed = _group(text, pos, 0)
        if parsed is None:
            pos = text.find("{", pos + 1)
            continue
        end, first, nested = parsed
        groups.append(Spintax(pos, end, first, nested))
        pos = text.find("{", end)
    return groups


def _group(text: str, pos: int, depth: int) -> tuple[int, str, bool] | None:
    """Parse the group opening at ``text[pos]``: where it ends, its first
    alternative resolved, whether it holds another group; None if it is not
    spinner spintax."""
    if depth > 3:
        return None
    alternatives: list[str] = []
    nested = False
    part: list[str] = []
    i = pos + 1
    while i < len(text):
        ch = text[i]
        if ch == "{":
            inner = _group(text, i, depth + 1)
            if inner is None:
                return None
            i, first, _ = inner
            part.append(first)
            nested = True
            continue
        if ch in "|}":
            alternatives.append("".join(part))
            part = []
            i += 1
            if ch == "}":
                return (i, alternatives[0], nested) if _spinner_like(alternatives, nested) else None
            continue
        if ch in "\n\r" or len(part) > _MAX_ALTERNATIVE_CHARS:
            return None
        part.append(ch)
        i += 1
    return None


def _spinner_like(alternatives: list[str], nested: bool) -> bool:
    """Whether a group's alternatives are what spinners write: each a few
    words, no space against a bar or a brace; one alternative only if it
    has several words (``{that a}``) or held a group."""
    for a in alternatives:
        if len(a) > _MAX_ALTERNATIVE_CHARS or not _ALTERNATIVE_RE.fullmatch(a):
            return False
        if a.count(" ") >= _MAX_ALTERNATIVE_WORDS:
            return False
    return len(alternatives) > 1 or " " in alternatives[0] or nested


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
