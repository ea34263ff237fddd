"""The context model: how well a word or phrase fits the words around it.

It is a trigram language model (backoff form, natural logarithms). The one
shipped with despin is distilled from CMU Sphinx's US-English trigram model
interpolated with counts of clean English text (``data/model/PROVENANCE.md``);
``despin build-model`` makes one from your own corpus, alone or layered over
the bundled one.

**Scoring a window.** For a candidate span (tokens i..j) and each alternative
wording of it, the model reads the window around the span: up to two words
before it, the alternative's words, and up to two words after it, never
across a sentence or paragraph boundary (``<s>``/``</s>`` mark them). Words
are read the model's way (:mod:`despin.lm_text`: "U.S." is ``u. s.``,
"company's" one word, numbers ``<num>``); the tokens and their offsets are
unchanged. The window's log-probability is that of the span's words and the
words after it, given the words before it; it differs between alternatives
only where their trigrams do. :meth:`ContextModel.window_scores` returns it
split into parts (:class:`WindowScore`) so that callers can use the whole
difference, or the context alone without the words' own frequencies.

**File format** ``despin-model 2``: the 8 bytes ``DESPINLM``, a
little-endian uint32 header length, a UTF-8 JSON header (format, counts,
provenance, how to read the arrays), the arrays it lists (each starting at a
multiple of 8 bytes), then ``CRC32`` and the little-endian CRC-32 of
everything before it. The arrays:

* ``vocab_keys`` (uint64): the 64-bit BLAKE2b keys of the words, sorted; a
  word's id is its key's position (no word is stored as text);
* ``uni_lp``, ``uni_bo`` (float32): each word's log-probability and backoff;
* ``uni_first`` (uint32, words + 1): where each word's bigrams start;
  ``bi_word`` (uint32): the second word of each bigram, ascending within a
  first word; ``bi_code``: its quantised log-probability;
* ``uni_ctx`` (uint32, words + 1): where each word's trigram contexts (word
  pairs with trigrams) start; ``ctx_word``: the pair's second word;
  ``ctx_code``: its quantised backoff; ``ctx_first`` (contexts + 1): where its
  trigrams start; ``tri_word``, ``tri_code``: each trigram's last word and
  quantised log-probability;
* ``bi_table``, ``ctx_table``, ``tri_table`` (float32): the values of the
  codes (256 for ``B`` codes, 65,536 for ``H`` codes).

log P(c | a b) is the trigram's value if listed, else the backoff of (a b)
(0 if not listed) plus log P(c | b); log P(c | b) is the bigram's value if
listed, else ``uni_bo[b] + uni_lp[c]``. Loading checks the checksum, the
header and every array's type and length, and the ends of the pointer arrays;
any failure is a :class:`~despin.errors.ModelError` naming the file.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import struct
import sys
import typing
import zlib
from array import array
from bisect import bisect_left
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple, Union

from ._resources import data_path, load_once
from .errors import ModelError
from .lm_text import (
    APOSTROPHES,
    BOS,
    CLITICS,
    EOS,
    UNK,
    boundary_after,
    is_clitic,
    phrase_words,
    sentences,
    unit_at,
    unit_start,
)
from .tokenize import Tokens

__all__ = [
    "FORMAT_VERSION",
    "MAGIC",
    "ContextModel",
    "NgramTables",
    "WindowScore",
    "bundled_model_path",
    "key_hash",
    "load_model",
    "read_tables",
    "write_model",
]

MAGIC = b"DESPINLM"
FORMAT_VERSION = 2
TRAILER = b"CRC32"
_TRAILER_SIZE = len(TRAILER) + 4
_CACHE_SIZE = 300_000
Ints = Union["array[int]", memoryview]
Floats = Union["array[float]", memoryview]

# Every array of a model file and its type ("code" arrays may be B or H).
ARRAY_TYPES = {
    "vocab_keys": "Q", "uni_lp": "f", "uni_bo": "f", "uni_first": "I", "bi_word": "I", "bi_code": "BH",
    "uni_ctx": "I", "ctx_word": "I", "ctx_code": "BH", "ctx_first": "I", "tri_word": "I", "tri_code": "BH",
    "bi_table": "f", "ctx_table": "f", "tri_table": "f",
}
_COUNT_FIELDS = ("words", "bigrams", "contexts", "trigrams")


def key_hash(word: str) -> int:
    """The 64-bit key of a word in a model file."""
    return int.from_bytes(hashlib.blake2b(word.encode("utf-8", "surrogatepass"), digest_size=8).digest(), "little")


class WindowScore(NamedTuple):
    """One alternative's window, in nats.

    ``total`` = ``slot`` + ``right``: log P(the alternative's words, then the
    words after it | the words before it). ``slot`` is the part of the
    alternative's own words, ``right`` that of the words after it;
    ``unigram`` is the sum of the alternative's words' unigram
    log-probabilities (their frequency, context aside), so ``total -
    unigram`` is the evidence of the context alone and ``slot - unigram`` that
    of the left side alone. ``oov``: a word of the alternative is unknown to
    the model (it is scored as ``<unk>``).
    """

    total: float
    slot: float
    right: float
    unigram: float
    oov: bool


class NgramTables:
    """The arrays of one model file and look-ups in them (words as ids)."""

    def __init__(self, header: dict[str, Any], arrays: dict[str, Any], path: str):
        self.header = header
        self.path = path
        self.vocab_keys: Ints = arrays["vocab_keys"]
        self.uni_lp: Floats = arrays["uni_lp"]
        self.uni_bo: Floats = arrays["uni_bo"]
        self.uni_first: Ints = arrays["uni_first"]
        self.bi_word: Ints = arrays["bi_word"]
        self.bi_code: Ints = arrays["bi_code"]
        self.uni_ctx: Ints = arrays["uni_ctx"]
        self.ctx_word: Ints = arrays["ctx_word"]
        self.ctx_code: Ints = arrays["ctx_code"]
        self.ctx_first: Ints = arrays["ctx_first"]
        self.tri_word: Ints = arrays["tri_word"]
        self.tri_code: Ints = arrays["tri_code"]
        self.bi_table: list[float] = list(arrays["bi_table"])
        self.ctx_table: list[float] = list(arrays["ctx_table"])
        self.tri_table: list[float] = list(arrays["tri_table"])
        self.size = len(self.vocab_keys)
        self._ids: dict[str, int] = {}
        self._lp: dict[int, float] = {}
        self._lookup = _lookup_function(self)
        self.parts = _parts_function(self)
        """``parts(a, b, slot, right)``: log P of the ids ``slot`` given the history
        a b (-1: none), and log P of ``right`` after them (cached)."""
        self.unk = self._find_word(UNK)
        if self.unk < 0:
            raise ModelError(f"{path}: the model has no {UNK} word")

    # --- words ---

    def _find_word(self, word: str) -> int:
        k = key_hash(word)
        keys = self.vocab_keys
        i = bisect_left(keys, k)
        return i if i < len(keys) and keys[i] == k else -1

    def word_id(self, word: str) -> int:
        """The word's id, -1 if the model does not know it."""
        i = self._ids.get(word)
        if i is None:
            if len(self._ids) > _CACHE_SIZE:
                self._ids.clear()
            i = self._ids[word] = self._find_word(word)
        return i

    def in_vocab(self, word: str) -> bool:
        return self.word_id(word) >= 0

    def id_or_unk(self, word: str) -> int:
        i = self._ids.get(word)
        if i is None:
            i = self.word_id(word)
        return i if i >= 0 else self.unk

    def ids(self, words: Sequence[str]) -> tuple[int, ...]:
        """Ids of words, ``<unk>``'s for unknown ones."""
        get = self._ids.get
        out = tuple([get(w, -2) for w in words])
        if -1 in out or -2 in out:
            unk = self.unk
            out = tuple([i if i >= 0 else unk for i in map(self.word_id, words)])
        return out

    # --- probabilities ---

    def logprob(self, a: int, b: int, c: int) -> float:
        """log P(c | a b); a or b -1 for a shorter history (cached)."""
        return self.parts(a, b, (c,), ())[0]

    def sequence(self, history: tuple[int, ...], words: tuple[int, ...]) -> list[float]:
        """log P of each of ``words`` after ``history`` (its last two count)."""
        a = history[-2] if len(history) >= 2 else -1
        b = history[-1] if history else -1
        out = []
        for c in words:
            out.append(self.logprob(a, b, c))
            a, b = b, c
        return out


