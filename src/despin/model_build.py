"""Build a context model from a clean corpus (``despin build-model``).

Input files are plain text (one document per file) or JSON Lines with the
text in a field (``.jsonl``, ``.jsonl.gz``, ``.ndjson``), read by
:func:`despin.corpus.read_corpus`. The corpus is read as the context model
reads text (:mod:`despin.lm_text`, with the bundled model's vocabulary
deciding "u. s." and "don't"), counted into trigrams, smoothed with
interpolated modified Kneser-Ney (:mod:`despin.lm_build`), pruned by
relative entropy to a size, and written in the ``despin-model 2`` format
(:mod:`despin.context`).

With ``layer=True`` the model is layered over the bundled one: every tenth
document is held out, the weight of the new model in the interpolation is
the one that gives the held-out text the highest likelihood (EM), and the
final model is counted from all documents with that weight recorded in its
header; loading it loads the bundled model too.

Pure Python: about 1 GB of memory and a minute or two per 10 M words.
"""

from __future__ import annotations

import math
import os
import sys
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from .context import ContextModel, load_model, write_model
from .corpus import Document, read_corpus
from .errors import DespinError
from .lexicon import Lexicon
from .lm_build import BackoffLM, NgramCounts, kneser_ney, prune_to_size, to_arrays, token_logprobs, tune_weight
from .lm_text import BOS, EOS, VocabTest, sentences
from .tokenize import WORD_RE

__all__ = ["BuildSummary", "UnitCounts", "build_model", "count_units", "lexicon_units"]

HOLD_OUT_EVERY = 10  # with layer=True, every tenth document tunes the weight


@dataclass
class BuildSummary:
    documents: int = 0
    skipped: int = 0
    tokens: int = 0
    sentences: int = 0
    words: int = 0
    bigrams: int = 0
    trigrams: int = 0
    weight: float | None = None
    held_out_perplexity: float | None = None
    bytes_written: int = 0
    seconds: float = 0.0
    sources: list[str] = field(default_factory=list)
    skipped_files: list[str] = field(default_factory=list)  # files not counted, and why

    def lines(self) -> list[str]:
        out = [f"skipped {why}" for why in self.skipped_files] + [
            f"documents read      {self.documents:,} (skipped {self.skipped:,})",
            f"words counted       {self.tokens:,} in {self.sentences:,} sentences",
            f"model               {self.words:,} words, {self.bigrams:,} bigrams, {self.trigrams:,} trigrams",
        ]
        if self.weight is not None:
            out.append(f"layered weight      {self.weight:.3f} over the bundled model "
                       f"(held-out perplexity {self.held_out_perplexity:.1f})")
        out += [f"model size          {self.bytes_written / 1e6:.1f} MB", f"time                {self.seconds:.1f} s"]
        return out


def _progress(quiet: bool) -> Any:
    if quiet or not sys.stderr.isatty():
        return None
    try:
        from tqdm import tqdm
    except ImportError:  # the progress extra is optional
        return None
    return tqdm(unit="doc", desc="counting", file=sys.stderr)


def _vocab_test(base: ContextModel | None) -> VocabTest:
    """Gluing and splitting follow the bundled model's vocabulary (so that a
    layered model reads text as the bundled one does); without it, nothing is
    glued and every hyphenated word is split."""
    if base is not None:
        return base.in_vocab
    return lambda _word: False


def _count(docs: Iterable[Document], in_vocab: VocabTest, counts: NgramCounts, bar: Any = None) -> None:
    for doc in docs:
        counts.add(sentences(doc.text, in_vocab))
        if bar is not None:
            bar.update(1)


def build_model(
    paths: list[str],
    out: str,
    field_name: str = "text",
    exclude_ids: set[str] | None = None,
    min_count: int = 2,
    max_bytes: int = 16_000_000,
    layer: bool = False,
    quiet: bool = False,
) -> BuildSummary:
    """Count the corpus and write a context model to ``out``."""
    t0 = time.perf_counter()
    summary = BuildSummary(sources=[os.path.basename(p) for p in paths])
    base = load_model()
    if layer and base is None:
        raise DespinError("--combine-default: this installation has no bundled context model")
    in_vocab = _vocab_test(base)
    docs = list(read_corpus(paths, field_name, exclude_ids, summary))
    if not docs:
        raise DespinError("no documents to count")
    header: dict[str, Any] = {}
    if layer and base is not None:
        weight, ppl = _tune_layer(docs, in_vocab, base, min_count)
        summary.weight, summary.held_out_perplexity = weight, ppl
        header.update(layer="bundled", weight=round(weight, 6), held_out_perplexity=round(ppl, 2))
    counts = NgramCounts()
    bar = _progress(quiet)
    _count(docs, in_vocab, counts, bar)
    if bar is not None:
        bar.close()
    summary.tokens, summary.sentences = counts.tokens, counts.sentences
    lm, theta = prune_to_size(kneser_ney(counts, min_count), max_bytes)
    arrays, sizes = to_arrays(lm)
    summary.words, summary.bigrams, summary.trigrams = sizes["words"], sizes["bigrams"], sizes["trigrams"]
    header.update(sizes, kind="trigram", smoothing="interpolated modified Kneser-Ney", min_count=min_count,
                  prune_threshold=theta, documents=summary.documents, tokens=counts.tokens, sources=summary.sources)
    summary.bytes_written = write_model(out, header, arrays)
    summary.seconds = time.perf_counter() - t0
    return summary


