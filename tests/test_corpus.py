"""despin.corpus: the one reader of plain-text and JSONL corpora."""

from __future__ import annotations

import gzip
from dataclasses import dataclass

import pytest

from despin import DespinError
from despin.corpus import Document, read_corpus, read_ids

from support import write


@dataclass
class Tally:
    documents: int = 0
    skipped: int = 0


def test_plain_files_jsonl_gzip_and_folders(tmp_path):
    write(tmp_path / "c/a.txt", "Plain text.\n")
    write(tmp_path / "c/b.jsonl", '{"id": "x", "text": "One."}\n\n{"text": "Two."}\n')
    (tmp_path / "c/sub").mkdir()
    with gzip.open(tmp_path / "c/sub/c.jsonl.gz", "wt", encoding="utf-8") as fh:
        fh.write('{"id": 7, "body": "Three."}\n')
    write(tmp_path / "c/.hidden.txt", "never read")
    docs = list(read_corpus([str(tmp_path / "c")], field="text"))
    assert docs == [Document("a.txt", "Plain text.\n"), Document("x", "One."), Document("3", "Two.")]
    assert list(read_corpus([str(tmp_path / "c/sub")], field="body")) == [Document("7", "Three.")]


def test_bad_lines_are_skipped_and_counted_or_raise_when_strict(tmp_path):
    path = str(write(tmp_path / "d.jsonl", '{"text": "ok"}\nnot json\n[1]\n{"text": 3}\n{"id": "gone", "text": "x"}\n'))
    tally = Tally()
    assert [d.text for d in read_corpus([path], exclude_ids={"gone"}, tally=tally)] == ["ok"]
    assert (tally.documents, tally.skipped) == (1, 4)
    with pytest.raises(DespinError, match=r"d\.jsonl:2: not a JSON object"):
        list(read_corpus([path], strict=True))


def test_invalid_utf8_is_replaced_or_raises_when_strict(tmp_path):
    path = str(write(tmp_path / "e.txt", b"caf\xe9"))
    assert [d.text for d in read_corpus([path])] == ["caf\ufffd"]
    with pytest.raises(DespinError, match="not UTF-8"):
        list(read_corpus([path], strict=True))
    with pytest.raises(DespinError, match="cannot read"):
        list(read_corpus([str(tmp_path / "missing.txt")]))


def test_read_ids_takes_record_ids_or_whole_lines(tmp_path):
    path = write(tmp_path / "ids.jsonl", '{"id": 12, "text": "t"}\nplain-id\n\n5\n')
    assert read_ids(str(path)) == {"12", "plain-id", "5"}
