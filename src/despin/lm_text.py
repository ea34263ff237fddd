"""Words as the context model reads them, from despin's tokens.

despin's tokenizer (:mod:`despin.tokenize`) splits "U.S." into ``U`` and
``S`` and "don't" into ``don`` and ``t``: right for edits, which replace whole
word tokens, wrong for a language model, which has seen "u. s." and "don't".
This module reads the same tokens and the gaps between them the way the
model's text was written (CMU Sphinx's conventions, lower case):

* a single letter followed by a period is one word with the period ("u.",
  "s.", "p.", "m.") when the model knows it, and that period does not end a
  sentence ("U.S. officials" is ``u. s. officials``);
* a word, an apostrophe and a clitic (s, t, ll, re, ve, d, m) are one word
  when the model knows it ("company's", "don't"); otherwise a possessive is
  the word and ``'s``, and other clitics are dropped; a plural possessive
  ("officers' union") is ``officers'`` when known;
* a hyphenated word the model does not know is its parts ("slow moving");
* a number (a token with a digit; with inner "." or "," as in 4.3 or 1,000
  one number) is ``<num>``;
* a period after a known abbreviation (Mr., Inc., Gen.) does not end a
  sentence; a period, "!" or "?" followed by more text, a blank line, or one
  of "|", "•", "…" does. Commas, quotes and brackets are not words.

Nothing here changes the tokens or their offsets (edits still replace only
whole word tokens); it is a reading. The model build (counting a corpus) and
the scorer use the same functions, so both see the same words.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from .tokenize import Tokens, tokenize

__all__ = [
    "ABBREVIATIONS",
    "APOSTROPHES",
    "BOS",
    "CLITICS",
    "EOS",
    "NUM",
    "UNK",
    "VocabTest",
    "boundary_after",
    "is_clitic",
    "phrase_words",
    "sentences",
    "unit_at",
    "unit_start",
    "word_words",
]

BOS = "<s>"
EOS = "</s>"
NUM = "<num>"
UNK = "<unk>"

CLITICS = frozenset({"s", "t", "ll", "re", "ve", "d", "m"})
APOSTROPHES = frozenset({"'", "\u2019"})
# Abbreviations (lower case) whose period does not end a sentence.
ABBREVIATIONS = frozenset(
    """mr mrs ms dr st jr sr inc corp co ltd plc llc gov sen rep gen lt col maj sgt capt cmdr adm
    prof rev hon no nos vs etc approx dept est fig jan feb mar apr jun jul aug sep sept oct nov dec
    mt ft ave blvd rd bros""".split()
)
_HARD_BREAK = frozenset("!?|\u2022\u2026")
_DIGITS = frozenset("0123456789")

VocabTest = Callable[[str], bool]
"""Whether the model knows a word (decides gluing and splitting)."""


def _has_digit(word: str) -> bool:
    return not _DIGITS.isdisjoint(word)


def _number_join(tokens: Tokens, k: int) -> bool:
    """Tokens k and k+1 are one number (4.3, 1,000)."""
    return tokens.gaps[k] in (".", ",") and _has_digit(tokens.lows[k]) and _has_digit(tokens.lows[k + 1])


def is_clitic(tokens: Tokens, k: int) -> bool:
    """Token k is a clitic written after token k-1 with an apostrophe ("don" "'" "t")."""
    return k > 0 and tokens.lows[k] in CLITICS and tokens.gaps[k - 1] in APOSTROPHES


def unit_start(tokens: Tokens, k: int) -> int:
    """The first token of the unit (a number, a word with its clitic) that holds token k."""
    while k > 0 and (is_clitic(tokens, k) or _number_join(tokens, k - 1)):
        k -= 1
    return k


def word_words(low: str, in_vocab: VocabTest) -> tuple[str, ...]:
    """The model's words for one lower-cased token, gaps aside."""
    if _has_digit(low):
        if "-" in low:
            return tuple(NUM if _has_digit(p) else p for p in low.split("-") if p)
        return (NUM,)
    if "-" in low and not in_vocab(low):
        return tuple(p for p in low.split("-") if p)
    return (low,)


def unit_at(tokens: Tokens, k: int, in_vocab: VocabTest) -> tuple[tuple[str, ...], int]:
    """The model's words for the unit starting at token k, and the token after the unit."""
    low = tokens.lows[k]
    gap = tokens.gaps[k]
    if gap == " " and low.isalpha():  # the common case
        return (low,), k + 1
    if len(low) == 1 and gap[:1] == "." and low.isalpha():
        dotted = low + "."
        return ((dotted if in_vocab(dotted) else low),), k + 1
    if gap[:1] in APOSTROPHES and gap[1:2].isspace() and low[-1:] == "s" and in_vocab(low + "'"):
        return (low + "'",), k + 1
    if k + 1 < len(tokens.lows):
        if gap in APOSTROPHES and tokens.lows[k + 1] in CLITICS:
            return _with_clitic(low, tokens.lows[k + 1], in_vocab), k + 2
        if _has_digit(low):
            e = k
            while e + 1 < len(tokens.lows) and _number_join(tokens, e):
                e += 1
            if e > k:
                return (NUM,), e + 1
    return word_words(low, in_vocab), k + 1


def _with_clitic(low: str, clitic: str, in_vocab: VocabTest) -> tuple[str, ...]:
    glued = f"{low}'{clitic}"
    if in_vocab(glued):
        return (glued,)
    base = word_words(low, in_vocab)
    return base + ("'s",) if clitic == "s" else base


def boundary_after(tokens: Tokens, k: int) -> bool:
    """Whether a sentence or paragraph ends between token k and token k+1 (always
    after the last token)."""
    gap = tokens.gaps[k]
    if gap == " ":
        return False
    if k + 1 >= len(tokens.lows):
        return True
    if gap.count("\n") > 1 or not _HARD_BREAK.isdisjoint(gap):
        return True
    dot = gap.find(".")
    if dot < 0 or gap == ".":
        return False
    if dot == 0:
        word = tokens.lows[k]
        if (len(word) == 1 and word.isalpha()) or word in ABBREVIATIONS:
            return "." in gap[1:]
    return True


def sentences(text: str, in_vocab: VocabTest) -> Iterator[list[str]]:
    """The sentences of ``text`` as lists of the model's words (for counting a corpus)."""
    tokens = tokenize(text)
    n = len(tokens.lows)
    sent: list[str] = []
    k = 0
    while k < n:
        words, nxt = unit_at(tokens, k, in_vocab)
        sent.extend(words)
        if boundary_after(tokens, nxt - 1):
            if sent:
                yield sent
            sent = []
        k = nxt


def phrase_words(phrase: str, in_vocab: VocabTest) -> tuple[str, ...]:
    """The model's words for a phrase (an original, a spun form, a restored neighbour)."""
    tokens = tokenize(phrase.lower())
    out: list[str] = []
    k = 0
    while k < len(tokens.lows):
        words, k = unit_at(tokens, k, in_vocab)
        out.extend(words)
    return tuple(out)
