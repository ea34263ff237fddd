"""Evaluation: word error rate before/after against gold originals, edit
precision and calibration on spun texts, and edits per 1,000 words on clean
texts (``despin eval``)."""

from __future__ import annotations

import bisect
import difflib
import glob
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from rapidfuzz.distance import Levenshtein

from .corpus import Document
from .errors import DespinError
from .learn import Pair
from .restorer import Restorer

if TYPE_CHECKING:
    from .candidates import Candidate

__all__ = [
    "PairResult",
    "CleanResult",
    "Coverage",
    "FoldsResult",
    "auc",
    "calibration",
    "combine_pairs",
    "coverage",
    "cross_validate",
    "evaluate_clean",
    "evaluate_pair",
    "find_pairs",
    "wer",
]


def wer(hyp: list[str], ref: list[str]) -> float:
    """Word error rate of ``hyp`` against ``ref`` (whitespace tokens)."""
    return Levenshtein.distance(hyp, ref) / max(len(ref), 1)


@dataclass
class PairResult:
    name: str
    words: int
    wer_before: float
    wer_after: float
    edits: int
    correct_edits: int
    confident_edits: int = 0  # confidence >= 0.9
    confident_correct: int = 0
    wrong: list[tuple[str, str, float]] = field(default_factory=list)
    judged: list[tuple[float, bool]] = field(default_factory=list)  # (confidence, right) of every edit

    @property
    def error_reduction(self) -> float:
        return (self.wer_before - self.wer_after) / self.wer_before if self.wer_before else 0.0

    @property
    def precision(self) -> float:
        return self.correct_edits / self.edits if self.edits else 1.0


def combine_pairs(results: Iterable[PairResult], name: str = "all") -> PairResult:
    """One result for several pairs: word errors and edits summed, so each
    pair weighs by its length."""
    results = list(results)
    words = sum(r.words for r in results)
    return PairResult(
        name,
        words,
        sum(r.wer_before * r.words for r in results) / max(words, 1),
        sum(r.wer_after * r.words for r in results) / max(words, 1),
        sum(r.edits for r in results),
        sum(r.correct_edits for r in results),
        sum(r.confident_edits for r in results),
        sum(r.confident_correct for r in results),
        [w for r in results for w in r.wrong],
        [j for r in results for j in r.judged],
    )


@dataclass
class CleanResult:
    name: str
    documents: int
    words: int
    edits: int
    changed_documents: int
    flagged_documents: int
    max_score: float
    examples: list[tuple[str, str]] = field(default_factory=list)

    @property
    def edits_per_1000(self) -> float:
        return 1000.0 * self.edits / self.words if self.words else 0.0


def _token_spans(text: str) -> list[tuple[int, int]]:
    spans, pos = [], 0
    for tok in text.split():
        s = text.index(tok, pos)
        spans.append((s, s + len(tok)))
        pos = s + len(tok)
    return spans


def evaluate_pair(restorer: Restorer, spun: str, gold: str, name: str = "") -> PairResult:
    """Restore ``spun`` and compare with ``gold``."""
    res = restorer.restore_and_explain(spun)
    out = res.text
    ref = gold.split()
    hyp_tokens = out.split()
    result = PairResult(name, len(ref), wer(spun.split(), ref), wer(hyp_tokens, ref), len(res.edits), 0)
    # tokens of the output that are aligned as equal to the gold
    ok_tok = [False] * len(hyp_tokens)
    sm = difflib.SequenceMatcher(None, hyp_tokens, ref, autojunk=False)
    for tag, i1, i2, _, _ in sm.get_opcodes():
        if tag == "equal":
            for k in range(i1, i2):
                ok_tok[k] = True
    spans = _token_spans(out)
    delta = 0
    ti = 0
    for e in res.edits:
        o_start = e.start + delta
        o_end = o_start + len(e.after)
        delta += len(e.after) - (e.end - e.start)
        while ti < len(spans) and spans[ti][1] <= o_start:
            ti += 1
        k = ti
        good = True
        touched = False
        while k < len(spans) and spans[k][0] < max(o_end, o_start + 1):
            touched = True
            good = good and ok_tok[k]
            k += 1
        good = good and touched
        result.correct_edits += good
        result.judged.append((e.confidence, good))
        if e.confidence >= 0.9:
            result.confident_edits += 1
            result.confident_correct += good
        if not good:
            result.wrong.append((e.before, e.after, e.confidence))
    return result


