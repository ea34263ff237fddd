"""The lexicon file format: validation with file:line, merging, overriding."""

from __future__ import annotations

import pytest

import despin
from despin.lexicon import Lexicon, bundled_lexicon_files, merge_file_entries, parse_lexicon_file

from support import LEXICON_HEAD, write_lexicon


def write(tmp_path, body, head=LEXICON_HEAD, name="x.tsv"):
    return write_lexicon(tmp_path / name, body, head)


@pytest.mark.parametrize(
    "body,line,message",
    [
        ("a\tb\n", 3, "columns"),
        ("a\tb\tcommon\t0.5\t\tf\n", 3, "columns"),
        ("\tb\tcommon\n", 3, "empty spun"),
        ("a\t\tcommon\n", 3, "empty original"),
        ("a\tb|\tcommon\n", 3, "empty original"),
        ("a\tb\tsometimes\n", 3, "class"),
        ("a\tb\tcommon\t2\n", 3, "weight"),
        ("a\tb\tcommon\theavy\n", 3, "weight"),
        ("a\tb\tcommon\t0.5\tBad Tag\n", 3, "tag"),
        ("ok\tfine\tcommon\n# comment\n\nsame\tSame\tcommon\n", 6, "itself"),
        ("!bang\tb\tcommon\n", 3, "must start"),
        ("a b ! c\tb\tcommon\n", 3, "separator"),
    ],
)
def test_bad_rows_report_file_and_line(tmp_path, body, line, message):
    path = write(tmp_path, body)
    with pytest.raises(despin.LexiconError) as info:
        list(parse_lexicon_file(path))
    assert f"x.tsv:{line}:" in str(info.value)
    assert message in str(info.value)
    assert info.value.line == line


@pytest.mark.parametrize(
    "head,message",
    [
        ("", "first line"),
        ("# despin-lexicon 2\nspun\toriginal\tclass\tweight\ttags\n", "format '2' is not supported"),
        ("# despin-lexicon 1\nspun\torig\n", "header"),
    ],
)
def test_bad_headers(tmp_path, head, message):
    path = write(tmp_path, "a\tb\tcommon\n", head=head)
    with pytest.raises(despin.LexiconError, match=message):
        list(parse_lexicon_file(path))


def test_missing_and_non_utf8_files(tmp_path):
    with pytest.raises(despin.LexiconError, match="no such lexicon file"):
        list(parse_lexicon_file(str(tmp_path / "nope.tsv")))
    p = tmp_path / "latin1.tsv"
    p.write_bytes(LEXICON_HEAD.encode() + "caf\xe9\tb\tcommon\n".encode("latin-1"))
    with pytest.raises(despin.LexiconError, match="not UTF-8"):
        list(parse_lexicon_file(str(p)))


def test_restorer_reports_lexicon_errors_on_use(tmp_path):
    path = write(tmp_path, "a\tb\tnope\n")
    r = despin.Restorer(lexicons=(path,), bundled_lexicon=False)
    with pytest.raises(despin.LexiconError, match="x.tsv:3"):
        r.restore("a")


def test_rows_merge_within_a_file_and_override_across_files(tmp_path):
    a = write(tmp_path, "assist\taid\tcommon\t0.6\nassist\thelp\tcommon\t0.9\n", name="a.tsv")
    b = write(tmp_path, "ASSIST\tsupport\tcommon\t0.3\n", name="b.tsv")
    merged = merge_file_entries([a])
    assert [(e.spun, e.originals, e.weight) for e in merged] == [("assist", ("aid", "help"), 0.6)]
    lex = Lexicon(merge_file_entries([a, b]))
    keys = {(e.spun, e.originals) for e in lex.entries}
    assert ("assist", ("aid", "help")) in keys and ("ASSIST", ("support",)) in keys


def test_defaults_and_tags(tmp_path):
    path = write(tmp_path, "x y\tz\tartifact\n\nCollege\tUniversity\tcommon\t\tname,education\n")
    e1, e2 = list(parse_lexicon_file(path))
    assert e1.weight == 0.97 and e1.toks == ("x", "y") and not e1.cased
    assert e2.weight == 0.5 and e2.cased and e2.name_only and "education" in e2.tags


def test_bundled_lexicon_is_valid_and_broad():
    files = bundled_lexicon_files()
    assert files, "the bundled lexicon is missing"
    lex = despin.Restorer().lexicon
    assert lex.spun_forms >= 3000
    news_forms = [e for e in lex.entries if "science" not in e.tags]
    assert len(news_forms) >= 3000
    classes = {e.klass for e in lex.entries}
    assert {"artifact", "common"} <= classes
