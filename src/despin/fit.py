"""Fit the decision model (:mod:`despin.decision`) on spun/original pairs.

Every candidate despin finds in a spun text of a pair is labelled from the
pair's alignment (:func:`despin.learn.align_pair`): restoring original
``o`` there is right when ``o``'s words stand in the gold where the
candidate's words stand (:func:`label`). The evidence of each candidate is
measured by the same code that restores (:func:`despin.score.measure`).

Two models are fitted, in turn, by maximum likelihood with a small L2
penalty (Newton's method, numpy):

* the choice among originals, on candidates with several originals one of
  which is right: a conditional logit over rank and context advantage;
* the edit, on every measured candidate: a logistic regression of "the
  chosen original is right" on the named evidence.

Learned lexicon entries would look better on the pairs they were learned
from than on new ones, so features are *cross-fitted*: the pairs are split
by story group, and each group's candidates are measured with a lexicon
learned from the other groups only (:func:`fit_decisions`).
"""

from __future__ import annotations

import math
import os
import random
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from .candidates import Candidate, scan
from .decision import EVIDENCE, SHORT_WORDS, DecisionModel, DetectionParams, features
from .detection import spin_report
from .errors import DespinError
from .learn import Alignment, LineAlignment, Pair, align_pair
from .pipeline import lm_advantages
from .score import document_term, evidence_of, measure
from .tokenize import WORD_RE, tokenize

if TYPE_CHECKING:
    from .lm import LMScorer
    from .restorer import Restorer

__all__ = [
    "Example",
    "examples",
    "fit_choice",
    "fit_decisions",
    "fit_detection",
    "fit_edit",
    "fit_lm_part",
    "group_folds",
    "label",
    "learned_restorer_factory",
    "neural_scorer",
    "windows",
]

L2 = 1.0  # ridge penalty on every coefficient but the intercept
CLIP = 8.0  # context advantages beyond this many nats say no more


@dataclass
class Example:
    """One measured candidate: its evidence (choice-independent), the context
    advantage of each original, and which originals restore the gold."""

    evidence: dict[str, float]
    advantages: list[float]
    correct: frozenset[int]
    where: str = ""
    lm: list[float] | None = None  # the neural language model's advantages, when read
    frequency: list[float] | None = None  # the frequency part of each context advantage


def _lower_words(s: str) -> list[str]:
    return [w.lower() for w in WORD_RE.findall(s)]


def label(alignment: Alignment, candidates: Sequence[Candidate]) -> list[frozenset[int]]:
    """For each candidate, the indices of its originals that restore the gold.

    A candidate overlapping a block of changes is widened to the whole block;
    original ``o`` is right if its words stand in the block's gold where the
    candidate stands: first if nothing of the block precedes the candidate,
    last if nothing follows it. Candidates on unchanged words, or outside the
    aligned lines, have none."""
    starts: dict[int, tuple[int, int]] = {}
    ends: dict[int, tuple[int, int]] = {}
    for li, la in enumerate(alignment.lines):
        toks = tokenize(la.text)
        for k, (s, e) in enumerate(zip(toks.starts, toks.ends, strict=True)):
            starts[la.offset + s] = (li, k)
            ends[la.offset + e] = (li, k)
    out: list[frozenset[int]] = []
    for c in candidates:
        a, b = starts.get(c.start), ends.get(c.end)
        if a is None or b is None or a[0] != b[0]:
            out.append(frozenset())
            continue
        out.append(_right_originals(alignment.lines[a[0]], a[1], b[1] + 1, c.originals))
    return out


