"""Evaluation: word error rate before/after against gold originals, edit
precision and calibration on spun texts, and edits per 1,000 words on clean
texts (``despin eval``)."""

from __future__ import annotations

import difflib
import glob
import os
from collections.abc import Iterable
from dataclasses import dataclass, field

from rapidfuzz.distance import Levenshtein

from .corpus import Document
from .restorer import Restorer

__all__ = ["PairResult", "CleanResult", "evaluate_pair", "evaluate_clean", "combine_pairs", "find_pairs", "wer"]


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
