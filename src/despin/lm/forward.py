"""The Llama forward pass that scores continuations of shared prefixes.

:func:`continuation_logprobs` takes prefixes (token ids) and continuations,
each continuation tied to one prefix, and returns the log-probability (nats)
of every continuation given its prefix. Each prefix is run once and its keys
and values (the KV cache) are reused by all its continuations; prefixes and
continuations are each packed into one batch, so the matrix products run over
every token of a batch at once and padding is only ever attention-sized.

The arithmetic is written once against :class:`Ops`, with a numpy
implementation (always there) and a torch one (used when torch is
installed); both run in float32 unless a lower precision is asked for.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from .model import LlamaWeights

__all__ = ["Ops", "NumpyOps", "TorchOps", "continuation_logprobs", "make_ops"]

_NEG = -1e9  # additive mask for keys a query may not see
_LOGIT_ROWS = 256  # rows of the output projection computed at once (memory bound)


class Ops:
    """The array operations the forward pass needs (numpy arrays by default)."""

    name = "numpy"

    def __init__(self, weights: LlamaWeights):
        self.weights = weights
        self.embed: Any = weights.embed
        self.layers: list[dict[str, Any]] = [
            {
                "attn_norm": lay.attn_norm,
                "wqkv": lay.wqkv,
                "wo": lay.wo,
                "ffn_norm": lay.ffn_norm,
                "w_gate_up": lay.w_gate_up,
                "w_down": lay.w_down,
            }
            for lay in weights.layers
        ]
        self.out_norm: Any = weights.out_norm
        self.out: Any = weights.out

    def array(self, a: np.ndarray) -> Any:
        return a

    def numpy(self, x: Any) -> np.ndarray:
        return np.asarray(x, dtype=np.float64)

    def take(self, x: Any, idx: np.ndarray) -> Any:
        return x[idx]

    def linear(self, x: Any, w: Any) -> Any:
        """x @ w.T for a weight matrix w stored (output, input)."""
        return x @ w.T

    def rms_norm(self, x: Any, w: Any, eps: float) -> Any:
        return x * (1.0 / np.sqrt((x * x).mean(axis=-1, keepdims=True) + eps)) * w

    def silu_mul(self, g: Any, u: Any) -> Any:
        return g / (1.0 + np.exp(-g)) * u

    def zeros(self, shape: tuple[int, ...]) -> Any:
        return np.zeros(shape, dtype=np.float32)

    def permute(self, x: Any, axes: tuple[int, ...]) -> Any:
        return x.transpose(axes)

    def cat(self, xs: Sequence[Any], axis: int) -> Any:
        return np.concatenate(xs, axis=axis)

    def softmax(self, x: Any) -> Any:
        e = np.exp(x - x.max(axis=-1, keepdims=True))
        return e / e.sum(axis=-1, keepdims=True)

    def swap_last(self, x: Any) -> Any:
        return x.swapaxes(-1, -2)

    def token_logprobs(self, h: Any, targets: np.ndarray) -> np.ndarray:
        """log p(target_r | row r of final hidden states h), float64."""
        out = np.empty(len(targets), dtype=np.float64)
        for lo in range(0, len(targets), _LOGIT_ROWS):
            logits = self.linear(h[lo : lo + _LOGIT_ROWS], self.out)
            m = logits.max(axis=-1, keepdims=True)
            lse = m[:, 0] + np.log(np.exp(logits - m).sum(axis=-1))
            out[lo : lo + len(lse)] = logits[np.arange(len(lse)), targets[lo : lo + _LOGIT_ROWS]] - lse
        return out


class NumpyOps(Ops):
    pass


class TorchOps(Ops):
    """The same operations with torch tensors (float32)."""

    name = "torch"

    def __init__(self, weights: LlamaWeights):
        import torch

        self.torch = torch
        super().__init__(weights)
        self.layers = [{k: torch.from_numpy(v) for k, v in lay.items()} for lay in self.layers]
        self.embed = torch.from_numpy(weights.embed)
        self.out_norm = torch.from_numpy(weights.out_norm)
        self.out = torch.from_numpy(weights.out)

    def array(self, a: np.ndarray) -> Any:
        return self.torch.from_numpy(np.ascontiguousarray(a))

    def numpy(self, x: Any) -> np.ndarray:
        return np.asarray(x.double().numpy())

    def take(self, x: Any, idx: np.ndarray) -> Any:
        return x[self.torch.from_numpy(np.ascontiguousarray(idx, dtype=np.int64))]

    def linear(self, x: Any, w: Any) -> Any:
        return self.torch.nn.functional.linear(x, w)

    def rms_norm(self, x: Any, w: Any, eps: float) -> Any:
        return x * self.torch.rsqrt((x * x).mean(dim=-1, keepdim=True) + eps) * w

    def silu_mul(self, g: Any, u: Any) -> Any:
        return self.torch.nn.functional.silu(g) * u

    def zeros(self, shape: tuple[int, ...]) -> Any:
        return self.torch.zeros(shape, dtype=self.torch.float32)

    def permute(self, x: Any, axes: tuple[int, ...]) -> Any:
        return x.permute(*axes)

    def cat(self, xs: Sequence[Any], axis: int) -> Any:
        return self.torch.cat(list(xs), dim=axis)

    def softmax(self, x: Any) -> Any:
        return self.torch.softmax(x, dim=-1)

    def swap_last(self, x: Any) -> Any:
        return x.transpose(-1, -2)

    def token_logprobs(self, h: Any, targets: np.ndarray) -> np.ndarray:
        torch = self.torch
        out = []
        tg = torch.from_numpy(np.ascontiguousarray(targets, dtype=np.int64))
        for lo in range(0, len(targets), _LOGIT_ROWS):
            logits = self.linear(h[lo : lo + _LOGIT_ROWS], self.out)
            lp = torch.log_softmax(logits, dim=-1)
            out.append(lp.gather(1, tg[lo : lo + _LOGIT_ROWS, None])[:, 0])
        return torch.cat(out).double().numpy() if out else np.zeros(0)


def make_ops(weights: LlamaWeights, backend: str = "auto") -> Ops:
    """The operations for ``backend``: "numpy", "torch", or "auto" (torch
    when it can be imported, else numpy). Both compute in float32: lower
    precisions cost accuracy (int8) or, on CPUs without bfloat16 units, time."""
    if backend == "numpy":
        return NumpyOps(weights)
    if backend == "auto":
        try:
            import torch  # noqa: F401
        except ImportError:
            return NumpyOps(weights)
        backend = "torch"
    if backend == "torch":
        return TorchOps(weights)
    raise ValueError(f"unknown language-model backend {backend!r}")


@dataclass
class _Packed:
    """Sequences packed flat (for matrix products) and padded (for attention)."""

    lengths: np.ndarray  # (B,)
    width: int  # the longest length
    rows: np.ndarray  # flat token -> row in the padded (B * width) layout
    pos_in_seq: np.ndarray  # flat token -> its index in its sequence

    @classmethod
    def of(cls, seqs: Sequence[Sequence[int]]) -> _Packed:
        lengths = np.array([len(s) for s in seqs], dtype=np.int64)
        width = int(lengths.max()) if len(lengths) else 0
        seq_of = np.repeat(np.arange(len(seqs)), lengths)
        starts = np.cumsum(lengths) - lengths
        pos = np.arange(int(lengths.sum())) - np.repeat(starts, lengths)
        return cls(lengths, width, seq_of * width + pos, pos)


def _rope(ops: Ops, x: Any, cos: Any, sin: Any) -> Any:
    """Rotary embedding ("rotate half" order) of x: (tokens, heads, head_dim)."""
    half = x.shape[-1] // 2
    x1, x2 = x[..., :half], x[..., half:]
    return ops.cat([x1 * cos - x2 * sin, x2 * cos + x1 * sin], axis=-1)


def _rope_tables(ops: Ops, positions: np.ndarray, head_dim: int, base: float) -> tuple[Any, Any]:
    inv = base ** (-np.arange(0, head_dim, 2, dtype=np.float64) / head_dim)
    ang = positions[:, None].astype(np.float64) * inv[None, :]
    return (
        ops.array(np.cos(ang).astype(np.float32)[:, None, :]),
        ops.array(np.sin(ang).astype(np.float32)[:, None, :]),
    )


def _run(
    ops: Ops,
    tokens: np.ndarray,
    pack: _Packed,
    positions: np.ndarray,
    mask: np.ndarray,
    past: list[tuple[Any, Any]] | None,
) -> tuple[Any, list[tuple[Any, Any]]]:
    """Run the blocks over packed tokens; returns the final hidden states (flat,
    normalised) and each layer's keys and values, padded (B, KV, width, hd).

    ``past`` holds keys and values to prepend (already gathered per sequence),
    ``mask`` is the additive mask (B, 1, 1, width, n_past + width).
    """
    w = ops.weights
    hp = w.hp
    n, hd, H, KV = len(tokens), hp.head_dim, hp.n_head, hp.n_kv_head
    G = H // KV
    B, L = len(pack.lengths), pack.width
    cos, sin = _rope_tables(ops, positions, hd, hp.rope_base)
    rows = pack.rows
    mask_t = ops.array(mask.astype(np.float32))
    scale = 1.0 / math.sqrt(hd)
    h = ops.take(ops.embed, tokens)
    kv_out: list[tuple[Any, Any]] = []
    for li, lay in enumerate(ops.layers):
        x = ops.rms_norm(h, lay["attn_norm"], hp.rms_eps)
        qkv = ops.linear(x, lay["wqkv"])
        q = _rope(ops, qkv[:, : H * hd].reshape(n, H, hd), cos, sin)
        k = _rope(ops, qkv[:, H * hd : (H + KV) * hd].reshape(n, KV, hd), cos, sin)
        v = qkv[:, (H + KV) * hd :].reshape(n, KV, hd)
        qp, kp, vp = ops.zeros((B * L, H, hd)), ops.zeros((B * L, KV, hd)), ops.zeros((B * L, KV, hd))
        ridx = ops.array(rows)
        qp[ridx], kp[ridx], vp[ridx] = q, k, v
        qb = ops.permute(qp.reshape(B, L, KV, G, hd), (0, 2, 3, 1, 4))  # (B, KV, G, L, hd)
        kb = ops.permute(kp.reshape(B, L, KV, hd), (0, 2, 1, 3))  # (B, KV, L, hd)
        vb = ops.permute(vp.reshape(B, L, KV, hd), (0, 2, 1, 3))
        kv_out.append((kb, vb))
        if past is not None:
            kb = ops.cat([past[li][0], kb], axis=2)
            vb = ops.cat([past[li][1], vb], axis=2)
        att = ops.softmax((qb @ ops.swap_last(kb)[:, :, None]) * scale + mask_t)  # (B, KV, G, L, S)
        o = att @ vb[:, :, None]  # (B, KV, G, L, hd)
        o = ops.permute(o, (0, 3, 1, 2, 4)).reshape(B * L, H * hd)
        h = h + ops.linear(ops.take(o, rows), lay["wo"])
        x = ops.rms_norm(h, lay["ffn_norm"], hp.rms_eps)
        gu = ops.linear(x, lay["w_gate_up"])
        h = h + ops.linear(ops.silu_mul(gu[:, : hp.d_ff], gu[:, hp.d_ff :]), lay["w_down"])
    return ops.rms_norm(h, ops.out_norm, hp.rms_eps), kv_out


def continuation_logprobs(
    ops: Ops, prefixes: Sequence[Sequence[int]], continuations: Sequence[tuple[int, Sequence[int]]]
) -> list[float]:
    """log p(continuation | its prefix), nats, for each ``(prefix index, token ids)``.

    Every prefix must be non-empty; an empty continuation has log-probability 0.
    """
    if not continuations:
        return []
    if any(len(p) == 0 for p in prefixes):
        raise ValueError("every prefix needs at least one token")
    # Prefixes: causal attention within each one.
    pp = _Packed.of(prefixes)
    ptoks = np.fromiter((t for p in prefixes for t in p), dtype=np.int64)
    Lp = pp.width
    ar = np.arange(Lp)
    pmask = np.where(
        (ar[None, None, :] <= ar[None, :, None]) & (ar[None, None, :] < pp.lengths[:, None, None]), 0.0, _NEG
    )[:, None, None]
    hp_final, pkv = _run(ops, ptoks, pp, pp.pos_in_seq, pmask, None)
    last_rows = np.cumsum(pp.lengths) - 1  # flat index of each prefix's last token

    conts = [(b, list(c)) for b, c in continuations]
    result = [0.0] * len(conts)
    live = [n for n, (_, c) in enumerate(conts) if c]
    if not live:
        return result
    seqs = [conts[n][1] for n in live]
    owner = np.array([conts[n][0] for n in live], dtype=np.int64)
    cp = _Packed.of(seqs)
    ctoks = np.fromiter((t for s in seqs for t in s), dtype=np.int64)
    seq_of = np.repeat(np.arange(len(seqs)), cp.lengths)
    positions = pp.lengths[owner][seq_of] + cp.pos_in_seq
    Lc = cp.width
    ac = np.arange(Lc)
    past_ok = ar[None, :] < pp.lengths[owner][:, None]  # (S, Lp)
    own_ok = (ac[None, :] <= ac[:, None])[None] & (ac[None, None, :] < cp.lengths[:, None, None])  # (S, Lc, Lc)
    cmask = np.concatenate([np.broadcast_to(past_ok[:, None, :], (len(seqs), Lc, Lp)), own_ok], axis=2)
    cmask = np.where(cmask, 0.0, _NEG)[:, None, None]
    past = [(ops.take(k, owner), ops.take(v, owner)) for k, v in pkv]
    hc_final, _ = _run(ops, ctoks, cp, positions, cmask, past)

    # The first token of a continuation is predicted by its prefix's last state,
    # token t > 0 by the continuation's own state t - 1.
    cstarts = np.cumsum(cp.lengths) - cp.lengths
    first = ops.take(hp_final, last_rows[owner])
    inner = np.flatnonzero(cp.pos_in_seq < np.repeat(cp.lengths - 1, cp.lengths))
    states = ops.cat([first, ops.take(hc_final, inner)], axis=0)
    targets = np.concatenate([ctoks[cstarts], ctoks[inner + 1]])
    lps = ops.token_logprobs(states, targets)
    owners = np.concatenate([np.arange(len(seqs)), seq_of[inner]])
    sums = np.zeros(len(seqs), dtype=np.float64)
    np.add.at(sums, owners, lps)
    for n, s in zip(live, sums, strict=True):
        result[n] = float(s)
    return result
