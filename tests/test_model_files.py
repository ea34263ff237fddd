"""Model and lexicon files are checked when a Restorer is built and when they are loaded:
every malformed file raises ModelError (or LexiconError) naming it, never a raw traceback,
and the command line exits 2 with that message (issue 16, item 11)."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import pytest

import despin
from despin.cli import main
from despin.context import load_model
from despin.model_build import build_model

from support import LEXICON, SPUN, TEST_LEXICON, write

CORPUS = "The officials said the satellite launch went well.\n\nOfficials said so again, according to the report.\n"
# A spun text the small lexicon calls spun, so restoring it reads the context model.
SPUN_TEXT = "Officers mentioned the settlement. Officers mentioned it in response to the navy. " * 3


@pytest.fixture(scope="module")
def good_model(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    folder = tmp_path_factory.mktemp("model")
    write(folder / "corpus.txt", CORPUS * 20)
    out = folder / "good.bin"
    build_model([str(folder / "corpus.txt")], str(out), max_bytes=1_000_000, quiet=True)
    return out.read_bytes()


def _split(data: bytes) -> tuple[dict, int]:
    (hlen,) = struct.unpack_from("<I", data, 8)
    return json.loads(data[12 : 12 + hlen]), 12 + hlen


def _with_header(data: bytes, change) -> bytes:
    """The model with its JSON header edited by ``change`` (the checksum left as it was)."""
    header, start = _split(data)
    change(header)
    hbytes = json.dumps(header, sort_keys=True).encode()
    return data[:8] + struct.pack("<I", len(hbytes)) + hbytes + data[start:]


def _raw_header(data: bytes, hbytes: bytes) -> bytes:
    """The model with ``hbytes`` as its header."""
    _, start = _split(data)
    return data[:8] + struct.pack("<I", len(hbytes)) + hbytes + data[start:]


def _flip(data: bytes, pos: int) -> bytes:
    return data[:pos] + bytes([data[pos] ^ 0x10]) + data[pos + 1 :]


def _corruptions(data: bytes) -> dict[str, bytes]:
    header, start = _split(data)
    counts_at = len(data) - 20  # in the last array (the trigram table)
    return {
        "empty": b"",
        "magic only": data[:8],
        "bad magic": b"NOTMODEL" + data[8:],
        "header cut": data[:20],
        "arrays cut": data[:-3],
        "trailing bytes": data + b"\0\0\0\0",
        "header length too big": data[:8] + struct.pack("<I", 2**31) + data[12:],
        "header not JSON": data[:12] + b"\xff" * (start - 12) + data[start:],
        "bit flip in a count": _flip(data, counts_at),
        "bit flip in a key": _flip(data, start + 3),
        "bit flip in the header": _flip(data, data.index(b'"words"') + 10),
        "header is a list": _raw_header(data, b"[1, 2]"),
        "deeply nested header": _raw_header(data, b"[" * 100000 + b"]" * 100000),
        "negative ids (signed type)": _with_header(data, lambda h: [a.update(typecode="i") for a in h["arrays"]
                                                                    if a["name"].endswith("word")]),
        "negative length": _with_header(data, lambda h: h["arrays"][0].update(length=-1)),
        "negative word count": _with_header(data, lambda h: h.update(words=-5)),
        "missing array": _with_header(data, lambda h: h["arrays"].pop()),
        "no checksum": data[:-9],
        "wrong format": _with_header(data, lambda h: h.update(format=99)),
        "arrays not a list": _with_header(data, lambda h: h.update(arrays=7)),
    }


def test_a_good_model_loads_and_is_used(tmp_path, good_model):
    path = write(tmp_path / "m.bin", good_model)
    model = load_model(str(path))
    assert model is not None and model.tables[0].word_id("officials") >= 0
    r = despin.Restorer(bundled_lexicon=False, lexicons=(TEST_LEXICON,), model_path=str(path))
    assert r.restore(SPUN_TEXT) != SPUN_TEXT


def test_every_corrupted_model_raises_model_error_naming_the_file(tmp_path, good_model):
    for name, data in _corruptions(good_model).items():
        path = write(tmp_path / (name.replace(" ", "_") + ".bin"), data)
        with pytest.raises(despin.ModelError) as info:
            # built (header checked) and used (checksum and arrays checked on load)
            r = despin.Restorer(bundled_lexicon=False, lexicons=(TEST_LEXICON,), model_path=str(path))
            r.restore(SPUN_TEXT)
        assert str(path) in str(info.value), name
        with pytest.raises(despin.ModelError):
            load_model(str(path))


def test_corrupted_model_on_the_command_line_exits_2_with_the_file_named(tmp_path, good_model, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "lex.tsv", LEXICON)
    write(tmp_path / "a.txt", SPUN)
    for name, data in _corruptions(good_model).items():
        path = write(tmp_path / "bad.bin", data)
        code = main(["restore", "a.txt", "--model", str(path), "--lexicon", "lex.tsv", "--no-bundled-lexicon"])
        err = capsys.readouterr().err
        assert code == 2, (name, err)
        assert err.startswith(f"despin: {path}: ") and "Traceback" not in err, (name, err)


def test_missing_files_fail_when_the_restorer_is_built(tmp_path):
    missing = str(tmp_path / "missing")
    with pytest.raises(despin.ModelError, match="missing: no such file"):
        despin.Restorer(model_path=missing)
    with pytest.raises(despin.LexiconError, match="missing: no such file"):
        despin.Restorer(lexicons=[missing])
    with pytest.raises(despin.LexiconError, match="is a folder"):
        despin.Restorer(lexicons=[str(tmp_path)])
    with pytest.raises(despin.ModelError):
        despin.restore("text", model_path=missing)
    despin.Restorer(model_path=missing, context=False)  # no context model: the path is not read


def test_restorer_pickles_without_checking_files_again(tmp_path, good_model):
    import pickle

    path = write(tmp_path / "m.bin", good_model)
    r = despin.Restorer(model_path=str(path))
    path.unlink()
    clone = pickle.loads(pickle.dumps(r))  # a worker without the file says so at its first spun text
    assert clone.config == r.config


def test_bundled_model_carries_a_valid_checksum():
    from despin.context import bundled_model_path, parse_model

    path = bundled_model_path()
    assert path is not None
    data = Path(path).read_bytes()
    header, _ = parse_model(path, data)  # the CRC-32 at the end checked, and every array
    assert data[-9:-4] == b"CRC32" and header["format"] == 2
