"""Estimate, interpolate and prune trigram models (build time only).

Pure Python (no numpy); memory grows with the distinct n-grams of the corpus,
about 1 GB for 10 M words. Models here are :class:`BackoffLM`: the ARPA
backoff form in natural logs, words as ids, n-grams packed into int keys.

* :func:`kneser_ney`: interpolated modified Kneser-Ney (Chen and Goodman
  1998) from counts, in backoff form; trigrams seen fewer than ``min_count``
  times are not listed (their mass goes to the backoff).
* :func:`mix`: static linear interpolation of two models over the union of
  their n-grams, backoff weights renormalised (as SRILM's ``-mix-lm``);
  :func:`tune_weight` finds the weight that maximises the likelihood of
  held-out text (EM).
* :func:`prune_to_size`: relative-entropy pruning (Stolcke 1998) to a size in
  bytes, keeping the bigrams that trigrams need as contexts.
* :func:`to_arrays`: the arrays of a model file (:mod:`despin.context`),
  log-probabilities quantised into 256 equal-population bins per table.
"""

from __future__ import annotations

import bisect
import math
from array import array
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from .context import key_hash
from .lm_text import BOS, EOS, NUM, UNK
from .sphinx_lm import SphinxLM

__all__ = [
    "BackoffLM",
    "NgramCounts",
    "from_sphinx",
    "kneser_ney",
    "mix",
    "model_bytes",
    "prune_to_size",
    "remap",
    "to_arrays",
    "token_logprobs",
    "tune_weight",
]

BITS = 21  # bits per word id in packed n-gram keys
MASK = (1 << BITS) - 1
MASK2 = (1 << 2 * BITS) - 1
NEVER = -99.0  # log-probability of <s>, which is never predicted


def k2(a: int, b: int) -> int:
    return (a << BITS) | b


def k3(a: int, b: int, c: int) -> int:
    return (((a << BITS) | b) << BITS) | c


@dataclass
class BackoffLM:
    """log P(c | a b) = tri[a b c] if listed, else bo2[a b] (0 if not listed) +
    log P(c | b); log P(c | b) = bi[b c] if listed, else bo1[b] + uni[c]."""

    words: list[str]
    uni: list[float]
    bo1: list[float]
    bi: dict[int, float] = field(default_factory=dict)
    bo2: dict[int, float] = field(default_factory=dict)
    tri: dict[int, float] = field(default_factory=dict)

    def ids(self) -> dict[str, int]:
        return {w: i for i, w in enumerate(self.words)}

    def lp2(self, b: int, c: int) -> float:
        if b < 0:
            return self.uni[c]
        p = self.bi.get(k2(b, c))
        return p if p is not None else self.bo1[b] + self.uni[c]

    def lp3(self, a: int, b: int, c: int) -> float:
        if a < 0:
            return self.lp2(b, c)
        p = self.tri.get(k3(a, b, c))
        if p is not None:
            return p
        return self.bo2.get(k2(a, b), 0.0) + self.lp2(b, c)


@dataclass
class NgramCounts:
    """Trigram counts of sentences padded with ``<s>`` and ``</s>``."""

    words: list[str] = field(default_factory=lambda: [UNK, BOS, EOS])
    tri: Counter[int] = field(default_factory=Counter)
    start: Counter[int] = field(default_factory=Counter)  # c(<s> w)
    tokens: int = 0
    sentences: int = 0
    _ids: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._ids = {w: i for i, w in enumerate(self.words)}

    def word_id(self, w: str) -> int:
        i = self._ids.get(w)
        if i is None:
            i = self._ids[w] = len(self.words)
            if i > MASK:
                raise ValueError(f"more than {MASK:,} distinct words")
            self.words.append(w)
        return i

    def add(self, sentences: Iterable[Sequence[str]]) -> None:
        wid = self.word_id
        bos, eos = self._ids[BOS], self._ids[EOS]
        for s in sentences:
            if not s:
                continue
            ids = [bos, *map(wid, s), eos]
            self.tokens += len(s)
            self.sentences += 1
            self.start[ids[1]] += 1
            self.tri.update(k3(ids[k], ids[k + 1], ids[k + 2]) for k in range(len(ids) - 2))


Discounts = tuple[float, float, float]


