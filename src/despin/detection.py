"""Document-level spin evidence: the exact spin report.

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
that are mostly ordinary English add noise, not evidence. One original adds
at most GROUP_MAX nats in a text of up to CAP_WORDS words, and
proportionally more in a longer one (:func:`group_cap`), so that evidence
grows with a text as its drift does: because clean texts also accumulate
some evidence, ``drift`` nats per 1,000 words are subtracted. The score is
``sigmoid(scale * (llr - drift * words / 1000 - offset))``, a number in
[0, 1]; a text is called spun at ``Config.spin_threshold``. ``scale``,
``offset`` and ``drift`` are fitted on real spun pages and clean text
(:class:`~despin.decision.DetectionParams`, shipped in the decision model;
see :func:`despin.fit.fit_detection`).

The conservative fast checks built on these counts (the quick reject and the
bound for later passes) are in :mod:`despin.bounds`.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from itertools import pairwise

from .decision import DetectionParams, detection_params
from .lexicon import Entry, Lexicon
from .tokenize import (
    ASCII_LOWER_WORD_RE,
    ASCII_WORD_RE,
    Tokens,
    gap_fits,
    quote_spans,
    same_line,
    spintax_groups,
    tokenize,
)

__all__ = [
    "CAP_WORDS",
    "GROUP_MAX",
    "GROUP_MIN",
    "MIN_WEIGHT",
    "SPINTAX_LLR",
    "SPIN_RATE",
    "Evidence",
    "EvidenceIndex",
    "Form",
    "FormCounts",
    "Occurrence",
    "SpinReport",
    "count_forms",
    "counts_as_evidence",
    "evidence_index",
    "bursty",
    "group_cap",
    "group_rates",
    "group_rho",
    "spin_report",
]

SPIN_RATE = 0.5  # share of an original's occurrences a spinner is assumed to replace
# The most of an original's occurrences a learned rate says a spinner rewrites,
# as detection counts it: the target spinner keeps some words on whole pages,
# so one page's originals are not independent draws at the rate of all pages
# (of 0.5, 0.7 and 0.95 on the fitting data, 0.7 separates spun pages from
# clean text best).
MAX_SPIN_RATE = 0.7
MIN_WEIGHT = 0.5  # only forms at least this likely to be spinner output count as evidence
PER_FORM_CAP = 4.0  # nats one occurrence of a spun form can contribute
GROUP_MIN, GROUP_MAX = -3.0, 6.0  # nats one original can contribute in all, in a text of up to CAP_WORDS words
CAP_WORDS = 5000  # longer texts let each original contribute proportionally more (no decay with length)
SPINTAX_LLR = 6.0  # nats one spintax leftover contributes

# Per original: the nats one occurrence of a spun form adds (capped), those
# one occurrence of the original adds (negative), and whether its spun forms
# are too common in clean text for the original alone to count.
Occurrence = tuple[float, float, bool]


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
    originals
        How many originals' evidence ``llr`` sums.
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
    originals: int = 0


def group_cap(words: int) -> float:
    """The most evidence (nats) one original can add in a text of ``words``
    words: GROUP_MAX, and proportionally more beyond CAP_WORDS words, so that
    the evidence of a long text grows with it as the drift does."""
    return GROUP_MAX * max(1.0, words / CAP_WORDS)


def group_rho(lexicon: Lexicon) -> dict[str, float]:
    """Per original: the clean-text rate of its spun forms relative to itself.

    An entry's prior p is the probability that the form is spinner output
    when seen in a spun text: p = r F(o) / (r F(o) + F(f)), r the share of
    the original's occurrences the spinner makes into this form (the entry's
    learned ``rate``, else SPIN_RATE), so F(f) / F(o) = r (1 - p) / p.
    """
    return {g: rates[0] for g, rates in group_rates(lexicon).items()}


def group_rates(lexicon: Lexicon) -> dict[str, tuple[float, float]]:
    """Per original: :func:`group_rho`, and the share of its occurrences a
    spinner rewrites (the sum of its forms' learned rates where any is
    learned, at most MAX_SPIN_RATE; else SPIN_RATE)."""
    rho: dict[str, float] = {}
    learned: dict[str, float] = {}
    for e in lexicon.entries:
        if e.klass == "keep":
            continue
        g = e.originals[0].lower()
        rate = e.rate
        rho[g] = rho.get(g, 0.0) + (rate if rate is not None else SPIN_RATE) * (1.0 - e.prior) / e.prior
        if rate is not None:
            learned[g] = learned.get(g, 0.0) + rate
    return {g: (R, min(learned[g], MAX_SPIN_RATE) if g in learned else SPIN_RATE) for g, R in rho.items()}


def _per_occurrence(R: float, spin: float = SPIN_RATE) -> tuple[float, float]:
    """Evidence (nats) one occurrence of a spun form adds (capped), and one
    occurrence of the original (negative), for an original with rate ``R``
    whose occurrences a spinner rewrites at the rate ``spin``."""
    R = max(R, 1e-6)
    q_clean = R / (1.0 + R)
    q_spun = (R + spin) / (1.0 + R)
    return min(math.log(q_spun / q_clean), PER_FORM_CAP), math.log((1.0 - q_spun) / (1.0 - q_clean))


def bursty(n: int) -> float:
    """What ``n`` occurrences of one word in a text weigh: ``1 + ln n`` (a
    word that occurs once is far likelier than chance to occur again, so
    repeats are not independent evidence); never more than ``n``."""
    return 1.0 + math.log(n) if n > 1 else float(n)


def _llr(nf: Counter[str], no: Counter[str], occurrence: dict[str, Occurrence], cap: float) -> float:
    """The evidence summed over originals, each capped at ``cap``; ``occurrence``
    maps each original to its :data:`Occurrence` values."""
    total = 0.0
    for g in sorted(set(nf) | set(no)):  # in a fixed order: the sum is the same in every process
        occ = occurrence.get(g)
        if occ is None:
            continue
        per_form, per_orig, common = occ
        n = nf[g]
        if common and not n:
            continue
        total += min(max(bursty(n) * per_form + bursty(no[g]) * per_orig, GROUP_MIN), cap)
    return total


class Form:
    """A lexicon form as detection counts it."""

    __slots__ = ("artifact", "entry", "group", "spelled")

    def __init__(self, entry: Entry):
        self.entry = entry
        self.group = entry.originals[0].lower()
        self.artifact = entry.klass == "artifact"
        self.spelled = entry.case_toks if entry.cased else None


def counts_as_evidence(e: Entry) -> bool:
    """Whether detection counts this entry's form: artifacts, and forms with a
    prior (:attr:`~despin.lexicon.Entry.prior`) of at least MIN_WEIGHT."""
    return e.klass == "artifact" or (e.klass == "common" and e.prior >= MIN_WEIGHT)


class EvidenceIndex:
    """The forms detection counts and the originals, indexed for C-level
    counting. Built once per lexicon (:func:`evidence_index`)."""

    def __init__(self, lexicon: Lexicon):
        rates = group_rates(lexicon)
        self.rho = {g: R for g, (R, _) in rates.items()}
        self.max_rho = SPIN_RATE * (1.0 - MIN_WEIGHT) / MIN_WEIGHT
        self.occurrence: dict[str, Occurrence] = {
            g: (*_per_occurrence(R, spin), R > self.max_rho) for g, (R, spin) in rates.items()
        }
        self.singles: dict[str, list[Form]] = {}
        self.multis: dict[tuple[str, str], list[Form]] = {}
        for e in lexicon.entries:
            if not counts_as_evidence(e):
                continue
            if len(e.toks) == 1:
                self.singles.setdefault(e.toks[0], []).append(Form(e))
            else:
                self.multis.setdefault((e.toks[0], e.toks[1]), []).append(Form(e))
        for forms in self.multis.values():  # longest first, as the scan matches them
            forms.sort(key=lambda f: -len(f.entry.toks))
        # Originals count only for groups _llr can use: those with a counted
        # form, or whose spun forms are rare enough in clean text.
        relevant = {f.group for fs in (*self.singles.values(), *self.multis.values()) for f in fs}
        relevant |= {g for g, R in self.rho.items() if R <= self.max_rho}
        self.orig_singles = {w: g for w, g in lexicon.orig_singles.items() if g in relevant}
        self.orig_multis = {
            k: v for k, v in ((k, tuple(x for x in v if x[1] in relevant)) for k, v in lexicon.orig_multis.items()) if v
        }
        self.single_keys = frozenset(self.singles) | frozenset(self.orig_singles)
        self.bigram_keys = frozenset(self.multis) | frozenset(self.orig_multis)
        self.bigram_firsts = frozenset(k[0] for k in self.bigram_keys)


def evidence_index(lexicon: Lexicon) -> EvidenceIndex:
    """The forms and originals detection counts, indexed (built once per lexicon)."""
    return lexicon.derived("evidence_index", EvidenceIndex)


@dataclass
class FormCounts:
    """Counts of spun forms and originals in a text."""

    nf: Counter[str] = field(default_factory=Counter)  # group -> occurrences of its spun forms
    no: Counter[str] = field(default_factory=Counter)  # group -> occurrences of the original
    forms: Counter[tuple[str, str, str]] = field(default_factory=Counter)  # (form, original, class) -> occurrences
    artifacts: int = 0
    names_spun: bool = False
    words: int = 0

    def add(self, f: Form, n: int) -> None:
        """``n`` occurrences of the form ``f``."""
        e = f.entry
        self.nf[f.group] += n
        self.forms[(e.spun, e.originals[0], e.klass)] += n
        if f.artifact:
            self.artifacts += n
            if f.spelled is not None or e.name_only:
                self.names_spun = True

    def remove(self, f: Form) -> None:
        """One occurrence of the single-word form ``f`` counted where a longer
        form stands (the scan reads the longer one only)."""
        e = f.entry
        key = (e.spun, e.originals[0], e.klass)
        self.nf[f.group] -= 1
        self.forms[key] -= 1
        if self.nf[f.group] <= 0:
            del self.nf[f.group]
        if self.forms[key] <= 0:
            del self.forms[key]
        if f.artifact:
            self.artifacts -= 1


def count_forms(text: str, idx: EvidenceIndex, tokens: Tokens | None = None) -> FormCounts:
    """Count forms and originals: Counter and set operations, plus one pass over
    the word pairs to place multi-word forms (each checked in full). ``tokens``
    is ``tokenize(text)`` if already made."""
    counts = FormCounts()
    if tokens is None and not text.isascii():
        tokens = tokenize(text)  # kept: the word-pair check below reads it too
    # ASCII: the same words three times faster; the cased words only when needed
    lows = tokens.lows if tokens is not None else ASCII_LOWER_WORD_RE.findall(text.lower())
    counts.words = len(lows)
    present = set(lows)
    _count_single_words(counts, idx, text, tokens, lows, present)
    if present & idx.bigram_firsts:
        # Multi-word forms count only where the scan would match them: across
        # inline whitespace (or their own punctuation), not across a dash, a
        # full stop or the seam between two quotations.
        _count_word_pairs(counts, idx, tokens if tokens is not None else tokenize(text))
    return counts


def _count_single_words(
    counts: FormCounts, idx: EvidenceIndex, text: str, tokens: Tokens | None, lows: list[str], present: set[str]
) -> None:
    """Single-word forms and originals, by set operations on the words."""
    occurrences = Counter(lows)
    cased: Counter[str] | None = None  # the words with their own case, counted when needed
    for w in present & idx.single_keys:
        n = occurrences[w]
        for f in idx.singles.get(w, ()):
            m = n
            if f.spelled is not None:
                if cased is None:
                    cased = Counter(tokens.words if tokens is not None else ASCII_WORD_RE.findall(text))
                spelled, caps = f.spelled[0], f.spelled[0].upper()
                m = cased[spelled] + (cased[caps] if caps != spelled else 0)
            if m:
                counts.add(f, m)
        g = idx.orig_singles.get(w)
        if g is not None:
            counts.no[g] += n


def _count_word_pairs(counts: FormCounts, idx: EvidenceIndex, tokens: Tokens) -> None:
    """Multi-word forms and originals, where their first two words stand. A
    multi-word form is counted instead of the single-word forms inside it,
    and not where an earlier one already covers its first word."""
    lows = tokens.lows
    keys = idx.bigram_keys
    covered = -1  # the last token of the last multi-word form counted
    for i in [k for k, pair in enumerate(pairwise(lows)) if pair in keys]:
        key = (lows[i], lows[i + 1])
        if i > covered:
            for f in idx.multis.get(key, ()):
                if _form_at(tokens, i, f):
                    counts.add(f, 1)
                    covered = i + len(f.entry.toks) - 1
                    _uncount_singles(counts, idx, tokens, i, covered)
                    break
        for otoks, g in idx.orig_multis.get(key, ()):
            n = len(otoks)
            if tuple(lows[i : i + n]) == otoks and all(same_line(tokens, i + k) for k in range(n - 1)):
                counts.no[g] += 1
                break


def _uncount_singles(counts: FormCounts, idx: EvidenceIndex, tokens: Tokens, first: int, last: int) -> None:
    """Take back the single-word forms counted at tokens ``first``..``last``."""
    for k in range(first, last + 1):
        for f in idx.singles.get(tokens.lows[k], ()):
            if f.spelled is None or tokens.words[k] in (f.spelled[0], f.spelled[0].upper()):
                counts.remove(f)


def _form_at(tokens: Tokens, i: int, f: Form) -> bool:
    """Whether the multi-word form ``f`` stands at token ``i``, as the scan would match it."""
    e = f.entry
    n = len(e.toks)
    if tuple(tokens.lows[i : i + n]) != e.toks or not all(gap_fits(tokens, i + k, e.gaps[k]) for k in range(n - 1)):
        return False
    if f.spelled is not None:
        span = tokens.words[i : i + n]
        return tuple(span) == f.spelled or all(x.isupper() for x in span)
    return True


def spin_report(
    text: str, lexicon: Lexicon, threshold: float, tokens: Tokens | None = None, params: DetectionParams | None = None,
    unseen: float = 0.0,
) -> SpinReport:
    """How spun ``text`` looks, from the counts of spun forms and originals;
    ``threshold`` is ``Config.spin_threshold`` (``tokens``: ``tokenize(text)``,
    if the caller has it already; ``params``: the fitted score, the bundled
    decision model's by default; ``unseen``: nats of dictionary-free evidence,
    :func:`despin.thesaurus.detection_evidence` with ``Config.unseen``, else
    0; where positive, it is added to the lexicon evidence, counted at least 0).

    Quotations are counted apart: their forms add evidence without the
    originals' counter-evidence (capped separately), and decide whether this
    text spins its quotations.
    """
    idx = evidence_index(lexicon)
    counts = count_forms(text, idx, tokens)
    quotes = quote_spans(text) if counts.nf else []
    nf_out, nf_quote, quoted_words = counts.nf, Counter[str](), 0
    if quotes:
        quoted = count_forms("\n".join(text[a:b] for a, b in quotes), idx)
        nf_quote, quoted_words = quoted.nf, quoted.words
        nf_out = counts.nf - quoted.nf
    words = counts.words
    cap = group_cap(words)
    score_of = detection_params(params).score
    llr = _llr(nf_out, counts.no, idx.occurrence, cap) + _llr(nf_quote, Counter(), idx.occurrence, cap)
    if unseen > 0.0:
        # The originals' counter-evidence says that this text is not the
        # lexicon's spinner's work, nothing against another spinner's: where
        # the dictionary-free evidence is positive, the lexicon's counts at least 0.
        llr = max(llr, 0.0) + unseen
    spintax = _spintax_evidence(text, counts.artifacts > 0 or score_of(llr, words) >= threshold)
    llr += spintax * SPINTAX_LLR
    score = score_of(llr, words)
    forms = counts.forms
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
        artifacts=counts.artifacts + spintax,
        llr=llr,
        evidence=evidence,
        quotes_spun=_quotes_spun(nf_out, nf_quote, words, quoted_words),
        names_spun=counts.names_spun,
        originals=len((set(counts.nf) | set(counts.no)) & idx.occurrence.keys()),
    )


def _spintax_evidence(text: str, other_evidence: bool) -> int:
    """How many spintax groups count as spinner output: those that look like
    it (:func:`~despin.tokenize.spintax_groups`), in a text with other
    evidence: an artifact, a spin score at the threshold without them,
    another group, or a group inside another. A lone ``{a|b}`` in a text
    that shows no spin otherwise is a template or mathematics, not spinner
    output, and stays."""
    groups = spintax_groups(text)
    if other_evidence or len(groups) > 1 or any(g.nested for g in groups):
        return len(groups)
    return 0


def _quotes_spun(nf_out: Counter[str], nf_quote: Counter[str], words: int, quoted_words: int) -> bool:
    """Quotations count as spun unless they are long enough to judge and show
    clearly less spin per word than the rest of the text."""
    if quoted_words < 20:
        return True
    rate_out = sum(nf_out.values()) / max(words - quoted_words, 1)
    rate_in = sum(nf_quote.values()) / quoted_words
    return rate_in >= 0.4 * rate_out
