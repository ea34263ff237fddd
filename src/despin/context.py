"""The context model: how well a word or phrase fits its neighbours.

Built by ``despin build-model`` from clean text, it stores counts for the
lexicon's "units" (every spun form and every original, one to five words):
how often each unit occurs, how often each word precedes it and follows it,
and how often every word occurs. Keys are 64-bit BLAKE2b hashes of the
strings in sorted arrays, so the file is compact, loads in milliseconds with
no unpickling, and is looked up with binary search.

The fit of a unit u between a left word L and a right word R is its smoothed
pointwise association with both::

    log P(u | L) / P(u)  +  log P(R | u) / P(R)

with Dirichlet smoothing (``MU``). Scoring compares the fit of the original
with the fit of the literal text; units the model did not count give no
evidence (None).

File format ``despin-model 1``: the 8 bytes ``DESPINM1``, a little-endian
uint32 header length, a UTF-8 JSON header, then the arrays named in the
header, each little-endian (``Q`` uint64 keys sorted ascending, ``I`` uint32
counts).
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
import threading
from array import array
from importlib import resources
from pathlib import Path
from typing import Any

from .errors import ModelError
from .tokenize import Tokens, joinable

__all__ = ["ContextModel", "load_model", "bundled_model_path", "key_hash", "MAGIC", "FORMAT_VERSION"]

MAGIC = b"DESPINM1"
FORMAT_VERSION = 1
MU = 50.0
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

    def __init__(self, header: dict[str, Any], arrays: dict[str, array]):
        self.header = header
        self.n_tokens = float(header["n_tokens"])
        self._uk, self._uc = arrays["uni_keys"], arrays["uni_counts"]
        self._pk, self._pc = arrays["pair_keys"], arrays["pair_counts"]
        self._tk, self._tc = arrays["unit_keys"], arrays["unit_counts"]

    @staticmethod
    def _get(keys: array, counts: array, key: int) -> int:
        i = bisect.bisect_left(keys, key)
        if i < len(keys) and keys[i] == key:
            return counts[i]
        return 0

    def unit_count(self, unit: str) -> int | None:
        """Occurrences of a lexicon unit in the build corpus; None if it was not a unit."""
        k = key_hash(unit)
        i = bisect.bisect_left(self._tk, k)
        if i < len(self._tk) and self._tk[i] == k:
            return self._tc[i]
        return None

    def word_count(self, word: str) -> int:
        return self._get(self._uk, self._uc, key_hash(word))

    def pair_count(self, key: str) -> int:
        return self._get(self._pk, self._pc, key_hash(key))

    def association(self, left: str, unit: str, right: str) -> float | None:
        """Smoothed log-association of ``unit`` with its neighbours; None if unit is unknown."""
        cu = self.unit_count(unit)
        if cu is None:
            return None
        n = self.n_tokens
        p_u = (cu + 0.5) / n
        c_l = self.word_count(left) if left != BOUNDARY else 0
        score = 0.0
        if c_l:
            p_u_l = (self.pair_count(left_key(left, unit)) + MU * p_u) / (c_l + MU)
            score += math.log(p_u_l / p_u)
        c_r = self.word_count(right) if right != BOUNDARY else 0
        if c_r:
            p_r = (c_r + 0.5) / n
            p_r_u = (self.pair_count(right_key(unit, right)) + MU * p_r) / (cu + MU)
            score += math.log(p_r_u / p_r)
        return score

    def fit(self, tokens: Tokens, i: int, j: int, phrase: str) -> float:
        """Fit of ``phrase`` in place of tokens i..j (0.0 when the model knows nothing)."""
        left = tokens.lows[i - 1] if i > 0 and joinable(tokens, i - 1) else BOUNDARY
        right = tokens.lows[j] if j < len(tokens.lows) and joinable(tokens, j - 1) else BOUNDARY
        unit = " ".join(phrase.lower().split())
        a = self.association(left, unit, right)
        return 0.0 if a is None else a


def _read(path: str) -> ContextModel:
    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except OSError as exc:
        raise ModelError(f"{path}: cannot read the context model ({exc.strerror})") from None
    if data[:8] != MAGIC:
        raise ModelError(f"{path}: not a despin context model (bad magic bytes)")
    try:
        (hlen,) = struct.unpack_from("<I", data, 8)
        header = json.loads(data[12 : 12 + hlen].decode("utf-8"))
        if header.get("format") != FORMAT_VERSION:
            raise ModelError(
                f"{path}: model format {header.get('format')!r} is not supported (this despin reads {FORMAT_VERSION})"
            )
        pos = 12 + hlen
        arrays: dict[str, array] = {}
        for spec in header["arrays"]:
            arr = array(spec["typecode"])
            nbytes = spec["length"] * arr.itemsize
            chunk = data[pos : pos + nbytes]
            if len(chunk) != nbytes:
                raise ModelError(f"{path}: truncated model file (array {spec['name']})")
            arr.frombytes(chunk)
            if sys.byteorder != "little":  # pragma: no cover
                arr.byteswap()
            arrays[spec["name"]] = arr
            pos += nbytes
        missing = [a for a in _ARRAYS if a not in arrays]
        if missing:
            raise ModelError(f"{path}: model file lacks arrays {missing}")
    except (struct.error, ValueError, KeyError, TypeError) as exc:
        raise ModelError(f"{path}: corrupt model file ({exc})") from None
    return ContextModel(header, arrays)


def write_model(path: str, header: dict[str, Any], arrays: dict[str, array]) -> None:
    """Write a model file atomically."""
    header = dict(header, format=FORMAT_VERSION)
    header["arrays"] = [{"name": n, "typecode": arrays[n].typecode, "length": len(arrays[n])} for n in _ARRAYS]
    hbytes = json.dumps(header, sort_keys=True).encode("utf-8")
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, "wb") as fh:
        fh.write(MAGIC)
        fh.write(struct.pack("<I", len(hbytes)))
        fh.write(hbytes)
        for n in _ARRAYS:
            arr = arrays[n]
            if sys.byteorder != "little":  # pragma: no cover
                arr = array(arr.typecode, arr)
                arr.byteswap()
            fh.write(arr.tobytes())
    os.replace(tmp, path)


def bundled_model_path() -> str | None:
    """Path of the model shipped with despin, or None if this installation has none."""
    try:
        packaged = resources.files("despin") / "_data" / "model" / "context.bin"
        if packaged.is_file():
            return str(packaged)
    except (ModuleNotFoundError, TypeError):  # pragma: no cover
        pass
    source_tree = Path(__file__).resolve().parents[2] / "data" / "model" / "context.bin"
    return str(source_tree) if source_tree.is_file() else None


_lock = threading.Lock()


@functools.lru_cache(maxsize=4)
def _load_cached(path: str) -> ContextModel:
    return _read(path)


def load_model(path: str | None = None) -> ContextModel | None:
    """Load a model file (the bundled one when ``path`` is None); cached per process."""
    if path is None:
        path = bundled_model_path()
        if path is None:
            return None
    with _lock:
        return _load_cached(os.fspath(path))