def evaluate_clean(restorer: Restorer, docs: Iterable[Document], name: str = "") -> CleanResult:
    """Restore clean documents (see :func:`despin.corpus.read_corpus`) and count what changed."""
    r = CleanResult(name, 0, 0, 0, 0, 0, 0.0)
    for doc_id, text in ((d.id, d.text) for d in docs):
        res = restorer.restore_and_explain(text)
        r.documents += 1
        r.words += len(text.split())
        r.edits += len(res.edits)
        r.changed_documents += bool(res.edits)
        r.flagged_documents += res.report.spun
        r.max_score = max(r.max_score, res.report.score)
        for e in res.edits[:3]:
            if len(r.examples) < 50:
                r.examples.append((doc_id, f"{e.before} -> {e.after} ({e.confidence:.2f})"))
    return r


def find_pairs(folder: str) -> list[tuple[str, str, str]]:
    """(name, spun path, gold path) for every ``NAME.spun.txt`` with a ``NAME.orig.txt`` beside it."""
    pairs = []
    for spun in sorted(glob.glob(os.path.join(folder, "*.spun.txt"))):
        gold = spun[: -len(".spun.txt")] + ".orig.txt"
        if os.path.exists(gold):
            pairs.append((os.path.basename(spun)[: -len(".spun.txt")], spun, gold))
    return pairs


def auc(positive: Sequence[float], negative: Sequence[float]) -> float:
    """The area under the ROC curve: the chance that a positive item (a spun
    text) scores above a negative one (a clean text), ties counting half."""
    ranked = sorted(negative)
    total = 0.0
    for x in positive:
        lo, hi = bisect.bisect_left(ranked, x), bisect.bisect_right(ranked, x)
        total += lo + 0.5 * (hi - lo)
    return total / (len(positive) * len(negative))


def calibration(judged: Iterable[tuple[float, bool]], bins: int = 10) -> list[tuple[float, float, int, float]]:
    """A reliability table: for each confidence bin ``[lo, hi)`` (the last one
    closed), how many edits fell in it and the share of them that were right."""
    rows = []
    items = list(judged)
    for b in range(bins):
        lo, hi = b / bins, (b + 1) / bins
        inside = [ok for conf, ok in items if lo <= conf < hi or (b == bins - 1 and conf == 1.0)]
        if inside:
            rows.append((lo, hi, len(inside), sum(inside) / len(inside)))
    return rows


@dataclass
class Coverage:
    """How many blocks of spinner changes (:func:`despin.learn.align_pair`)
    some combination of lexicon originals restores exactly."""

    covered: int = 0
    total: int = 0
    missed: list[tuple[str, str]] = field(default_factory=list)  # (spun, original) of each block not covered

    @property
    def share(self) -> float:
        return self.covered / self.total if self.total else 1.0

    def add(self, other: Coverage) -> None:
        self.covered += other.covered
        self.total += other.total
        self.missed += other.missed


def coverage(restorer: Restorer, pairs: Iterable[Pair]) -> Coverage:
    """The share of gold substitution blocks of ``pairs`` for which the
    lexicon lists the right originals: each block (widened to the candidates
    overlapping it) is covered if keeping some of its words and restoring the
    candidates among them to some of their originals gives its gold wording."""
    from .candidates import scan
    from .learn import align_pair
    from .tokenize import WORD_RE, tokenize

    out = Coverage()
    for pair in pairs:
        for la in align_pair(pair).lines:
            toks = tokenize(la.text)
            cands = [c for c in scan(toks, restorer.lexicon, restorer.config.numerals).candidates if c.i >= 0]
            starting: dict[int, list[tuple[int, list[str]]]] = {}
            for c in cands:
                for o in c.originals:
                    starting.setdefault(c.i, []).append((c.j, [w.lower() for w in WORD_RE.findall(o)]))
            for eq, s1, s2, d1, d2 in la.ops:
                if eq:
                    continue
                if s1 == s2 or d1 == d2:  # an empty side: read with the unchanged word after (or before) it
                    if s2 < len(la.spun) and d2 < len(la.orig):
                        s2, d2 = s2 + 1, d2 + 1
                    elif s1 > 0 and d1 > 0:
                        s1, d1 = s1 - 1, d1 - 1
                lo, hi = _widen(s1, s2, cands)
                gold = [w.lower() for w in la.orig[d1 - (s1 - lo) : d2 + (hi - s2)]]
                out.total += 1
                if _restorable([w.lower() for w in la.spun], lo, hi, starting, gold):
                    out.covered += 1
                else:
                    out.missed.append((" ".join(la.spun[lo:hi]), " ".join(gold)))
    return out