def _right_originals(la: LineAlignment, ti: int, tj: int, originals: Sequence[str]) -> frozenset[int]:
    blocks = [op for op in la.ops if not op[0] and (op[1] < tj and ti < op[2] or op[1] == op[2] and ti <= op[1] <= tj)]
    if not blocks:
        return frozenset()
    lo, hi = min([ti] + [op[1] for op in blocks]), max([tj] + [op[2] for op in blocks])
    unchanged = {s1 + q: d1 + q for eq, s1, s2, d1, _ in la.ops if eq for q in range(s2 - s1)}
    g1 = unchanged[lo] if lo in unchanged else next((op[3] for op in blocks if op[1] == lo), None)
    g2 = unchanged[hi - 1] + 1 if hi - 1 in unchanged else next((op[4] for op in blocks if op[2] == hi), None)
    if g1 is None or g2 is None or g2 < g1:
        return frozenset()
    gold = [w.lower() for w in la.orig[g1:g2]]
    before, after = ti - lo, hi - tj
    right = set()
    for r, o in enumerate(originals):
        words = _lower_words(o)
        n = len(words)
        for p in range(len(gold) - n + 1):
            if gold[p : p + n] == words and (p == 0) == (before == 0) and (p + n == len(gold)) == (after == 0):
                right.add(r)
                break
    return frozenset(right)


def examples(restorer: Restorer, pairs: Iterable[Pair], lm: LMScorer | None = None) -> list[Example]:
    """The measured, labelled candidates of the spun texts of ``pairs``, as
    ``restorer`` (its lexicon and context model) sees them; with ``lm``, also
    the neural language model's advantages. Every spun text counts, whatever
    detection says of it (so that fitting does not depend on the detection
    parameters of the model fitted before)."""
    lexicon, model = restorer.lexicon, restorer.model
    out: list[Example] = []
    for pair in pairs:
        report = spin_report(pair.spun, lexicon, restorer.config.spin_threshold, params=restorer.decision.detection)
        tokens = tokenize(pair.spun)
        found = scan(tokens, lexicon, restorer.config.numerals)
        labels = label(align_pair(pair), found.candidates)
        right = {id(c): lab for c, lab in zip(found.candidates, labels, strict=True)}
        document = document_term(report)
        measured = measure(tokens, found.candidates, report, lexicon, restorer.decision, model, found.original_counts)
        neural = lm_advantages(lm, tokens, measured) if lm is not None else [None] * len(measured)
        for m, adv in zip(measured, neural, strict=True):
            c = m.cand
            capital = c.i >= 0 and tokens.words[c.i][:1].isupper()
            evidence = evidence_of(c, report, m.local, m.unspun, m.initial, capital, document)
            out.append(Example(evidence, m.advantages, right[id(c)], f"{pair.name}:{c.start}", adv, m.frequency))
    return out


# -- fitting ---------------------------------------------------------------------------------


def _newton(grad_hess: Callable[[Any], tuple[Any, Any, float]], dim: int, iters: int = 100) -> Any:
    """Minimise a smooth convex loss given its gradient and Hessian."""
    import numpy as np

    w = np.zeros(dim)
    for _ in range(iters):
        g, h, _ = grad_hess(w)
        step = np.linalg.solve(h + 1e-9 * np.eye(dim), g)
        w = w - step
        if float(np.abs(step).max()) < 1e-9:
            break
    return w


def fit_choice(data: Sequence[Example], clip: float = 4.0, use_lm: bool = False) -> tuple[float, float, float]:
    """(rank_cost, context_weight, lm_weight) of the softmax choice, fitted on
    candidates with several originals of which some are right (``lm_weight``
    0 unless ``use_lm``: then the examples' neural advantages count too)."""
    import numpy as np

    rows = [ex for ex in data if len(ex.advantages) > 1 and ex.correct and (ex.lm is not None or not use_lm)]
    if not rows:
        return 0.7, 1.0, 0.0

    def row(ex: Example) -> Any:
        cols = [[-float(r), max(-clip, min(clip, a))] for r, a in enumerate(ex.advantages)]
        if use_lm:
            assert ex.lm is not None
            cols = [c + [max(-clip, min(clip, b))] for c, b in zip(cols, ex.lm, strict=True)]
        return np.array(cols)

    feats = [row(ex) for ex in rows]
    dim = 3 if use_lm else 2

    def grad_hess(w: Any) -> tuple[Any, Any, float]:
        g, h, loss = L2 * w, L2 * np.eye(dim), 0.5 * L2 * float(w @ w)
        for x, ex in zip(feats, rows, strict=True):
            p = np.exp(x @ w - (x @ w).max())
            p /= p.sum()
            mask = np.zeros(len(p))
            mask[list(ex.correct)] = 1.0
            q = p * mask / (p * mask).sum()  # posterior over the right ones
            mean_p, mean_q = p @ x, q @ x
            g += mean_p - mean_q
            h += (x * p[:, None]).T @ x - np.outer(mean_p, mean_p) - ((x * q[:, None]).T @ x - np.outer(mean_q, mean_q))
            loss -= math.log(float((p * mask).sum()))
        return g, h, loss

    w = _newton(grad_hess, dim)
    return float(w[0]), float(w[1]), float(w[2]) if use_lm else 0.0


