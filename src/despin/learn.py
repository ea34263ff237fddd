"""Learn a spinner's mappings from spun/original pairs (``despin learn``).

A spinner copies a text and swaps words for synonyms without reordering, so a
token alignment of a spun text against its original finds what it swapped:

1. **Lines.** Lines holding words are matched in order, by how many words
   they share (a monotone alignment). Lines without a partner, and matched
   lines that differ too much to be the same sentence spun (an editor's
   change between two editions of a story), are left out and counted.
2. **Words.** Within a matched line, an LCS alignment of the words
   (rapidfuzz's Indel opcodes) gives runs of unchanged words and *blocks* of
   changed ones. A block with one side empty ("gross sales" -> "sales") is
   joined to the unchanged word beside it that makes the commoner mapping.
3. **Pieces.** A block can hold several swaps side by side ("corporate
   stated" -> "company said"). It is cut into pieces by dynamic programming
   that prefers pieces seen on their own elsewhere or listed in the base
   lexicon, and else one word for one word.
4. **Counts.** For every mapping original -> spun form: how often the spinner
   wrote it (``rewritten``), how often the original stood unchanged where it
   could have been rewritten (``kept``), and how often the spun form stood in
   a spun text as itself (``genuine``). Capitalised pieces inside names
   ("Pink Lobster" -> "Red Lobster") are counted apart, as cased entries
   tagged ``name`` ("Pink" -> "Red").
5. **Inflections.** A seen mapping is carried over to the other inflections
   of its head word, inflected alike (averted -> avoided gives avert ->
   avoid, averting -> avoiding, averts -> avoids), with lemminflect.
6. **Weights.** An entry's weight is the probability that its form is
   spinner output where it stands in a spun text: the share of its
   occurrences in the spun texts that were rewrites, smoothed towards what
   the rates predict, ``r F(o) / (r F(o) + F(f))`` (``r`` the rewrite rate,
   ``F`` clean-text frequency)::

       weight = (rewritten + k * prior) / (rewritten + genuine + k)

The result is a lexicon slice in the ``despin-lexicon 1`` format and a report
of every mapping, what was generalised and what was rejected, and why.
"""

from __future__ import annotations

import csv
import json
import math
import os
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from rapidfuzz.distance import Indel

from .errors import InputError
from .lexicon import Entry, Lexicon
from .tokenize import WORD_RE, sentence_initial, tokenize

__all__ = [
    "Pair",
    "LineAlignment",
    "Alignment",
    "Substitution",
    "Mapping",
    "Rejected",
    "LearnResult",
    "PhraseCounts",
    "parse_where",
    "read_pairs",
    "read_spun_texts",
    "align_pair",
    "substitutions",
    "inflections",
    "learn",
]

MIN_LINE_SIMILARITY = 0.3  # word-level Indel similarity for two lines to be one sentence
MIN_EQUAL_SHARE = 0.35  # share of a line's words that must align unchanged
MAX_BLOCK = 12  # words on one side of one block of changes
MAX_INDEL = 2  # words inserted or deleted with nothing in their place
MAX_PIECE = 4  # words on one side of one learned mapping
PRIOR_STRENGTH = 2.0  # k: pseudo-occurrences of the rate-based prior in a weight
INFLECTED_DISCOUNT = 0.5  # a generalised mapping's rate, relative to the seen one's
RARE_ZIPF = 3.0  # an original rarer than this (wordfreq Zipf) seen once is rejected
MIN_ROW_WEIGHT = 0.05  # a form less often spinner output than this is no candidate worth reading

Words = tuple[str, ...]
Where = tuple[tuple[str, str, bool], ...]  # (manifest column, value, equal or not)
Row = tuple[str, str, str, float, str]  # a lexicon row: spun, originals, class, weight, tags


# -- input -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Pair:
    """A spun text and the original it was made from. ``group`` names the story
    (pages of one story share it; cross-validation keeps a group whole)."""

    name: str
    spun: str
    original: str
    group: str = ""
    info: tuple[tuple[str, str], ...] = ()  # the pair's manifest row, if any

    def matches(self, where: Where) -> bool:
        """Whether the pair's manifest row meets every condition of ``where``."""
        return _selected(dict(self.info) if self.info else None, where)


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror})") from None


def _manifest(folder: Path) -> dict[str, dict[str, str]]:
    """``id`` -> its row, from a ``manifest.tsv`` (tab-separated, with an ``id``
    column) in the folder or its parent; empty if there is none."""
    for where in (folder / "manifest.tsv", folder.parent / "manifest.tsv"):
        if where.is_file():
            with open(where, encoding="utf-8-sig", newline="") as fh:
                rows = csv.DictReader(fh, delimiter="\t")
                if rows.fieldnames and "id" in rows.fieldnames:
                    return {r["id"]: r for r in rows}
    return {}


