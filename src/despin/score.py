"""Stage 3: a confidence for every candidate.

Three kinds of evidence are combined:

* the lexicon prior: the entry's weight, how often this form is spinner
  output when it occurs in a spun text;
* the local context: how much better the original fits the neighbouring
  words than the literal form does (a log-likelihood ratio from the context
  model, zero without one);
* the document: its spin score from :mod:`despin.detection`, and whether the
  original wording also appears unspun elsewhere in the text (then the
  spinner evidently left it alone there).

Artifacts (forms people hardly ever write) get their weight as confidence:
the literal form is surely wrong, so they are restored whichever original
the choice settles on. For ordinary-English forms a confidence is the
probability that the edit is right: that the span is spinner output,
``spin * sigmoid(logit(prior) + context)``, times the probability that the
chosen original is the one it replaced (:func:`choice_probability`, 1 for a
single original). They get none at all in a text that does not look spun, or
inside quotations and names when this text leaves those unspun.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Protocol

from .candidates import Candidate
from .detection import SpinReport
from .logistic import logit, sigmoid
from .tokenize import Tokens

__all__ = ["RANK_PRIOR", "ContextScorer", "Scored", "choice_probability", "restored_neighbours", "score_candidates"]

_CONTEXT_CLIP = 4.0
# Log prior odds (nats) of each original against the one listed before it.
RANK_PRIOR = 0.7
# Each unspun occurrence of the original elsewhere in the text (up to 3) lowers
# the log-odds that this occurrence of the form is spinner output.
UNSPUN_ORIGINAL_PENALTY = 0.7


class ContextScorer(Protocol):
    def advantage_at(
        self, tokens: Tokens, i: int, j: int, literal: str, original: str,
        neighbours: dict[int, str] | None = None,
    ) -> float:
        """Evidence (nats) that ``original`` rather than ``literal`` belongs at tokens i..j."""


@dataclass
class Scored:
    cand: Candidate
    original: str
    confidence: float
    reason: str
    evidence: dict[str, float] = field(default_factory=dict)


def choice_probability(scores: list[float], best: float) -> float:
    """The posterior probability of the best-scoring original: a softmax over the
    originals' scores (log prior by rank plus context log-likelihood ratio, in
    nats), whose maximum is ``best``."""
    return 1.0 / sum(math.exp(x - best) for x in scores)


def _weight(model: ContextScorer) -> float:
    """Log-odds per nat of the model's evidence: its ``evidence_weight`` if it
    has one (the n-gram model's, see despin.context), else 1."""
    return float(getattr(model, "evidence_weight", 1.0))


def _choose_original(
    tokens: Tokens, c: Candidate, model: ContextScorer | None, neighbours: dict[int, str] | None = None
) -> tuple[str, float, float]:
    """The best original for a candidate, its context advantage over the literal
    form (nats), and the probability that it is the right one of the originals."""
    originals = c.originals
    if len(originals) == 1:
        if model is None or c.i < 0:
            return originals[0], 0.0, 1.0
        literal = tokens.text[c.start : c.end]
        adv = _weight(model) * model.advantage_at(tokens, c.i, c.j, literal, originals[0], neighbours)
        return originals[0], max(-_CONTEXT_CLIP, min(_CONTEXT_CLIP, adv)), 1.0
    if model is None or c.i < 0:  # the rank prior alone
        return originals[0], 0.0, choice_probability([-RANK_PRIOR * r for r in range(len(originals))], 0.0)
    literal = tokens.text[c.start : c.end]
    best, best_score, best_adv = originals[0], -math.inf, 0.0
    scores = []
    weight = _weight(model)
    for rank, o in enumerate(originals):
        adv = weight * model.advantage_at(tokens, c.i, c.j, literal, o, neighbours)
        s = adv - RANK_PRIOR * rank  # earlier originals are more likely a priori
        scores.append(s)
        if s > best_score:
            best, best_score, best_adv = o, s, adv
    return best, max(-_CONTEXT_CLIP, min(_CONTEXT_CLIP, best_adv)), choice_probability(scores, best_score)


def _document_evidence(c: Candidate, original_counts: Counter[str] | None) -> float:
    """Nats against restoring when the original wording also appears unspun in the text."""
    if not original_counts:
        return 0.0
    n = original_counts.get(c.originals[0].lower(), 0)
    return -UNSPUN_ORIGINAL_PENALTY * min(n, 3)


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


def _reads_context(c: Candidate, report: SpinReport) -> bool:
    """Whether :func:`score_candidates` asks the context model about ``c``."""
    if c.i < 0:
        return False
    if c.klass == "artifact":
        return len(c.originals) > 1
    if not report.spun or (c.in_quote and not report.quotes_spun):
        return False
    return not (c.in_name and not report.names_spun and not (c.entry is not None and c.entry.cased))


def _context_requests(
    tokens: Tokens, candidates: list[Candidate], report: SpinReport, neighbours: dict[int, str] | None
) -> list[tuple[Tokens, int, int, tuple[str, ...], dict[int, str] | None]]:
    """The slots (tokens, i, j, literal and originals, neighbours) that scoring
    ``candidates`` will ask the context model about."""
    return [
        (tokens, c.i, c.j, (tokens.text[c.start : c.end], *c.originals),
         None if c.klass == "artifact" else neighbours)
        for c in candidates
        if _reads_context(c, report)
    ]


def score_candidates(
    tokens: Tokens,
    candidates: list[Candidate],
    report: SpinReport,
    model: ContextScorer | None = None,
    original_counts: Counter[str] | None = None,
    neighbours: dict[int, str] | None = None,
) -> list[Scored]:
    """Score every candidate; candidates that cannot be edited get no Scored entry.

    ``neighbours`` (from :func:`restored_neighbours`) lets the context model
    read restored words next to a candidate instead of spun ones. A model
    with a ``prefetch`` method (the neural scorer) is first given every slot
    it will be asked about, to read them in one batch.
    """
    out: list[Scored] = []
    spin = report.score
    doc_spun = report.spun
    prefetch = getattr(model, "prefetch", None)
    if prefetch is not None:  # a scorer that reads slots in batches (the neural one) reads them all now
        prefetch(_context_requests(tokens, candidates, report, neighbours))
    for c in candidates:
        if c.klass == "artifact":
            if len(c.originals) > 1:
                original, _, choice = _choose_original(tokens, c, model)
            else:
                original, choice = c.originals[0], 1.0
            reason = "spintax leftover" if c.rule == "spintax" else "spinner artifact"
            evidence = {"prior": c.weight}
            if choice < 1.0:
                evidence["choice"] = choice
            # The literal form is surely wrong, so any original is at least as
            # good: an artifact's edit does not wait on the choice.
            out.append(Scored(c, original, c.weight, reason, evidence))
            continue
        if not doc_spun:
            continue
        if c.in_quote and not report.quotes_spun:
            continue
        if c.in_name and not report.names_spun and not (c.entry is not None and c.entry.cased):
            continue
        original, adv, choice = _choose_original(tokens, c, model, neighbours)
        doc_adv = _document_evidence(c, original_counts)
        base = sigmoid(logit(c.weight) + adv + doc_adv)
        conf = spin * base * choice
        reason = "spelled-out number" if c.rule == "numeral" else "synonym in a spun text"
        evidence = {"prior": c.weight, "context": adv, "document": spin}
        if choice < 1.0:
            evidence["choice"] = choice
        if doc_adv:
            evidence["unspun_original"] = doc_adv
        out.append(Scored(c, original, conf, reason, evidence))
    return out