def fit_edit(data: Sequence[Example], choice: DecisionModel) -> tuple[float, dict[str, float]]:
    """(intercept, weights) of the edit model: logistic regression of "the
    chosen original is right" on the evidence (with ``choice``'s choice)."""
    import numpy as np

    use_lm = bool(choice.lm_weight)
    names = [n for n in EVIDENCE if use_lm or n != "lm"]
    x_rows, y = [], []
    for ex in data:
        probs = choice.choice(ex.advantages, ex.lm if use_lm else None)
        best = max(range(len(probs)), key=probs.__getitem__)
        ev = dict(ex.evidence, context=choice.clip_context(ex.advantages[best]), choice=probs[best])
        if ex.frequency is not None:
            ev["frequency"] = choice.clip_context(ex.frequency[best])
        if use_lm and ex.lm is not None:
            ev["lm"] = choice.clip_context(ex.lm[best])
        scaled = features(ev)
        x_rows.append([1.0] + [scaled.get(n, 0.0) for n in names])
        y.append(1.0 if best in ex.correct else 0.0)
    x, t = np.array(x_rows), np.array(y)
    ridge = L2 * np.eye(x.shape[1])
    ridge[0, 0] = 0.0

    def grad_hess(w: Any) -> tuple[Any, Any, float]:
        p = 1.0 / (1.0 + np.exp(-(x @ w)))
        return x.T @ (p - t) + ridge @ w, (x * (p * (1 - p))[:, None]).T @ x + ridge, 0.0

    w = _newton(grad_hess, x.shape[1])
    return float(w[0]), {n: round(float(v), 6) for n, v in zip(names, w[1:], strict=True)}


def windows(
    text: str, rng: random.Random, sizes: Sequence[tuple[int, int]] = ((10, 40), (50, 100), (150, 300))
) -> list[str]:
    """Pieces of a text cut at whitespace: the whole text first and, for each
    (shortest, longest) size range it is longer than, one window of a random
    length in that range at a random place."""
    words = text.split()
    out = [text]
    for lo, hi in sizes:
        if len(words) > hi:
            n = rng.randint(lo, hi)
            start = rng.randint(0, len(words) - n)
            out.append(" ".join(words[start : start + n]))
    return out


Measured = tuple[float, int, bool]  # a text's evidence (nats), its words, and whether it is a whole text


def _evidence(restorer: Restorer, texts: Iterable[str], rng: random.Random) -> list[Measured]:
    """(llr, words, whole) of each text and of its windows, as ``restorer``'s detection counts them."""
    lexicon, threshold = restorer.lexicon, restorer.config.spin_threshold
    out = []
    for text in texts:
        for k, piece in enumerate(windows(text, rng)):
            report = spin_report(piece, lexicon, threshold, params=restorer.decision.detection)
            out.append((report.llr, report.words, k == 0))
    return out


MIN_WORDS = 50  # spun texts shorter than this do not set the detection threshold


