"""Conservative fast checks on the spin report, never wrong one way.

* :func:`surely_clean`, the quick reject: True only if
  :func:`~despin.detection.spin_report` would find no artifact, no spintax
  and a score below the threshold, computed without tokenizing the text.
* :func:`stays_unspun`: whether a text known not to be spun stays so when a
  few of its paragraphs are rewritten (a later pass need not detect the whole
  text again).

Both are property-tested against :mod:`despin.detection` (tests/test_bounds.py).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from itertools import compress, pairwise

from .decision import DetectionParams, detection_params
from .detection import (
    GROUP_MAX,
    GROUP_MIN,
    SPINTAX_LLR,
    Form,
    SpinReport,
    bursty,
    count_forms,
    evidence_index,
    group_cap,
)
from .lexicon import Lexicon
from .tokenize import SPINTAX_RE, Tokens, quote_spans, space_out, split_words

__all__ = [
    "QuickIndex",
    "UnspunBound",
    "credited_bound",
    "first_bound",
    "once_credit",
    "quick_counts",
    "quick_index",
    "quoted_bound",
    "quoted_counts",
    "stays_unspun",
    "surely_clean",
]

# The most frequent English function words: never used as a form's anchor.
_STOPWORDS = frozenset(
    """the of and to a in is that for it as was with be by on not he i this are or his from at which
    but have an they you were her she there been their one has all its had we more if will would so
    no when who out up about than into them can only other new some could these two may then do
    first any my now such like our over also did most me after what said year years made many well
    much should very where just even those being through while own under same both each how""".split()
)



# -- stays unspun ----------------------------------------------------------------------------


@dataclass(frozen=True)
class UnspunBound:
    """What is known of a text that detection does not call spun: its evidence
    is at most ``llr`` nats over at least ``words`` and at most ``most_words``
    words, from at most ``originals`` originals."""

    llr: float
    words: int
    most_words: int
    originals: int

    @staticmethod
    def of(report: SpinReport) -> UnspunBound | None:
        """The exact values of a report that says not spun (None if it says spun)."""
        return None if report.spun else UnspunBound(report.llr, report.words, report.words, report.originals)


def stays_unspun(
    bound: UnspunBound, old_parts: list[Tokens], new_parts: list[Tokens], lexicon: Lexicon, threshold: float,
    params: DetectionParams | None = None,
) -> UnspunBound | None:
    """The bound for a text known by ``bound`` once its paragraphs ``old_parts``
    are rewritten as ``new_parts`` (each given as its tokens), if it surely
    stays unspun at ``threshold``; None if it may not.

    Detection counts each paragraph on its own (no counted form, original or
    quotation crosses a blank line), so only the originals counted in those
    paragraphs can change their evidence. Each original's evidence is a
    clipped sum (outside quotations, and inside them), which moves by at most
    what the changed counts move it (clipping never amplifies), plus
    ``-GROUP_MIN`` where the original alone stops or starts counting; if the
    text grows, every original's cap grows with it; spintax in the new
    paragraphs adds its own; and the text keeps at least its words outside
    the old paragraphs (fewer words, less drift: the bound errs towards "may
    be spun").
    """
    if not 0.0 < threshold < 1.0:
        return None
    idx = evidence_index(lexicon)
    forms: Counter[str] = Counter()
    origs: Counter[str] = Counter()
    words, most, spintax = bound.words, bound.most_words, 0
    for part in old_parts:
        counts = count_forms(part.text, idx, part)
        forms.update(counts.nf)
        origs.update(counts.no)
        words -= counts.words
        most -= counts.words
    for part in new_parts:
        counts = count_forms(part.text, idx, part)
        forms.update(counts.nf)
        origs.update(counts.no)
        most += counts.words
        spintax += len(SPINTAX_RE.findall(part.text)) if "{" in part.text else 0
    touched = (set(forms) | set(origs)) & idx.occurrence.keys()
    rise = sum(forms[g] * idx.occurrence[g][0] - origs[g] * idx.occurrence[g][1] - GROUP_MIN for g in touched)
    growth = 2 * max(0.0, group_cap(most) - group_cap(bound.most_words)) * (bound.originals + len(touched))
    llr = bound.llr + rise + growth + spintax * SPINTAX_LLR
    words = max(words, 0)
    if detection_params(params).highest(llr, words, max(most, words)) < threshold:
        return UnspunBound(llr, words, most, bound.originals + len(touched))
    return None


# -- the quick reject ------------------------------------------------------------------------


class QuickIndex:
    """What the quick reject reads besides the :class:`~despin.detection.EvidenceIndex`:
    multi-word forms by the bigram around their anchor (their rarest word),
    and the originals its second bound credits. Built once per lexicon."""

    def __init__(self, lexicon: Lexicon):
        idx = self.evidence = evidence_index(lexicon)
        self.occurrence = idx.occurrence
        self.singles = idx.singles
        # Each group's single-word originals, and the words of groups whose
        # original alone is counter-evidence (their spun forms are not common).
        self.group_singles: dict[str, tuple[str, ...]] = {}
        for w, g in idx.orig_singles.items():
            self.group_singles[g] = (*self.group_singles.get(g, ()), w)
        self.credit_group = {
            w: g for w, g in idx.orig_singles.items() if g in idx.occurrence and not idx.occurrence[g][2]
        }
        self.credit_words = frozenset(self.credit_group)
        # For once_credit: what one occurrence of a credited word adds where
        # it is its group's only credited word, and that word by group.
        per_group = Counter(self.credit_group.values())
        self.once_word = {g: w for w, g in self.credit_group.items() if per_group[g] == 1}
        self.credit_once = {w: max(idx.occurrence[g][1], GROUP_MIN) for g, w in self.once_word.items()}
        self.credit_once_words = frozenset(self.credit_once)
        original_words = set(lexicon.orig_singles) | {t for k in lexicon.orig_multis for t in k}

        def rarity(w: str) -> tuple[bool, bool, int]:  # smaller = rarer in clean text
            return (w in _STOPWORDS, w in original_words, -len(w))

        anchors: set[str] = set()
        self.keyed: dict[tuple[str, str], list[tuple[Form, int]]] = {}  # (form, where the bigram starts in it)
        for fs in idx.multis.values():
            for f in fs:
                toks = f.entry.toks
                anchor = min(toks, key=rarity)
                anchors.add(anchor)
                # key: the bigram of the anchor and its longer neighbour; with the
                # form's words as they stand in the space-joined token list
                starts = [k for k in range(len(toks) - 1) if anchor in toks[k : k + 2]]
                start = max(starts, key=lambda k: len(toks[k]) + len(toks[k + 1]))
                self.keyed.setdefault((toks[start], toks[start + 1]), []).append((f, start))
        self.quick_keys = frozenset(idx.singles) | frozenset(anchors)
        self.single_quick = frozenset(idx.singles)
        self.anchor_quick = frozenset(anchors)


def quick_index(lexicon: Lexicon) -> QuickIndex:
    """The quick reject's index of ``lexicon`` (built once per lexicon)."""
    return lexicon.derived("quick_index", QuickIndex)


def surely_clean(text: str, lexicon: Lexicon, threshold: float, params: DetectionParams | None = None) -> bool:
    """A fast test that never errs one way: True only if
    :func:`~despin.detection.spin_report` would find no artifact, no spintax
    and a score below ``threshold``.

    It counts the spun forms the fast way (:func:`quick_counts`) and bounds
    the evidence three times: first with no credit for originals (a group adds
    at most twice its cap, outside and inside quotations); then crediting, at
    C speed, one occurrence of each original whose group shows no form
    (:func:`once_credit`; the learned lexicon's forms are often ordinary
    words, "different" for "other", so clean texts need the credit); and,
    for the few texts those cannot settle, with the originals' full
    counter-evidence and the forms counted inside quotations apart
    (:func:`credited_bound`).
    """
    if threshold <= 0.0:
        return False  # every text is spun
    idx = quick_index(lexicon)
    counted = quick_counts(text, idx)
    if counted is None:
        return False
    toks, present, found = counted
    if not found:
        return True
    if not 0.0 < threshold < 1.0:
        return threshold > 1.0
    need = detection_params(params).needed(threshold, len(toks))
    cap = group_cap(len(toks))
    first = first_bound(found, idx, cap)
    if first < need or first + once_credit(found, present, idx) < need:
        return True
    credited = credited_bound(found, toks, present, idx, cap)
    if credited >= need:
        return False  # (the forms inside quotations could only add to it)
    quoted = quoted_counts(text, idx)
    return quoted is not None and credited + quoted_bound(quoted, idx, cap) < need


def quoted_counts(text: str, idx: QuickIndex) -> Counter[str] | None:
    """Per group, at least as many spun forms inside the quotations of ``text``
    as detection counts there (it reads the same joined quotations); None if
    that text cannot be judged."""
    spans = quote_spans(text)
    if not spans:
        return Counter()
    counted = quick_counts("\n".join(text[a:b] for a, b in spans), idx)
    return None if counted is None else counted[2]


def quick_counts(text: str, idx: QuickIndex) -> tuple[list[str], set[str], Counter[str]] | None:
    """The lowercased tokens of ``text``, their set, and per group at least as
    many spun forms as detection counts; None if the text has spintax or an
    artifact. Other braces (code, markup) are judged like any other
    characters.

    It maps every non-word character to a space in one ``str.translate`` and
    splits (:func:`~despin.tokenize.split_words`: the tokenizer's words),
    counts single-word forms with set operations, and multi-word forms in one
    pass over the word pairs, where the pair around their anchor (their
    rarest word) occurs, ignoring what separates their words.
    """
    if "{" in text and SPINTAX_RE.search(text):
        return None  # spintax, counted as an artifact
    toks = split_words(space_out(text.lower()))
    present = set(toks)
    found: Counter[str] = Counter()  # group -> occurrences of its forms
    hits = present & idx.quick_keys
    if not hits:
        return toks, present, found
    if not _count_quick_singles(text, toks, hits & idx.single_quick, idx, found):
        return None
    if not hits.isdisjoint(idx.anchor_quick) and not _count_quick_pairs(text, toks, idx, found):
        return None
    return toks, present, found


def _count_quick_singles(text: str, toks: list[str], singles: set[str], idx: QuickIndex, found: Counter[str]) -> bool:
    """Add the single-word forms of ``singles`` to ``found``; False at an artifact."""
    # a few list.count calls are cheapest; for many words one Counter keeps this linear
    count = Counter(toks).__getitem__ if len(singles) > 8 else toks.count
    for w in singles:
        for f in idx.singles[w]:
            if f.artifact and (f.spelled is None or f.spelled[0] in text or f.spelled[0].upper() in text):
                return False
            found[f.group] += count(w)
    return True


def _count_quick_pairs(text: str, toks: list[str], idx: QuickIndex, found: Counter[str]) -> bool:
    """Add multi-word forms where the bigram around their anchor occurs,
    whatever separates their words (one pass over the word pairs); False at
    an artifact."""
    keyed = idx.keyed
    cased: list[str] | None = None  # the words with their own case, made when needed
    for i in compress(range(len(toks)), map(keyed.__contains__, pairwise(toks))):
        for f, start in keyed[(toks[i], toks[i + 1])]:
            k = i - start
            form = f.entry.toks
            if k < 0 or tuple(toks[k : k + len(form)]) != form:
                continue
            if f.artifact:
                # A capitalised artifact ("Put up") counts only where the text
                # spells it so, or in capitals.
                if f.spelled is None:
                    return False
                if cased is None:
                    cased = split_words(space_out(text))
                span = tuple(cased[k : k + len(form)])
                if span == f.spelled or all(w.isupper() for w in span):
                    return False
            found[f.group] += 1
    return True


def first_bound(found: Counter[str], idx: QuickIndex, cap: float = GROUP_MAX) -> float:
    """At least the evidence of a text with at most ``found`` forms per group,
    whatever its originals: a group adds at most ``cap`` outside
    quotations and as much inside them."""
    occurrence = idx.occurrence
    return sum(min(n * occurrence[g][0], 2 * cap) for g, n in found.items())


def once_credit(found: Counter[str], present: set[str], idx: QuickIndex) -> float:
    """At most the counter-evidence (nats, <= 0) of the originals in
    ``present`` whose group has no form in ``found`` and one credited word,
    each counted as if it occurred once (more occurrences only add more);
    added to :func:`first_bound`, still at least the evidence (a cheap step
    between it and :func:`credited_bound`)."""
    once = idx.credit_once
    total = sum(map(once.__getitem__, present & idx.credit_once_words))
    for g in found:
        w = idx.once_word.get(g)
        if w is not None and w in present:
            total -= once[w]
    return total


def credited_bound(
    found: Counter[str], toks: list[str], present: set[str], idx: QuickIndex, cap: float = GROUP_MAX
) -> float:
    """Added to :func:`quoted_bound` of the forms inside its quotations, at
    least the evidence :func:`~despin.detection.spin_report` finds in a text
    whose words are ``toks`` (their set: ``present``) and whose forms number
    at most ``found`` per group.

    A group with forms adds ``out(a) + inside(b)``: ``a`` forms outside
    quotations weighed against the ``o`` occurrences of its original (see
    ``detection._llr``), ``b`` forms inside them with no counter-evidence,
    ``a + b`` at most ``found``. ``out`` rises with ``a`` from its value at 0,
    so ``max(out(found), out(0))`` bounds it; ``inside(b)`` is bounded apart
    (:func:`quoted_bound`). A group without forms whose original occurs ``o``
    times adds ``max(bursty(o) * per_orig, GROUP_MIN)``, unless its forms are common
    in clean text (then 0). Only single-word originals are counted: fewer
    only raise the bound.
    """
    total = 0.0
    counts = Counter(toks)
    occurrence = idx.occurrence
    for g, n in found.items():
        per_form, per_orig, common = occurrence[g]
        o = sum(counts[w] for w in idx.group_singles.get(g, ()))
        at_zero = 0.0 if common or not o else max(bursty(o) * per_orig, GROUP_MIN)
        total += max(min(max(n * per_form + bursty(o) * per_orig, GROUP_MIN), cap), at_zero)
    without_forms: Counter[str] = Counter()  # group -> occurrences of its single-word originals
    credit_group = idx.credit_group
    for w in present & idx.credit_words:
        g = credit_group[w]
        if g not in found:
            without_forms[g] += counts[w]
    for g, o in without_forms.items():
        total += max(bursty(o) * occurrence[g][1], GROUP_MIN)
    return total


def quoted_bound(quoted: Counter[str], idx: QuickIndex, cap: float = GROUP_MAX) -> float:
    """The most the forms inside quotations add, at most ``quoted`` per group
    (see :func:`credited_bound`)."""
    return sum(min(b * idx.occurrence[g][0], cap) for g, b in quoted.items())
