"""The reader of CMU Sphinx's binary trigram models (despin.sphinx_lm), on a tiny
model that this file writes itself in the trie format, from an ARPA-style
table; and on the real en-us.lm.bin when the pocketsphinx package is installed
(then against pocketsphinx's own scores)."""

from __future__ import annotations

import math
import struct
from array import array

import pytest

from despin.errors import ModelError
from despin.sphinx_lm import LOG_BASE, MAGIC, parse_sphinx_lm

LN = math.log(LOG_BASE)

# A tiny backoff model (natural logs): word -> (log p, backoff); bigram (h, w) ->
# (log p, backoff); trigram (h2, h1, w) -> log p.
WORDS = ["</s>", "<s>", "officials", "officers", "said", "u."]
UNIGRAMS = {"</s>": (-1.5, 0.0), "<s>": (-99.0, -0.4), "officials": (-2.0, -0.3), "officers": (-2.2, -0.5),
            "said": (-1.2, -0.2), "u.": (-3.0, -0.6)}
BIGRAMS = {("<s>", "u."): (-1.0, -0.1), ("u.", "officials"): (-0.7, -0.25), ("officials", "said"): (-0.4, 0.0),
           ("officers", "said"): (-0.9, 0.0), ("said", "</s>"): (-0.3, 0.0), ("<s>", "officers"): (-2.5, 0.0)}
TRIGRAMS = {("<s>", "u.", "officials"): -0.2, ("u.", "officials", "said"): -0.1}


def arpa_logprob(w: str, history: tuple[str, ...]) -> float:
    """ARPA backoff, history most recent word first."""
    if len(history) >= 2 and (history[1], history[0], w) in TRIGRAMS:
        return TRIGRAMS[(history[1], history[0], w)]
    bo2 = BIGRAMS.get((history[1], history[0]), (0.0, 0.0))[1] if len(history) >= 2 else 0.0
    if history and (history[0], w) in BIGRAMS:
        return BIGRAMS[(history[0], w)][0] + bo2
    bo1 = UNIGRAMS[history[0]][1] if history else 0.0
    return UNIGRAMS[w][0] + bo1 + bo2


def _codes(values: list[float]) -> tuple[list[float], dict[float, int]]:
    """A quantisation table holding every value exactly (in base-1.0001 logs)."""
    centres = sorted({round(v / LN, 2) for v in values})
    table = centres + [centres[-1]] * (65536 - len(centres))
    return table, {c: i for i, c in enumerate(centres)}


def _pack(fields_of_entries: list[list[tuple[int, int]]], total_bits: int) -> bytes:
    """Entries of (value, bits) fields, packed from the low bit up, plus 8 bytes of padding."""
    big = 0
    for k, fields in enumerate(fields_of_entries):
        shift = k * total_bits
        for value, bits in fields:
            assert value < (1 << bits) or bits == 0
            big |= value << shift
            shift += bits
    size = (len(fields_of_entries) * total_bits + 7) // 8 + 8
    return big.to_bytes(size, "little")


def write_tiny_model() -> bytes:
    """The tiny model above in sphinxbase's trie format, written as
    ngram_model_trie_write_bin lays it out (a reversed trie)."""
    wid = {w: i for i, w in enumerate(WORDS)}
    # Reversed trie: below each word w, the words h1 of bigrams (h1, w), by id; below
    # each of those, the words h2 of trigrams (h2, h1, w).
    level1 = sorted(((wid[w], wid[h]), (h, w)) for (h, w) in BIGRAMS)
    level2 = sorted(((wid[w], wid[h1], wid[h2]), (h2, h1, w)) for (h2, h1, w) in TRIGRAMS)
    counts = (len(WORDS), len(level1), len(level2))
    p_table, p_codes = _codes([BIGRAMS[g][0] for _, g in level1])
    b_table, b_codes = _codes([BIGRAMS[g][1] for _, g in level1])
    t_table, t_codes = _codes([TRIGRAMS[g] for _, g in level2])
    out = bytearray(MAGIC + bytes([3]) + struct.pack("<3I", *counts) + struct.pack("<i", 1))
    for table in (p_table, b_table, t_table):
        out += array("f", table).tobytes()
    first1 = [sum(1 for (w, _), _ in level1 if w < u) for u in range(len(WORDS) + 1)]
    for u, w in enumerate(WORDS):
        p, b = UNIGRAMS[w]
        out += struct.pack("<ffI", p / LN, b / LN, first1[u])
    out += struct.pack("<ffI", 0.0, 0.0, first1[-1])
    word_bits, next_bits = counts[0].bit_length(), counts[2].bit_length()
    entries = []
    for (u, h), g in level1:
        below = sum(1 for (w2, h1, _), _ in level2 if (w2, h1) < (u, h))
        entries.append([(h, word_bits), (b_codes[round(BIGRAMS[g][1] / LN, 2)], 16),
                        (p_codes[round(BIGRAMS[g][0] / LN, 2)], 16), (below, next_bits)])
    entries.append([(0, word_bits), (0, 16), (0, 16), (len(level2), next_bits)])
    out += _pack(entries, word_bits + 32 + next_bits)
    entries = [[(h2, word_bits), (t_codes[round(TRIGRAMS[g] / LN, 2)], 16)] for (_, _, h2), g in level2]
    entries.append([(0, word_bits), (0, 16)])
    out += _pack(entries, word_bits + 16)
    blob = b"".join(w.encode() + b"\0" for w in WORDS)
    out += struct.pack("<i", len(blob)) + blob
    return bytes(out)