def _lookup_function(t: NgramTables) -> Callable[[int, int, int], float]:
    """log P(c | a b) from the arrays of ``t`` (a closure: the arrays are local
    names, and bigram results are cached apart, since many trigram look-ups end
    in the same bigram)."""
    uni_lp, uni_bo, uni_first, bi_word, bi_code, bi_table = (
        t.uni_lp, t.uni_bo, t.uni_first, t.bi_word, t.bi_code, t.bi_table)
    uni_ctx, ctx_word, ctx_first, ctx_code, ctx_table = t.uni_ctx, t.ctx_word, t.ctx_first, t.ctx_code, t.ctx_table
    tri_word, tri_code, tri_table = t.tri_word, t.tri_code, t.tri_table
    size = t.size
    bigrams: dict[int, float] = {}
    contexts: dict[int, tuple[int, int, float] | None] = {}
    none = (0, 0, 0.0)

    def lookup(a: int, b: int, c: int) -> float:  # one function: a call costs more than these tests
        if b < 0:
            return uni_lp[c]
        backoff = 0.0
        if a >= 0:
            key = a * size + b
            found = contexts.get(key, none)
            if found is none:  # the history a b: its trigrams and backoff, looked up once
                found = None
                lo = uni_ctx[a]
                hi = uni_ctx[a + 1]
                if lo < hi:
                    x = bisect_left(ctx_word, b, lo, hi)
                    if x < hi and ctx_word[x] == b:
                        found = (ctx_first[x], ctx_first[x + 1], ctx_table[ctx_code[x]])
                if len(contexts) > _CACHE_SIZE:
                    contexts.clear()
                contexts[key] = found
            if found is not None:
                t0, t1, backoff = found
                k = bisect_left(tri_word, c, t0, t1)
                if k < t1 and tri_word[k] == c:
                    return tri_table[tri_code[k]]
        key = b * size + c
        v = bigrams.get(key)
        if v is None:  # many trigram look-ups end in the same bigram
            lo = uni_first[b]
            hi = uni_first[b + 1]
            k = bisect_left(bi_word, c, lo, hi)
            v = bi_table[bi_code[k]] if k < hi and bi_word[k] == c else uni_bo[b] + uni_lp[c]
            if len(bigrams) > _CACHE_SIZE:
                bigrams.clear()
            bigrams[key] = v
        return backoff + v

    return lookup


