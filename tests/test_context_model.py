"""Context model files (format despin-model 2): building a small model, reading it
back, and refusing every kind of damaged file with a ModelError that names it."""

from __future__ import annotations

import json
import math
import struct
import zlib
from pathlib import Path

import pytest

from despin.context import (
    MAGIC,
    ContextModel,
    load_model,
    read_tables,
    write_model,
)
from despin.errors import ModelError
from despin.lm_build import NgramCounts, kneser_ney, mix, model_bytes, prune_to_size, to_arrays, tune_weight
from despin.lm_text import EOS, sentences
from despin.model_build import build_model
from despin.tokenize import tokenize

CORPUS = [
    "The officials said on Monday that the talks had failed.",
    "Police officers arrested two men in the city on Monday.",
    "The company said its sales rose. The company said profits fell.",
    "Officials said the government would send food aid to the region.",
    "The officers said nothing. Officials said they would meet again.",
] * 3


def _counts(texts: list[str]) -> NgramCounts:
    counts = NgramCounts()
    for t in texts:
        counts.add(sentences(t, lambda w: False))
    return counts


def _write(tmp_path: Path, name: str = "m.bin", **header: object) -> Path:
    lm = kneser_ney(_counts(CORPUS), min_count=1)
    arrays, sizes = to_arrays(lm)
    path = tmp_path / name
    write_model(str(path), {**sizes, "kind": "trigram", **header}, arrays)
    return path


def _model(path: Path) -> ContextModel:
    return ContextModel([read_tables(str(path))])


def test_kneser_ney_distributions_sum_to_one():
    lm = kneser_ney(_counts(CORPUS), min_count=2)
    ids = lm.ids()
    n = len(lm.words)
    for a, b in [("the", "officials"), ("<s>", "the"), ("said", "on"), ("zzz", "said")]:
        ia, ib = ids.get(a, 0), ids.get(b, 0)
        assert math.fsum(math.exp(lm.lp3(ia, ib, c)) for c in range(n)) == pytest.approx(1.0, abs=1e-9)
    assert math.fsum(math.exp(lm.lp2(ids["said"], c)) for c in range(n)) == pytest.approx(1.0, abs=1e-9)


def test_mixture_sums_to_one_and_weight_is_tuned():
    a = kneser_ney(_counts(CORPUS[:5]), min_count=1)
    b = kneser_ney(_counts(CORPUS[:5]), min_count=1)
    m = mix(a, b, 0.3, a.words)
    ids = m.ids()
    total = math.fsum(math.exp(m.lp3(ids["the"], ids["officials"], c)) for c in range(len(m.words)))
    assert total == pytest.approx(1.0, abs=1e-9)
    # EM finds the weight that maximises the held-out likelihood.
    first = [-1.0, -5.0, -2.0, -7.0] * 25
    second = [-3.0, -2.0, -2.5, -3.0] * 25
    lam, ppl = tune_weight(first, second)

    def loglik(w: float) -> float:
        return sum(math.log(w * math.exp(x) + (1 - w) * math.exp(y)) for x, y in zip(first, second, strict=True))

    assert 0.05 < lam < 0.95
    assert loglik(lam) >= max(loglik(lam - 0.01), loglik(lam + 0.01))
    assert ppl == pytest.approx(math.exp(-loglik(lam) / len(first)))


def test_pruning_meets_the_size_and_keeps_contexts():
    lm = kneser_ney(_counts(CORPUS), min_count=1)
    full = to_arrays(lm)[1]
    budget = model_bytes(*full.values()) - 200
    pruned, theta = prune_to_size(lm, budget)
    sizes = to_arrays(pruned)[1]
    assert model_bytes(*sizes.values()) <= budget
    assert theta > 0 and sizes["trigrams"] < full["trigrams"]
    for key in pruned.tri:
        assert key >> 21 in pruned.bi  # every trigram's context is a listed bigram


def test_round_trip_scores_match_the_estimated_model(tmp_path):
    lm = kneser_ney(_counts(CORPUS), min_count=1)
    model = _model(_write(tmp_path))
    t = model.tables[0]
    ids = lm.ids()
    for a, b, c in [("the", "officials", "said"), ("<s>", "police", "officers"), ("said", "on", "monday"),
                    ("sales", "rose", "</s>"), ("men", "in", "officials")]:
        want = lm.lp3(ids[a], ids[b], ids[c])
        got = t.logprob(t.word_id(a), t.word_id(b), t.word_id(c))
        assert got == pytest.approx(want, abs=0.05)  # 8-bit quantisation


