"""The context model: how well a word or phrase fits its neighbours.

Built by ``despin build-model`` from clean text, it stores counts for the
lexicon's "units" (every spun form and every original, one to five words):
how often each unit occurs, how often each word precedes it and follows it,
and how often every word occurs. Keys are 64-bit BLAKE2b hashes of the
strings in sorted arrays, so the file is compact, loads in milliseconds with
no unpickling, and is looked up with binary search.

For a literal form f and a candidate original o with a neighbour w (the
word before, and separately the word after), the evidence is the
confusion-set ratio::

    log [ (c(w, o) + K s_o) / (c(w, f) + K s_f) ] - log [ s_o / s_f ]

where s_o, s_f are the shares of o and f among their joint occurrences and K
a pseudo-count: with no pair observed it is exactly 0, and the overall
frequency of the two forms (already in the lexicon prior) is not counted
twice. Each side is clipped to +-3 nats. Units the model did not count give
no evidence.

File format ``despin-model 1``: the 8 bytes ``DESPINM1``, a little-endian
uint32 header length, a UTF-8 JSON header, then the arrays named in the
header, each little-endian (``Q`` uint64 keys sorted ascending, ``I`` uint32
counts). The header's ``checksum`` (BLAKE2b over the rest of the header and
the arrays) is verified on load; any problem raises
:class:`~despin.errors.ModelError` naming the file (:func:`parse_model`).
"""

from __future__ import annotations

import bisect
import functools
import hashlib
import json
import math
import os
import struct
import sys
from array import array
from typing import Any

from ._resources import data_path, load_once
from .errors import ModelError
from .tokenize import WORD_RE, Tokens, joinable

__all__ = ["FORMAT_VERSION", "MAGIC", "ContextModel", "bundled_model_path", "check_model_header", "key_hash",
           "load_model", "parse_model", "write_model"]

MAGIC = b"DESPINM1"
FORMAT_VERSION = 1
KAPPA = 2.0  # pseudo-count that pulls both sides towards "no evidence"
SIDE_CLIP = 3.0  # nats one neighbour can contribute
_CACHE_SIZE = 200_000
BOUNDARY = "<s>"
_ARRAYS = ("uni_keys", "uni_counts", "pair_keys", "pair_counts", "unit_keys", "unit_counts")


def key_hash(s: str) -> int:
    """The 64-bit key of a string in the model."""
    return int.from_bytes(hashlib.blake2b(s.encode("utf-8", "surrogatepass"), digest_size=8).digest(), "little")


def left_key(left: str, unit: str) -> str:
    return left + "\x1f>" + unit


def right_key(unit: str, right: str) -> str:
    return unit + "\x1f<" + right


class ContextModel:
    """Counts loaded from a model file; see the module docstring."""

    def __init__(self, header: dict[str, Any], arrays: dict[str, array[int]]):
        self.header = header
        self.n_tokens = float(header["n_tokens"])
        self._uk, self._uc = arrays["uni_keys"], arrays["uni_counts"]
        self._pk, self._pc = arrays["pair_keys"], arrays["pair_counts"]
        self._tk, self._tc = arrays["unit_keys"], arrays["unit_counts"]
        # Bounded lookup caches (a dict read is atomic, so sharing across threads is safe).
        self._cache: dict[str, int] = {}
        self._unit_cache: dict[str, int | None] = {}
        self._advantage_cache: dict[tuple[str, str, str, str], float] = {}

    def unit_count(self, unit: str) -> int | None:
        """Occurrences of a lexicon unit in the build corpus; None if it was not a unit."""
        cache = self._unit_cache
        if unit in cache:
            return cache[unit]
        if len(cache) > _CACHE_SIZE:
            cache.clear()
        n = cache[unit] = self._unit_count(unit)
        return n

    def _unit_count(self, unit: str) -> int | None:
        k = key_hash(unit)
        i = bisect.bisect_left(self._tk, k)
        if i < len(self._tk) and self._tk[i] == k:
            return self._tc[i]
        return None

    def word_count(self, word: str) -> int:
        return _lookup(self._uk, self._uc, key_hash(word))

    def pair_count(self, key: str) -> int:
        n = self._cache.get(key)
        return self._pair_count(key) if n is None else n

    def _pair_count(self, key: str) -> int:
        """:meth:`pair_count` of a key not in the cache (now added to it)."""
        cache = self._cache
        if len(cache) > _CACHE_SIZE:
            cache.clear()
        n = cache[key] = _lookup(self._pk, self._pc, key_hash(key))
        return n

    def _side(self, key_o: str, key_f: str, share_o: float) -> float:
        """Log-ratio of how much more often the original than the literal form
        occurs with one neighbour, relative to their overall ratio, clipped to
        +-SIDE_CLIP; 0 without data. (Reads the pair cache directly: this is
        the innermost step of scoring.)"""
        cache = self._cache
        c_o = cache.get(key_o)
        if c_o is None:
            c_o = self._pair_count(key_o)
        c_f = cache.get(key_f)
        if c_f is None:
            c_f = self._pair_count(key_f)
        if c_o == 0 and c_f == 0:
            return 0.0
        share_f = 1.0 - share_o
        x = math.log(((c_o + KAPPA * share_o) / (c_f + KAPPA * share_f)) * (share_f / share_o))
        return -SIDE_CLIP if x < -SIDE_CLIP else SIDE_CLIP if x > SIDE_CLIP else x

    def advantage(self, left: str, literal: str, original: str, right: str) -> float:
        """Log-likelihood ratio (nats) that the neighbours belong to ``original`` rather
        than ``literal``; 0.0 when the model has no evidence either way."""
        key = (left, literal, original, right)
        cache = self._advantage_cache
        adv = cache.get(key)
        if adv is None:
            if len(cache) > _CACHE_SIZE:
                cache.clear()
            adv = cache[key] = self._advantage(left, literal, original, right)
        return adv

    def _advantage(self, left: str, literal: str, original: str, right: str) -> float:
        n_f = self.unit_count(literal)
        n_o = self.unit_count(original)
        if n_f is None or n_o is None:
            return 0.0
        share_o = (n_o + 0.5) / (n_o + n_f + 1.0)
        adv = 0.0
        if left != BOUNDARY:
            adv += self._side(left_key(left, original), left_key(left, literal), share_o)
        if right != BOUNDARY:
            adv += self._side(right_key(original, right), right_key(literal, right), share_o)
        return adv

    def advantage_at(
        self, tokens: Tokens, i: int, j: int, literal: str, original: str,
        neighbours: dict[int, str] | None = None,
    ) -> float:
        """:meth:`advantage` for ``original`` in place of tokens i..j of ``tokens``.

        ``neighbours`` maps token positions to the word that stands there once
        other edits are made (the restored neighbour), if any.
        """
        left = right = BOUNDARY
        if i > 0 and joinable(tokens, i - 1):
            left = tokens.lows[i - 1]
            if neighbours:
                left = neighbours.get(i - 1, left)
        if j < len(tokens.lows) and joinable(tokens, j - 1):
            right = tokens.lows[j]
            if neighbours:
                right = neighbours.get(j, right)
        return self.advantage(left, unit_of(literal), unit_of(original), right)