def _selected(row: dict[str, str] | None, where: Where) -> bool:
    """Whether a manifest row meets every (column, value, equal) condition."""
    return all(row is not None and (row.get(k) == v) == equal for k, v, equal in where)


def parse_where(items: Iterable[str]) -> Where:
    """Conditions on manifest columns from ``KEY=VALUE`` and ``KEY!=VALUE`` strings."""
    out = []
    for item in items:
        key, sep, value = item.partition("!=") if "!=" in item else item.partition("=")
        if not sep or not key:
            raise InputError(f"expected KEY=VALUE or KEY!=VALUE (a manifest column and a value), not {item!r}")
        out.append((key, value, sep == "="))
    return tuple(out)


def read_pairs(
    path: str | os.PathLike[str],
    spun_field: str = "spun",
    original_field: str = "original",
    where: Where = (),
) -> list[Pair]:
    """Pairs from a folder of ``NAME.spun.txt`` + ``NAME.orig.txt``, or from a
    JSONL file with one pair per line (``spun_field``, ``original_field``, and
    optional ``id`` and ``group``).

    A folder's pairs take their group from the ``story_group`` column of a
    ``manifest.tsv`` (with an ``id`` column) beside them or one folder up, if
    there is one; ``where`` keeps only the pairs whose manifest row has
    those values (``{"family": "target"}``)."""
    p = Path(path)
    if p.is_dir():
        manifest = _manifest(p)
        pairs = []
        for spun in sorted(p.glob("*.spun.txt")):
            name = spun.name[: -len(".spun.txt")]
            orig = spun.with_name(name + ".orig.txt")
            row = manifest.get(name)
            if orig.is_file() and _selected(row, where):
                group = row.get("story_group", name) if row else name
                info = tuple(sorted(row.items())) if row else ()
                pairs.append(Pair(name, _read_text(spun), _read_text(orig), group or name, info))
        if not pairs:
            raise InputError(f"{p}: no NAME.spun.txt with NAME.orig.txt beside it" + (" selected" if where else ""))
        return pairs
    if not p.is_file():
        raise InputError(f"{p}: no such file or folder")
    if where:
        raise InputError(f"{p}: selecting by manifest columns needs a folder of pairs with a manifest.tsv")
    return _read_jsonl_pairs(p, spun_field, original_field)


def read_spun_texts(path: str | os.PathLike[str], where: Where = ()) -> list[Pair]:
    """Spun texts without originals, as pairs with an empty ``original``: the
    ``*.txt`` files of a folder (groups and ``where`` as in :func:`read_pairs`)."""
    p = Path(path)
    if not p.is_dir():
        raise InputError(f"{p}: not a folder of spun texts")
    manifest = _manifest(p)
    out = []
    for f in sorted(p.glob("*.txt")):
        name = f.name.split(".")[0]
        row = manifest.get(name)
        if _selected(row, where):
            group = (row.get("story_group", name) if row else name) or name
            out.append(Pair(name, _read_text(f), "", group, tuple(sorted(row.items())) if row else ()))
    return out