def _discounts(count_of_counts: Counter[int]) -> Discounts:
    """Modified Kneser-Ney discounts D1, D2, D3+ from the counts of counts."""
    n1, n2, n3, n4 = (max(count_of_counts.get(k, 0), 1) for k in (1, 2, 3, 4))
    y = n1 / (n1 + 2 * n2)
    d1 = 1 - 2 * y * n2 / n1
    d2 = 2 - 3 * y * n3 / n2
    d3 = 3 - 4 * y * n4 / n3
    return (min(max(d1, 0.05), 0.95), min(max(d2, 0.1), 1.95), min(max(d3, 0.1), 2.95))


def _disc(c: int, d: Discounts) -> float:
    return d[0] if c == 1 else d[1] if c == 2 else d[2]


def _gamma(by_count: list[int], d: Discounts, total: int) -> float:
    """The interpolation weight of the lower order: discounted mass / total."""
    return (d[0] * by_count[0] + d[1] * by_count[1] + d[2] * by_count[2]) / total


class _Histories:
    """Per history: the count of what follows it, and how many distinct words
    follow it once, twice, three times or more."""

    def __init__(self) -> None:
        self.total: Counter[int] = Counter()
        self.by_count: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0])

    def add(self, history: int, c: int) -> None:
        self.total[history] += c
        self.by_count[history][min(c, 3) - 1] += 1


def kneser_ney(counts: NgramCounts, min_count: int = 2) -> BackoffLM:
    """Interpolated modified Kneser-Ney trigram model of ``counts``, backoff form."""
    bos = counts.words.index(BOS)
    cont2: Counter[int] = Counter()  # distinct left words of each bigram (raw counts after <s>)
    h3 = _Histories()
    for key, c in counts.tri.items():
        cont2[key & MASK2] += 1
        h3.add(key >> BITS, c)
    for w, c in counts.start.items():
        cont2[k2(bos, w)] = c
    cont1: Counter[int] = Counter()
    h2 = _Histories()
    for key, c in cont2.items():
        cont1[key & MASK] += 1
        h2.add(key >> BITS, c)
    d3 = _discounts(Counter(counts.tri.values()))
    d2 = _discounts(Counter(cont2.values()))
    d1 = _discounts(Counter(cont1.values()))
    lm = _kn_unigrams(counts.words, cont1, d1, bos)
    for b, total in h2.total.items():
        lm.bo1[b] = math.log(_gamma(h2.by_count[b], d2, total))
    for key, c in cont2.items():
        b, w = key >> BITS, key & MASK
        lm.bi[key] = math.log((c - _disc(c, d2)) / h2.total[b] + math.exp(lm.bo1[b] + lm.uni[w]))
    for ab, total in h3.total.items():
        lm.bo2[ab] = math.log(_gamma(h3.by_count[ab], d3, total))
    for key, c in counts.tri.items():
        if c >= min_count:
            ab = key >> BITS
            lower = lm.lp2(ab & MASK, key & MASK)
            lm.tri[key] = math.log((c - _disc(c, d3)) / h3.total[ab] + math.exp(lm.bo2[ab] + lower))
    renormalise(lm)
    return lm


def _kn_unigrams(words: list[str], cont1: Counter[int], d1: Discounts, bos: int) -> BackoffLM:
    """Unigrams from continuation counts, interpolated with the uniform
    distribution over the words (``<s>`` aside: it is never predicted)."""
    size = len(words)
    total = sum(cont1.values())
    by_count = [0, 0, 0]
    for c in cont1.values():
        by_count[min(c, 3) - 1] += 1
    floor = _gamma(by_count, d1, total) / (size - 1)
    uni = [math.log(max(cont1.get(w, 0) - _disc(cont1.get(w, 0), d1), 0.0) / total + floor) for w in range(size)]
    uni[bos] = NEVER
    return BackoffLM(list(words), uni, [0.0] * size)


def _backoff(listed: float, lower: float) -> float:
    """log of (1 - listed mass) / (1 - the lower order's mass on the same words)."""
    return math.log(max(1.0 - listed, 1e-12) / max(1.0 - lower, 1e-12))


def _masses(lm: BackoffLM) -> tuple[dict[int, list[float]], dict[int, list[float]]]:
    """For each bigram history b and trigram history (a b): [listed mass, the
    lower order's mass on the same words]."""
    m2: dict[int, list[float]] = defaultdict(lambda: [0.0, 0.0])
    for key, p in lm.bi.items():
        s = m2[key >> BITS]
        s[0] += math.exp(p)
        s[1] += math.exp(lm.uni[key & MASK])
    m3: dict[int, list[float]] = defaultdict(lambda: [0.0, 0.0])
    for key, p in lm.tri.items():
        ab = key >> BITS
        s = m3[ab]
        s[0] += math.exp(p)
        s[1] += math.exp(lm.lp2(ab & MASK, key & MASK))
    return m2, m3