@functools.lru_cache(maxsize=65536)
def unit_of(phrase: str) -> str:
    """The model's key for a phrase: its lower-cased words joined by single spaces."""
    return " ".join(WORD_RE.findall(phrase.lower()))


def _lookup(keys: array[int], counts: array[int], key: int) -> int:
    """The count stored for ``key`` in a sorted key array, 0 if absent."""
    i = bisect.bisect_left(keys, key)
    if i < len(keys) and keys[i] == key:
        return counts[i]
    return 0


def _read(path: str) -> ContextModel:
    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except OSError as exc:
        raise ModelError(f"{path}: cannot read the context model ({exc.strerror})") from None
    header, arrays = parse_model(path, data)
    return ContextModel(header, arrays)


# -- validation (every check of a model file is here) --------------------------------------

# The type of each array: uint64 keys, uint32 counts (so no count is negative).
_TYPECODES = {name: ("Q" if name.endswith("_keys") else "I") for name in _ARRAYS}
CHECKSUM_KEY = "checksum"  # header field: "blake2b:" + hex digest of the rest of the header and the arrays


def _checksum(header: dict[str, Any], body: memoryview | bytes) -> str:
    """The checksum of a model: BLAKE2b over its header (without the checksum,
    as :func:`write_model` serialises it) and its array bytes."""
    rest = {k: v for k, v in header.items() if k != CHECKSUM_KEY}
    h = hashlib.blake2b(json.dumps(rest, sort_keys=True).encode("utf-8"), digest_size=32)
    h.update(body)
    return "blake2b:" + h.hexdigest()


def _header(path: str, head: bytes, size: int) -> tuple[dict[str, Any], int, int]:
    """The header of a model file whose first bytes are ``head`` and whose size
    is ``size``, checked: the header, where the arrays start, and their bytes."""
    if head[:8] != MAGIC:
        raise ModelError(f"{path}: not a despin context model (bad magic bytes)")
    if len(head) < 12:
        raise ModelError(f"{path}: truncated model file (no header)")
    (hlen,) = struct.unpack_from("<I", head, 8)
    if 12 + hlen > size or len(head) < 12 + hlen:
        raise ModelError(f"{path}: truncated model file (header of {hlen} bytes)")
    try:
        header = json.loads(head[12 : 12 + hlen].decode("utf-8"))
    except (ValueError, RecursionError) as exc:
        raise ModelError(f"{path}: corrupt model header ({type(exc).__name__}: {exc})") from None
    if not isinstance(header, dict):
        raise ModelError(f"{path}: corrupt model header (not a JSON object)")
    if header.get("format") != FORMAT_VERSION:
        raise ModelError(
            f"{path}: model format {header.get('format')!r} is not supported (this despin reads {FORMAT_VERSION})"
        )
    n_tokens = header.get("n_tokens")
    if isinstance(n_tokens, bool) or not isinstance(n_tokens, (int, float)) or not 0 <= n_tokens < math.inf:
        raise ModelError(f"{path}: corrupt model header (n_tokens {n_tokens!r} is not a count)")
    nbytes = _array_bytes(path, header.get("arrays"))
    if 12 + hlen + nbytes != size:
        what = "truncated" if 12 + hlen + nbytes > size else "trailing bytes after the arrays of"
        raise ModelError(f"{path}: {what} model file ({size} bytes, the header says {12 + hlen + nbytes})")
    if not isinstance(header.get(CHECKSUM_KEY), str):
        raise ModelError(f"{path}: model file without a checksum (made by an older despin?); build it again "
                         "with despin build-model")
    return header, 12 + hlen, nbytes