def _parts_function(t: NgramTables) -> Callable[[int, int, tuple[int, ...], tuple[int, ...]], tuple[float, float]]:
    """The inner loop of scoring (a closure, the cache read inline)."""
    cache = t._lp
    get = cache.get
    lookup = t._lookup
    n = t.size
    n1 = n + 1

    def parts(a: int, b: int, slot: tuple[int, ...], right: tuple[int, ...]) -> tuple[float, float]:
        s_slot = 0.0
        for c in slot:
            key = ((a + 1) * n1 + b + 1) * n + c
            v = get(key)
            if v is None:
                v = cache[key] = lookup(a, b, c)
            s_slot += v
            a = b
            b = c
        s_right = 0.0
        for c in right:
            key = ((a + 1) * n1 + b + 1) * n + c
            v = get(key)
            if v is None:
                v = cache[key] = lookup(a, b, c)
            s_right += v
            a = b
            b = c
        if len(cache) > _CACHE_SIZE:
            cache.clear()
        return s_slot, s_right

    return parts


class _Window(NamedTuple):
    """The words around one span, read once for all its alternatives."""

    left: tuple[str, ...]
    glue: str
    right: tuple[str, ...]


class _Memo(NamedTuple):
    """The span last asked about: its window as ids (history a b, the clitic, the
    words after it) and the totals of the alternatives scored so far (None: an
    unknown word)."""

    tokens: Tokens
    i: int
    j: int
    neighbours: dict[int, str] | None
    a: int
    b: int
    glue: str
    right: tuple[int, ...]
    totals: dict[str, float | None]