def renormalise(lm: BackoffLM) -> None:
    """Set the backoff weights so that every history's distribution sums to one."""
    m2: dict[int, list[float]] = defaultdict(lambda: [0.0, 0.0])
    for key, p in lm.bi.items():
        s = m2[key >> BITS]
        s[0] += math.exp(p)
        s[1] += math.exp(lm.uni[key & MASK])
    lm.bo1 = [_backoff(*m2[b]) if b in m2 else 0.0 for b in range(len(lm.words))]
    _, m3 = _masses(lm)
    lm.bo2 = {ab: _backoff(*s) for ab, s in m3.items()}


def from_sphinx(sphinx: SphinxLM, ids: dict[str, int]) -> BackoffLM:
    """The Sphinx model over the vocabulary ``ids`` (which holds all its words);
    other words get probability 0 (log -1e9)."""
    size = len(ids)
    remap_ = [ids[w] for w in sphinx.words]
    lm = BackoffLM([""] * size, [-1e9] * size, [0.0] * size)
    p0, b0, f0 = sphinx.prob[0], sphinx.backoff[0], sphinx.first[0]
    w1, p1, b1 = sphinx.word[1], sphinx.prob[1], sphinx.backoff[1]
    for u in range(len(sphinx.words)):
        cu = remap_[u]
        lm.uni[cu] = p0[u]
        lm.bo1[cu] = b0[u]
        for m in range(f0[u], f0[u + 1]):
            h1 = remap_[w1[m]]
            lm.bi[k2(h1, cu)] = p1[m]
            if b1[m] != 0.0:
                lm.bo2[k2(h1, cu)] = b1[m]
            if sphinx.order > 2:
                f1, w2, p2 = sphinx.first[1], sphinx.word[2], sphinx.prob[2]
                for t in range(f1[m], f1[m + 1]):
                    lm.tri[k3(remap_[w2[t]], h1, cu)] = p2[t]
    return lm


def remap(lm: BackoffLM, ids: dict[str, int], floor: float) -> BackoffLM:
    """``lm`` over the vocabulary ``ids``: n-grams with other words are dropped,
    words ``lm`` lacks get log-probability ``floor``."""
    m = [ids.get(w, -1) for w in lm.words]
    size = len(ids)
    out = BackoffLM([""] * size, [floor] * size, [0.0] * size)
    for w, x in enumerate(m):
        if x >= 0:
            out.uni[x] = lm.uni[w]
            out.bo1[x] = lm.bo1[w]
    for src, dst in ((lm.bi, out.bi), (lm.bo2, out.bo2)):
        for key, p in src.items():
            a, b = m[key >> BITS], m[key & MASK]
            if a >= 0 and b >= 0:
                dst[k2(a, b)] = p
    for key, p in lm.tri.items():
        a, b, c = m[key >> 2 * BITS], m[(key >> BITS) & MASK], m[key & MASK]
        if a >= 0 and b >= 0 and c >= 0:
            out.tri[k3(a, b, c)] = p
    return out


def _logmix(x: float, y: float, lam: float) -> float:
    hi = max(x, y)
    return hi + math.log(lam * math.exp(x - hi) + (1.0 - lam) * math.exp(y - hi))


def mix(a: BackoffLM, b: BackoffLM, lam: float, words: list[str]) -> BackoffLM:
    """lam * a + (1 - lam) * b over the union of their n-grams, renormalised."""
    size = len(words)
    uni = [_logmix(a.uni[w], b.uni[w], lam) for w in range(size)]
    z = math.log(sum(math.exp(x) for x in uni))
    out = BackoffLM(list(words), [x - z for x in uni], [0.0] * size)
    out.uni[words.index(BOS)] = NEVER
    for key in sorted(a.bi.keys() | b.bi.keys()):
        x, y = key >> BITS, key & MASK
        out.bi[key] = _logmix(a.lp2(x, y), b.lp2(x, y), lam)
    for key in sorted(a.tri.keys() | b.tri.keys()):
        x, y, w = key >> 2 * BITS, (key >> BITS) & MASK, key & MASK
        out.tri[key] = _logmix(a.lp3(x, y, w), b.lp3(x, y, w), lam)
    renormalise(out)
    return out