def _tune_layer(docs: list[Document], in_vocab: VocabTest, base: ContextModel, min_count: int) -> tuple[float, float]:
    """The weight of a model of ``docs`` layered over ``base`` that gives the held-out
    tenth of the documents the highest likelihood, and the perplexity it gives."""
    counts = NgramCounts()
    _count((d for k, d in enumerate(docs) if k % HOLD_OUT_EVERY), in_vocab, counts)
    lm = kneser_ney(counts, min_count)
    held = [s for k, d in enumerate(docs) if not k % HOLD_OUT_EVERY for s in sentences(d.text, in_vocab)]
    if not held or not counts.tokens:
        raise DespinError("--combine-default needs at least ten documents (one in ten tunes the weight)")
    mine = _held_out_logprobs(lm, held)
    tables = base.tables[-1]
    theirs = token_logprobs(tables.logprob, (tables.ids(s) for s in held), tables.word_id(BOS), tables.word_id(EOS))
    return tune_weight(mine, theirs)


def _held_out_logprobs(lm: BackoffLM, held: list[list[str]]) -> list[float]:
    ids = lm.ids()
    unk = ids["<unk>"]
    return token_logprobs(lm.lp3, ([ids.get(w, unk) for w in s] for s in held), ids[BOS], ids[EOS])


# --- lexicon unit counts (for tools/build_lexicon.py) ---


def lexicon_units(lexicon: Lexicon) -> set[str]:
    """Every spun form and original of a lexicon, as lower-case words joined by spaces."""
    units: set[str] = set()
    for e in lexicon.entries:
        units.add(" ".join(e.toks))
        for o in e.originals:
            toks = WORD_RE.findall(o.lower())
            if toks:
                units.add(" ".join(toks))
    return units


@dataclass
class UnitCounts:
    """How often each lexicon unit occurs in a corpus (paragraphs read as
    lower-cased word tokens), and the corpus's size."""

    units: Counter[str] = field(default_factory=Counter)
    tokens: int = 0
    documents: int = 0
    skipped: int = 0
    skipped_files: list[str] = field(default_factory=list)

    def unit_count(self, unit: str) -> int:
        return self.units.get(unit, 0)


def count_units(
    paths: list[str], lexicon: Lexicon, field_name: str = "text", exclude_ids: set[str] | None = None
) -> UnitCounts:
    """Count the units of ``lexicon`` (:func:`lexicon_units`) in a corpus."""
    by_first: dict[str, list[tuple[list[str], str]]] = {}
    for u in lexicon_units(lexicon):
        toks = u.split(" ")
        by_first.setdefault(toks[0], []).append((toks, u))
    out = UnitCounts()
    for doc in read_corpus(paths, field_name, exclude_ids, out):
        for para in doc.text.split("\n\n"):
            toks = WORD_RE.findall(para.lower())
            out.tokens += len(toks)
            for _, u in _matches(toks, by_first):
                out.units[u] += 1
    return out


def _matches(toks: list[str], by_first: dict[str, list[tuple[list[str], str]]]) -> Iterator[tuple[int, str]]:
    for i, t in enumerate(toks):
        for utoks, u in by_first.get(t, ()):
            m = len(utoks)
            if m == 1 or toks[i : i + m] == utoks:
                yield i, u


def perplexity(model: ContextModel, docs: Iterable[str]) -> float:
    """Perplexity of a model on texts (every word and sentence end counted)."""
    total = 0.0
    n = 0
    for text in docs:
        for sent in sentences(text, model.in_vocab):
            total += model.score_words((BOS,), [tuple(sent)], (EOS,))[0].total
            n += len(sent) + 1
    return math.exp(-total / max(n, 1))
