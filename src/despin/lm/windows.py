"""Short text windows around a slot, for the language model to score.

A window is the text of up to ``width`` words on each side of tokens i..j,
within one paragraph, cut into a *left* part (the same for every
alternative, so the model reads it once) and a *suffix* per alternative: the
alternative in the slot followed by the right-hand words. Whitespace runs
become single spaces. The cut is put where a byte-level BPE tokenizer cuts
anyway (before the space that precedes a word), so tokenizing the two parts
apart gives the tokens of the whole.

Alternatives take the case of the literal text in the slot, and an "a" or
"an" just before the slot is written as each alternative wants it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import NamedTuple

from ..render import transfer_case, wants_an
from ..tokenize import Tokens

__all__ = ["Window", "slot_window", "DEFAULT_WIDTH"]

DEFAULT_WIDTH = 6
_SPACES = re.compile(r"\s+")


class Window(NamedTuple):
    """``left`` is read once; each suffix is an alternative and the right-hand text."""

    left: str
    suffixes: tuple[str, ...]


def _paragraph_break(gap: str) -> bool:
    return gap.count("\n") >= 2


def _word(tokens: Tokens, k: int, neighbours: dict[int, str] | None) -> str:
    w = tokens.words[k]
    if neighbours:
        n = neighbours.get(k)
        if n is not None:
            return transfer_case(w, n)
    return w


def _split_gap(gap: str) -> tuple[str, str]:
    """A gap cut before its trailing whitespace: (kept left, leading the suffix)."""
    body = gap.rstrip()
    return body, (" " if len(body) < len(gap) else "")


def slot_window(
    tokens: Tokens,
    i: int,
    j: int,
    alternatives: Sequence[str],
    neighbours: dict[int, str] | None = None,
    width: int = DEFAULT_WIDTH,
) -> Window:
    """The window around tokens i..j with each alternative in the slot."""
    gaps = tokens.gaps
    lo = i
    while lo > 0 and i - lo < width and not _paragraph_break(gaps[lo - 1]):
        lo -= 1
    # An article just before the slot belongs to the alternative.
    article = ""
    if lo < i and tokens.lows[i - 1] in ("a", "an") and gaps[i - 1] == " ":
        article = tokens.words[i - 1]
        cut = i - 1
    else:
        cut = i
    left_parts: list[str] = []
    for k in range(lo, cut):
        left_parts.append(_word(tokens, k, neighbours))
        if k < cut - 1:
            left_parts.append(gaps[k])
    lead = ""
    if cut > lo:
        kept, lead = _split_gap(gaps[cut - 1])
        left_parts.append(kept)
    hi = j
    n = len(tokens)
    while hi < n and hi - j < width and not _paragraph_break(gaps[hi - 1]):
        hi += 1
    right_parts: list[str] = []
    for k in range(j, hi):
        right_parts.append(gaps[k - 1])
        right_parts.append(_word(tokens, k, neighbours))
    right = "".join(right_parts)
    literal = tokens.text[tokens.starts[i] : tokens.ends[j - 1]] if j > i else ""
    suffixes = []
    for alt in alternatives:
        text = transfer_case(literal, alt) if literal else alt
        if article:
            a = "an" if wants_an(text) else "a"
            text = transfer_case(article, a) + " " + text
        suffixes.append(_SPACES.sub(" ", lead + text + right))
    return Window(_SPACES.sub(" ", "".join(left_parts)), tuple(suffixes))
