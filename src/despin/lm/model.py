"""A small Llama-architecture language model read from a GGUF file.

The weights are dequantised once with the ``gguf`` package into float32
arrays; the tokenizer (byte-level BPE) is rebuilt from the vocabulary and
merges stored in the same file with ``tokenizers``. The forward pass itself
is in :mod:`despin.lm.forward`.

Nothing here is imported by despin unless the neural scorer is asked for.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..errors import ModelError

if TYPE_CHECKING:
    import numpy as np
    from tokenizers import Tokenizer

__all__ = ["Hparams", "LlamaWeights", "read_gguf"]

@dataclass(frozen=True)
class Hparams:
    """The shape of a Llama model."""

    n_layer: int
    d_model: int
    n_head: int
    n_kv_head: int
    d_ff: int
    vocab: int
    rms_eps: float
    rope_base: float

    @property
    def head_dim(self) -> int:
        return self.d_model // self.n_head


@dataclass(frozen=True)
class Layer:
    """One transformer block; matrices are (output, input), applied as ``x @ w.T``."""

    attn_norm: np.ndarray
    wqkv: np.ndarray  # ((H + 2 KV) * hd, d), rows of q and k in "rotate half" order
    wo: np.ndarray  # (d, H * hd)
    ffn_norm: np.ndarray
    w_gate_up: np.ndarray  # (2 * d_ff, d)
    w_down: np.ndarray  # (d, d_ff)


@dataclass(frozen=True)
class LlamaWeights:
    hp: Hparams
    embed: np.ndarray  # (vocab, d)
    layers: tuple[Layer, ...]
    out_norm: np.ndarray
    out: np.ndarray  # (vocab, d): the output projection
    bos_id: int
    tokenizer: Tokenizer
    name: str


_SCALARS = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?", 10: "<Q", 11: "<q", 12: "<d"}
_STRING, _ARRAY = 8, 9
_Q4_0, _Q4_1, _Q8_0 = 2, 3, 8  # ggml type ids


@dataclass(frozen=True)
class RawTensor:
    name: str
    shape: tuple[int, ...]  # outermost first (rows, ..., row length), as numpy orders it
    qtype: int
    data: np.ndarray  # the stored bytes, uint8 (rows, bytes per row)


class _Cursor:
    """Reads GGUF values from a buffer (the format is simple enough that
    reading it here is much faster than ``gguf.GGUFReader``, which builds an
    object for every element of the 100k-entry vocabulary arrays)."""

    def __init__(self, buf: memoryview | bytes):
        self.buf = buf
        self.pos = 0

    def scalar(self, fmt: str) -> Any:
        (v,) = struct.unpack_from(fmt, self.buf, self.pos)
        self.pos += struct.calcsize(fmt)
        return v

    def string(self) -> str:
        n = self.scalar("<Q")
        s = bytes(self.buf[self.pos : self.pos + n]).decode("utf-8", "replace")
        self.pos += n
        return s

    def value(self, vtype: int) -> Any:
        if vtype == _STRING:
            return self.string()
        if vtype == _ARRAY:
            etype, n = self.scalar("<I"), self.scalar("<Q")
            if etype in _SCALARS:
                fmt = _SCALARS[etype]
                size = struct.calcsize(fmt)
                vals = list(struct.unpack_from(f"<{n}{fmt[1]}", self.buf, self.pos))
                self.pos += n * size
                return vals
            return [self.value(etype) for _ in range(n)]
        if vtype not in _SCALARS:
            raise ValueError(f"unknown GGUF value type {vtype}")
        return self.scalar(_SCALARS[vtype])


def read_raw(path: str) -> tuple[dict[str, Any], list[RawTensor]]:
    """The metadata and the (still quantised) tensors of a GGUF file."""
    import numpy as np
    from gguf.constants import GGML_QUANT_SIZES, GGMLQuantizationType

    try:
        with open(path, "rb") as fh:
            buf = fh.read()
        mm = np.frombuffer(buf, dtype=np.uint8)
    except OSError as exc:
        raise ModelError(f"{path}: cannot read the language model ({exc})") from None
    try:
        if bytes(mm[:4]) != b"GGUF":
            raise ModelError(f"{path}: not a GGUF file")
        cur = _Cursor(buf)
        cur.pos = 4
        version = cur.scalar("<I")
        if version not in (2, 3):
            raise ModelError(f"{path}: GGUF version {version} is not supported")
        n_tensors, n_kv = cur.scalar("<Q"), cur.scalar("<Q")
        meta: dict[str, Any] = {}
        for _ in range(n_kv):
            key = cur.string()
            meta[key] = cur.value(cur.scalar("<I"))
        infos = []
        for _ in range(n_tensors):
            name = cur.string()
            dims = [cur.scalar("<Q") for _ in range(cur.scalar("<I"))]
            infos.append((name, dims, cur.scalar("<I"), cur.scalar("<Q")))
        align = int(meta.get("general.alignment", 32))
        base = -(-cur.pos // align) * align
        tensors = []
        for name, dims, qtype, offset in infos:
            block, size = GGML_QUANT_SIZES[GGMLQuantizationType(qtype)]
            row_bytes = dims[0] // block * size
            rows = 1
            for d in dims[1:]:
                rows *= d
            start = base + offset
            data = mm[start : start + rows * row_bytes]
            if len(data) != rows * row_bytes:
                raise ModelError(f"{path}: truncated tensor {name}")
            tensors.append(RawTensor(name, tuple(reversed(dims)), qtype, data.reshape(rows, row_bytes)))
    except (struct.error, ValueError, KeyError, UnicodeDecodeError) as exc:
        raise ModelError(f"{path}: corrupt GGUF file ({exc})") from None
    return meta, tensors


def _unpermute(w: np.ndarray, n_head: int) -> np.ndarray:
    """Undo the row order llama.cpp's converter gives q and k (interleaved rotary
    pairs) so that the usual "rotate half" rotary embedding applies."""
    out_dim, in_dim = int(w.shape[0]), int(w.shape[1])
    hd = out_dim // n_head
    out: np.ndarray = w.reshape(n_head, hd // 2, 2, in_dim).swapaxes(1, 2).reshape(out_dim, in_dim)
    return out


def dequantize(t: RawTensor) -> np.ndarray:
    """A tensor's values as float32, shaped ``t.shape``.

    Q4_0, Q4_1 and Q8_0 (the types of small GGUF models) are expanded here in
    a few whole-array operations, which is exact and several times faster
    than ``gguf.quants.dequantize``; other types go to that function."""
    import numpy as np

    if t.qtype in (_Q4_0, _Q4_1, _Q8_0):
        size = {_Q4_0: 18, _Q4_1: 20, _Q8_0: 34}[t.qtype]
        blocks = t.data.reshape(-1, size)
        out: np.ndarray
        d = blocks[:, 0:2].copy().view(np.float16).astype(np.float32)
        if t.qtype == _Q8_0:
            out = blocks[:, 2:].copy().view(np.int8).astype(np.float32)
        else:
            qs = blocks[:, 4 if t.qtype == _Q4_1 else 2 :]
            out = np.empty((len(blocks), 32), dtype=np.float32)
            np.bitwise_and(qs, 0x0F, out=out[:, :16], casting="unsafe")
            np.right_shift(qs, 4, out=out[:, 16:], casting="unsafe")
            if t.qtype == _Q4_0:
                out -= 8.0
        out *= d
        if t.qtype == _Q4_1:
            out += blocks[:, 2:4].copy().view(np.float16).astype(np.float32)
        return np.asarray(out.reshape(t.shape))
    from gguf.constants import GGMLQuantizationType
    from gguf.quants import dequantize as gguf_dequantize

    values = np.array(gguf_dequantize(t.data, GGMLQuantizationType(t.qtype)), dtype=np.float32)  # a writable copy
    return np.asarray(values.reshape(t.shape))


def _tokenizer(meta: dict[str, Any], path: str) -> Tokenizer:
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers

    if meta.get("tokenizer.ggml.model") != "gpt2":
        raise ModelError(f"{path}: only byte-level BPE ('gpt2') tokenizers are supported")
    tokens = meta.get("tokenizer.ggml.tokens")
    merges = meta.get("tokenizer.ggml.merges")
    if not tokens or merges is None:
        raise ModelError(f"{path}: the file holds no tokenizer vocabulary and merges")
    vocab = {t: i for i, t in enumerate(tokens)}
    pairs = [tuple(m.split(" ", 1)) for m in merges]
    tok = Tokenizer(models.BPE(vocab=vocab, merges=pairs, fuse_unk=False))
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [pre_tokenizers.Digits(individual_digits=True), pre_tokenizers.ByteLevel(add_prefix_space=False)]
    )
    tok.decoder = decoders.ByteLevel()
    return tok


def read_gguf(path: str) -> LlamaWeights:
    """Read and dequantise a Llama GGUF file (raises ModelError if it is not one)."""
    import numpy as np
    meta, raw = read_raw(path)
    arch = meta.get("general.architecture")
    if arch != "llama":
        raise ModelError(f"{path}: language model architecture {arch!r} is not supported (only 'llama')")

    def num(key: str, default: float | None = None) -> float:
        v = meta.get(f"llama.{key}", default)
        if not isinstance(v, (int, float)):
            raise ModelError(f"{path}: missing GGUF key llama.{key}")
        return v

    tensors: dict[str, np.ndarray] = {}
    try:
        for t in raw:
            tensors[t.name] = dequantize(t)
    except (NotImplementedError, ValueError) as exc:
        raise ModelError(f"{path}: cannot dequantise the weights ({exc})") from None
    embed = tensors.get("token_embd.weight")
    if embed is None:
        raise ModelError(f"{path}: no token_embd.weight tensor")
    n_head = int(num("attention.head_count"))
    hp = Hparams(
        n_layer=int(num("block_count")),
        d_model=int(num("embedding_length")),
        n_head=n_head,
        n_kv_head=int(num("attention.head_count_kv", n_head)),
        d_ff=int(num("feed_forward_length")),
        vocab=int(embed.shape[0]),
        rms_eps=float(num("attention.layer_norm_rms_epsilon", 1e-5)),
        rope_base=float(num("rope.freq_base", 10000.0)),
    )
    layers = []
    try:
        for n in range(hp.n_layer):
            p = f"blk.{n}."
            wq = _unpermute(tensors[p + "attn_q.weight"], hp.n_head)
            wk = _unpermute(tensors[p + "attn_k.weight"], hp.n_kv_head)
            wv = tensors[p + "attn_v.weight"]
            layers.append(
                Layer(
                    attn_norm=tensors[p + "attn_norm.weight"],
                    wqkv=np.concatenate([wq, wk, wv]),
                    wo=tensors[p + "attn_output.weight"],
                    ffn_norm=tensors[p + "ffn_norm.weight"],
                    w_gate_up=np.concatenate([tensors[p + "ffn_gate.weight"], tensors[p + "ffn_up.weight"]]),
                    w_down=tensors[p + "ffn_down.weight"],
                )
            )
        out_norm = tensors["output_norm.weight"]
    except KeyError as exc:
        raise ModelError(f"{path}: missing tensor {exc.args[0]}") from None
    out = tensors.get("output.weight", embed)  # tied embeddings when absent
    # Windows are scored as if they began a document: GPT-2 style vocabularies
    # mark document boundaries with <|endoftext|>.
    vocab_list = meta.get("tokenizer.ggml.tokens") or []
    if "<|endoftext|>" in vocab_list:
        start = vocab_list.index("<|endoftext|>")
    else:
        start = int(meta.get("tokenizer.ggml.bos_token_id", 0))
    return LlamaWeights(
        hp=hp,
        embed=embed,
        layers=tuple(layers),
        out_norm=out_norm,
        out=out,
        bos_id=start,
        tokenizer=_tokenizer(meta, path),
        name=str(meta.get("general.name") or path),
    )
