"""Read CMU Sphinx's binary trigram language models ("Trie Language Model").

This is the format pocketsphinx and sphinxbase write (``sphinx_lm_convert``,
``ngram_model_trie_write_bin``), for example ``en-us.lm.bin`` in the
``pocketsphinx`` wheel. despin reads it only when its default context model
is built (``tools/build_default_model.py``), never at run time. The layout,
all little-endian:

* the 19 bytes ``Trie Language Model``, the order (one byte; 1 to 3 here)
  and one uint32 count of n-grams per order (the counts include the "dummy"
  n-grams sphinxbase adds so that every n-gram can be reached);
* for order > 1: an int32 (formerly the quantisation type; 1) and the
  quantisation tables, 2**16 float32 bin centres each: for each middle order
  (bigrams in a trigram model) a probability and a backoff table, then a
  probability table for the highest order;
* the unigrams: ``count[0] + 1`` records of (float32 log-probability,
  float32 backoff, uint32 index of the first child); the last record only
  ends the previous word's children;
* the n-gram levels, bit-packed. The trie is reversed (as in KenLM): below
  the unigram ``w`` are the entries for the word before it, so the path
  ``w <- h1 <- h2`` is the trigram ``h2 h1 w``. A middle entry is
  ``word | backoff code (16 bits) | probability code (16) | first child``, a
  highest-order entry ``word | probability code (16)``. Word and child
  fields have as many bits as their largest value needs; fields are packed
  from the low bits of each byte up; a level has one extra entry (the end of
  the last child range) and 8 bytes of padding;
* an int32 byte count and the words, each ending with a NUL byte.

The floats are logarithms in base 1.0001 (sphinxbase's ``logmath``); the
reader returns natural logarithms. The older "Darpa Trigram LM" (DMP) format
is not read.
"""

from __future__ import annotations

import math
import struct
from array import array
from dataclasses import dataclass

from .errors import ModelError

__all__ = ["LOG_BASE", "MAGIC", "SphinxLM", "parse_sphinx_lm", "read_sphinx_lm"]

MAGIC = b"Trie Language Model"
LOG_BASE = 1.0001  # sphinxbase's logmath base, in which the file's floats are written
_LN_BASE = math.log(LOG_BASE)
_QBITS = 16  # bits of every probability and backoff code
_QBINS = 1 << _QBITS


@dataclass
class SphinxLM:
    """A backoff model as stored in the file, in natural logs.

    Level 0 is the unigrams (indexed by word id); level 1 the entries below
    them (bigram "h1 w": ``word[1]`` holds h1); level 2 the trigrams
    "h2 h1 w" (``word[2]`` holds h2). The children of entry i of level k are
    entries ``first[k][i]`` to ``first[k][i + 1]`` of level k + 1, sorted by
    word id. ``prob[k]``/``backoff[k]`` are each entry's log-probability and
    backoff weight (level 2 has no backoffs).
    """

    words: list[str]
    counts: tuple[int, ...]
    prob: list[array[float]]
    backoff: list[array[float]]
    word: list[array[int]]
    first: list[array[int]]

    @property
    def order(self) -> int:
        return len(self.counts)

    def ids(self) -> dict[str, int]:
        return {w: i for i, w in enumerate(self.words)}

    def child(self, level: int, parent: int, w: int) -> int:
        """The entry of word ``w`` below entry ``parent`` of ``level``; -1 if none."""
        first = self.first[level]
        lo, hi = first[parent], first[parent + 1]
        words = self.word[level + 1]
        while lo < hi:
            mid = (lo + hi) // 2
            if words[mid] < w:
                lo = mid + 1
            else:
                hi = mid
        return lo if lo < first[parent + 1] and words[lo] == w else -1

    def logprob(self, w: int, history: tuple[int, ...] = ()) -> float:
        """Natural-log P(w | history), the most recent word first (sphinxbase's
        order), with backoff as sphinxbase computes it."""
        history = history[: self.order - 1]
        p = self.prob[0][w]
        node = w
        used = 0
        for level, h in enumerate(history):
            if self.first[level][node] == self.first[level][node + 1]:
                break
            nxt = self.child(level, node, h)
            if nxt < 0:
                break
            node = nxt
            p = self.prob[level + 1][node]
            used = level + 1
        if used < len(history):
            p += self._context_backoff(history, used)
        return p

    def _context_backoff(self, history: tuple[int, ...], start: int) -> float:
        """Sum of the backoff weights of the contexts history[:k] for k > start."""
        total = self.backoff[0][history[0]] if start == 0 else 0.0
        node = history[0]
        for level in range(1, len(history)):
            nxt = self.child(level - 1, node, history[level])
            if nxt < 0:
                break
            node = nxt
            if level >= start:
                total += self.backoff[level][node]
        return total