def _read_jsonl_pairs(p: Path, spun_field: str, original_field: str) -> list[Pair]:
    pairs = []
    for lineno, line in enumerate(_read_text(p).splitlines(), 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except ValueError as exc:
            raise InputError(f"{p}:{lineno}: not JSON ({exc})") from None
        if not isinstance(obj, dict):
            raise InputError(f"{p}:{lineno}: expected a JSON object")
        spun, orig = obj.get(spun_field), obj.get(original_field)
        if not isinstance(spun, str) or not isinstance(orig, str):
            raise InputError(f"{p}:{lineno}: needs text fields {spun_field!r} and {original_field!r}")
        name = str(obj.get("id", lineno))
        pairs.append(Pair(name, spun, orig, str(obj.get("group", name))))
    if not pairs:
        raise InputError(f"{p}: no pairs")
    return pairs


# -- alignment -------------------------------------------------------------------------------


@dataclass(frozen=True)
class LineAlignment:
    """One spun line aligned with its original line: ``ops`` are runs
    ``(equal, s1, s2, d1, d2)`` of spun words ``s1:s2`` against original
    words ``d1:d2``, unchanged (``equal``) or a block of changes."""

    text: str
    spun: Words
    orig: Words
    ops: tuple[tuple[bool, int, int, int, int], ...]
    offset: int = 0  # where the line starts in the spun text

    def initial(self, k: int) -> bool:
        """Whether spun word ``k`` starts a sentence, a line or a quotation."""
        return sentence_initial(tokenize(self.text), k)


@dataclass(frozen=True)
class Alignment:
    """A pair's aligned lines; ``unmatched`` spun lines found no original line,
    ``too_different`` did but differ by more than spinning does."""

    name: str
    group: str
    lines: tuple[LineAlignment, ...]
    unmatched: int = 0
    too_different: int = 0


def _words(line: str) -> Words:
    return tuple(WORD_RE.findall(line))


def _lower(words: Sequence[str]) -> Words:
    return tuple(w.lower() for w in words)


def _match_lines(spun: list[Words], orig: list[Words]) -> list[tuple[int, int]]:
    """The monotone matching of spun lines to original lines with the most total
    word similarity (only pairs at least MIN_LINE_SIMILARITY alike)."""
    n, m = len(spun), len(orig)
    low_s, low_o = [_lower(w) for w in spun], [_lower(w) for w in orig]
    best = [[0.0] * (m + 1) for _ in range(n + 1)]
    move = [[0] * (m + 1) for _ in range(n + 1)]
    for i in range(n - 1, -1, -1):
        for j in range(m - 1, -1, -1):
            here, how = max((best[i + 1][j], 1), (best[i][j + 1], 2))
            sim = Indel.normalized_similarity(low_s[i], low_o[j])
            if sim >= MIN_LINE_SIMILARITY and best[i + 1][j + 1] + sim > here:
                here, how = best[i + 1][j + 1] + sim, 3
            best[i][j], move[i][j] = here, how
    out, i, j = [], 0, 0
    while i < n and j < m:
        how = move[i][j]
        if how == 3:
            out.append((i, j))
        i, j = i + (how != 2), j + (how != 1)
    return out


def _runs(spun: Words, orig: Words) -> tuple[tuple[bool, int, int, int, int], ...]:
    """Runs of unchanged words and blocks of changed ones (adjacent changes merged)."""
    runs: list[list[int]] = []
    for op in Indel.opcodes(_lower(spun), _lower(orig)):
        equal = op.tag == "equal"
        if runs and not equal and not runs[-1][0]:
            runs[-1][2], runs[-1][4] = op.src_end, op.dest_end
        else:
            runs.append([int(equal), op.src_start, op.src_end, op.dest_start, op.dest_end])
    return tuple((bool(e), s1, s2, d1, d2) for e, s1, s2, d1, d2 in runs)


def _plausible(spun: Words, orig: Words, ops: tuple[tuple[bool, int, int, int, int], ...]) -> bool:
    """Whether two aligned lines differ only as a spinner makes them differ."""
    unchanged = sum(s2 - s1 for eq, s1, s2, _, _ in ops if eq)
    if unchanged < MIN_EQUAL_SHARE * max(len(spun), len(orig)):
        return False
    for eq, s1, s2, d1, d2 in ops:
        if eq:
            continue
        if s2 - s1 > MAX_BLOCK or d2 - d1 > MAX_BLOCK:
            return False
        if (s1 == s2 and d2 - d1 > MAX_INDEL) or (d1 == d2 and s2 - s1 > MAX_INDEL):
            return False
    return True


def align_pair(pair: Pair) -> Alignment:
    """Align a pair line by line and word by word (see the module docstring)."""
    spun_lines, offsets, pos = [], [], 0
    for line in pair.spun.splitlines(keepends=True):
        body = (line.splitlines() or [""])[0]
        if WORD_RE.search(body):
            spun_lines.append(body)
            offsets.append(pos)
        pos += len(line)
    orig_lines = [line for line in pair.original.splitlines() if WORD_RE.search(line)]
    spun_words = [_words(line) for line in spun_lines]
    orig_words = [_words(line) for line in orig_lines]
    matches = _match_lines(spun_words, orig_words)
    lines, too_different = [], 0
    for i, j in matches:
        ops = _runs(spun_words[i], orig_words[j])
        if _plausible(spun_words[i], orig_words[j], ops):
            lines.append(LineAlignment(spun_lines[i], spun_words[i], orig_words[j], ops, offsets[i]))
        else:
            too_different += 1
    return Alignment(pair.name, pair.group, tuple(lines), len(spun_lines) - len(matches), too_different)


# -- substitutions ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Substitution:
    """One swap the spinner made: ``spun`` words where the original had
    ``orig`` words (as written); ``name`` if inside a capitalised name."""

    spun: Words
    orig: Words
    pair: str
    line: int
    name: bool = False


Known = Callable[[Words, Words], int]
Span = tuple[int, int, int, int]


def _joined(la: LineAlignment, k: int) -> list[Span]:
    """The ways to read block ``k`` with an empty side: with the unchanged word
    on its left, or on its right."""
    _, s1, s2, d1, d2 = la.ops[k]
    ways = []
    if k > 0 and la.ops[k - 1][0]:
        ways.append((s1 - 1, s2, d1 - 1, d2))
    if k + 1 < len(la.ops) and la.ops[k + 1][0]:
        ways.append((s1, s2 + 1, d1, d2 + 1))
    return ways


def _block_counts(alignments: Iterable[Alignment]) -> Counter[tuple[Words, Words]]:
    """How often each whole block (lower-cased) occurs, empty-sided blocks in
    both their readings: the evidence that a piece is one swap."""
    counts: Counter[tuple[Words, Words]] = Counter()
    for al in alignments:
        for la in al.lines:
            for k, (eq, s1, s2, d1, d2) in enumerate(la.ops):
                if eq:
                    continue
                spans = _joined(la, k) if s1 == s2 or d1 == d2 else [(s1, s2, d1, d2)]
                for a1, a2, b1, b2 in spans:
                    counts[(_lower(la.spun[a1:a2]), _lower(la.orig[b1:b2]))] += 1
    return counts


def _piece_score(spun: Words, orig: Words, known: Known) -> float:
    """How good a reading of a block piece is: a known swap scores by its count;
    an unknown word-for-word swap a little; longer unknown pieces less."""
    if not spun or not orig:
        return -3.0
    n = known(spun, orig)
    if n:
        return 2.0 + math.log1p(n)
    if len(spun) == 1 and len(orig) == 1:
        return 0.5
    return -0.3 * (len(spun) + len(orig) - 2) - 0.2


def split_block(spun: Words, orig: Words, known: Known) -> list[Span]:
    """Cut a block into monotone pieces ``(s1, s2, d1, d2)`` (offsets in the
    block) of at most MAX_PIECE words a side, maximising the summed
    :func:`_piece_score`."""
    m, n = len(spun), len(orig)
    low_s, low_o = _lower(spun), _lower(orig)
    best: dict[tuple[int, int], tuple[float, tuple[int, int]]] = {(m, n): (0.0, (0, 0))}
    for i in range(m, -1, -1):
        for j in range(n, -1, -1):
            if (i, j) == (m, n):
                continue
            options = []
            for a in range(min(MAX_PIECE, m - i) + 1):
                for b in range(min(MAX_PIECE, n - j) + 1):
                    rest = best.get((i + a, j + b))
                    if (a or b) and rest is not None:
                        score = _piece_score(low_s[i : i + a], low_o[j : j + b], known) + rest[0]
                        options.append((score, (a, b)))
            if options:
                best[(i, j)] = max(options)
    pieces, i, j = [], 0, 0
    while (i, j) != (m, n):
        a, b = best[(i, j)][1]
        pieces.append((i, i + a, j, j + b))
        i, j = i + a, j + b
    return pieces


def _in_name(la: LineAlignment, s: int, spun: Words, orig: Words) -> bool:
    """A capitalised piece for a capitalised original, not at a sentence start."""
    return spun[0][:1].isupper() and orig[0][:1].isupper() and not la.initial(s)


def substitutions(alignments: Sequence[Alignment], base: Known | None = None) -> list[Substitution]:
    """Every swap of the aligned pairs, blocks cut into pieces (see :func:`split_block`);
    ``base`` tells which swaps an existing lexicon already lists."""
    counts = _block_counts(alignments)

    def base_known(spun: Words, orig: Words) -> int:
        return 2 if base is not None and base(spun, orig) else 0

    def known(spun: Words, orig: Words) -> int:
        return counts.get((spun, orig), 0) + base_known(spun, orig)

    out: list[Substitution] = []
    for al in alignments:
        for li, la in enumerate(al.lines):
            for k, (eq, s1, s2, d1, d2) in enumerate(la.ops):
                if eq:
                    continue
                if s1 == s2 or d1 == d2:
                    # the reading seen more often elsewhere; on a tie, with the word after
                    ways = _joined(la, k)
                    if ways:
                        a1, a2, b1, b2 = max(ways, key=lambda w: (known(*_sides(la, w)), w[1] > s2))
                        out.append(_substitution(al, li, la, a1, a2, b1, b2))
                    continue
                whole = _sides(la, (s1, s2, d1, d2))

                def elsewhere(spun: Words, orig: Words, whole: tuple[Words, Words] = whole) -> int:
                    """Evidence for a piece, not counting this block itself; a block of as
                    many words a side that recurs whole (two swaps that keep company) is
                    no evidence against reading it word for word."""
                    if (spun, orig) == whole:
                        return base_known(spun, orig) if len(spun) == len(orig) else known(spun, orig) - 1
                    return known(spun, orig)

                for p1, p2, q1, q2 in split_block(la.spun[s1:s2], la.orig[d1:d2], elsewhere):
                    if p1 != p2 and q1 != q2:
                        out.append(_substitution(al, li, la, s1 + p1, s1 + p2, d1 + q1, d1 + q2))
    return out


def _sides(la: LineAlignment, span: Span) -> tuple[Words, Words]:
    """The lower-cased spun and original words of a span of a line."""
    s1, s2, d1, d2 = span
    return _lower(la.spun[s1:s2]), _lower(la.orig[d1:d2])


def _substitution(al: Alignment, li: int, la: LineAlignment, s1: int, s2: int, d1: int, d2: int) -> Substitution:
    spun, orig = la.spun[s1:s2], la.orig[d1:d2]
    return Substitution(spun, orig, al.name, li, _in_name(la, s1, spun, orig))


# -- inflections -----------------------------------------------------------------------------

_INFLECTIONS = (("VERB", ("VB", "VBD", "VBG", "VBN", "VBZ"), 0), ("NOUN", ("NN", "NNS"), -1))
# Auxiliaries and modals head no phrase whose inflections are swapped alike
# ("were" -> "had been" says nothing of "is" -> "has been").
_AUXILIARIES = frozenset("be have do will would can could may might shall should must".split())


def inflections(orig: Words, spun: Words) -> list[tuple[Words, Words]]:
    """The mapping ``orig`` -> ``spun`` carried to the other inflections of its
    head word (the first word of a verb phrase, the last of a noun phrase),
    both sides inflected alike, for each part of speech in which both head
    words carry the same inflection."""
    from lemminflect import getAllLemmas, getInflection

    out: list[tuple[Words, Words]] = []
    for upos, tags, head in _INFLECTIONS:
        ho, hs = orig[head].lower(), spun[head].lower()
        lemmas_o, lemmas_s = getAllLemmas(ho).get(upos), getAllLemmas(hs).get(upos)
        if not lemmas_o or not lemmas_s:
            continue
        lo, ls = lemmas_o[0], lemmas_s[0]
        if lo in _AUXILIARIES or ls in _AUXILIARIES:
            continue
        shared = [t for t in tags if ho in getInflection(lo, t) and hs in getInflection(ls, t)]
        if not shared:
            continue
        for t in tags:
            io, is_ = getInflection(lo, t), getInflection(ls, t)
            if t in shared or not io or not is_:
                continue
            new_o, new_s = list(_lower(orig)), list(_lower(spun))
            new_o[head], new_s[head] = io[0], is_[0]
            pair = (tuple(new_o), tuple(new_s))
            if pair[0] != pair[1] and pair not in out:
                out.append(pair)
    return out


# -- counting --------------------------------------------------------------------------------


@dataclass
class Mapping:
    """A learned swap ``original`` -> ``spun`` with its counts. For a ``name``
    mapping the words are as written ("Pink" -> "Red"), otherwise lower-case."""

    spun: Words
    original: Words
    name: bool = False
    rewritten: int = 0
    kept: int = 0
    inflected_from: tuple[Words, Words] | None = None

    @property
    def rate(self) -> float:
        """How often the spinner rewrote the original into this form (smoothed)."""
        return (self.rewritten + 0.5) / (self.rewritten + self.kept + 1.0)


@dataclass(frozen=True)
class Rejected:
    spun: str
    original: str
    count: int
    reason: str


@dataclass
class LearnResult:
    """What :func:`learn` found: the lexicon ``rows`` (spun, originals, class,
    weight, tags), the ``mappings`` with their counts, the ``rejected`` ones
    and counts of what was read."""

    rows: list[Row]
    mappings: list[Mapping]
    rejected: list[Rejected]
    genuine: Counter[Words]
    pairs: int = 0
    lines_used: int = 0
    lines_unmatched: int = 0
    lines_too_different: int = 0
    substitutions: int = 0
    provenance: list[str] = field(default_factory=list)

    def lexicon_text(self) -> str:
        """The rows as a ``despin-lexicon 1`` file."""
        head = ["# despin-lexicon 1"] + [f"# {line}" for line in self.provenance]
        head.append("spun\toriginal\tclass\tweight\ttags")
        body = [f"{s}\t{o}\t{k}\t{w:.3f}\t{t}" for s, o, k, w, t in self.rows]
        return "\n".join(head + body) + "\n"

    def report_text(self) -> str:
        """A report for people: what was read, every mapping with its counts,
        what was generalised, what was rejected and why."""
        inflected = sum(m.inflected_from is not None for m in self.mappings)
        lines = [
            f"pairs: {self.pairs}",
            f"lines aligned: {self.lines_used}; left out: {self.lines_unmatched} without a matching original line, "
            f"{self.lines_too_different} too different (edition differences)",
            f"substitutions: {self.substitutions}; mappings: {len(self.mappings) - inflected} seen, "
            f"{inflected} generalised to other inflections; rejected: {len(self.rejected)}",
            "",
            "## mappings (original -> spun: rewritten, kept, rate, genuine uses of the spun form)",
        ]
        seen = sorted((m for m in self.mappings if m.inflected_from is None), key=lambda m: (-m.rewritten, m.spun))
        for m in seen:
            lines.append(
                f"{' '.join(m.original)}\t{' '.join(m.spun)}\t{m.rewritten}\t{m.kept}\t{m.rate:.2f}\t"
                f"{self.genuine.get(_lower(m.spun), 0)}{chr(9) + 'name' if m.name else ''}"
            )
        lines += ["", "## generalised (original -> spun <- seen mapping)"]
        for m in self.mappings:
            if m.inflected_from is not None:
                so, ss = m.inflected_from
                lines.append(f"{' '.join(m.original)}\t{' '.join(m.spun)}\t<- {' '.join(so)} -> {' '.join(ss)}")
        lines += ["", "## rejected (original -> spun: count, reason)"]
        lines += [f"{r.original}\t{r.spun}\t{r.count}\t{r.reason}" for r in self.rejected]
        return "\n".join(lines) + "\n"


# -- frequencies -----------------------------------------------------------------------------

Frequency = Callable[[Words], float]


def wordfreq_frequency(words: Words) -> float:
    """Share of clean English tokens that start this phrase: wordfreq's frequency
    for a word; for a phrase, a twentieth of its rarest word's (a rough bound:
    wordfreq does not count phrases)."""
    from wordfreq import word_frequency

    rates = [word_frequency(w, "en") or 1e-9 for w in words]
    return rates[0] if len(rates) == 1 else min(rates) / 20.0


def counted_frequency(counts: Counter[Words], tokens: int, fallback: Frequency = wordfreq_frequency) -> Frequency:
    """Frequencies from phrase counts of a clean corpus of ``tokens`` tokens
    (geometric mean with ``fallback`` for single words)."""

    def rate(words: Words) -> float:
        own = (counts.get(words, 0) + 0.5) / max(tokens, 1)
        return math.sqrt(own * fallback(words)) if len(words) == 1 else own

    return rate


# -- learning --------------------------------------------------------------------------------


def _unchanged(la: LineAlignment) -> tuple[list[bool], list[bool]]:
    """Which spun words and which original words of a line stand unchanged."""
    spun, orig = [False] * len(la.spun), [False] * len(la.orig)
    for eq, s1, s2, d1, d2 in la.ops:
        if eq:
            spun[s1:s2] = [True] * (s2 - s1)
            orig[d1:d2] = [True] * (d2 - d1)
    return spun, orig


def _occurrences(words: Words, keep: list[bool], wanted: set[Words], cased: bool, la: LineAlignment) -> Iterable[Words]:
    """The wanted phrases (of up to MAX_PIECE words) standing unchanged in a line:
    lower-cased, or as written and not at a sentence start when ``cased``."""
    low = words if cased else _lower(words)
    for n in range(1, MAX_PIECE + 1):
        for i in range(len(low) - n + 1):
            g = low[i : i + n]
            if g in wanted and all(keep[i : i + n]) and not (cased and la.initial(i)):
                yield g


MappingKey = tuple[Words, Words, bool]  # spun, original, inside a name


def _count(
    alignments: Sequence[Alignment], subs: Sequence[Substitution]
) -> tuple[dict[MappingKey, Mapping], Counter[tuple[Words, bool]]]:
    """Mappings with rewritten and kept counts, and genuine uses of spun forms
    (keyed by words and whether counted as a name)."""
    maps: dict[MappingKey, Mapping] = {}
    for s in subs:
        spun, orig = (s.spun, s.orig) if s.name else (_lower(s.spun), _lower(s.orig))
        m = maps.setdefault((spun, orig, s.name), Mapping(spun, orig, s.name))
        m.rewritten += 1
    forms = {False: {k[0] for k in maps if not k[2]}, True: {k[0] for k in maps if k[2]}}
    origs = {False: {k[1] for k in maps if not k[2]}, True: {k[1] for k in maps if k[2]}}
    kept: Counter[tuple[Words, bool]] = Counter()
    genuine: Counter[tuple[Words, bool]] = Counter()
    for al in alignments:
        for la in al.lines:
            keep_s, keep_o = _unchanged(la)
            for cased in (False, True):
                genuine.update((g, cased) for g in _occurrences(la.spun, keep_s, forms[cased], cased, la))
                kept.update((g, cased) for g in _occurrences(la.orig, keep_o, origs[cased], cased, la))
    for (_, orig, name), m in maps.items():
        m.kept = kept.get((orig, name), 0)
    return maps, genuine


_FRAGMENTS = frozenset({"s", "t", "re", "ve", "ll", "d", "m"})
_ARTICLES = frozenset({"a", "an"})


def _rejection(m: Mapping) -> str | None:
    """Why a seen mapping is not learned, if it is not."""
    from wordfreq import zipf_frequency

    words = m.spun + m.original
    if any(any(ch.isdigit() for ch in w) for w in words):
        return "number"
    if any(w.lower() in _FRAGMENTS for w in words):
        return "contraction fragment"
    if _lower(m.spun) == _lower(m.original):
        return "same words"
    if {w.lower() for w in words} <= _ARTICLES:
        return "article agreement"  # "an" for "a" before a swapped word: the renderer's job
    if m.rewritten == 1 and not m.name and zipf_frequency(" ".join(m.original), "en") < RARE_ZIPF:
        return "seen once, rare original"
    return None


def _known_in(lexicon: Lexicon | None) -> Known | None:
    if lexicon is None:
        return None
    pairs = {(e.toks, _lower(WORD_RE.findall(o))) for e in lexicon.entries for o in e.originals}
    return lambda spun, orig: int((spun, orig) in pairs)


def learn(
    pairs: Sequence[Pair],
    base: Lexicon | None = None,
    frequency: Frequency = wordfreq_frequency,
    clean: PhraseCounts | Iterable[str] | None = None,
    unpaired: Sequence[str] = (),
    generalise: bool = True,
    prior_strength: float = PRIOR_STRENGTH,
) -> LearnResult:
    """Learn a lexicon slice from spun/original ``pairs``.

    ``base`` is an existing lexicon: it helps cut blocks into swaps, and its
    originals for a learned form are listed after the learned ones.
    ``frequency`` gives clean-text rates for the weights' prior.
    ``clean`` (clean texts) and ``unpaired`` (more spun texts of the spinner)
    decide which forms are safe as artifacts: forms never seen in the clean
    texts, rewritten at least twice, never genuine, and seen at least three
    times in all the spun texts.
    """
    alignments = [align_pair(p) for p in pairs]
    subs = substitutions(alignments, _known_in(base))
    maps, genuine = _count(alignments, subs)
    rejected = []
    kept_maps: list[Mapping] = []
    for m in sorted(maps.values(), key=lambda m: (m.spun, m.original, m.name)):
        why = _rejection(m)
        if why is None:
            kept_maps.append(m)
        else:
            rejected.append(Rejected(" ".join(m.spun), " ".join(m.original), m.rewritten, why))
    if generalise:
        kept_maps += _generalised(kept_maps)
    forms = {m.spun for m in kept_maps if not m.name}
    spun_pages, _ = _phrase_counts(unpaired, forms)
    clean_counts = None
    if clean is not None:
        counter = clean if isinstance(clean, PhraseCounts) else PhraseCounts(clean)
        clean_counts, tokens = counter.of(forms | {m.original for m in kept_maps if not m.name})
        frequency = counted_frequency(clean_counts, tokens, frequency)
    rows = _rows(kept_maps, genuine, frequency, clean_counts, spun_pages, base, prior_strength, rejected)
    rows += _corrections(pairs, base, {r[0] if r[0] != r[0].lower() else r[0].lower() for r in rows})
    result = LearnResult(
        rows=rows,
        mappings=kept_maps,
        rejected=rejected,
        genuine=Counter({w: n for (w, cased), n in genuine.items() if not cased}),
        pairs=len(pairs),
        lines_used=sum(len(a.lines) for a in alignments),
        lines_unmatched=sum(a.unmatched for a in alignments),
        lines_too_different=sum(a.too_different for a in alignments),
        substitutions=len(subs),
    )
    result.provenance = [
        f"learned by despin learn from {len(pairs)} spun/original pairs ({result.substitutions} substitutions"
        f"{f', {len(unpaired)} unpaired spun texts' if unpaired else ''})",
    ]
    return result


def _generalised(maps: Sequence[Mapping]) -> list[Mapping]:
    """Unseen inflections of the seen plain mappings."""
    have = {(m.spun, m.original) for m in maps if not m.name}
    out = []
    for m in maps:
        if m.name:
            continue
        for orig, spun in inflections(m.original, m.spun):
            if (spun, orig) not in have:
                have.add((spun, orig))
                out.append(Mapping(spun, orig, inflected_from=(m.original, m.spun)))
    return out


class PhraseCounts:
    """Phrase counts of a set of texts, counted when first asked for (each
    :func:`learn` of a cross-validation asks for much the same phrases)."""

    def __init__(self, texts: Iterable[str]):
        self.texts = list(texts)
        self._counts: Counter[Words] = Counter()
        self._known: set[Words] = set()
        self._tokens = 0

    def of(self, wanted: set[Words]) -> tuple[Counter[Words], int]:
        """The counts of at least the ``wanted`` phrases, and the texts' word count."""
        missing = wanted - self._known
        if missing:
            counts, self._tokens = _phrase_counts(self.texts, missing)
            self._counts.update(counts)
            self._known |= missing
        return self._counts, self._tokens


def _phrase_counts(texts: Iterable[str], wanted: set[Words]) -> tuple[Counter[Words], int]:
    """How often each wanted phrase (lower-case words) occurs in the texts, and
    how many words they hold."""
    counts: Counter[Words] = Counter()
    tokens = 0
    lengths = sorted({len(w) for w in wanted})
    firsts = {w[0] for w in wanted}
    for text in texts:
        low = _lower(WORD_RE.findall(text))
        tokens += len(low)
        for i in [i for i, w in enumerate(low) if w in firsts]:
            for n in lengths:
                g = low[i : i + n]
                if g in wanted:
                    counts[g] += 1
    return counts, tokens


def _rows(
    maps: Sequence[Mapping],
    genuine: Counter[tuple[Words, bool]],
    frequency: Frequency,
    clean_counts: Counter[Words] | None,
    spun_pages: Counter[Words],
    base: Lexicon | None,
    k: float,
    dropped: list[Rejected],
) -> list[Row]:
    by_form: dict[tuple[Words, bool], list[Mapping]] = defaultdict(list)
    for m in maps:
        by_form[(m.spun, m.name)].append(m)
    base_entries = {} if base is None else {(e.spun if e.cased else e.spun.lower()): e for e in base.entries}
    rows: list[Row] = []
    for (form, name), ms in sorted(by_form.items()):
        ms.sort(key=lambda m: (-m.rewritten, m.inflected_from is not None, m.original))
        top = ms[0]
        n_spun = sum(m.rewritten for m in ms)
        n_genuine = genuine.get((form, name), 0)
        rate = top.rate if top.inflected_from is None else INFLECTED_DISCOUNT * _source_rate(top, maps)
        if name:
            prior = 0.5
        else:
            f_o, f_f = frequency(top.original), frequency(form)
            prior = rate * f_o / (rate * f_o + f_f)
        weight = min(max((n_spun + k * prior) / (n_spun + n_genuine + k), 0.01), 0.99)
        spun = " ".join(form)
        originals = [" ".join(m.original) for m in ms]
        entry = base_entries.get(spun)
        if entry is not None:
            listed = {o.lower() for o in originals}
            originals += [o for o in entry.originals if o.lower() not in listed]
        klass = "common"
        if (clean_counts is not None and not name and n_genuine == 0 and n_spun >= 2
                and clean_counts.get(form, 0) == 0 and n_spun + spun_pages.get(form, 0) >= 3):
            klass, weight = "artifact", max(weight, 0.95)
        tags = ["learned"] + (["name"] if name else []) + (["inflected"] if n_spun == 0 else [])
        if klass != "artifact":
            tags.append(f"prior={max(1, min(100, round(100 * prior)))}")
            if not name:
                tags.append(f"rate={max(1, min(100, round(100 * rate)))}")
        if klass == "common" and weight < MIN_ROW_WEIGHT:
            dropped.append(Rejected(spun, originals[0], n_spun, "rarely spinner output"))
            if entry is not None:  # the real pages say the written slices' entry is wrong: switch it off
                rows.append((spun, "|".join(originals), "keep", round(weight, 3), "learned"))
            continue
        rows.append((spun, "|".join(originals), klass, round(weight, 3), ",".join(tags)))
    return rows


def _corrections(pairs: Sequence[Pair], base: Lexicon | None, learned: set[str]) -> list[Row]:
    """Base artifacts that the originals of pairs of at least two story groups
    use as ordinary words (real clean texts write them): demoted to
    ``common``, at their weight. (One group is not enough: an original that
    is an automatic reconstruction can keep a spun form by mistake.)"""
    if base is None:
        return []
    from .candidates import scan
    from .lexicon import artifact_lexicon

    artifacts = artifact_lexicon(base)
    groups: dict[str, set[str]] = defaultdict(set)
    entries: dict[str, Entry] = {}
    for pair in pairs:
        for c in scan(tokenize(pair.original), artifacts, numerals=False, count_originals=False).candidates:
            e = c.entry
            if e is not None and (e.spun if e.cased else e.spun.lower()) not in learned:
                groups[e.spun].add(pair.group)
                entries[e.spun] = e
    return [(e.spun, "|".join(e.originals), "common", e.weight, ",".join(sorted({*e.tags, "corrected"})))
            for spun, e in sorted(entries.items()) if len(groups[spun]) >= 2]


def _source_rate(m: Mapping, maps: Sequence[Mapping]) -> float:
    assert m.inflected_from is not None
    so, ss = m.inflected_from
    for x in maps:
        if x.original == so and x.spun == ss and not x.name:
            return x.rate
    return 0.5
