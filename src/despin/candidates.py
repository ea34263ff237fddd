"""Stage 2: find candidate sites in one pass over the tokens.

At each token the lexicon is looked up by the lower-cased word; only the few
entries that start with that word are tried (longest first). Matches do not
overlap. Alongside, the pass counts how often each lexicon *original* occurs
in the text, which is evidence for detection ("said" present vs "stated").
Two rules complete the lexicon: spintax leftovers ("{that a}", "{a|b}") and
digits 1-9 written for the words one to nine ("the 2 leaders").
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from .lexicon import Entry, Lexicon
from .tokenize import Tokens, gap_fits, joinable, quote_spans, same_line, sentence_initial, spintax_groups

__all__ = ["NUMBER_WORDS", "Candidate", "Scan", "scan"]

_APOS = "'\u2019"

NUMBER_WORDS = ("one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
# Words after a digit that show the digit is a measure, not a count to spell out.
_NUMERAL_UNITS = frozenset(
    """million billion trillion mln bln pct percent per cent p.c pm am a.m p.m
    times time hours hour minutes minute seconds second degree degrees km kms kg mph
    mm cm ft in inches inch miles mile metres meters metre meter pounds lbs dlrs dollars
    yen euros cents points point pts goals runs wickets feet yards years year months month
    days day weeks week o'clock of to and or x by""".split()
)
# Words before a digit that make it a label or a score, not a count ("page 2", "at 5").
_NUMERAL_LABELS = frozenset(
    """at page pages chapter article section no number grade level phase stage category round
    room route highway gate terminal platform version game games match week day year month
    hour minute vs v versus than to from between and or by rose fell gained lost dropped
    climbed jumped slipped added increased decreased declined scored won beat led trailed aged""".split()
)


@dataclass(slots=True)
class Candidate:
    """A span that may be spinner output, with what it may be restored to."""

    i: int  # first token
    j: int  # one past the last token
    start: int  # character span in the text
    end: int
    rule: str  # "lexicon", "spintax" or "numeral"
    originals: tuple[str, ...]
    klass: str  # "artifact" or "common"
    weight: float
    entry: Entry | None = None
    in_quote: bool = False
    in_name: bool = False


@dataclass
class Scan:
    """Everything stage 2 found in one text."""

    candidates: list[Candidate]
    original_counts: Counter[str] = field(default_factory=Counter)
    quotes: list[tuple[int, int]] = field(default_factory=list)


def _is_cap(word: str) -> bool:
    return word[:1].isupper()


def _in_name(tokens: Tokens, i: int, j: int) -> bool:
    """Whether tokens i..j are capitalised words inside a proper name."""
    words = tokens.words
    if not all(_is_cap(words[k]) for k in range(i, j)):
        return False
    if j - i > 1:
        return True
    if not sentence_initial(tokens, i):
        return True
    return j < len(words) and _is_cap(words[j]) and joinable(tokens, j - 1)


def _name_context(tokens: Tokens, i: int, j: int) -> bool:
    """Whether a capitalised span stands inside a name: capitalised words around it,
    or a capital that does not just start a sentence ("Kookmin College", "at College")."""
    words = tokens.words
    if not _is_cap(words[i]):
        return False
    if i > 0 and _is_cap(words[i - 1]) and joinable(tokens, i - 1) and not sentence_initial(tokens, i):
        return True
    if j < len(words) and _is_cap(words[j]) and joinable(tokens, j - 1):
        return True
    return not sentence_initial(tokens, i) and j - i == 1


def _match(tokens: Tokens, i: int, e: Entry) -> int:
    """Token index one past the match of ``e`` at ``i``, or -1 (the first word already matches)."""
    n = len(e.toks)
    lows = tokens.lows
    if i + n > len(lows):
        return -1
    gaps = tokens.gaps
    for k in range(1, n):
        if lows[i + k] != e.toks[k] or not gap_fits(tokens, i + k - 1, e.gaps[k - 1]):
            return -1
    if e.cased:
        span_words = tokens.words[i : i + n]
        if list(span_words) != list(e.case_toks) and not all(w.isupper() for w in span_words):
            return -1
    if e.suffix and not gaps[i + n - 1].startswith(e.suffix):
        return -1
    return i + n


