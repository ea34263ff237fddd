"""Stage 3: a confidence for every candidate, from named evidence.

For every candidate, :func:`measure` reads the evidence that the fitted
decision model (:mod:`despin.decision`) weighs, each under its name in
:data:`despin.decision.EVIDENCE`: the entry's learned weight (how often the
form is spinner output), how much better each original fits the neighbouring
words than the literal form (the context model), the document's spin score
and the spin evidence of the forms around it, whether it stands in a
quotation or a name and whether this text spins those, its capitals, and
whether the original also stands unspun elsewhere in the text.

The choice among several originals is the decision model's softmax over
their rank in the entry and their context advantage; the edit's confidence
is the model's probability that restoring the chosen original is right.

Artifacts (forms people hardly ever write) are restored whatever the
choice: the literal form is surely wrong. Their confidence is their weight.
Ordinary-English forms are scored only in a text that :mod:`despin.detection`
calls spun.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import accumulate
from typing import Protocol

from .candidates import Candidate
from .decision import SCALES, DecisionModel, features
from .detection import SpinReport, counts_as_evidence, evidence_index
from .lexicon import Lexicon
from .logistic import sigmoid
from .tokenize import Tokens, sentence_initial

__all__ = [
    "ContextScorer",
    "Measured",
    "Scored",
    "decide_one",
    "decide_with_lm",
    "document_term",
    "evidence_of",
    "measure",
    "reread",
    "restored_neighbours",
    "score_artifacts",
]

LOCAL_WINDOW = 40  # tokens each side whose forms make a candidate's local evidence


class ContextScorer(Protocol):
    def advantage_at(
        self, tokens: Tokens, i: int, j: int, literal: str, original: str,
        neighbours: dict[int, str] | None = None,
    ) -> float:
        """Evidence (nats) that ``original`` rather than ``literal`` belongs at tokens i..j."""


class Scored:
    """A candidate with its chosen original, the edit's confidence, a reason,
    and its evidence (named numbers). A measured candidate's evidence is made
    when first read, from what it was measured with, so that the many
    candidates never explained cost no dictionary."""

    __slots__ = ("_evidence", "_from", "cand", "confidence", "original", "reason")

    def __init__(self, cand: Candidate, original: str, confidence: float, reason: str,
                 evidence: dict[str, float] | None = None,
                 measured: tuple[Measured, int, float, Tokens, SpinReport, float] | None = None):
        self.cand, self.original, self.confidence, self.reason = cand, original, confidence, reason
        self._evidence, self._from = evidence, measured

    @property
    def evidence(self) -> dict[str, float]:
        if self._evidence is None:
            self._evidence = {} if self._from is None else _explain(*self._from)
            self._from = None
        return self._evidence


@dataclass(slots=True)
class Measured:
    """What :func:`measure` read for one candidate: the context advantage of
    each original, and what the evidence that does not depend on the choice
    needs (see :func:`evidence_of`); ``base`` is the decision model's sum of
    that evidence (nats, with its intercept)."""

    cand: Candidate
    advantages: list[float]
    frequency: list[float]
    local: float
    unspun: int
    initial: bool
    base: float


def restored_neighbours(chosen: list[Scored]) -> dict[int, str]:
    """Token position -> the word that stands there after the chosen edits
    (first and last word of each restored span), for re-reading context."""
    words: dict[int, str] = {}
    for s in chosen:
        c = s.cand
        if c.i < 0:
            continue
        parts = s.original.lower().split()
        if parts:
            words[c.i] = parts[0]
            words[c.j - 1] = parts[-1]
    return words


def _advantages(
    tokens: Tokens, c: Candidate, model: ContextScorer | None, neighbours: dict[int, str] | None
) -> list[float]:
    return _context(tokens, c, model, neighbours)[0]


def _context(
    tokens: Tokens, c: Candidate, model: ContextScorer | None, neighbours: dict[int, str] | None
) -> tuple[list[float], list[float]]:
    """For each original: its context advantage over the literal form (nats),
    and the part of it that is the two wordings' own frequency (where the
    model tells them apart: ``window_scores`` with a ``unigram`` part)."""
    if model is None or c.i < 0:
        return [0.0] * len(c.originals), [0.0] * len(c.originals)
    literal = tokens.text[c.start : c.end]
    window_scores = getattr(model, "window_scores", None)
    if window_scores is None:
        return [model.advantage_at(tokens, c.i, c.j, literal, o, neighbours) for o in c.originals], [0.0] * len(
            c.originals)
    lit, *alts = window_scores(tokens, c.i, c.j, (literal, *c.originals), neighbours)
    unknown = lit.oov
    advantages = [0.0 if unknown or a.oov else a.total - lit.total for a in alts]
    frequency = [0.0 if unknown or a.oov else a.unigram - lit.unigram for a in alts]
    return advantages, frequency


def _local_evidence(candidates: Sequence[Candidate], lexicon: Lexicon) -> list[float]:
    """For each candidate, the detection evidence (nats) of the other counted
    forms within LOCAL_WINDOW tokens of it."""
    idx = evidence_index(lexicon)
    pos, llr = [], []
    for c in candidates:
        e = c.entry
        if c.i >= 0 and e is not None and counts_as_evidence(e):
            occ = idx.occurrence.get(e.originals[0].lower())
            if occ is not None:
                pos.append(c.i)
                llr.append(occ[0])
    sums = [0.0, *accumulate(llr)]
    out = []
    for c in candidates:
        if c.i < 0:
            out.append(0.0)
            continue
        lo, hi = bisect_left(pos, c.i - LOCAL_WINDOW), bisect_right(pos, c.i + LOCAL_WINDOW)
        own = bisect_left(pos, c.i)
        total = sums[hi] - sums[lo]
        if own < hi and pos[own] == c.i:
            total -= llr[own]
        out.append(total)
    return out


def evidence_of(c: Candidate, report: SpinReport, local: float, unspun: int, initial: bool, capital: bool,
                document: float) -> dict[str, float]:
    """The named evidence of a candidate that does not depend on the choice
    among its originals (:data:`despin.decision.EVIDENCE` but context and choice)."""
    e = c.entry
    tags = e.tags if e is not None else frozenset()
    return {
        "prior": c.weight,
        "learned": float("learned" in tags),
        "inflected": float("inflected" in tags),
        "originals": float(len(c.originals)),
        "document": document,
        "local": local,
        "quote": float(c.in_quote),
        "name": float(c.in_name),
        "name_unspun": float(c.in_name and not report.names_spun),
        "cased": float(e is not None and e.cased),
        "capital": float(capital),
        "initial": float(initial),
        "unspun_original": float(unspun),
        "multiword": float(c.j - c.i > 1),
        "numeral": float(c.rule == "numeral"),
    }


def document_term(report: SpinReport) -> float:
    """The document evidence: its spin score."""
    return report.score


def measure(
    tokens: Tokens,
    candidates: Sequence[Candidate],
    report: SpinReport,
    lexicon: Lexicon,
    decision: DecisionModel,
    model: ContextScorer | None = None,
    original_counts: Counter[str] | None = None,
) -> list[Measured]:
    """What every ordinary-English (not artifact) candidate needs for its
    decision. The model's sum over the choice-free evidence is computed in
    parts: what the entry alone sets is summed once per entry."""
    local = _local_evidence(candidates, lexicon)
    document = document_term(report)
    prefetch = getattr(model, "prefetch", None)
    if prefetch is not None:  # a scorer that reads slots in batches (the neural one) reads them all now
        prefetch([(tokens, c.i, c.j, (tokens.text[c.start : c.end], *c.originals), None)
                  for c in candidates if c.i >= 0 and c.klass != "artifact" and not _left_alone(c, report)])
    w = decision.weights
    fixed = decision.intercept + w.get("document", 0.0) * SCALES["document"](document)
    per_entry: dict[int, float] = {}
    out = []
    for c, loc in zip(candidates, local, strict=True):
        if c.klass == "artifact" or _left_alone(c, report):
            continue
        unspun = min(original_counts.get(c.originals[0].lower(), 0), 3) if original_counts else 0
        initial = c.i >= 0 and sentence_initial(tokens, c.i)
        capital = c.i >= 0 and tokens.words[c.i][:1].isupper()
        key = id(c.entry) if c.entry is not None else -len(c.originals)
        part = per_entry.get(key)
        if part is None or c.entry is None:
            x = features(evidence_of(c, report, 0.0, 0, False, False, 0.0))
            part = sum(w.get(k, 0.0) * x[k] for k in _ENTRY_EVIDENCE)
            per_entry[key] = part
        z = fixed + part + w.get("local", 0.0) * loc + w.get("unspun_original", 0.0) * unspun
        z += w.get("initial", 0.0) * initial + w.get("capital", 0.0) * capital
        z += w.get("quote", 0.0) * c.in_quote + w.get("name", 0.0) * c.in_name
        z += w.get("name_unspun", 0.0) * (c.in_name and not report.names_spun)
        out.append(Measured(c, *_context(tokens, c, model, None), loc, unspun, initial, z))
    return out


# The evidence an entry alone sets (with the rule: numerals have no entry).
_ENTRY_EVIDENCE = ("prior", "learned", "inflected", "originals", "cased", "multiword", "numeral")


def _left_alone(c: Candidate, report: SpinReport) -> bool:
    """Whether this text shows that the spinner left alone the kind of span the
    candidate stands in: a quotation when its quotations show clearly less
    spin than the rest, a name when it shows no spun names (unless the entry
    is a cased name form, which is evidence of its own)."""
    if c.in_quote and not report.quotes_spun:
        return True
    return c.in_name and not report.names_spun and not (c.entry is not None and c.entry.cased)


def _artifact(tokens: Tokens, c: Candidate, model: ContextScorer | None, decision: DecisionModel) -> Scored:
    original, evidence = c.originals[0], {"prior": c.weight}
    if len(c.originals) > 1:
        probs = decision.choice(_advantages(tokens, c, model, None))
        best = max(range(len(probs)), key=probs.__getitem__)
        original, evidence["choice"] = c.originals[best], probs[best]
    reason = "spintax leftover" if c.rule == "spintax" else "spinner artifact"
    return Scored(c, original, c.weight, reason, evidence)


def decide_one(m: Measured, decision: DecisionModel, tokens: Tokens, report: SpinReport) -> Scored:
    """The chosen original and the edit's confidence for one measured candidate."""
    probs = decision.choice(m.advantages)
    best = max(range(len(probs)), key=probs.__getitem__)
    context, frequency = decision.clip_context(m.advantages[best]), decision.clip_context(m.frequency[best])
    w = decision.weights
    z = m.base + w.get("context", 0.0) * context + w.get("frequency", 0.0) * frequency
    z += w.get("choice", 0.0) * SCALES["choice"](probs[best])
    c = m.cand
    reason = "spelled-out number" if c.rule == "numeral" else "synonym in a spun text"
    explained = (m, best, probs[best], tokens, report, decision.clip)
    return Scored(c, c.originals[best], sigmoid(z), reason, measured=explained)