def test_window_scores_are_sums_of_trigram_logprobs(tmp_path):
    model = _model(_write(tmp_path))
    tokens = tokenize("The officers said on Monday that the talks had failed.")
    s_off, s_orig = model.window_scores(tokens, 1, 2, ["officers", "officials"])
    t = model.tables[0]
    seq = [t.word_id(w) for w in ("<s>", "the", "officials", "said", "on")]
    want = sum(t.logprob(seq[k - 2] if k >= 2 else -1, seq[k - 1], seq[k]) for k in (2, 3, 4))
    assert s_orig.total == pytest.approx(want)
    assert s_orig.total == pytest.approx(s_orig.slot + s_orig.right)
    assert s_orig.unigram == pytest.approx(t.uni_lp[t.word_id("officials")])
    assert model.window_logprobs(tokens, 1, 2, ["officers", "officials"]) == [s_off.total, s_orig.total]
    assert model.advantage_at(tokens, 1, 2, "officers", "officials") == pytest.approx(s_orig.total - s_off.total)
    assert s_orig.total > s_off.total  # "the officials said" is what this corpus says


def test_unknown_words_give_no_evidence(tmp_path):
    model = _model(_write(tmp_path))
    tokens = tokenize("The officers said on Monday.")
    scores = model.window_scores(tokens, 1, 2, ["officers", "zyzzogeton"])
    assert scores[1].oov and not scores[0].oov
    assert model.advantage_at(tokens, 1, 2, "officers", "zyzzogeton") == 0.0


def test_load_model_reads_a_file_once(tmp_path):
    path = _write(tmp_path)
    assert load_model(path) is load_model(str(path))


# --- damaged files ---


def _damaged(tmp_path: Path, data: bytes, fix_crc: bool = False) -> Path:
    if fix_crc:
        body = data[:-9]
        data = body + b"CRC32" + struct.pack("<I", zlib.crc32(body))
    path = tmp_path / "bad.bin"
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("where", [0.001, 0.1, 0.5, 0.9, 0.999])
def test_a_flipped_bit_is_caught(tmp_path, where):
    data = bytearray(_write(tmp_path).read_bytes())
    k = 8 + int((len(data) - 8) * where)
    data[k] ^= 0x10
    with pytest.raises(ModelError, match="bad.bin: .*(checksum|corrupt|magic)"):
        read_tables(str(_damaged(tmp_path, bytes(data))))


@pytest.mark.parametrize("keep", [0, 5, 12, 100, -10, -9, -1])
def test_truncation_is_caught(tmp_path, keep):
    data = _write(tmp_path).read_bytes()
    with pytest.raises(ModelError, match="bad.bin: "):
        read_tables(str(_damaged(tmp_path, data[:keep])))


@pytest.mark.parametrize(
    "change",
    [
        lambda h: h.update(words=-3),
        lambda h: h.update(trigrams=10**9),
        lambda h: h.update(bigrams="many"),
        lambda h: h.update(contexts=None),
        lambda h: h.update(format=3),
        lambda h: h["arrays"][0].update(length=h["arrays"][0]["length"] + 1),
        lambda h: h["arrays"][4].update(typecode="d"),
        lambda h: h.update(weight=7),
    ],
)
def test_garbage_in_a_header_with_a_valid_checksum_is_caught(tmp_path, change):
    """A file whose checksum is right but whose counts are not (a writer's bug)."""
    data = _write(tmp_path).read_bytes()
    (hlen,) = struct.unpack_from("<I", data, 8)
    header = json.loads(data[12 : 12 + hlen])
    change(header)
    new = json.dumps(header, sort_keys=True).encode()
    head = MAGIC + struct.pack("<I", len(new)) + new
    head += b"\0" * (-len(head) % 8)
    rest = data[12 + hlen + (-(12 + hlen) % 8) :]
    with pytest.raises(ModelError, match="bad.bin: "):
        read_tables(str(_damaged(tmp_path, head + rest, fix_crc=True)))