def _widen(lo: int, hi: int, cands: Iterable[Candidate]) -> tuple[int, int]:
    """The token span grown until no candidate straddles its edges."""
    cands = list(cands)
    changed = True
    while changed:
        changed = False
        for c in cands:
            if c.i < hi and lo < c.j and (c.i < lo or c.j > hi):
                lo, hi, changed = min(lo, c.i), max(hi, c.j), True
    return lo, hi


def _restorable(words: list[str], lo: int, hi: int, starting: dict[int, list[tuple[int, list[str]]]],
                gold: list[str]) -> bool:
    """Whether keeping or restoring the words ``lo:hi`` can give ``gold`` (a
    search over the ways to read the span, cut short when it strays)."""
    seen: set[tuple[int, int]] = set()

    def reach(p: int, made: int) -> bool:
        if (p, made) in seen:
            return False
        seen.add((p, made))
        if p == hi:
            return made == len(gold)
        if made < len(gold) and words[p] == gold[made] and reach(p + 1, made + 1):
            return True
        for j, orig in starting.get(p, ()):
            n = len(orig)
            if j <= hi and gold[made : made + n] == orig and reach(j, made + n):
                return True
        return False

    return reach(lo, 0)


@dataclass
class FoldsResult:
    """Cross-validated figures over story-group folds."""

    folds: list[list[str]]  # the groups of each fold
    pairs: list[PairResult]
    coverage: Coverage
    restorers: list[Restorer] = field(default_factory=list)  # each fold's, learned without its pairs

    @property
    def total(self) -> PairResult:
        return combine_pairs(self.pairs, "all")


def cross_validate(
    pairs: Sequence[Pair],
    k: int,
    base_files: Sequence[str],
    refit: bool = True,
    learn_kwargs: dict[str, Any] | None = None,
    unpaired: Sequence[Pair] = (),
    test: Callable[[Pair], bool] | None = None,
    progress: Callable[[str], None] | None = None,
    **options: Any,
) -> FoldsResult:
    """Error reduction, precision and coverage over ``k`` folds of whole story
    groups: for each fold the lexicon slice is learned from the other folds'
    pairs only (added to the lexicon files ``base_files``), and with
    ``refit`` the decision model is fitted on them too (cross-fitted within
    them, see :func:`despin.fit.fit_decisions`). ``unpaired`` spun texts
    (as pairs with an empty original) help learning, those of the test
    fold's groups left out. Only the held-out pairs for which ``test`` is
    true (all, without it) are measured; the others still teach."""
    from .fit import group_folds, learned_restorer_factory

    if len({p.group for p in pairs}) < k:
        raise DespinError(f"{k} folds need at least {k} story groups; the pairs have {len({p.group for p in pairs})}")
    folds = group_folds(pairs, k)
    results: list[PairResult] = []
    restorers: list[Restorer] = []
    cover = Coverage()
    for n, held_out in enumerate(folds, 1):
        train = [p for p in pairs if p not in held_out]
        held = {p.group for p in held_out}
        extra = [u.spun for u in unpaired if u.group not in held]
        make = learned_restorer_factory(base_files, {**(learn_kwargs or {}), "unpaired": extra}, **options)
        restorer = make(train)
        if refit:
            clean = getattr((learn_kwargs or {}).get("clean"), "texts", [])
            path = _fitted_decisions(train, make, clean, [u for u in unpaired if u.group not in held], options)
            restorer = Restorer(restorer.config.replace(decision_model=path))
        restorers.append(restorer)
        if progress is not None:
            progress(f"fold {n}/{k}: {len(train)} pairs to learn from, {len(held_out)} held out")
        measured = [p for p in held_out if test is None or test(p)]
        results += [evaluate_pair(restorer, p.spun, p.original, p.name) for p in measured]
        cover.add(coverage(restorer, measured))
    return FoldsResult([sorted({p.group for p in f}) for f in folds], results, cover, restorers)


def _fitted_decisions(
    train: Sequence[Pair], make: Callable[[Sequence[Pair]], Restorer], clean: Sequence[str], unpaired: Sequence[Pair],
    options: dict[str, Any],
) -> str:
    import tempfile

    from .decision import write_decision_model
    from .fit import fit_decisions, neural_scorer

    model = fit_decisions(train, make, folds=min(4, len({p.group for p in train})), clean=clean, unpaired=unpaired,
                          lm=neural_scorer(options))
    fd, path = tempfile.mkstemp(prefix="despin-decisions-", suffix=".json")
    os.close(fd)
    write_decision_model(model, path)
    return path