class ContextModel:
    """A context model: one model file, or a user's model layered over the
    bundled one (log of ``weight * P_user + (1 - weight) * P_bundled`` for each
    word). Thread-safe; caches are bounded."""

    #: Log-odds per nat of :meth:`advantage_at` in ``despin.score`` (which reads
    #: it): the ratio also holds the words' own frequencies, which the lexicon
    #: prior counts already. 0.4 is the largest weight on a 0.1 grid whose edits
    #: reported with confidence >= 0.9 stay right >= 92 % on held-out news spun
    #: from the first and from all originals (the first 60 long documents of
    #: donoharm_news_sample.jsonl, which the model never saw; the quality tests
    #: use the next 100).
    evidence_weight = 0.4

    def __init__(self, tables: Sequence[NgramTables], weights: Sequence[float] = (1.0,)):
        if not tables or len(tables) != len(weights):
            raise ValueError("one weight per table")
        self.tables = list(tables)
        self.weights = list(weights)
        # Gluing and splitting follow the vocabulary of the last (the bundled, if layered) model.
        self._reader = self.tables[-1]
        self.header = self.tables[0].header
        self._slots: dict[tuple[str, str], tuple[str, ...]] = {}
        self._phrases: dict[str, tuple[str, ...]] = {}
        self._slot_ids: dict[tuple[str, str], tuple[int, ...] | None] = {}
        self._last: _Memo | None = None

    # --- reading windows ---

    def in_vocab(self, word: str) -> bool:
        return self._reader.in_vocab(word)

    def _unit(self, tokens: Tokens, k: int, neighbours: dict[int, str] | None) -> tuple[tuple[str, ...], int]:
        if neighbours and k in neighbours:
            return self.phrase(neighbours[k]), k + 1
        return unit_at(tokens, k, self.in_vocab)

    def phrase(self, text: str) -> tuple[str, ...]:
        """:func:`~despin.lm_text.phrase_words` of ``text`` (cached)."""
        words = self._phrases.get(text)
        if words is None:
            if len(self._phrases) > _CACHE_SIZE:
                self._phrases.clear()
            words = self._phrases[text] = phrase_words(text, self.in_vocab)
        return words

    def left_words(self, tokens: Tokens, i: int, neighbours: dict[int, str] | None = None) -> tuple[str, ...]:
        """Up to two words before token i (``<s>`` at a sentence start)."""
        if (i >= 2 and tokens.gaps[i - 1] == " " and tokens.gaps[i - 2] == " "
                and not (neighbours and (i - 1 in neighbours or i - 2 in neighbours))):
            w1, w2 = tokens.lows[i - 2], tokens.lows[i - 1]
            if w1.isalpha() and w2.isalpha() and not is_clitic(tokens, i - 2):
                return (w1, w2)
        out: list[str] = []
        k = i - 1
        while len(out) < 2:
            if k < 0 or boundary_after(tokens, k):
                out.insert(0, BOS)
                break
            s = unit_start(tokens, k)
            words, _ = self._unit(tokens, s, neighbours)
            out[:0] = words
            k = s - 1
        return tuple(out[-2:])

    def right_words(
        self, tokens: Tokens, j: int, neighbours: dict[int, str] | None = None
    ) -> tuple[str, tuple[str, ...]]:
        """The clitic written onto the span ("s" of "officers's", "'" of
        "officers' ") and up to two words after it (``</s>`` at a sentence end)."""
        n = len(tokens.lows)
        glue = ""
        if j < n and tokens.lows[j] in CLITICS and tokens.gaps[j - 1] in APOSTROPHES:
            glue = tokens.lows[j]
            j += 1
        elif tokens.gaps[j - 1][:1] in APOSTROPHES and tokens.gaps[j - 1][1:2].isspace():
            glue = "'"
        elif (j + 2 < n and tokens.gaps[j - 1] == tokens.gaps[j] == tokens.gaps[j + 1] == " "
                and not (neighbours and (j in neighbours or j + 1 in neighbours))):
            r1, r2 = tokens.lows[j], tokens.lows[j + 1]
            if r1.isalpha() and r2.isalpha():
                return glue, (r1, r2)
        out: list[str] = []
        k = j
        while len(out) < 2:
            # the text's end closes the window even where a space trails the
            # last word (boundary_after reads a lone space as no boundary)
            if k >= n or boundary_after(tokens, k - 1):
                out.append(EOS)
                break
            words, k = self._unit(tokens, k, neighbours)
            out.extend(words)
        return glue, tuple(out[:2])

    def slot_words(self, phrase: str, glue: str = "") -> tuple[str, ...]:
        """The model's words for ``phrase`` in the span, with the clitic written onto it."""
        key = (phrase, glue)
        words = self._slots.get(key)
        if words is None:
            if len(self._slots) > _CACHE_SIZE:
                self._slots.clear()
            words = self._slots[key] = self._glued(self.phrase(phrase), glue)
        return words

    def _glued(self, words: tuple[str, ...], glue: str) -> tuple[str, ...]:
        if not glue or not words:
            return words
        last = words[-1]
        if glue == "'":
            joined = last + "'"
            return words[:-1] + ((joined,) if last.endswith("s") and self.in_vocab(joined) else (last,))
        joined = f"{last}'{glue}"
        if self.in_vocab(joined):
            return words[:-1] + (joined,)
        return words + (("'s",) if glue == "s" else ())

    def window(self, tokens: Tokens, i: int, j: int, neighbours: dict[int, str] | None = None) -> _Window:
        glue, right = self.right_words(tokens, j, neighbours)
        return _Window(self.left_words(tokens, i, neighbours), glue, right)

    # --- scoring ---

    def score_words(
        self, left: tuple[str, ...], slots: Sequence[tuple[str, ...]], right: tuple[str, ...]
    ) -> list[WindowScore]:
        """:class:`WindowScore` of the window ``left + slot + right`` for each slot (words)."""
        if len(self.tables) == 1:
            t = self.tables[0]
            history = t.ids(left)
            a = history[-2] if len(history) >= 2 else -1
            b = history[-1] if history else -1
            right_ids = t.ids(right)
            out = []
            for slot in slots:
                ids = t.ids(slot)
                p, r = t.parts(a, b, ids, right_ids)
                out.append(WindowScore(p + r, p, r, sum(t.uni_lp[w] for w in ids), t.unk in ids))
            return out
        return [self._mixed(left, s, right) for s in slots]

    def _mixed(self, left: tuple[str, ...], slot: tuple[str, ...], right: tuple[str, ...]) -> WindowScore:
        n = len(slot)
        per: list[list[float]] = []
        unis: list[list[float]] = []
        for t in self.tables:
            ids = t.ids(slot)
            per.append(t.sequence(t.ids(left), ids + t.ids(right)))
            unis.append([t.uni_lp[w] for w in ids])
        lps = [_logmix([p[k] for p in per], self.weights) for k in range(len(per[0]))]
        uni = sum(_logmix([u[k] for u in unis], self.weights) for k in range(n))
        oov = all(t.unk in t.ids(slot) for t in self.tables)
        return WindowScore(sum(lps), sum(lps[:n]), sum(lps[n:]), uni, oov)

    def window_scores(
        self, tokens: Tokens, i: int, j: int, alternatives: Sequence[str], neighbours: dict[int, str] | None = None
    ) -> list[WindowScore]:
        """:class:`WindowScore` of each alternative wording of tokens i..j
        (``neighbours``: token position -> the word standing there once other
        edits are made)."""
        w = self.window(tokens, i, j, neighbours)
        try:
            return self.score_words(w.left, [self.slot_words(a, w.glue) for a in alternatives], w.right)
        except IndexError:
            raise self._corrupt() from None

    def window_logprobs(
        self, tokens: Tokens, i: int, j: int, alternatives: Sequence[str], neighbours: dict[int, str] | None = None
    ) -> list[float]:
        """Log-probability (nats) of the window with each alternative in tokens i..j;
        see :class:`WindowScore`."""
        return [s.total for s in self.window_scores(tokens, i, j, alternatives, neighbours)]

    def advantage_at(
        self, tokens: Tokens, i: int, j: int, literal: str, original: str, neighbours: dict[int, str] | None = None
    ) -> float:
        """log P(window with ``original``) - log P(window with ``literal``) in
        tokens i..j (nats); 0.0 (no evidence) when the model does not know a word
        of either. Calls for the same span (one per original) read its window once."""
        try:
            return self._advantage(tokens, i, j, literal, original, neighbours)
        except IndexError:
            raise self._corrupt() from None

    def _corrupt(self) -> ModelError:
        """The error for an index out of range: only a damaged file can hold one."""
        return ModelError(f"{self.tables[0].path}: corrupt model file (an index is out of range)")

    def _advantage(
        self, tokens: Tokens, i: int, j: int, literal: str, original: str, neighbours: dict[int, str] | None
    ) -> float:
        if len(self.tables) > 1:
            so, sf = self.window_scores(tokens, i, j, [original, literal], neighbours)
            return 0.0 if so.oov or sf.oov else so.total - sf.total
        m = self._last
        if m is None or m.tokens is not tokens or m.i != i or m.j != j or m.neighbours is not neighbours:
            m = self._memo(tokens, i, j, neighbours)
        totals = m.totals
        o = totals[original] if original in totals else self._total(m, original)
        f = totals[literal] if literal in totals else self._total(m, literal)
        return 0.0 if o is None or f is None else o - f

    def _memo(self, tokens: Tokens, i: int, j: int, neighbours: dict[int, str] | None) -> _Memo:
        t = self.tables[0]
        lows, gaps = tokens.lows, tokens.gaps
        if (i >= 2 and gaps[i - 1] == " " and gaps[i - 2] == " " and lows[i - 2].isalpha() and lows[i - 1].isalpha()
                and not is_clitic(tokens, i - 2) and not (neighbours and (i - 1 in neighbours or i - 2 in neighbours))):
            a, b = t.id_or_unk(lows[i - 2]), t.id_or_unk(lows[i - 1])  # the common case, read directly
        else:
            history = t.ids(self.left_words(tokens, i, neighbours))
            a = history[-2] if len(history) >= 2 else -1
            b = history[-1] if history else -1
        glue, right = self.right_words(tokens, j, neighbours)
        m = self._last = _Memo(tokens, i, j, neighbours, a, b, glue, t.ids(right), {})
        return m

    def _total(self, m: _Memo, phrase: str) -> float | None:
        key = (phrase, m.glue)
        ids = self._slot_ids.get(key, ())
        if ids == ():
            t = self.tables[0]
            found = t.ids(self.slot_words(phrase, m.glue))
            ids = None if t.unk in found else found
            if len(self._slot_ids) > _CACHE_SIZE:
                self._slot_ids.clear()
            self._slot_ids[key] = ids
        total = None
        if ids is not None:
            p, r = self.tables[0].parts(m.a, m.b, ids, m.right)
            total = p + r
        m.totals[phrase] = total
        return total

    def text_logprob(self, text: str) -> float:
        """log P of a whole text, sentence by sentence (nats; for tools and tests)."""
        total = 0.0
        for sent in sentences(text, self.in_vocab):
            total += self.score_words((BOS,), [tuple(sent)], (EOS,))[0].total
        return total


