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

from .candidates import Scan
from .lexicon import Lexicon
from .tokenize import tokenize

__all__ = ["SpinReport", "Evidence", "spin_report", "may_need_edits", "SPIN_RATE"]

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


def spin_report(scan: Scan, lexicon: Lexicon, threshold: float = 0.5) -> SpinReport:
    """Summarise the spin evidence of a scanned text."""
    rho = group_rho(lexicon)
    nf: Counter = Counter()
    nf_quote: Counter = Counter()
    forms: Counter = Counter()
    artifacts = 0
    spintax = 0
    names_spun = False
    found = 0
    for c in scan.candidates:
        if c.rule == "numeral":
            continue
        found += 1
        if c.rule == "spintax":
            spintax += 1
            artifacts += 1
            forms[("{…}", c.originals[0], "artifact")] += 1
            continue
        e = c.entry
        assert e is not None
        forms[(e.spun, e.originals[0], c.klass)] += 1
        if c.klass != "artifact" and c.weight < MIN_WEIGHT:
            continue
        g = c.originals[0].lower()
        (nf_quote if c.in_quote else nf)[g] += 1
        if c.klass == "artifact":
            artifacts += 1
            if c.in_name and (e.cased or e.name_only):
                names_spun = True
    llr_out = _llr(nf, scan.original_counts, rho)
    llr = llr_out + _llr(nf_quote, Counter(), rho) + spintax * _SPINTAX_LLR
    # Quotations count as spun unless they are long enough to judge and show
    # clearly less spin per word than the rest of the text.
    quotes_spun = True
    if scan.quoted_words >= 20:
        outside_words = max(scan.words - scan.quoted_words, 1)
        rate_out = sum(nf.values()) / outside_words
        rate_in = sum(nf_quote.values()) / scan.quoted_words
        quotes_spun = rate_in >= 0.4 * rate_out
    words = scan.words
    score = _sigmoid(SCALE * (llr - DRIFT_PER_1000 * words / 1000.0 - OFFSET))
    evidence = tuple(
        Evidence(form, orig, n, klass) for (form, orig, klass), n in forms.most_common()
    )
    return SpinReport(
        score=score,
        spun=score >= threshold,
        threshold=threshold,
        words=words,
        spun_forms=found,
        per_1000_words=1000.0 * found / words if words else 0.0,
        artifacts=artifacts,
        llr=llr,
        evidence=evidence,
        quotes_spun=quotes_spun,
        names_spun=names_spun,
    )


class _GateIndex:
    """What the fast gate needs from a lexicon, computed once per lexicon."""

    def __init__(self, lexicon: Lexicon):
        rho = group_rho(lexicon)
        per_form: dict[str, float] = {}
        for g, R in rho.items():
            R = max(R, 1e-6)
            per_form[g] = min(math.log(((R + SPIN_RATE) / (1.0 + R)) / (R / (1.0 + R))), _PER_FORM_CAP)
        self.per_form = per_form
        self.word_groups: dict[str, list[str]] = {}
        self.artifact_words: set[str] = set()
        # multi-word forms by their anchor (longest word):
        # (all bigrams of the form, group, is artifact, first word)
        self.anchored: dict[str, list[tuple[tuple, str, bool, str]]] = {}
        for e in lexicon.entries:
            if e.klass == "keep" or (e.klass != "artifact" and e.weight < MIN_WEIGHT):
                continue
            g = e.originals[0].lower()
            if len(e.toks) == 1:
                self.word_groups.setdefault(e.toks[0], []).append(g)
                if e.klass == "artifact":
                    self.artifact_words.add(e.toks[0])
            else:
                pairs = tuple(zip(e.toks, e.toks[1:]))
                anchor = max(e.toks, key=len)
                self.anchored.setdefault(anchor, []).append((pairs, g, e.klass == "artifact", e.toks[0]))


def _gate_index(lexicon: Lexicon) -> _GateIndex:
    idx = getattr(lexicon, "_gate_index", None)
    if idx is None:
        idx = _GateIndex(lexicon)
        lexicon._gate_index = idx  # type: ignore[attr-defined]
    return idx


_ASCII_WORD = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")


def _lower_words(text: str) -> list[str]:
    """The lower-cased word tokens of ``text``, as :func:`~despin.tokenize.tokenize` finds them."""
    if text.isascii():  # same tokens as the Unicode tokenizer, three times faster
        return _ASCII_WORD.findall(text.lower())
    return tokenize(text).lows


def may_need_edits(text: str, lexicon: Lexicon, spin_threshold: float) -> bool:
    """A fast, conservative test: False only if no edit is possible.

    Uses C-level work (tokenizing the lower-cased text, set intersections,
    Counter) instead of the token loop. Edits need an artifact or a spun
    text; this finds every possible artifact and an upper bound of the spin
    evidence (originals ignored, multi-word forms counted by their first
    word), so a text it lets through may still get no edits, but one it
    stops never would.
    """
    if "{" in text:
        return True
    idx = _gate_index(lexicon)
    lows = _lower_words(text)
    present = set(lows)
    words = present & idx.word_groups.keys()
    anchors = present & idx.anchored.keys()
    if not words and not anchors:
        return False
    forms = []
    if anchors:
        doc_bigrams = set(zip(lows, lows[1:]))
        for a in anchors:
            for pairs, g, artifact, first in idx.anchored[a]:
                if all(p in doc_bigrams for p in pairs):
                    forms.append((g, artifact, first))
    if not words and not forms:
        return False
    if words & idx.artifact_words or any(artifact for _, artifact, _ in forms):
        return True
    counts = Counter(lows)
    nf: Counter = Counter()
    for w in words:
        for g in idx.word_groups[w]:
            nf[g] += counts[w]
    for g, _, first in forms:
        nf[g] += counts[first]
    per_form = idx.per_form
    # quotations are capped separately in spin_report, hence twice the group cap
    upper = sum(min(n * per_form.get(g, _PER_FORM_CAP), 2 * _GROUP_MAX) for g, n in nf.items())
    score = _sigmoid(SCALE * (upper - DRIFT_PER_1000 * len(lows) / 1000.0 - OFFSET))
    return score >= spin_threshold
