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

from .candidates import SPINTAX_RE, quote_spans
from .lexicon import Entry, Lexicon
from .tokenize import tokenize

__all__ = ["SpinReport", "Evidence", "spin_report", "artifact_lexicon", "SPIN_RATE"]

SPIN_RATE = 0.5  # share of an original's occurrences a spinner is assumed to replace
MIN_WEIGHT = 0.5  # only forms at least this likely to be spinner output count as evidence
DRIFT_PER_1000 = 2.5  # evidence that clean text accumulates per 1,000 words (subtracted)
OFFSET = 12.0  # evidence (nats) at which the score is 0.5
SCALE = 0.3
_PER_FORM_CAP = 4.0  # nats one occurrence of a spun form can contribute
_GROUP_MIN, _GROUP_MAX = -3.0, 6.0  # nats one original can contribute in all
_SPINTAX_LLR = 6.0


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
    cached = getattr(lexicon, "_group_rho", None)
    if cached is not None:
        return cached
    rho: dict[str, float] = {}
    for e in lexicon.entries:
        if e.klass == "keep":
            continue
        g = e.originals[0].lower()
        rho[g] = rho.get(g, 0.0) + SPIN_RATE * (1.0 - e.weight) / e.weight
    lexicon._group_rho = rho  # type: ignore[attr-defined]
    return rho


def _llr(nf: Counter, no: Counter, rho: dict[str, float]) -> float:
    total = 0.0
    max_rho = SPIN_RATE * (1.0 - MIN_WEIGHT) / MIN_WEIGHT
    for g in set(nf) | set(no):
        R = rho.get(g)
        if R is None or (R > max_rho and not nf[g]):
            continue
        R = max(R, 1e-6)
        q_clean = R / (1.0 + R)
        q_spun = (R + SPIN_RATE) / (1.0 + R)
        per_form = min(math.log(q_spun / q_clean), _PER_FORM_CAP)
        per_orig = math.log((1.0 - q_spun) / (1.0 - q_clean))
        total += min(max(nf[g] * per_form + no[g] * per_orig, _GROUP_MIN), _GROUP_MAX)
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
        self.singles: dict[str, list[_Form]] = {}
        self.multis: dict[tuple[str, str], list[_Form]] = {}
        for e in lexicon.entries:
            if not (e.klass == "artifact" or (e.klass == "common" and e.weight >= MIN_WEIGHT)):
                continue
            if len(e.toks) == 1:
                self.singles.setdefault(e.toks[0], []).append(_Form(e))
            else:
                self.multis.setdefault((e.toks[0], e.toks[1]), []).append(_Form(e))
        self.orig_singles = lexicon.orig_singles
        self.orig_multis = lexicon.orig_multis
        self.single_keys = frozenset(self.singles) | frozenset(self.orig_singles)
        self.bigram_keys = frozenset(self.multis) | frozenset(self.orig_multis)
        self.bigram_firsts = frozenset(k[0] for k in self.bigram_keys)


def _evidence_index(lexicon: Lexicon) -> _EvidenceIndex:
    idx = lexicon.__dict__.get("_evidence_index")
    if idx is None:
        idx = lexicon.__dict__["_evidence_index"] = _EvidenceIndex(lexicon)
    return idx


_ASCII_WORD = re.compile(r"[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*")


_ASCII_LOWER_WORD = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")


def _words(text: str) -> tuple[list[str] | None, list[str]]:
    """The word tokens of ``text`` as :func:`~despin.tokenize.tokenize` finds them, and
    lower-cased. For ASCII text (the same tokens, three times faster) the first is
    None until needed: ``_ASCII_WORD.findall(text)``."""
    if text.isascii():
        return None, _ASCII_LOWER_WORD.findall(text.lower())
    words = tokenize(text).words
    return words, list(map(str.lower, words))


class _Bag:
    """Counts of spun forms and originals in a text."""

    def __init__(self) -> None:
        self.nf: Counter = Counter()  # group -> occurrences of its spun forms
        self.no: Counter = Counter()  # group -> occurrences of the original
        self.forms: Counter = Counter()  # (form, original, class) -> occurrences
        self.artifacts = 0
        self.names_spun = False
        self.words = 0


def _count(text: str, idx: _EvidenceIndex) -> _Bag:
    """Count forms and originals: Counter and set operations, plus one pass over
    the word pairs to place multi-word forms (each checked in full)."""
    bag = _Bag()
    words, lows = _words(text)
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
                m = cased_counts[f.spelled[0]] + cased_counts[f.spelled[0].upper()]
            if m:
                _add_form(bag, f, m)
        g = idx.orig_singles.get(w)
        if g is not None:
            bag.no[g] += n
    if present & idx.bigram_firsts:
        keys = idx.bigram_keys
        for i in [k for k, pair in enumerate(zip(lows, lows[1:])) if pair in keys]:
            key = (lows[i], lows[i + 1])
            for f in idx.multis.get(key, ()):
                toks = f.entry.toks
                if tuple(lows[i : i + len(toks)]) != toks:
                    continue
                if f.spelled is not None:
                    words = words if words is not None else _ASCII_WORD.findall(text)
                    span = words[i : i + len(toks)]
                    if tuple(span) != f.spelled and not all(x.isupper() for x in span):
                        continue
                _add_form(bag, f, 1)
            for otoks, g in idx.orig_multis.get(key, ()):
                if tuple(lows[i : i + len(otoks)]) == otoks:
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


def spin_report(text: str, lexicon: Lexicon, threshold: float = 0.5) -> SpinReport:
    """How spun ``text`` looks, from the counts of spun forms and originals.

    Quotations are counted apart: their forms add evidence without the
    originals' counter-evidence (capped separately), and decide whether this
    text spins its quotations.
    """
    idx = _evidence_index(lexicon)
    bag = _count(text, idx)
    quotes = quote_spans(text) if bag.nf else []
    nf_out, nf_quote, quoted_words = bag.nf, Counter(), 0
    if quotes:
        quoted = "\n".join(text[a:b] for a, b in quotes)
        qbag = _count(quoted, idx)
        nf_quote, quoted_words = qbag.nf, qbag.words
        nf_out = bag.nf - qbag.nf
    spintax = len(SPINTAX_RE.findall(text)) if "{" in text else 0
    llr = _llr(nf_out, bag.no, idx.rho) + _llr(nf_quote, Counter(), idx.rho) + spintax * _SPINTAX_LLR
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
    evidence = tuple(Evidence(form, orig, n, klass) for (form, orig, klass), n in forms.most_common())
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
