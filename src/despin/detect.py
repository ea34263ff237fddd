"""Document-level spin evidence.

For every original wording o in the lexicon, a clean text shows the spun
forms of o at their ordinary rate (``q_clean``), while a spun text shows them
far more often, because the spinner replaced a share ``SPIN_RATE`` of the
occurrences of o (``q_spun``). Counting, per original, how often the text has
a spun form (``n_f``) and how often the original itself (``n_o``) gives a
binomial log-likelihood ratio; the sum over originals, capped per original so
that no single word decides, is the document's evidence. "stated" beside ten
"said" is evidence of clean text; "mentioned" and "stated" with no "said" at
all is evidence of spin.

Only forms with a prior of at least MIN_WEIGHT (and artifacts) count: forms
that are mostly ordinary English add noise, not evidence. Because long clean
texts still drift upwards, DRIFT_PER_1000 nats per 1,000 words are subtracted.
The score is ``sigmoid(SCALE * (llr - drift - OFFSET))``, a number in [0, 1];
a text is called spun at ``Config.spin_threshold`` (0.5 by default). The
constants were set on a sample of Gutenberg chunks, the US speeches and dev
article 000 (clean maximum 13.4 nats, spun minimum 48); see README
"Detection".
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass
from itertools import compress

import regex

from .candidates import SPINTAX_RE, gap_fits, quote_spans
from .lexicon import Entry, Lexicon
from .tokenize import NON_WORD_CHAR_RE, Tokens, joinable, tokenize

__all__ = ["SpinReport", "Evidence", "spin_report", "surely_clean", "artifact_lexicon", "SPIN_RATE",
           "UnspunBound", "stays_unspun"]

SPIN_RATE = 0.5  # share of an original's occurrences a spinner is assumed to replace
MIN_WEIGHT = 0.5  # only forms at least this likely to be spinner output count as evidence
DRIFT_PER_1000 = 2.5  # evidence that clean text accumulates per 1,000 words (subtracted)
OFFSET = 12.0  # evidence (nats) at which the score is 0.5
SCALE = 0.3
_PER_FORM_CAP = 4.0  # nats one occurrence of a spun form can contribute
_GROUP_MIN, _GROUP_MAX = -3.0, 6.0  # nats one original can contribute in all
_SPINTAX_LLR = 6.0
# The most frequent English function words: never used as a form's anchor.
_STOPWORDS = frozenset(
    """the of and to a in is that for it as was with be by on not he i this are or his from at which
    but have an they you were her she there been their one has all its had we more if will would so
    no when who out up about than into them can only other new some could these two may then do
    first any my now such like our over also did most me after what said year years made many well
    much should very where just even those being through while own under same both each how""".split()
)


@dataclass(frozen=True)
class Evidence:
    """A spun form found in the text."""

    form: str
    original: str
    count: int
    klass: str


@dataclass(frozen=True)
class SpinReport:
    """How spun a text looks.

    score
        In [0, 1]; higher is more spun.
    spun
        ``score >= threshold``.
    threshold
        The threshold used (``Config.spin_threshold``).
    words
        Word tokens in the text.
    spun_forms
        Occurrences of lexicon spun forms and spintax found.
    per_1000_words
        ``spun_forms`` per 1,000 words.
    artifacts
        Occurrences of forms that people hardly ever write ("satellite tv for pc").
    llr
        The log-likelihood ratio (spun vs clean) behind the score.
    evidence
        The forms found, most frequent first.
    quotes_spun, names_spun
        Whether quotations and proper names in this text show spinning, which
        decides whether ordinary-English words inside them are restored.
    """

    score: float
    spun: bool
    threshold: float
    words: int
    spun_forms: int
    per_1000_words: float
    artifacts: int
    llr: float
    evidence: tuple[Evidence, ...]
    quotes_spun: bool = True
    names_spun: bool = True


def _sigmoid(x: float) -> float:
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    z = math.exp(x)
    return z / (1.0 + z)


def artifact_lexicon(lexicon: Lexicon) -> Lexicon:
    """The entries restored in texts that are not spun."""
    return lexicon.subset("artifact", lambda e: e.klass == "artifact")


def group_rho(lexicon: Lexicon) -> dict[str, float]:
    """Per original: the clean-text rate of its spun forms relative to itself.

    An entry's weight w is the prior that the form is spinner output when seen
    in a spun text: w = r F(o) / (r F(o) + F(f)), so F(f) / F(o) = r (1 - w) / w.
    """
    rho: dict[str, float] = {}
    for e in lexicon.entries:
        if e.klass == "keep":
            continue
        g = e.originals[0].lower()
        rho[g] = rho.get(g, 0.0) + SPIN_RATE * (1.0 - e.weight) / e.weight
    return rho


def _per_occurrence(R: float) -> tuple[float, float]:
    """Evidence (nats) one occurrence of a spun form adds (capped), and one
    occurrence of the original (negative), for an original with rate ``R``."""
    R = max(R, 1e-6)
    q_clean = R / (1.0 + R)
    q_spun = (R + SPIN_RATE) / (1.0 + R)
    return min(math.log(q_spun / q_clean), _PER_FORM_CAP), math.log((1.0 - q_spun) / (1.0 - q_clean))


def _llr(nf: Counter, no: Counter, occurrence: dict[str, tuple[float, float, bool]]) -> float:
    """The capped evidence summed over originals; ``occurrence`` maps each original
    to its :func:`_per_occurrence` values and whether its spun forms are too common
    in clean text for the original alone to count."""
    total = 0.0
    for g in set(nf) | set(no):
        occ = occurrence.get(g)
        if occ is None:
            continue
        per_form, per_orig, common = occ
        n = nf[g]
        if common and not n:
            continue
        total += min(max(n * per_form + no[g] * per_orig, _GROUP_MIN), _GROUP_MAX)
    return total


class _Form:
    """A lexicon form as detection counts it."""

    __slots__ = ("entry", "group", "artifact", "spelled")

    def __init__(self, entry: Entry):
        self.entry = entry
        self.group = entry.originals[0].lower()
        self.artifact = entry.klass == "artifact"
        self.spelled = entry.case_toks if entry.cased else None


class _EvidenceIndex:
    """The forms detection counts (artifacts, and forms with a prior of at least
    MIN_WEIGHT), and the originals, indexed for C-level counting. Built once
    per lexicon."""

    def __init__(self, lexicon: Lexicon):
        self.rho = group_rho(lexicon)
        max_rho = SPIN_RATE * (1.0 - MIN_WEIGHT) / MIN_WEIGHT
        self.occurrence = {g: (*_per_occurrence(R), R > max_rho) for g, R in self.rho.items()}
        self.singles: dict[str, list[_Form]] = {}
        self.multis: dict[tuple[str, str], list[_Form]] = {}
        for e in lexicon.entries:
            if not (e.klass == "artifact" or (e.klass == "common" and e.weight >= MIN_WEIGHT)):
                continue
            if len(e.toks) == 1:
                self.singles.setdefault(e.toks[0], []).append(_Form(e))
            else:
                self.multis.setdefault((e.toks[0], e.toks[1]), []).append(_Form(e))
        # Originals count only for groups _llr can use: those with a counted
        # form, or whose spun forms are rare enough in clean text.
        relevant = {f.group for fs in (*self.singles.values(), *self.multis.values()) for f in fs}
        relevant |= {g for g, R in self.rho.items() if R <= max_rho}
        self.orig_singles = {w: g for w, g in lexicon.orig_singles.items() if g in relevant}
        self.orig_multis = {
            k: v for k, v in ((k, tuple(x for x in v if x[1] in relevant)) for k, v in lexicon.orig_multis.items()) if v
        }
        self.single_keys = frozenset(self.singles) | frozenset(self.orig_singles)
        # For the quick reject's second bound: each group's single-word
        # originals, and the words of groups whose original alone is
        # counter-evidence (their spun forms are not common).
        self.group_singles: dict[str, tuple[str, ...]] = {}
        for w, g in self.orig_singles.items():
            self.group_singles[g] = (*self.group_singles.get(g, ()), w)
        self.credit_group = {
            w: g for w, g in self.orig_singles.items() if g in self.occurrence and not self.occurrence[g][2]
        }
        self.credit_words = frozenset(self.credit_group)
        self.bigram_keys = frozenset(self.multis) | frozenset(self.orig_multis)
        self.bigram_firsts = frozenset(k[0] for k in self.bigram_keys)
        # For the quick reject: multi-word forms by the bigram around their
        # anchor, the word least likely in clean text.
        original_words = set(lexicon.orig_singles) | {t for k in lexicon.orig_multis for t in k}

        def rarity(w: str) -> tuple[bool, bool, int]:  # smaller = rarer in clean text
            return (w in _STOPWORDS, w in original_words, -len(w))

        anchors: set[str] = set()
        self.keyed: dict[tuple[str, str], list[tuple[_Form, int]]] = {}  # (form, where the bigram starts in it)
        for fs in self.multis.values():
            for f in fs:
                toks = f.entry.toks
                anchor = min(toks, key=rarity)
                anchors.add(anchor)
                # key: the bigram of the anchor and its longer neighbour; with the
                # form's words as they stand in the space-joined token list
                starts = [k for k in range(len(toks) - 1) if anchor in toks[k : k + 2]]
                start = max(starts, key=lambda k: len(toks[k]) + len(toks[k + 1]))
                self.keyed.setdefault((toks[start], toks[start + 1]), []).append((f, start))
        self.quick_keys = frozenset(self.singles) | frozenset(anchors)
        self.single_quick = frozenset(self.singles)
        self.anchor_quick = frozenset(anchors)


def evidence_index(lexicon: Lexicon) -> _EvidenceIndex:
    """The forms and originals detection counts, indexed (built once per lexicon)."""
    idx = lexicon.__dict__.get("_evidence_index")
    if idx is None:
        idx = lexicon.__dict__["_evidence_index"] = _EvidenceIndex(lexicon)
    return idx


_ASCII_WORD = re.compile(r"[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*")


_ASCII_LOWER_WORD = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")


class _Bag:
    """Counts of spun forms and originals in a text."""

    def __init__(self) -> None:
        self.nf: Counter = Counter()  # group -> occurrences of its spun forms
        self.no: Counter = Counter()  # group -> occurrences of the original
        self.forms: Counter = Counter()  # (form, original, class) -> occurrences
        self.artifacts = 0
        self.names_spun = False
        self.words = 0


def _count(text: str, idx: _EvidenceIndex, tokens: Tokens | None = None) -> _Bag:
    """Count forms and originals: Counter and set operations, plus one pass over
    the word pairs to place multi-word forms (each checked in full). ``tokens``
    is ``tokenize(text)`` if already made."""
    bag = _Bag()
    if tokens is None and not text.isascii():
        tokens = tokenize(text)  # kept: the word-pair check below reads it too
    if tokens is not None:
        words, lows = tokens.words, tokens.lows
    else:  # ASCII: the same tokens three times faster; the cased words only when needed
        words, lows = None, _ASCII_LOWER_WORD.findall(text.lower())
    bag.words = len(lows)
    present = set(lows)
    counts = Counter(lows)
    cased_counts: Counter | None = None
    for w in present & idx.single_keys:
        n = counts[w]
        for f in idx.singles.get(w, ()):
            m = n
            if f.spelled is not None:
                if cased_counts is None:
                    words = words if words is not None else _ASCII_WORD.findall(text)
                    cased_counts = Counter(words)
                spelled, caps = f.spelled[0], f.spelled[0].upper()
                m = cased_counts[spelled] + (cased_counts[caps] if caps != spelled else 0)
            if m:
                _add_form(bag, f, m)
        g = idx.orig_singles.get(w)
        if g is not None:
            bag.no[g] += n
    if present & idx.bigram_firsts:
        # Multi-word forms count only where the scan would match them: across
        # inline whitespace (or their own punctuation), not across a dash, a
        # full stop or the seam between two quotations.
        if tokens is None:
            tokens = tokenize(text)
        lows = tokens.lows
        keys = idx.bigram_keys
        for i in [k for k, pair in enumerate(zip(lows, lows[1:])) if pair in keys]:
            key = (lows[i], lows[i + 1])
            for f in idx.multis.get(key, ()):
                e = f.entry
                n = len(e.toks)
                if tuple(lows[i : i + n]) != e.toks or not all(gap_fits(tokens, i + k, e.gaps[k]) for k in range(n - 1)):
                    continue
                if f.spelled is not None:
                    span = tokens.words[i : i + n]
                    if tuple(span) != f.spelled and not all(x.isupper() for x in span):
                        continue
                _add_form(bag, f, 1)
            for otoks, g in idx.orig_multis.get(key, ()):
                n = len(otoks)
                if tuple(lows[i : i + n]) == otoks and all(joinable(tokens, i + k) for k in range(n - 1)):
                    bag.no[g] += 1
                    break
    return bag


def _add_form(bag: _Bag, f: _Form, n: int) -> None:
    e = f.entry
    bag.nf[f.group] += n
    bag.forms[(e.spun, e.originals[0], e.klass)] += n
    if f.artifact:
        bag.artifacts += n
        if f.spelled is not None or e.name_only:
            bag.names_spun = True


def spin_report(text: str, lexicon: Lexicon, threshold: float = 0.5, tokens: Tokens | None = None) -> SpinReport:
    """How spun ``text`` looks, from the counts of spun forms and originals
    (``tokens``: ``tokenize(text)``, if the caller has it already).

    Quotations are counted apart: their forms add evidence without the
    originals' counter-evidence (capped separately), and decide whether this
    text spins its quotations.
    """
    idx = evidence_index(lexicon)
    bag = _count(text, idx, tokens)
    quotes = quote_spans(text) if bag.nf else []
    nf_out, nf_quote, quoted_words = bag.nf, Counter(), 0
    if quotes:
        quoted = "\n".join(text[a:b] for a, b in quotes)
        qbag = _count(quoted, idx)
        nf_quote, quoted_words = qbag.nf, qbag.words
        nf_out = bag.nf - qbag.nf
    spintax = len(SPINTAX_RE.findall(text)) if "{" in text else 0
    llr = _llr(nf_out, bag.no, idx.occurrence) + _llr(nf_quote, Counter(), idx.occurrence) + spintax * _SPINTAX_LLR
    # Quotations count as spun unless they are long enough to judge and show
    # clearly less spin per word than the rest of the text.
    quotes_spun = True
    if quoted_words >= 20:
        rate_out = sum(nf_out.values()) / max(bag.words - quoted_words, 1)
        rate_in = sum(nf_quote.values()) / quoted_words
        quotes_spun = rate_in >= 0.4 * rate_out
    words = bag.words
    score = _sigmoid(SCALE * (llr - DRIFT_PER_1000 * words / 1000.0 - OFFSET))
    forms = bag.forms
    if spintax:
        forms = forms + Counter({("{…}", "", "artifact"): spintax})
    found = sum(forms.values())
    # most frequent first; ties by form, so the order never depends on the hash seed
    evidence = tuple(Evidence(f, o, n, k) for (f, o, k), n in sorted(forms.items(), key=lambda x: (-x[1], x[0])))
    return SpinReport(
        score=score,
        spun=score >= threshold,
        threshold=threshold,
        words=words,
        spun_forms=found,
        per_1000_words=1000.0 * found / words if words else 0.0,
        artifacts=bag.artifacts + spintax,
        llr=llr,
        evidence=evidence,
        quotes_spun=quotes_spun,
        names_spun=bag.names_spun,
    )


# The most one original's evidence can move: its part outside quotations
# spans [_GROUP_MIN, _GROUP_MAX], its part inside them [0, _GROUP_MAX].
_GROUP_SWING = (_GROUP_MAX - _GROUP_MIN) + _GROUP_MAX


@dataclass(frozen=True)
class UnspunBound:
    """What is known of a text that detection does not call spun: its evidence
    is at most ``llr`` nats over at least ``words`` words."""

    llr: float
    words: int

    @staticmethod
    def of(report: SpinReport) -> UnspunBound | None:
        """The exact values of a report that says not spun (None if it says spun)."""
        return None if report.spun else UnspunBound(report.llr, report.words)


def stays_unspun(
    bound: UnspunBound, old_parts: list[Tokens], new_parts: list[Tokens], lexicon: Lexicon, threshold: float = 0.5
) -> UnspunBound | None:
    """The bound for a text known by ``bound`` once its paragraphs ``old_parts``
    are rewritten as ``new_parts`` (each given as its tokens), if it surely
    stays unspun; None if it may not.

    Detection counts each paragraph on its own (no counted form, original or
    quotation crosses a blank line), so only the originals counted in those
    paragraphs can change their evidence, each by at most _GROUP_SWING nats;
    spintax in the new paragraphs adds its own; and the text keeps at least
    its words outside the old paragraphs (fewer words, less drift: the bound
    errs towards "may be spun").
    """
    if not 0.0 < threshold < 1.0:
        return None
    idx = evidence_index(lexicon)
    groups: set[str] = set()
    words, spintax = bound.words, 0
    for part in old_parts:
        bag = _count(part.text, idx, part)
        groups.update(bag.nf, bag.no)
        words -= bag.words
    for part in new_parts:
        bag = _count(part.text, idx, part)
        groups.update(bag.nf, bag.no)
        spintax += len(SPINTAX_RE.findall(part.text)) if "{" in part.text else 0
    llr = bound.llr + _GROUP_SWING * len(groups) + spintax * _SPINTAX_LLR
    words = max(words, 0)
    if _sigmoid(SCALE * (llr - DRIFT_PER_1000 * words / 1000.0 - OFFSET)) < threshold:
        return UnspunBound(llr, words)
    return None


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


def surely_clean(text: str, lexicon: Lexicon, threshold: float = 0.5) -> bool:
    """A fast test that never errs one way: True only if :func:`spin_report`
    would find no artifact, no spintax and a score below ``threshold``.

    It counts the spun forms the fast way (:func:`_quick_counts`) and bounds
    the evidence twice: first with no credit for originals (a group adds at
    most 2 * _GROUP_MAX, outside and inside quotations), then, for the few
    texts that bound cannot settle, with the originals' counter-evidence and
    the forms counted inside quotations apart (:func:`_credited_bound`).
    """
    if threshold <= 0.0:
        return False  # every text is spun
    idx = evidence_index(lexicon)
    counted = _quick_counts(text, idx)
    if counted is None:
        return False
    toks, present, found = counted
    if not found:
        return True
    if not 0.0 < threshold < 1.0:
        return threshold > 1.0
    need = math.log(threshold / (1.0 - threshold)) / SCALE + OFFSET + DRIFT_PER_1000 * len(toks) / 1000.0
    if _first_bound(found, idx) < need:
        return True
    credited = _credited_bound(found, toks, present, idx)
    if credited >= need:
        return False  # (the forms inside quotations could only add to it)
    quoted = _quoted_counts(text, idx)
    return quoted is not None and credited + _quoted_bound(quoted, idx) < need


def _quoted_counts(text: str, idx: _EvidenceIndex) -> Counter | None:
    """Per group, at least as many spun forms inside the quotations of ``text``
    as detection counts there (it reads the same joined quotations); None if
    that text cannot be judged."""
    spans = quote_spans(text)
    if not spans:
        return Counter()
    counted = _quick_counts("\n".join(text[a:b] for a, b in spans), idx)
    return None if counted is None else counted[2]


def _quick_counts(text: str, idx: _EvidenceIndex) -> tuple[list[str], set[str], Counter] | None:
    """The lowercased tokens of ``text``, their set, and per group at least as
    many spun forms as detection counts; None if the text has spintax or an
    artifact. Other braces (code, markup) are judged like any other
    characters.

    It maps every non-word character to a space in one ``str.translate`` and
    splits (:func:`_split_words`: the tokenizer's words), counts single-word
    forms with set operations, and multi-word forms in one pass over the word
    pairs, where the pair around their anchor (their rarest word) occurs,
    ignoring what separates their words.
    """
    if "{" in text and SPINTAX_RE.search(text):
        return None  # spintax, counted as an artifact
    toks = _split_words(_space_out(text.lower()))
    present = set(toks)
    found: Counter = Counter()  # group -> occurrences of its forms
    hits = present & idx.quick_keys
    if not hits:
        return toks, present, found
    singles = hits & idx.single_quick
    # a few list.count calls are cheapest; for many words one Counter keeps this linear
    count = Counter(toks).__getitem__ if len(singles) > 8 else toks.count
    for w in singles:
        for f in idx.singles[w]:
            if f.artifact and (f.spelled is None or f.spelled[0] in text or f.spelled[0].upper() in text):
                return None
            found[f.group] += count(w)
    if not hits.isdisjoint(idx.anchor_quick):
        # Multi-word forms where the bigram around their anchor occurs, whatever
        # separates their words: one pass over the word pairs.
        keyed = idx.keyed
        cased: list[str] | None = None  # the words with their own case, made when needed
        for i in compress(range(len(toks)), map(keyed.__contains__, zip(toks, toks[1:]))):
            for f, start in keyed[(toks[i], toks[i + 1])]:
                k = i - start
                form = f.entry.toks
                if k < 0 or tuple(toks[k : k + len(form)]) != form:
                    continue
                if f.artifact:
                    # A capitalised artifact ("Put up") counts only where the text
                    # spells it so, or in capitals.
                    if f.spelled is None:
                        return None
                    if cased is None:
                        cased = _split_words(_space_out(text))
                    span = tuple(cased[k : k + len(form)])
                    if span == f.spelled or all(w.isupper() for w in span):
                        return None
                found[f.group] += 1
    return toks, present, found


_ASTRAL_NON_WORD_RE = regex.compile(r"[^\p{L}\p{M}\p{N}\x00-\uffff]")


def _space_out(text: str) -> str:
    """``text`` with every character that no word holds made a space, hyphens
    apart: one ``str.translate`` (the table covers the Basic Multilingual
    Plane), and a search for the rest (emoji, say) only when they occur."""
    spaced = text.translate(_space_table())
    if not spaced.isascii() and max(spaced) > "\uffff":
        spaced = _ASTRAL_NON_WORD_RE.sub(" ", spaced)
    return spaced


def _split_words(spaced: str) -> list[str]:
    """The tokenizer's words of a text whose every non-word character (but the
    hyphen) is already a space: a hyphen joins two words only between two word
    characters, so the others become spaces too before the split."""
    if "-" in spaced and ("--" in spaced or " -" in spaced or "- " in spaced or spaced[:1] == "-" or spaced[-1:] == "-"):
        # After the first replace no two hyphens touch, so every hyphen left
        # that is not between two word characters has a space on one side.
        spaced = (" " + spaced + " ").replace("--", "  ").replace(" -", "  ").replace("- ", "  ")
    return spaced.split()


def _first_bound(found: Counter, idx: _EvidenceIndex) -> float:
    """At least the evidence of a text with at most ``found`` forms per group,
    whatever its originals: a group adds at most ``_GROUP_MAX`` outside
    quotations and as much inside them."""
    occurrence = idx.occurrence
    return sum(min(n * occurrence[g][0], 2 * _GROUP_MAX) for g, n in found.items())


def _credited_bound(found: Counter, toks: list[str], present: set[str], idx: _EvidenceIndex) -> float:
    """Added to :func:`_quoted_bound` of the forms inside its quotations, at
    least the evidence :func:`spin_report` finds in a text whose words are
    ``toks`` (their set: ``present``) and whose forms number at most
    ``found`` per group.

    A group with forms adds ``out(a) + inside(b)``: ``a`` forms outside
    quotations weighed against the ``o`` occurrences of its original (see
    :func:`_llr`), ``b`` forms inside them with no counter-evidence, ``a + b``
    at most ``found``. ``out`` rises with ``a`` from its value at 0, so
    ``max(out(found), out(0))`` bounds it; ``inside(b)`` is bounded apart
    (:func:`_quoted_bound`). A group without forms whose original occurs
    ``o`` times adds ``max(o * per_orig, _GROUP_MIN)``, unless its forms are
    common in clean text (then 0). Only single-word originals are counted:
    fewer only raise the bound.
    """
    total = 0.0
    counts = Counter(toks)
    occurrence = idx.occurrence
    for g, n in found.items():
        per_form, per_orig, common = occurrence[g]
        o = sum(counts[w] for w in idx.group_singles.get(g, ()))
        at_zero = 0.0 if common or not o else max(o * per_orig, _GROUP_MIN)
        total += max(min(max(n * per_form + o * per_orig, _GROUP_MIN), _GROUP_MAX), at_zero)
    without_forms: Counter = Counter()  # group -> occurrences of its single-word originals
    credit_group = idx.credit_group
    for w in present & idx.credit_words:
        g = credit_group[w]
        if g not in found:
            without_forms[g] += counts[w]
    for g, o in without_forms.items():
        total += max(o * occurrence[g][1], _GROUP_MIN)
    return total


def _quoted_bound(quoted: Counter, idx: _EvidenceIndex) -> float:
    """The most the forms inside quotations add, at most ``quoted`` per group
    (see :func:`_credited_bound`)."""
    return sum(min(b * idx.occurrence[g][0], _GROUP_MAX) for g, b in quoted.items())
