"""Edges of the ``despin`` command (issue 16): exit codes, byte-order marks, file names with control
characters, every problem listed, binary files in a corpus, repeated JSONL keys, help for every
subcommand, in-place runs repeated and resumed, JSONL outputs continued after an interruption."""

from __future__ import annotations

import json
import os

import pytest

from despin.batch import files, work
from despin.cli import build_parser, main

from support import CLEAN, LEXICON, RESTORED, SPUN, summary_line, tree, write

RECORD = '{"text": "' + SPUN.strip() + '"}\n'
RESTORED_RECORD = '{"text": "' + RESTORED.strip() + '"}\n'


# -- exit codes ------------------------------------------------------------------------------------------


def test_detect_check_reports_failures_before_spun_documents(cli, tmp_path):
    write(tmp_path / "a.txt", SPUN)
    write(tmp_path / "c.bin", b"\0\1")
    assert cli("detect", "a.txt", "--check", "--spin-threshold", "0.04") == 1
    assert cli("detect", "a.txt", "c.bin", "--check", "--spin-threshold", "0.04") == 3  # a failure wins


# -- byte-order marks ------------------------------------------------------------------------------------


def test_jsonl_with_a_byte_order_mark(cli, tmp_path, capsys):
    write(tmp_path / "in.jsonl", b"\xef\xbb\xbf" + (RECORD + '{"text": "clean"}\n').encode())
    assert cli("restore", "in.jsonl", "-o", "out.jsonl") == 0
    assert (tmp_path / "out.jsonl").read_bytes() == b"\xef\xbb\xbf" + (RESTORED_RECORD + '{"text": "clean"}\n').encode()
    write(tmp_path / "clean.jsonl", b"\xef\xbb\xbf" + b'{"text": "clean"}\n')
    assert cli("restore", "clean.jsonl", "-o", "clean_out.jsonl") == 0
    assert (tmp_path / "clean_out.jsonl").read_bytes() == (tmp_path / "clean.jsonl").read_bytes()
    assert cli("detect", "in.jsonl", "--format", "csv") == 0
    assert "failed" not in capsys.readouterr().out


def test_lexicon_with_a_byte_order_mark(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "lex.tsv", b"\xef\xbb\xbf" + LEXICON.encode())
    write(tmp_path / "a.txt", SPUN)
    assert main(["restore", "a.txt", "--lexicon", "lex.tsv", "--no-bundled-lexicon", "--no-context", "-j", "1"]) == 0
    assert capsys.readouterr().out == RESTORED


# -- what reaches the terminal ---------------------------------------------------------------------------


def test_control_characters_in_file_names_are_escaped(cli, tmp_path, capsys):
    name = "evil\x1b[2J\rname\u202e.txt"
    write(tmp_path / "in" / name, b"\0binary")
    write(tmp_path / "in/ok.txt", SPUN)
    assert cli("restore", "in", "-o", "out") == 3
    err = capsys.readouterr().err
    assert "\x1b" not in err and "\r" not in err and "\u202e" not in err
    assert "evil\\x1b[2J\\x0dname\\u202e.txt: failed: binary file" in err
    assert cli("detect", "in") == 3
    out = capsys.readouterr().out
    assert "\x1b" not in out and "evil\\x1b[2J" in out


def test_problems_file_lists_every_problem(cli, tmp_path, capsys):
    write(tmp_path / "in.jsonl", b"not json\n" * 30 + b'{"id": "x", "text": 5}\n')
    assert cli("restore", "in.jsonl", "-o", "out.jsonl", "--problems", "problems.jsonl") == 3
    err = capsys.readouterr().err
    assert "11 more problem(s) not shown (listed in the --problems file)" in err
    problems = [json.loads(line) for line in (tmp_path / "problems.jsonl").read_text().splitlines()]
    assert len(problems) == 31
    assert problems[0] == {"path": "in.jsonl", "line": 1, "id": None, "kind": "failed",
                           "message": problems[0]["message"]}
    assert problems[-1]["kind"] == "skipped" and problems[-1]["id"] == "x" and problems[-1]["line"] == 31
    assert cli("restore", "in.jsonl", "-o", "out2.jsonl") == 3
    assert "--problems FILE lists them all" in capsys.readouterr().err
    assert cli("restore", "in.jsonl", "-o", "out3.jsonl", "--problems", "in.jsonl") == 2  # never over an input