def fit_detection(spun: Sequence[Measured], clean: Sequence[Measured]) -> DetectionParams:
    """Detection's score from the (llr, words, whole) of spun and of clean texts.

    The slope and the drift per word come from a logistic regression of
    "spun" on the evidence and the length (texts and windows, the two classes
    weighed alike). The threshold (``offset``) then puts do-no-harm first: it
    stands midway between the highest clean whole text and the lowest spun
    whole text of at least MIN_WORDS words, or, where they overlap, just above
    every clean whole text. A term for texts under SHORT_WORDS words (fitted
    on windows of 10 to 40 words too) asks more evidence of them."""
    import numpy as np

    def short(words: int) -> float:
        return max(0.0, 1.0 - words / SHORT_WORDS)

    x = np.array([[1.0, llr, words / 1000.0, short(words)] for llr, words, _ in [*spun, *clean]])
    t = np.array([1.0] * len(spun) + [0.0] * len(clean))
    weight = np.array([0.5 / max(len(spun), 1)] * len(spun) + [0.5 / max(len(clean), 1)] * len(clean))
    ridge = 1e-3 * np.eye(4)
    ridge[0, 0] = 0.0

    def grad_hess(w: Any) -> tuple[Any, Any, float]:
        p = 1.0 / (1.0 + np.exp(-(x @ w)))
        return x.T @ (weight * (p - t)) + ridge @ w, (x * (weight * p * (1 - p))[:, None]).T @ x + ridge, 0.0

    _, a, b, c = (float(v) for v in _newton(grad_hess, 4))
    if a <= 0:
        raise DespinError("detection cannot be fitted: spun texts show no more evidence than clean ones")
    drift, penalty = max(-b / a, 0.0), max(-c / a, 0.0)

    def net(llr: float, words: int) -> float:
        return llr - drift * words / 1000.0 - penalty * short(words)

    top_clean = max(net(llr, words) for llr, words, whole in clean if whole)
    spun_whole = [net(llr, words) for llr, words, whole in spun if whole and words >= MIN_WORDS]
    low_spun = min(spun_whole, default=top_clean)
    offset = (top_clean + low_spun) / 2 if low_spun > top_clean else top_clean + 0.5
    return DetectionParams(scale=a, offset=offset, drift=drift, short=penalty)


def group_folds(pairs: Sequence[Pair], k: int) -> list[list[Pair]]:
    """``k`` folds of whole story groups, balanced by pair count (largest
    groups first, each to the lightest fold; ties by name, so the split is
    the same on every run)."""
    sizes: dict[str, int] = {}
    for p in pairs:
        sizes[p.group] = sizes.get(p.group, 0) + 1
    load = [0] * k
    where: dict[str, int] = {}
    for g in sorted(sizes, key=lambda g: (-sizes[g], g)):
        f = min(range(k), key=lambda i: (load[i], i))
        where[g] = f
        load[f] += sizes[g]
    return [[p for p in pairs if where[p.group] == f] for f in range(k)]


RestorerFor = Callable[[Sequence[Pair]], "Restorer"]


def fit_decisions(
    pairs: Sequence[Pair],
    restorer_for: RestorerFor,
    folds: int = 4,
    provenance: str = "",
    clean: Sequence[str] = (),
    unpaired: Sequence[Pair] = (),
    seed: int = 0,
    lm: LMScorer | None = None,
) -> DecisionModel:
    """Fit the decision model on ``pairs``, cross-fitted: each fold of story
    groups is measured by ``restorer_for(the other pairs)`` (a restorer whose
    lexicon was learned without them).

    With ``lm`` (a neural scorer), the model's ``lm`` part is fitted too, on
    the same candidates with the neural advantages (:func:`fit_lm_part`).

    With ``clean`` texts, detection's score is fitted too (:func:`fit_detection`):
    the spun texts of the pairs and the ``unpaired`` spun texts (each with a
    restorer that did not learn its story group) against the clean texts,
    each whole and in shorter windows (:func:`windows`)."""
    rng = random.Random(seed)
    data: list[Example] = []
    spun_evidence: list[Measured] = []
    split = group_folds(pairs, folds) if folds > 1 else [list(pairs)]
    last: Restorer | None = None
    for held in split:
        rest = [p for p in pairs if p not in held] if folds > 1 else list(pairs)
        last = restorer_for(rest)
        data += examples(last, held, lm)
        groups = {p.group for p in held}
        texts = [p.spun for p in held] + [u.spun for u in unpaired if u.group in groups]
        spun_evidence += _evidence(last, texts, rng)
    known = {p.group for p in pairs}
    if last is not None:  # unpaired texts of groups no pair has: no fold learned them
        spun_evidence += _evidence(last, [u.spun for u in unpaired if u.group not in known], rng)
    clip = CLIP
    rank_cost, context_weight, _ = fit_choice(data, clip)
    choice = DecisionModel(0.0, {}, rank_cost, context_weight, clip)
    intercept, weights = fit_edit(data, choice)
    primary = DecisionModel(intercept, weights, rank_cost, context_weight, clip)
    fitted: dict[str, Any] = {"pairs": len(pairs), "groups": len(known), "candidates": len(data),
                              "right": sum(1 for ex in data if ex.correct), "folds": folds}
    detection = DetectionParams()
    if clean and last is not None:
        everything = restorer_for(pairs)
        clean_evidence = _evidence(everything, clean, rng)
        detection = fit_detection(spun_evidence, clean_evidence)
        fitted.update(spun_texts=len(spun_evidence), clean_texts=len(clean_evidence))
    lm_part = fit_lm_part(data, primary) if lm is not None else None
    return replace(primary, provenance=provenance, fitted=fitted, detection=detection, lm=lm_part)