def _contraction_part(tokens: Tokens, i: int, j: int) -> bool:
    """Whether the span is part of a contraction like isn’t / he’ll (never edited)."""
    text = tokens.text
    s, e = tokens.starts[i], tokens.ends[j - 1]
    if s > 0 and text[s - 1] in _APOS and s > 1 and text[s - 2].isalpha():
        return True
    if e + 1 < len(text) and text[e] in _APOS and text[e + 1].isalpha():
        # possessive 's is fine: officers’s? no; nation’s yes
        rest = text[e + 1 : e + 3]
        if not (rest[:1] in "sS" and not rest[1:2].isalpha()):
            return True
    return False


def _lexicon_match(
    tokens: Tokens, i: int, multi: tuple[Entry, ...] | None, single: tuple[Entry, ...] | None
) -> tuple[Entry, int] | None:
    """The longest lexicon entry matching at token i, with the token after it;
    ``multi`` and ``single`` are the lexicon's entries for the word pair and the
    word at i."""
    if multi is not None:
        for e in multi:
            j = _match(tokens, i, e)
            if j > 0 and _allowed(tokens, i, j, e):
                return e, j
    if single is not None:
        for e in single:
            j = _match(tokens, i, e) if (e.cased or e.suffix) else i + 1
            if j > 0 and _allowed(tokens, i, j, e):
                return e, j
    return None


def _allowed(tokens: Tokens, i: int, j: int, e: Entry) -> bool:
    if e.name_only and not _name_context(tokens, i, j):
        return False
    return not _contraction_part(tokens, i, j)


def _resolve_overlaps(matches: list[tuple[int, int, Entry]], out: list[Candidate], tokens: Tokens) -> set[int]:
    """Keep non-overlapping matches, artifacts first, then longer, then likelier ones;
    append them to ``out`` as candidates and return the token positions they cover."""
    if not matches:
        return set()
    if any(matches[k + 1][0] < matches[k][1] for k in range(len(matches) - 1)):
        kept: list[tuple[int, int, Entry]] = []
        for cluster in _clusters(matches):
            kept.extend(_greedy(cluster) if len(cluster) > 1 else cluster)
        matches = kept
    covered: set[int] = set()
    for i, j, e in matches:
        covered.update(range(i, j))
        if e.klass != "keep":
            end = tokens.ends[j - 1] + len(e.suffix)
            out.append(Candidate(i, j, tokens.starts[i], end, "lexicon", e.originals, e.klass, e.weight, e))
    return covered


def _clusters(matches: list[tuple[int, int, Entry]]) -> list[list[tuple[int, int, Entry]]]:
    """The matches (sorted by start) in runs that overlap one another, in text order."""
    out: list[list[tuple[int, int, Entry]]] = []
    end = -1
    for m in matches:
        if m[0] < end:
            out[-1].append(m)
            end = max(end, m[1])
        else:
            out.append([m])
            end = m[1]
    return out


def _greedy(matches: list[tuple[int, int, Entry]]) -> list[tuple[int, int, Entry]]:
    """Non-overlapping matches taken greedily by rank, in text order. Matches in
    different clusters cannot block one another, so ranking each cluster on its
    own takes the same matches as ranking them all."""
    ranked = sorted(matches, key=lambda m: (m[2].klass != "artifact", -(m[1] - m[0]), -m[2].weight, m[0]))
    taken: set[int] = set()
    kept = []
    for i, j, e in ranked:
        if any(k in taken for k in range(i, j)):
            continue
        taken.update(range(i, j))
        kept.append((i, j, e))
    return sorted(kept)


def _count_original(tokens: Tokens, lexicon: Lexicon, i: int, counts: Counter[str]) -> None:
    lows = tokens.lows
    if i + 1 < len(lows):
        multi = lexicon.orig_multis.get((lows[i], lows[i + 1]))
        if multi is not None:
            for otoks, group in multi:
                m = len(otoks)
                if tuple(lows[i : i + m]) == otoks and all(same_line(tokens, k) for k in range(i, i + m - 1)):
                    counts[group] += 1
                    return
    single = lexicon.orig_singles.get(lows[i])
    if single is not None:
        counts[single] += 1