def _logmix(lps: Sequence[float], weights: Sequence[float]) -> float:
    top = max(lps)
    return top + math.log(sum(w * math.exp(x - top) for x, w in zip(lps, weights, strict=True)))


# --- files ---


def _fail(path: str, why: str) -> ModelError:
    return ModelError(f"{path}: {why}")


def write_model(path: str, header: dict[str, Any], arrays: dict[str, array[Any]]) -> int:
    """Write a model file atomically; returns its size in bytes."""
    header = dict(header, format=FORMAT_VERSION)
    header["arrays"] = [{"name": n, "typecode": a.typecode, "length": len(a)} for n, a in arrays.items()]
    hbytes = json.dumps(header, sort_keys=True).encode("utf-8")
    head = MAGIC + struct.pack("<I", len(hbytes)) + hbytes
    chunks = [head + b"\0" * (-len(head) % 8)]
    for a in arrays.values():
        if sys.byteorder != "little":  # pragma: no cover
            a = array(a.typecode, a)
            a.byteswap()
        b = a.tobytes()
        chunks.append(b + b"\0" * (-len(b) % 8))
    crc = 0
    for c in chunks:
        crc = zlib.crc32(c, crc)
    chunks.append(TRAILER + struct.pack("<I", crc))
    target = os.path.realpath(path) if os.path.islink(path) else path  # a link stays a link
    if os.path.exists(target) and not os.path.isfile(target):  # a device or FIFO: written through, never replaced
        with open(target, "wb") as fh:
            for c in chunks:
                fh.write(c)
        return sum(map(len, chunks))
    tmp = f"{target}.tmp{os.getpid()}"
    with open(tmp, "wb") as fh:
        for c in chunks:
            fh.write(c)
    os.replace(tmp, target)
    return os.path.getsize(target)