def fit_lm_part(data: Sequence[Example], primary: DecisionModel, coverage: float = 0.98) -> DecisionModel:
    """The ``context="lm"`` model: choice and edit fitted with the neural
    advantages, and the band of the ``primary`` model's confidence within
    which the two disagree on ``coverage`` of the candidates where they do
    (the others keep the primary's decision, without the neural model)."""
    rank_cost, context_weight, lm_weight = fit_choice(data, primary.clip, use_lm=True)
    choice = DecisionModel(0.0, {}, rank_cost, context_weight, primary.clip, lm_weight=lm_weight)
    intercept, weights = fit_edit(data, choice)
    model = replace(choice, intercept=intercept, weights=weights)
    differ = []
    for ex in data:
        if ex.lm is None:
            continue
        first, second = _decision(primary, ex, None), _decision(model, ex, ex.lm)
        if (first[1] >= 0.5) != (second[1] >= 0.5) or (second[1] >= 0.5 and first[0] != second[0]):
            differ.append(first[1])
    differ.sort()
    if not differ:
        return replace(model, band=(0.5, 0.5))
    cut = (1.0 - coverage) / 2
    lo, hi = differ[int(cut * (len(differ) - 1))], differ[int((1 - cut) * (len(differ) - 1))]
    return replace(model, band=(round(lo, 4), round(hi, 4)))


def _decision(model: DecisionModel, ex: Example, lm: list[float] | None) -> tuple[int, float]:
    """The original ``model`` chooses for an example, and its confidence."""
    probs = model.choice(ex.advantages, lm)
    best = max(range(len(probs)), key=probs.__getitem__)
    ev = dict(ex.evidence, context=model.clip_context(ex.advantages[best]), choice=probs[best])
    if ex.frequency is not None:
        ev["frequency"] = model.clip_context(ex.frequency[best])
    if lm is not None:
        ev["lm"] = model.clip_context(lm[best])
    return best, model.confidence(ev)


def neural_scorer(options: dict[str, Any]) -> LMScorer | None:
    """The neural scorer that restorer ``options`` ask for (``context="lm"``), else None."""
    if options.get("context") != "lm":
        return None
    from .lm import LMScorer

    return LMScorer(options.get("lm_path"))


def learned_restorer_factory(
    base_files: Sequence[str], learn_kwargs: dict[str, Any] | None = None, **options: Any
) -> RestorerFor:
    """A ``restorer_for`` for :func:`fit_decisions`: the lexicon files
    ``base_files`` plus a slice learned (:func:`despin.learn.learn`) from the
    given pairs, written to a temporary file."""
    from .learn import learn
    from .lexicon import load_lexicon
    from .restorer import Restorer

    tmpdir = tempfile.mkdtemp(prefix="despin-fit-")
    base = load_lexicon(tuple(base_files), bundled=False)
    counter = [0]

    def make(train: Sequence[Pair]) -> Restorer:
        counter[0] += 1
        path = os.path.join(tmpdir, f"learned{counter[0]}.tsv")
        result = learn(train, base=base, **(learn_kwargs or {}))
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(result.lexicon_text())
        return Restorer(bundled_lexicon=False, lexicons=(*base_files, path), **options)

    return make
