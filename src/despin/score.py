"""Stage 3: a confidence for every candidate.

Three kinds of evidence are combined:

* the lexicon prior: the entry's weight, how often this form is spinner
  output when it occurs in a spun text;
* the local context: how much better the original fits the neighbouring
  words than the literal form does (a log-likelihood ratio from the context
  model, zero without one);
* the document: its spin score from :mod:`despin.detect`, and whether the
  original wording also appears unspun elsewhere in the text (then the
  spinner evidently left it alone there).

Artifacts (forms people hardly ever write) get their weight as confidence.
Ordinary-English forms get ``spin * sigmoid(logit(prior) + context)``, and
none at all in a text that does not look spun, or inside quotations and
names when this text leaves those unspun.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Protocol

from .candidates import Candidate
from .detect import SpinReport
from .tokenize import Tokens

__all__ = ["Scored", "ContextScorer", "score_candidates", "restored_neighbours"]

_CONTEXT_CLIP = 4.0
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


def _logit(p: float) -> float:
    p = min(max(p, 1e-6), 1 - 1e-6)
    return math.log(p / (1 - p))


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x)) if x >= 0 else math.exp(x) / (1.0 + math.exp(x))


def _choose_original(
    tokens: Tokens, c: Candidate, model: ContextScorer | None, neighbours: dict[int, str] | None = None
) -> tuple[str, float]:
    """The best original for a candidate and its context advantage over the literal form (nats)."""
    if model is None or c.i < 0:
        return c.originals[0], 0.0
    literal = tokens.text[c.start : c.end]
    best, best_score, best_adv = c.originals[0], -math.inf, 0.0
    for rank, o in enumerate(c.originals):
        adv = model.advantage_at(tokens, c.i, c.j, literal, o, neighbours)
        s = adv - 0.7 * rank  # earlier originals are more likely a priori
        if s > best_score:
            best, best_score, best_adv = o, s, adv
    return best, max(-_CONTEXT_CLIP, min(_CONTEXT_CLIP, best_adv))


def _document_evidence(c: Candidate, original_counts: Counter | None) -> float:
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


def score_candidates(
    tokens: Tokens,
    candidates: list[Candidate],
    report: SpinReport,
    model: ContextScorer | None = None,
    original_counts: Counter | None = None,
    neighbours: dict[int, str] | None = None,
) -> list[Scored]:
    """Score every candidate; candidates that cannot be edited get no Scored entry.

    ``neighbours`` (from :func:`restored_neighbours`) lets the context model
    read restored words next to a candidate instead of spun ones.
    """
    out: list[Scored] = []
    spin = report.score
    doc_spun = report.spun
    for c in candidates:
        if c.klass == "artifact":
            original, adv = _choose_original(tokens, c, model) if len(c.originals) > 1 else (c.originals[0], 0.0)
            reason = "spintax leftover" if c.rule == "spintax" else "spinner artifact"
            out.append(Scored(c, original, c.weight, reason, {"prior": c.weight}))
            continue
        if not doc_spun:
            continue
        if c.in_quote and not report.quotes_spun:
            continue
        if c.in_name and not report.names_spun and not (c.entry is not None and c.entry.cased):
            continue
        original, adv = _choose_original(tokens, c, model, neighbours)
        doc_adv = _document_evidence(c, original_counts)
        base = _sigmoid(_logit(c.weight) + adv + doc_adv)
        conf = spin * base
        reason = "spelled-out number" if c.rule == "numeral" else "synonym in a spun text"
        evidence = {"prior": c.weight, "context": adv, "document": spin}
        if doc_adv:
            evidence["unspun_original"] = doc_adv
        out.append(Scored(c, original, conf, reason, evidence))
    return out