def read_tables(path: str) -> NgramTables:
    """Read and check one model file (no layering)."""
    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except OSError as exc:
        raise _fail(path, f"cannot read the context model ({exc.strerror})") from None
    header, arrays = parse_model(path, data)
    return NgramTables(header, arrays, path)


def check_model_header(path: str) -> None:
    """Check a model file's header and size without reading its arrays (the
    checksum is checked when the model is loaded); :class:`ModelError` naming
    the file if it is not a model this despin reads."""
    try:
        with open(path, "rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            head = fh.read(12)
            if len(head) == 12 and head[:8] == MAGIC:
                head += fh.read(min(struct.unpack_from("<I", head, 8)[0], size))
    except OSError as exc:
        raise _fail(path, f"cannot read the context model ({exc.strerror})") from None
    header, start = _head(head, path, size)
    want = start + sum(_padded(length * struct.calcsize(code)) for _, code, length in _specs(header, path))
    if want + _TRAILER_SIZE != size:
        raise _fail(path, f"truncated or corrupt model file ({size} bytes, the header says {want + _TRAILER_SIZE})")


def _padded(n: int) -> int:
    return n + (-n % 8)


def parse_model(path: str, data: bytes) -> tuple[dict[str, Any], dict[str, Any]]:
    """The header and arrays of the model file ``path`` whose bytes are ``data``,
    checked (checksum, header, every array's type and length, the ends of the
    pointer arrays); :class:`ModelError` naming the file says what is wrong."""
    if data[:8] != MAGIC:
        _not_a_model(data, path)
    if len(data) < 12 + _TRAILER_SIZE or data[-_TRAILER_SIZE:-4] != TRAILER:
        raise _fail(path, "truncated model file (no checksum at the end)")
    (crc,) = struct.unpack("<I", data[-4:])
    body = memoryview(data)[:-_TRAILER_SIZE]
    if zlib.crc32(body) != crc:
        raise _fail(path, "checksum mismatch: the model file is corrupt (changed since it was written)")
    header, pos = _head(bytes(body[: 12 + struct.unpack_from("<I", data, 8)[0]]), path, len(data))
    arrays = _arrays(body, pos, _specs(header, path), path)
    _check_arrays(header, arrays, path)
    return header, arrays


def _not_a_model(data: bytes, path: str) -> None:
    if data[:8] == b"DESPINM1":
        raise _fail(path, "a despin-model 1 file (bigram counts); this despin reads format 2: rebuild it "
                    "with 'despin build-model'")
    raise _fail(path, "not a despin context model (bad magic bytes)")


def _head(head: bytes, path: str, size: int) -> tuple[dict[str, Any], int]:
    """The checked header of a file of ``size`` bytes that starts with ``head``,
    and where its arrays start."""
    if head[:8] != MAGIC:
        _not_a_model(head, path)
    if len(head) < 12:
        raise _fail(path, "truncated model file (no header)")
    (hlen,) = struct.unpack_from("<I", head, 8)
    if 12 + hlen + _TRAILER_SIZE > size or len(head) < 12 + hlen:
        raise _fail(path, f"truncated model file (header of {hlen} bytes)")
    try:
        header = json.loads(head[12 : 12 + hlen].decode("utf-8"))
    except (ValueError, RecursionError) as exc:
        raise _fail(path, f"corrupt model header ({type(exc).__name__})") from None
    _check_header(header, path)
    return header, _padded(12 + hlen)


def _specs(header: dict[str, Any], path: str) -> list[tuple[str, str, int]]:
    """The header's list of arrays as (name, type, length), checked."""
    out = []
    for spec in header["arrays"]:
        if not isinstance(spec, dict):
            raise _fail(path, f"corrupt model header (array {spec!r})")
        name, code, length = spec.get("name"), spec.get("typecode"), spec.get("length")
        if (not isinstance(name, str) or name not in ARRAY_TYPES or not isinstance(code, str) or len(code) != 1
                or code not in ARRAY_TYPES[name] or isinstance(length, bool) or not isinstance(length, int)
                or length < 0):
            raise _fail(path, f"corrupt model header (array {name!r} of type {code!r}, length {length!r})")
        out.append((name, code, length))
    return out


def _check_header(header: Any, path: str) -> None:
    if not isinstance(header, dict):
        raise _fail(path, "corrupt model header (not a JSON object)")
    if header.get("format") != FORMAT_VERSION:
        found = header.get("format")
        raise _fail(path, f"model format {found!r} is not supported (this despin reads {FORMAT_VERSION})")
    for name in _COUNT_FIELDS:
        v = header.get(name)
        if not isinstance(v, int) or isinstance(v, bool) or v < 0:
            raise _fail(path, f"corrupt model header ({name} = {v!r})")
    weight = header.get("weight", 1.0)
    if isinstance(weight, bool) or not isinstance(weight, (int, float)) or not 0.0 < weight <= 1.0:
        raise _fail(path, f"corrupt model header (weight = {weight!r})")
    if not isinstance(header.get("arrays"), list):
        raise _fail(path, "corrupt model header (no list of arrays)")


def _arrays(body: memoryview, pos: int, specs: list[tuple[str, str, int]], path: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, code, length in specs:
        nbytes = length * struct.calcsize(code)
        if pos + nbytes > len(body):
            raise _fail(path, f"truncated model file (array {name})")
        chunk = body[pos : pos + nbytes]
        if sys.byteorder == "little":
            out[name] = typing.cast(Any, chunk).cast(code)  # (the item type is checked, not a literal)
        else:  # pragma: no cover
            a = array(code)
            a.frombytes(chunk)
            a.byteswap()
            out[name] = a
        pos += _padded(nbytes)
    if pos != len(body):
        raise _fail(path, f"corrupt model file ({len(body) - pos} bytes after the arrays)")
    return out


def _code(a: Any) -> str:
    """The item type of an array or a memoryview."""
    return str(a.typecode if isinstance(a, array) else a.format)


def _check_arrays(header: dict[str, Any], arrays: dict[str, Any], path: str) -> None:
    missing = sorted(set(ARRAY_TYPES) - set(arrays))
    if missing:
        raise _fail(path, f"model file lacks arrays {missing}")
    v, n2, nc, n3 = (header[k] for k in _COUNT_FIELDS)
    bins = {"B": 256, "H": 65536}
    want = {
        "vocab_keys": v, "uni_lp": v, "uni_bo": v, "uni_first": v + 1, "bi_word": n2, "bi_code": n2,
        "uni_ctx": v + 1, "ctx_word": nc, "ctx_code": nc, "ctx_first": nc + 1, "tri_word": n3, "tri_code": n3,
        "bi_table": bins[_code(arrays["bi_code"])], "ctx_table": bins[_code(arrays["ctx_code"])],
        "tri_table": bins[_code(arrays["tri_code"])],
    }
    for name, n in want.items():
        if len(arrays[name]) != n:
            raise _fail(path, f"corrupt model file (array {name} has {len(arrays[name])} items, the header says {n})")
    ends = {"uni_first": (0, n2), "uni_ctx": (0, nc), "ctx_first": (0, n3)}
    for name, (first, last) in ends.items():
        a = arrays[name]
        if a[0] != first or a[-1] != last:
            raise _fail(path, f"corrupt model file (array {name} does not run from {first} to {last})")
    for name in ("uni_lp", "uni_bo", "bi_table", "ctx_table", "tri_table"):
        a = arrays[name]
        if not all(map(math.isfinite, a)) or (name != "uni_bo" and name != "ctx_table" and max(a) > 1e-3):
            raise _fail(path, f"corrupt model file (array {name} holds values that are not log-probabilities)")


def bundled_model_path() -> str | None:
    """Path of the model shipped with despin, or None if this installation has none."""
    found = data_path("model", "context.bin")
    return str(found) if found is not None else None


def _load(path: str) -> ContextModel:
    tables = read_tables(path)
    layer = tables.header.get("layer")
    if layer is None:
        return ContextModel([tables])
    if layer != "bundled":
        raise _fail(path, f"corrupt model header (layer = {layer!r})")
    base = bundled_model_path()
    if base is None:
        raise _fail(path, "this model is layered over the bundled model, which this installation lacks")
    w = float(tables.header["weight"])
    return ContextModel([tables, read_tables(base)], [w, 1.0 - w])


_load_cached = load_once(_load, maxsize=4)


def load_model(path: str | os.PathLike[str] | None = None) -> ContextModel | None:
    """Load a model file (the bundled one when ``path`` is None, then None if
    there is none); loaded once per process."""
    if path is None:
        found = bundled_model_path()
        if found is None:
            return None
        path = found
    return _load_cached(os.fspath(path))
