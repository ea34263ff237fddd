"""A small article-spinner simulation for benchmarks: the lexicon read backwards.

Each word or phrase that is an original in the despin lexicon is replaced,
with probability ``rate``, by one of its spun forms (seeded, reproducible).
It makes spun text in volume from clean text; it is not used to build or
tune despin.
"""

from __future__ import annotations

import random

from despin.lexicon import bundled_lexicon_files, is_learned_slice, load_lexicon
from despin.tokenize import WORD_RE


def _inverse(all_originals: bool = False, written: bool = False) -> dict[tuple[str, ...], list[str]]:
    inv: dict[tuple[str, ...], list[str]] = {}
    files = tuple(f for f in bundled_lexicon_files() if not is_learned_slice(f)) if written else None
    lexicon = load_lexicon(files, bundled=False) if files is not None else load_lexicon()
    for e in lexicon.entries:
        if e.klass == "keep" or e.cased or "science" in e.tags:
            continue
        for o in e.originals if all_originals else e.originals[:1]:
            key = tuple(WORD_RE.findall(o.lower()))
            if key:
                inv.setdefault(key, []).append(e.spun)
    return inv


def spin(text: str, rate: float = 0.5, seed: int = 0, all_originals: bool = False, written: bool = False) -> str:
    """Spin ``text``: replace lexicon originals by spun forms. By default only an
    entry's first original is spun into its form; with ``all_originals`` every
    listed original is, so that restoring must also choose among them. With
    ``written``, only the written lexicon slices are read, not the learned
    ones (which spin "in", "said" and "as" too): the speed benchmark's
    workload then stays the same across versions and rebuilds."""
    rng = random.Random(seed)
    inv = _inverse_cached(all_originals, written)
    out: list[str] = []
    pos = 0
    matches = list(WORD_RE.finditer(text))
    lows = [m.group().lower() for m in matches]
    i = 0
    while i < len(matches):
        done = False
        for n in (3, 2, 1):
            key = tuple(lows[i : i + n])
            if len(key) == n and key in inv and rng.random() < rate:
                start, end = matches[i].start(), matches[i + n - 1].end()
                form = rng.choice(inv[key])
                if matches[i].group()[:1].isupper():
                    form = form[:1].upper() + form[1:]
                out.append(text[pos:start])
                out.append(form)
                pos = end
                i += n
                done = True
                break
        if not done:
            i += 1
    out.append(text[pos:])
    return "".join(out)


_INV: dict[tuple[bool, bool], dict[tuple[str, ...], list[str]]] = {}


def _inverse_cached(all_originals: bool = False, written: bool = False) -> dict[tuple[str, ...], list[str]]:
    if (all_originals, written) not in _INV:
        _INV[all_originals, written] = _inverse(all_originals, written)
    return _INV[all_originals, written]