def token_logprobs(
    lp3: Callable[[int, int, int], float], sentences: Iterable[Sequence[int]], bos: int, eos: int
) -> list[float]:
    """log P of every word (and ``</s>``) of sentences of ids under a model's ``lp3``."""
    out = []
    for s in sentences:
        ids = [bos, *s, eos]
        for k in range(1, len(ids)):
            out.append(lp3(ids[k - 2] if k >= 2 else -1, ids[k - 1], ids[k]))
    return out


def tune_weight(first: Sequence[float], second: Sequence[float], iterations: int = 200) -> tuple[float, float]:
    """The weight lam of ``first`` in lam * first + (1 - lam) * second that
    maximises the likelihood of held-out words (EM; the log-probabilities of
    each word under both models), and the perplexity it gives."""
    lam = 0.5
    n = len(first)
    if n == 0:
        return lam, float("nan")
    for _ in range(iterations):
        share = 0.0
        for x, y in zip(first, second, strict=True):
            hi = max(x, y)
            p, q = lam * math.exp(x - hi), (1 - lam) * math.exp(y - hi)
            share += p / (p + q)
        new = min(max(share / n, 1e-4), 1 - 1e-4)
        if abs(new - lam) < 1e-7:
            lam = new
            break
        lam = new
    ll = sum(_logmix(x, y, lam) for x, y in zip(first, second, strict=True))
    return lam, math.exp(-ll / n)


def _cost(ph: float, p: float, plow: float, listed: float, lower: float) -> float:
    """Relative entropy (nats, weighted by the history's probability ``ph``) lost
    by removing one listed n-gram of probability ``p`` whose backed-off estimate
    would be ``plow`` times the new backoff weight (Stolcke 1998)."""
    bo = max(1.0 - listed, 1e-12) / max(1.0 - lower, 1e-12)
    bo_new = max(1.0 - listed + p, 1e-12) / max(1.0 - lower + plow, 1e-12)
    return -ph * (p * math.log(bo_new * plow / p) + max(1.0 - listed, 0.0) * math.log(bo_new / bo))


def prune_costs(lm: BackoffLM) -> tuple[dict[int, float], dict[int, float]]:
    """The pruning cost of every listed bigram and trigram."""
    m2, m3 = _masses(lm)
    c2 = {}
    for key, lp in lm.bi.items():
        b, c = key >> BITS, key & MASK
        c2[key] = _cost(math.exp(lm.uni[b]), math.exp(lp), math.exp(lm.uni[c]), *m2[b])
    c3 = {}
    for key, lp in lm.tri.items():
        ab = key >> BITS
        a, b, c = ab >> BITS, ab & MASK, key & MASK
        ph = math.exp(lm.uni[a] + lm.lp2(a, b))
        c3[key] = _cost(ph, math.exp(lp), math.exp(lm.lp2(b, c)), *m3[ab])
    return c2, c3


def model_bytes(words: int, bigrams: int, contexts: int, trigrams: int, code_bytes: int = 1) -> int:
    """The size of a model file with these counts (arrays; the header aside)."""
    tables = 3 * 4 * (256 if code_bytes == 1 else 65536)
    return (words * 24 + 8 + (bigrams + trigrams) * (4 + code_bytes) + contexts * (8 + code_bytes) + tables)


def _kept(lm: BackoffLM, c2: dict[int, float], c3: dict[int, float], theta: float) -> tuple[set[int], set[int]]:
    tri = {k for k, c in c3.items() if c >= theta}
    contexts = {k >> BITS for k in tri}
    bi = {k for k, c in c2.items() if c >= theta} | contexts
    return bi, tri


def prune_to_size(lm: BackoffLM, budget: int, code_bytes: int = 1) -> tuple[BackoffLM, float]:
    """``lm`` pruned by relative entropy until its file fits in ``budget`` bytes,
    renormalised; and the threshold used (0 if nothing was pruned)."""
    c2, c3 = prune_costs(lm)

    def size(theta: float) -> int:
        bi, tri = _kept(lm, c2, c3, theta)
        return model_bytes(len(lm.words), len(bi), len({k >> BITS for k in tri}), len(tri), code_bytes)

    theta = 0.0
    if size(0.0) > budget:
        lo, hi = -40.0, 0.0  # log10 of the threshold
        for _ in range(30):
            mid = (lo + hi) / 2
            lo, hi = (mid, hi) if size(10**mid) > budget else (lo, mid)
        theta = 10**hi
    bi, tri = _kept(lm, c2, c3, theta)
    out = BackoffLM(lm.words, list(lm.uni), list(lm.bo1), {k: lm.bi[k] for k in sorted(bi)}, {},
                    {k: lm.tri[k] for k in sorted(tri)})
    renormalise(out)
    return out, theta