def read_sphinx_lm(path: str) -> SphinxLM:
    """Read a Sphinx trie-format binary LM; :class:`~despin.errors.ModelError` if it is not one."""
    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except OSError as exc:
        raise ModelError(f"{path}: cannot read ({exc.strerror})") from None
    return parse_sphinx_lm(data, path)


def parse_sphinx_lm(data: bytes, name: str = "<bytes>") -> SphinxLM:
    """:func:`read_sphinx_lm` of a file's bytes."""
    if not data.startswith(MAGIC) or len(data) <= len(MAGIC):
        raise ModelError(f"{name}: not a Sphinx trie language model")
    order = data[len(MAGIC)]
    if not 1 <= order <= 3:
        raise ModelError(f"{name}: order {order} is not supported (1 to 3)")
    try:
        return _parse(data, name, order)
    except (struct.error, IndexError) as exc:
        raise ModelError(f"{name}: truncated or corrupt Sphinx model ({exc})") from None


def _take(data: bytes, pos: int, n: int, name: str, what: str) -> bytes:
    chunk = data[pos : pos + n]
    if len(chunk) != n:
        raise ModelError(f"{name}: truncated Sphinx model ({what})")
    return chunk


def _parse(data: bytes, name: str, order: int) -> SphinxLM:
    pos = len(MAGIC) + 1
    counts = struct.unpack_from(f"<{order}I", data, pos)
    pos += 4 * order
    tables: list[array[float]] = []
    if order > 1:
        pos += 4  # the former quantisation type
        for _ in range(2 * (order - 2) + 1):
            t = array("f")
            t.frombytes(_take(data, pos, 4 * _QBINS, name, "quantisation tables"))
            tables.append(t)
            pos += 4 * _QBINS
    v = counts[0]
    u_prob, u_bo, u_next = array("f"), array("f"), array("I")
    for p, b, n in struct.iter_unpack("<ffI", _take(data, pos, 12 * (v + 1), name, "unigrams")):
        u_prob.append(p * _LN_BASE)
        u_bo.append(b * _LN_BASE)
        u_next.append(n)
    pos += 12 * (v + 1)
    lm = SphinxLM([], tuple(counts), [u_prob], [u_bo], [array("I")], [u_next])
    for level in range(1, order):
        pos = _read_level(lm, data, pos, level, tables, name)
    (k,) = struct.unpack_from("<i", data, pos)
    if k < 0:
        raise ModelError(f"{name}: corrupt Sphinx model (word strings of {k} bytes)")
    blob = _take(data, pos + 4, k, name, "word strings")
    words = blob.decode("utf-8", "replace").split("\0")
    if words and words[-1] == "":
        words.pop()
    if len(words) != v:
        raise ModelError(f"{name}: {len(words)} word strings for {v} unigrams")
    if pos + 4 + k != len(data):
        raise ModelError(f"{name}: {len(data) - pos - 4 - k} unexpected bytes at the end")
    lm.words = words
    return lm


def _read_level(lm: SphinxLM, data: bytes, pos: int, level: int, tables: list[array[float]], name: str) -> int:
    """Unpack one bit-packed n-gram level into ``lm``; returns the position after it."""
    counts, order = lm.counts, lm.order
    n = counts[level]
    middle = level < order - 1
    word_bits = counts[0].bit_length()
    next_bits = counts[level + 1].bit_length() if middle else 0
    total = word_bits + (2 * _QBITS if middle else _QBITS) + next_bits
    size = ((1 + n) * total + 7) // 8 + 8
    mem = _take(data, pos, size, name, f"{level + 1}-grams")
    word_mask, next_mask, qmask = (1 << word_bits) - 1, (1 << next_bits) - 1, _QBINS - 1
    ptab = tables[2 * (level - 1)] if middle else tables[-1]
    btab = tables[2 * (level - 1) + 1] if middle else ptab
    ws, ps, bs, nx = array("I"), array("f"), array("f"), array("I")
    for k in range(n + 1):
        off = k * total
        x = int.from_bytes(mem[off >> 3 : (off >> 3) + 16], "little") >> (off & 7)
        if k < n:
            ws.append(x & word_mask)
        x >>= word_bits
        if middle:
            if k < n:
                bs.append(btab[x & qmask] * _LN_BASE)
                ps.append(ptab[(x >> _QBITS) & qmask] * _LN_BASE)
            nx.append((x >> 2 * _QBITS) & next_mask)
        elif k < n:
            ps.append(ptab[x & qmask] * _LN_BASE)
    lm.word.append(ws)
    lm.prob.append(ps)
    lm.backoff.append(bs)
    if middle:
        lm.first.append(nx)
    return pos + size