def _explain(m: Measured, best: int, choice: float, tokens: Tokens, report: SpinReport, clip: float,
             lm: float | None = None) -> dict[str, float]:
    """The named evidence of a decided candidate (see :func:`decide_one`), which
    chose its ``best`` original."""
    c = m.cand
    capital = c.i >= 0 and tokens.words[c.i][:1].isupper()
    ev = evidence_of(c, report, m.local, m.unspun, m.initial, capital, document_term(report))

    def bounded(x: float) -> float:
        return max(-clip, min(clip, x))

    out = {**ev, "context": bounded(m.advantages[best]), "frequency": bounded(m.frequency[best]), "choice": choice}
    if lm is not None:
        out["lm"] = lm
    return out


def decide_with_lm(m: Measured, model: DecisionModel, lm: list[float], tokens: Tokens, report: SpinReport) -> Scored:
    """The decision of the ``context="lm"`` model (a decision model's ``lm``
    part) for a measured candidate, given the neural language model's
    advantage of each original over the literal form (``lm``)."""
    probs = model.choice(m.advantages, lm)
    best = max(range(len(probs)), key=probs.__getitem__)
    evidence = _explain(m, best, probs[best], tokens, report, model.clip, model.clip_context(lm[best]))
    c = m.cand
    reason = "spelled-out number" if c.rule == "numeral" else "synonym in a spun text (neural context)"
    return Scored(c, c.originals[best], model.confidence(evidence), reason, evidence)


def score_artifacts(
    tokens: Tokens, candidates: Sequence[Candidate], model: ContextScorer | None, decision: DecisionModel
) -> list[Scored]:
    """The artifact candidates, scored (their confidence is their weight)."""
    return [_artifact(tokens, c, model, decision) for c in candidates if c.klass == "artifact"]


def reread(tokens: Tokens, m: Measured, model: ContextScorer, neighbours: dict[int, str]) -> None:
    """Read the context of a measured candidate's originals again, with the
    restored ``neighbours`` (from :func:`restored_neighbours`) in place."""
    m.advantages, m.frequency = _context(tokens, m.cand, model, neighbours)