def _quantiser(values: list[float], bins: int) -> tuple[list[float], Callable[[float], int]]:
    """Equal-population bins (as sphinxbase and KenLM quantise): the bin means and an encoder."""
    vs = sorted(values)
    n = len(vs)
    centres: list[float] = []
    for i in range(bins):
        lo, hi = n * i // bins, n * (i + 1) // bins
        if hi > lo:
            centres.append(math.fsum(vs[lo:hi]) / (hi - lo))
    centres = sorted(set(centres)) or [0.0]
    centres += [centres[-1]] * (bins - len(centres))
    bounds = [(centres[i] + centres[i + 1]) / 2 for i in range(bins - 1)]

    def encode(x: float) -> int:
        return bisect.bisect_left(bounds, x)

    return centres, encode


def to_arrays(lm: BackoffLM, code_type: str = "B") -> tuple[dict[str, array[Any]], dict[str, int]]:
    """The arrays of a model file (see :mod:`despin.context`) and its counts."""
    bins = 256 if code_type == "B" else 65536
    size = len(lm.words)
    keys = [key_hash(w) for w in lm.words]
    order = sorted(range(size), key=keys.__getitem__)
    new = [0] * size
    for rank, w in enumerate(order):
        new[w] = rank
    bigrams = sorted((new[k >> BITS], new[k & MASK], p) for k, p in lm.bi.items())
    uni_first = _starts((a for a, _, _ in bigrams), size)
    contexts: dict[tuple[int, int], list[tuple[int, float]]] = defaultdict(list)
    for k, p in lm.tri.items():
        contexts[(new[k >> 2 * BITS], new[(k >> BITS) & MASK])].append((new[k & MASK], p))
    pairs = sorted(contexts)
    tri = [t for ab in pairs for t in sorted(contexts[ab])]
    ctx_first = array("I", [0])
    for ab in pairs:
        ctx_first.append(ctx_first[-1] + len(contexts[ab]))
    ctx_bo = [lm.bo2.get(k2(order[a], order[b]), 0.0) for a, b in pairs]
    bi_tab, bi_enc = _quantiser([p for _, _, p in bigrams], bins)
    ctx_tab, ctx_enc = _quantiser(ctx_bo, bins)
    tri_tab, tri_enc = _quantiser([p for _, p in tri], bins)
    arrays: dict[str, array[Any]] = {
        "vocab_keys": array("Q", (keys[w] for w in order)),
        "uni_lp": array("f", (max(lm.uni[w], NEVER) for w in order)),
        "uni_bo": array("f", (lm.bo1[w] for w in order)),
        "uni_first": uni_first,
        "bi_word": array("I", (b for _, b, _ in bigrams)),
        "bi_code": array(code_type, (bi_enc(p) for _, _, p in bigrams)),
        "uni_ctx": _starts((a for a, _ in pairs), size),
        "ctx_word": array("I", (b for _, b in pairs)),
        "ctx_code": array(code_type, map(ctx_enc, ctx_bo)),
        "ctx_first": ctx_first,
        "tri_word": array("I", (c for c, _ in tri)),
        "tri_code": array(code_type, (tri_enc(p) for _, p in tri)),
        "bi_table": array("f", bi_tab),
        "ctx_table": array("f", ctx_tab),
        "tri_table": array("f", tri_tab),
    }
    counts = {"words": size, "bigrams": len(bigrams), "contexts": len(pairs), "trigrams": len(tri)}
    return arrays, counts


def _starts(firsts: Iterable[int], size: int) -> array[int]:
    """Where each id's run starts in a list sorted by id (size + 1 entries)."""
    out = array("I", [0] * (size + 1))
    for a in firsts:
        out[a + 1] += 1
    for i in range(size):
        out[i + 1] += out[i]
    return out


def vocabulary(first: Iterable[str], counts: NgramCounts, min_count: int) -> list[str]:
    """``<unk> <s> </s> <num>``, the words of ``first`` (another model's), then the
    corpus's other words seen at least ``min_count`` times."""
    out = [UNK, BOS, EOS, NUM]
    seen = set(out)
    for w in first:
        if w not in seen:
            seen.add(w)
            out.append(w)
    raw: Counter[int] = Counter()
    for key, c in counts.tri.items():
        raw[key & MASK] += c
    extra = sorted(counts.words[w] for w, c in raw.items() if c >= min_count and counts.words[w] not in seen)
    return out + extra
