"""Build a context model from a clean corpus (``despin build-model``).

Input files are plain text (one document per file) or JSON Lines with the
text in a field (``.jsonl``, ``.jsonl.gz``, ``.ndjson``), read by
:func:`despin.corpus.read_corpus`. The units counted
are the lexicon's spun forms and originals, so a model built with one lexicon
gives no context evidence for units added later (they score 0, not "never
seen").
"""

from __future__ import annotations

import os
import sys
import time
from array import array
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from .context import BOUNDARY, key_hash, left_key, right_key, write_model
from .corpus import read_corpus
from .lexicon import Lexicon
from .tokenize import WORD_RE

__all__ = ["BuildSummary", "build_model", "lexicon_units"]


@dataclass
class BuildSummary:
    documents: int = 0
    skipped: int = 0
    tokens: int = 0
    units: int = 0
    unit_occurrences: int = 0
    words_kept: int = 0
    pairs_kept: int = 0
    bytes_written: int = 0
    seconds: float = 0.0
    sources: list[str] = field(default_factory=list)
    skipped_files: list[str] = field(default_factory=list)  # files not counted, and why

    def lines(self) -> list[str]:
        return [f"skipped {why}" for why in self.skipped_files] + [
            f"documents read      {self.documents:,} (skipped {self.skipped:,})",
            f"tokens              {self.tokens:,}",
            f"lexicon units       {self.units:,} ({self.unit_occurrences:,} occurrences)",
            f"words kept          {self.words_kept:,}",
            f"context pairs kept  {self.pairs_kept:,}",
            f"model size          {self.bytes_written / 1e6:.1f} MB",
            f"time                {self.seconds:.1f} s",
        ]


def lexicon_units(lexicon: Lexicon) -> set[str]:
    units: set[str] = set()
    for e in lexicon.entries:
        units.add(" ".join(t for t in e.toks))
        for o in e.originals:
            toks = WORD_RE.findall(o.lower())
            if toks:
                units.add(" ".join(toks))
    return units


def _progress(total_bytes: int | None, quiet: bool) -> Any:
    if quiet or not sys.stderr.isatty():
        return None
    try:
        from tqdm import tqdm
    except ImportError:  # the progress extra is optional
        return None
    return tqdm(total=total_bytes, unit="B", unit_scale=True, desc="counting", file=sys.stderr)


class _Counts:
    """Word, unit and context-pair counts of a corpus."""

    def __init__(self, units: set[str]):
        self.by_first: dict[str, list[tuple[list[str], str]]] = {}
        for u in units:
            toks = u.split(" ")
            self.by_first.setdefault(toks[0], []).append((toks, u))
        self.uni: Counter[str] = Counter()
        self.pairs: Counter[str] = Counter()
        self.units: Counter[str] = Counter()

    def add(self, toks: list[str]) -> None:
        """Count the lower-cased words of one paragraph."""
        n = len(toks)
        self.uni.update(toks)
        for i, t in enumerate(toks):
            cands = self.by_first.get(t)
            if cands is None:
                continue
            for utoks, u in cands:
                m = len(utoks)
                if m > 1 and toks[i : i + m] != utoks:
                    continue
                self.units[u] += 1
                self.pairs[left_key(toks[i - 1] if i else BOUNDARY, u)] += 1
                self.pairs[right_key(u, toks[i + m] if i + m < n else BOUNDARY)] += 1


def _packed(items: Iterable[tuple[str, int]]) -> tuple[array[int], array[int]]:
    """Keys hashed and sorted, with their counts (capped to 32 bits)."""
    hashed = sorted((key_hash(k), min(c, 0xFFFFFFFF)) for k, c in items)
    keys = array("Q", (k for k, _ in hashed))
    counts = array("I", (c for _, c in hashed))
    return keys, counts


def build_model(
    paths: list[str],
    out: str,
    lexicon: Lexicon,
    field_name: str = "text",
    exclude_ids: set[str] | None = None,
    min_count: int = 2,
    quiet: bool = False,
    sources_note: list[str] | None = None,
) -> BuildSummary:
    """Count the corpus and write a context model to ``out``."""
    t0 = time.perf_counter()
    summary = BuildSummary(sources=list(sources_note or [os.path.basename(p) for p in paths]))
    units = lexicon_units(lexicon)
    counts = _Counts(units)
    bar = _progress(None, quiet)
    for doc in read_corpus(paths, field_name, exclude_ids, summary):
        for para in doc.text.split("\n\n"):
            toks = WORD_RE.findall(para.lower())
            summary.tokens += len(toks)
            counts.add(toks)
        if bar is not None:
            bar.update(len(doc.text.encode("utf-8", "surrogatepass")))
    if bar is not None:
        bar.close()
    summary.units = len(units)
    summary.unit_occurrences = sum(counts.units.values())
    uk, uc = _packed((w, c) for w, c in counts.uni.items() if c >= min_count)
    pk, pc = _packed((k, c) for k, c in counts.pairs.items() if c >= min_count)
    tk, tc = _packed((u, counts.units.get(u, 0)) for u in units)
    summary.words_kept, summary.pairs_kept = len(uk), len(pk)
    header = {
        "n_tokens": summary.tokens,
        "documents": summary.documents,
        "min_count": min_count,
        "sources": summary.sources,
        "units": len(units),
    }
    write_model(out, header, {"uni_keys": uk, "uni_counts": uc, "pair_keys": pk, "pair_counts": pc,
                              "unit_keys": tk, "unit_counts": tc})
    summary.bytes_written = os.path.getsize(out)
    summary.seconds = time.perf_counter() - t0
    return summary