def test_garbage_arrays_with_a_valid_checksum_are_caught(tmp_path):
    data = bytearray(_write(tmp_path).read_bytes())
    (hlen,) = struct.unpack_from("<I", data, 8)
    start = 12 + hlen + (-(12 + hlen) % 8)
    header = json.loads(data[12 : 12 + hlen])
    words = header["words"]
    # uni_lp (the second array, after the 8-byte keys) set to +inf: not log-probabilities
    pos = start + 8 * words
    data[pos : pos + 4] = struct.pack("<f", math.inf)
    with pytest.raises(ModelError, match="bad.bin: .*uni_lp"):
        read_tables(str(_damaged(tmp_path, bytes(data), fix_crc=True)))


def test_other_files_are_refused_with_their_name(tmp_path):
    for data, why in [(b"DESPINM1" + bytes(100), "despin-model 1"), (b"hello world" * 10, "magic"), (b"", "magic")]:
        path = tmp_path / "other.bin"
        path.write_bytes(data)
        with pytest.raises(ModelError, match=f"other.bin: .*{why}"):
            read_tables(str(path))
    with pytest.raises(ModelError, match="missing.bin: cannot read"):
        read_tables(str(tmp_path / "missing.bin"))


# --- despin build-model ---


def _corpus(tmp_path: Path, n: int = 30) -> Path:
    path = tmp_path / "corpus.jsonl"
    with path.open("w", encoding="utf-8") as fh:
        for k in range(n):
            fh.write(json.dumps({"id": str(k), "text": CORPUS[k % len(CORPUS)]}) + "\n")
    return path


def test_build_model_writes_a_model_that_loads(tmp_path):
    out = tmp_path / "user.bin"
    summary = build_model([str(_corpus(tmp_path))], str(out), max_bytes=200_000, quiet=True)
    assert summary.documents == 30 and summary.trigrams > 0 and out.stat().st_size == summary.bytes_written
    model = load_model(out)
    assert model is not None and len(model.tables) == 1
    tokens = tokenize("The officers said on Monday.")
    assert model.advantage_at(tokens, 1, 2, "officers", "officials") > 0


def test_build_model_layered_over_the_bundled_model(tmp_path):
    if load_model() is None:
        pytest.skip("no bundled model")
    out = tmp_path / "layer.bin"
    summary = build_model([str(_corpus(tmp_path))], str(out), max_bytes=200_000, layer=True, quiet=True)
    assert summary.weight is not None and 0.0 < summary.weight < 1.0
    model = load_model(out)
    assert model is not None and len(model.tables) == 2
    assert model.weights == pytest.approx([summary.weight, 1 - summary.weight])
    tokens = tokenize("U.S. officers said on Monday.")
    assert model.advantage_at(tokens, 2, 3, "officers", "officials") > 0


def test_build_model_cli(tmp_path, capsys):
    from despin.cli import main

    out = tmp_path / "cli.bin"
    assert main(["build-model", str(_corpus(tmp_path)), "-o", str(out), "--max-mb", "0.2", "-q"]) == 0
    assert "trigrams" in capsys.readouterr().err and load_model(out) is not None
    assert main(["build-model", str(tmp_path / "none.jsonl"), "-o", str(out)]) != 0


@pytest.mark.parametrize("end", ["", " ", "  ", " \n", "\n", "\t"])
def test_a_window_at_the_text_end_closes_there(end):
    """The right-hand words of a span at the end of the text end with ``</s>``,
    whatever whitespace trails it (a lone trailing space once read past the
    last token: IndexError, reported as a corrupt model file)."""
    model = load_model()
    assert model is not None
    tokens = tokenize("They will commence" + end)
    n = len(tokens.lows)
    assert model.right_words(tokens, n) == ("", (EOS,))
    assert model.window_logprobs(tokens, n - 1, n, ["commence", "start"])[1] == pytest.approx(
        model.window_logprobs(tokenize("They will start"), n - 1, n, ["commence", "start"])[1])
    assert math.isfinite(model.advantage_at(tokens, n - 1, n, "commence", "start"))


def test_restoring_a_text_that_ends_in_a_candidate_and_a_space():
    import despin

    spun = (Path(__file__).resolve().parents[1] / "examples" / "spun_news.txt").read_text(encoding="utf-8").rstrip()
    text = spun + " Costs rose, officers mentioned "
    restored = despin.restore(text)
    assert restored.endswith(" ") and restored.count("\n") == text.count("\n")