def scan(tokens: Tokens, lexicon: Lexicon, numerals: bool = True, count_originals: bool = True) -> Scan:
    """Find candidates and count originals in one pass over the tokens.

    With ``count_originals`` and ``numerals`` both false, only the words at which
    an entry can match are visited and ``original_counts`` stays empty.
    """
    first_words = lexicon.first_words if count_originals or numerals else lexicon.match_words
    matches, unmatched = _lexicon_matches(tokens, lexicon, first_words)
    cands: list[Candidate] = []
    covered = _resolve_overlaps(matches, cands, tokens)
    counts: Counter[str] = Counter()
    lows = tokens.lows
    for i in unmatched:
        if covered and i in covered:
            continue
        if count_originals:
            _count_original(tokens, lexicon, i, counts)
        if numerals and len(lows[i]) == 1 and "1" <= lows[i] <= "9":
            c = _numeral(tokens, i)
            if c is not None:
                cands.append(c)
    cands.sort(key=lambda c: c.start)
    text = tokens.text
    if "{" in text:
        cands.extend(_spintax(text))
        cands.sort(key=lambda c: c.start)
    quotes = quote_spans(text)
    if quotes:
        _mark_quotes(cands, quotes)
    for c in cands:
        if c.i >= 0:
            c.in_name = _in_name(tokens, c.i, c.j)
    return Scan(cands, counts, quotes)


def _lexicon_matches(
    tokens: Tokens, lexicon: Lexicon, first_words: frozenset[str]
) -> tuple[list[tuple[int, int, Entry]], list[int]]:
    """The longest lexicon match (start, end, entry) at each token of
    ``first_words``, and those tokens where none matched."""
    lows = tokens.lows
    singles, multis = lexicon.singles, lexicon.multis
    last = len(lows) - 1
    matches: list[tuple[int, int, Entry]] = []
    unmatched: list[int] = []
    for i in [k for k, w in enumerate(lows) if w in first_words]:
        multi = multis.get((lows[i], lows[i + 1])) if i < last else None
        single = singles.get(lows[i])
        found = _lexicon_match(tokens, i, multi, single) if multi is not None or single is not None else None
        if found is not None:
            matches.append((i, found[1], found[0]))
        else:
            unmatched.append(i)
    return matches, unmatched


def _spintax(text: str) -> list[Candidate]:
    """Spintax leftovers that look like spinner output, restored to their first
    alternative (nested groups at once). They are looked for only in texts
    whose spin report counts spintax or shows other evidence (a lone
    ``{a|b}`` in a clean text is a template: see
    :func:`despin.detection.spin_report`)."""
    return [Candidate(-1, -1, g.start, g.end, "spintax", (g.first,), "artifact", 0.99) for g in spintax_groups(text)]


def _mark_quotes(cands: list[Candidate], quotes: list[tuple[int, int]]) -> None:
    qi = 0
    for c in cands:  # both sorted by start
        while qi < len(quotes) and quotes[qi][1] <= c.start:
            qi += 1
        if qi < len(quotes) and quotes[qi][0] < c.start and c.end <= quotes[qi][1]:
            c.in_quote = True


def _numeral(tokens: Tokens, i: int) -> Candidate | None:
    """'the 2 leaders' -> 'the two leaders': a lone digit counting a following plural noun."""
    words, lows, text = tokens.words, tokens.lows, tokens.text
    if i == 0 or i + 1 >= len(words):
        return None
    prev = words[i - 1]
    if not prev.isalpha() or lows[i - 1] in _NUMERAL_LABELS:
        return None
    if not prev.islower() and not (prev.istitle() and sentence_initial(tokens, i - 1)):
        return None
    if tokens.gaps[i - 1] != " " or tokens.gaps[i] != " ":
        return None
    nxt = words[i + 1]
    if len(nxt) < 3 or not nxt.isalpha() or not nxt.islower() or lows[i + 1] in _NUMERAL_UNITS:
        return None
    s, e = tokens.starts[i], tokens.ends[i]
    before = text[s - 1 : s]
    after = text[e : e + 1]
    if before in "$£€#-./:,'’" or after in "-/.,:%'’":
        return None
    word = NUMBER_WORDS[int(lows[i]) - 1]
    return Candidate(i, i + 1, s, e, "numeral", (word,), "common", 0.6)