def _array_bytes(path: str, specs: Any) -> int:
    """The bytes the header's array list ``specs`` says follow it, checked."""
    if not isinstance(specs, list) or not all(isinstance(a, dict) for a in specs):
        raise ModelError(f"{path}: corrupt model header (no list of arrays)")
    names = [a.get("name") for a in specs]
    if sorted(map(str, names)) != sorted(_ARRAYS):
        raise ModelError(f"{path}: model file must hold the arrays {list(_ARRAYS)}, not {names}")
    lengths: dict[str, int] = {}
    total = 0
    for a in specs:
        name, typecode, length = a["name"], a.get("typecode"), a.get("length")
        if typecode != _TYPECODES[name]:
            raise ModelError(f"{path}: array {name} has type {typecode!r}, not {_TYPECODES[name]!r}")
        if isinstance(length, bool) or not isinstance(length, int) or length < 0:
            raise ModelError(f"{path}: array {name} has length {length!r}")
        lengths[name] = length
        total += length * array(typecode).itemsize
    for keys in (n for n in _ARRAYS if n.endswith("_keys")):
        counts = keys[: -len("_keys")] + "_counts"
        if lengths[keys] != lengths[counts]:
            raise ModelError(f"{path}: arrays {keys} and {counts} differ in length")
    return total


def parse_model(path: str, data: bytes) -> tuple[dict[str, Any], dict[str, array[int]]]:
    """The header and arrays of the model file ``path`` whose bytes are
    ``data``, validated (structure, sizes, checksum); :class:`ModelError`
    naming the file says what is wrong."""
    header, start, nbytes = _header(path, data, len(data))
    body = memoryview(data)[start : start + nbytes]
    if _checksum(header, body) != header[CHECKSUM_KEY]:
        raise ModelError(f"{path}: checksum mismatch: the model file is corrupt (changed since it was written)")
    arrays: dict[str, array[int]] = {}
    pos = 0
    for spec in header["arrays"]:
        arr = array(spec["typecode"])
        end = pos + spec["length"] * arr.itemsize
        arr.frombytes(body[pos:end])
        if sys.byteorder != "little":  # pragma: no cover
            arr.byteswap()
        arrays[spec["name"]] = arr
        pos = end
    return header, arrays


def check_model_header(path: str) -> None:
    """Check a model file's header and size without reading its arrays (the
    checksum is verified when the model is loaded); :class:`ModelError` naming
    the file if it is not a model this despin reads."""
    try:
        with open(path, "rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            head = fh.read(12)
            if len(head) == 12 and head[:8] == MAGIC:
                head += fh.read(struct.unpack_from("<I", head, 8)[0])
    except OSError as exc:
        raise ModelError(f"{path}: cannot read the context model ({exc.strerror})") from None
    _header(path, head, size)


def write_model(path: str, header: dict[str, Any], arrays: dict[str, array[int]]) -> None:
    """Write a model file atomically, with its checksum."""
    header = dict(header, format=FORMAT_VERSION)
    header.pop(CHECKSUM_KEY, None)
    header["arrays"] = [{"name": n, "typecode": arrays[n].typecode, "length": len(arrays[n])} for n in _ARRAYS]
    chunks = []
    for n in _ARRAYS:
        arr = arrays[n]
        if sys.byteorder != "little":  # pragma: no cover
            arr = array(arr.typecode, arr)
            arr.byteswap()
        chunks.append(arr.tobytes())
    body = b"".join(chunks)
    header[CHECKSUM_KEY] = _checksum(header, body)
    hbytes = json.dumps(header, sort_keys=True).encode("utf-8")
    data = MAGIC + struct.pack("<I", len(hbytes)) + hbytes + body
    target = os.path.realpath(path) if os.path.islink(path) else path  # a link stays a link
    if os.path.exists(target) and not os.path.isfile(target):  # a device or FIFO: written through, never replaced
        with open(target, "wb") as fh:
            fh.write(data)
        return
    tmp = f"{target}.tmp{os.getpid()}"
    with open(tmp, "wb") as fh:
        fh.write(data)
    os.replace(tmp, target)


def bundled_model_path() -> str | None:
    """Path of the model shipped with despin, or None if this installation has none."""
    path = data_path("model", "context.bin")
    return None if path is None else str(path)


_load_file = load_once(_read, maxsize=4)


def load_model(path: str | None = None) -> ContextModel | None:
    """Load a model file (the bundled one when ``path`` is None); cached per process."""
    if path is None:
        path = bundled_model_path()
        if path is None:
            return None
    return _load_file(os.fspath(path))