# -- build-model skips binary files ----------------------------------------------------------------------


def test_build_model_skips_binary_files(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "lex.tsv", LEXICON)
    write(tmp_path / "corpus/a.txt", "The satellite was launched during the cold war.\n" * 5)
    write(tmp_path / "corpus/b.bin", b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR" + bytes(range(256)))
    assert main(["build-model", "corpus", "-o", "m.bin", "--max-mb", "1", "-q"]) == 0
    err = capsys.readouterr().err
    assert "documents read      1 (skipped 1)" in err
    assert "skipped " + os.path.join("corpus", "b.bin") + ": binary file" in err


# -- repeated keys in a JSONL record ---------------------------------------------------------------------


def test_repeated_jsonl_keys(cli, tmp_path, capsys):
    unchanged = '{"text": "first", "id": 1, "text": "clean text",  "id": 2}\n'
    restored = '{"id": 1, "text": "chilly conflict", "meta": {"a": 1, "a": 2}, "text": "satellite tv for pc"}\n'
    write(tmp_path / "in.jsonl", unchanged + restored)
    assert cli("restore", "in.jsonl", "-o", "out.jsonl") == 0
    lines = (tmp_path / "out.jsonl").read_text().splitlines(keepends=True)
    assert lines[0] == unchanged  # byte for byte
    # every key kept in order; the last "text" (the one JSON readers see) restored
    assert lines[1] == '{"id": 1, "text": "chilly conflict", "meta": {"a": 1, "a": 2}, "text": "satellite"}\n'
    err = capsys.readouterr().err
    assert "in.jsonl:2: warning: key 'text' given more than once: the last 'text' is read" in err


# -- help ------------------------------------------------------------------------------------------------


def test_every_subcommand_has_a_description():
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    for name, p in sub.choices.items():
        assert p.description and len(p.description) > 40, name
        assert p.epilog and "exit codes" in p.epilog, name
        for action in p._actions:
            assert action.help, (name, action.option_strings)


# -- in place, twice and resumed -------------------------------------------------------------------------


def test_in_place_twice_leaves_restored_files_and_backups_alone(cli, tmp_path):
    write(tmp_path / "in/a.txt", SPUN)
    write(tmp_path / "in/b.txt", CLEAN)
    write(tmp_path / "in/c.jsonl", RECORD)
    assert cli("restore", "in", "--in-place") == 0
    after = tree(tmp_path / "in")
    assert after == {"a.txt": RESTORED.encode(), "a.txt.bak": SPUN.encode(), "b.txt": CLEAN.encode(),
                     "c.jsonl": RESTORED_RECORD.encode(), "c.jsonl.bak": RECORD.encode()}
    assert cli("restore", "in", "--in-place") == 0
    assert tree(tmp_path / "in") == after
    assert cli("restore", "in", "--in-place", "--resume") == 0
    assert tree(tmp_path / "in") == after


def test_in_place_refuses_a_backup_named_directly(cli, tmp_path, capsys):
    write(tmp_path / "a.txt", RESTORED)
    write(tmp_path / "a.txt.bak", SPUN)
    assert cli("restore", "a.txt.bak", "--in-place") == 2
    assert "it is the backup of a.txt" in capsys.readouterr().err
    assert (tmp_path / "a.txt.bak").read_text() == SPUN


def test_second_in_place_run_checks_the_file_is_its_backup_restored(cli, tmp_path, capsys):
    """A file whose backup differs from it is restored again only if it is not that backup restored
    (edited since, say); the new backup goes beside the old one."""
    write(tmp_path / "a.txt", SPUN)
    assert cli("restore", "a.txt", "--in-place") == 0
    capsys.readouterr()
    assert cli("restore", "a.txt", "--in-place") == 0
    assert "(1 already done)" in capsys.readouterr().err
    write(tmp_path / "a.txt", RESTORED + SPUN)  # edited after the first run
    assert cli("restore", "a.txt", "--in-place") == 0
    assert (tmp_path / "a.txt").read_text() == RESTORED * 2
    assert (tmp_path / "a.txt.bak").read_text() == SPUN and (tmp_path / "a.txt.bak.1").read_text() == RESTORED + SPUN


def test_in_place_resume_after_a_stop_between_backup_and_replace(cli, tmp_path):
    """A run stopped after linking the backup but before replacing the file: the next run restores the
    file and keeps that backup, with no second one."""
    write(tmp_path / "a.txt", SPUN)
    os.link(tmp_path / "a.txt", tmp_path / "a.txt.bak")
    assert cli("restore", "a.txt", "--in-place", "--resume") == 0
    assert tree(tmp_path) | {} == {"a.txt": RESTORED.encode(), "a.txt.bak": SPUN.encode(), "lex.tsv": LEXICON.encode()}


# -- JSONL outputs continued after an interruption -------------------------------------------------------


def test_interrupted_jsonl_output_is_continued_by_resume(cli, tmp_path, monkeypatch, capsys):
    lines = [RECORD if i % 3 else '{"text": "clean"}\n' for i in range(100)] + ["not json\n", RECORD.rstrip("\n")]
    write(tmp_path / "in.jsonl", "".join(lines))
    assert cli("restore", "in.jsonl", "-o", "expected.jsonl") == 3
    expected = (tmp_path / "expected.jsonl").read_bytes()

    real = work._run_line
    seen = []

    def interrupted(job, task):
        if len(seen) == 60:
            raise KeyboardInterrupt
        seen.append(task.line)
        return real(job, task)

    monkeypatch.setattr(work, "_run_line", interrupted)
    capsys.readouterr()
    assert cli("restore", "in.jsonl", "-o", "out.jsonl") == 130
    err = capsys.readouterr().err
    assert "--resume continues it" in err and not (tmp_path / "out.jsonl").exists()
    partial = tmp_path / ".out.jsonl.despin-partial"
    assert partial.read_bytes() == expected[: len(partial.read_bytes())] and partial.read_bytes().count(b"\n") == 60

    monkeypatch.setattr(work, "_run_line", real)
    assert cli("restore", "in.jsonl", "-o", "out.jsonl", "--resume") == 3
    err = capsys.readouterr().err
    assert "in.jsonl: continuing after line 60" in err and "(60 already done)" in err
    assert "102 documents read" in summary_line(err)
    assert (tmp_path / "out.jsonl").read_bytes() == expected and not partial.exists()


def test_partial_output_is_removed_by_a_run_without_resume(cli, tmp_path, capsys):
    write(tmp_path / "in.jsonl", RECORD * 3)
    write(tmp_path / ".out.jsonl.despin-partial", RESTORED_RECORD + '{"text": "half')
    assert cli("restore", "in.jsonl", "-o", "out.jsonl") == 0
    assert "removed the partial output" in capsys.readouterr().err
    assert (tmp_path / "out.jsonl").read_text() == RESTORED_RECORD * 3
    assert not (tmp_path / ".out.jsonl.despin-partial").exists()


def test_partial_output_longer_than_the_input_is_not_resumed(cli, tmp_path, capsys):
    write(tmp_path / "in.jsonl", RECORD * 2)
    write(tmp_path / ".out.jsonl.despin-partial", RESTORED_RECORD * 5)
    assert cli("restore", "in.jsonl", "-o", "out.jsonl", "--resume") == 3
    assert "not resumed: the partial output of an interrupted run holds 5 lines, the input only 2" in \
        capsys.readouterr().err
    assert not (tmp_path / "out.jsonl").exists()


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_dash_output_and_explain(cli, tmp_path, capsys, jobs):
    write(tmp_path / "a.txt", SPUN)
    assert cli("restore", "a.txt", "-o", "-", "-j", jobs) == 0
    assert capsys.readouterr().out == RESTORED and not (tmp_path / "-").exists()
    assert cli("restore", "a.txt", "-o", "-", "--resume") == 2


def test_stale_temporary_helpers_see_partials_apart(tmp_path):
    assert files.is_partial_name(".x.jsonl.despin-partial") and not files.is_temp_name(".x.jsonl.despin-partial")
    assert files.partial_path(str(tmp_path / "x.jsonl")) == str(tmp_path / ".x.jsonl.despin-partial")