def test_tiny_model_reads_back_as_written():
    lm = parse_sphinx_lm(write_tiny_model())
    assert lm.words == WORDS and lm.counts == (6, 6, 2)
    ids = lm.ids()
    for w in WORDS:
        for history in [(), *[(h,) for h in WORDS], *[(h1, h2) for h1 in WORDS for h2 in WORDS]]:
            if w == "<s>":
                continue
            got = lm.logprob(ids[w], tuple(ids[h] for h in history))
            assert got == pytest.approx(arpa_logprob(w, history), abs=2e-4), (w, history)


def test_reversed_trie_finds_the_trigram():
    lm = parse_sphinx_lm(write_tiny_model())
    ids = lm.ids()
    # P(said | u. officials) is the listed trigram; P(said | <s> officials) backs off.
    assert lm.logprob(ids["said"], (ids["officials"], ids["u."])) == pytest.approx(-0.1, abs=1e-4)
    assert lm.logprob(ids["said"], (ids["officials"], ids["<s>"])) == pytest.approx(-0.4, abs=1e-4)


@pytest.mark.parametrize("cut", [0, 10, 19, 21, 40, 200, -200, -30, -5, -1])
def test_truncated_files_are_refused(cut):
    data = write_tiny_model()
    with pytest.raises(ModelError):
        parse_sphinx_lm(data[:cut], "tiny.lm.bin")


def test_other_files_are_refused():
    with pytest.raises(ModelError, match="tiny.lm.bin: not a Sphinx"):
        parse_sphinx_lm(b"Darpa Trigram LM\0" + bytes(100), "tiny.lm.bin")
    data = bytearray(write_tiny_model())
    data[19] = 5  # order
    with pytest.raises(ModelError, match="order 5"):
        parse_sphinx_lm(bytes(data), "tiny.lm.bin")
    with pytest.raises(ModelError, match="unexpected bytes"):
        parse_sphinx_lm(write_tiny_model() + b"x", "tiny.lm.bin")


def test_real_model_agrees_with_pocketsphinx():
    """Read en-us.lm.bin with despin and with pocketsphinx (when installed): the
    same scores for uni-, bi- and trigrams of a few sentences."""
    ps = pytest.importorskip("pocketsphinx")
    from pathlib import Path

    from despin.sphinx_lm import read_sphinx_lm

    path = Path(ps.__file__).parent / "model" / "en-us" / "en-us.lm.bin"
    if not path.is_file():
        pytest.skip("pocketsphinx without its en-us model")
    ref = ps.NGramModel(ps.Config(), ps.LogMath(), str(path))
    lm = read_sphinx_lm(str(path))
    ids = lm.ids()
    for sentence in ("u. s. officials said on thursday that the united states would send aid",
                     "in response to rising inflation the company stated its sales fell"):
        words = ["<s>", *sentence.split(), "</s>"]
        for k in range(1, len(words)):
            for n in (1, 2, 3):
                history = words[max(0, k - n + 1) : k][::-1]
                theirs = ref.prob([words[k], *history]) * LN
                mine = lm.logprob(ids[words[k]], tuple(ids[h] for h in history))
                assert mine == pytest.approx(theirs, abs=1e-3 * max(1.0, abs(theirs)))
