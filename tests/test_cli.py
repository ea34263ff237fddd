"""The ``despin`` command line: restore and detect over files, folders, stdin and JSONL.

Every test uses a tiny lexicon written here (and --no-bundled-lexicon), so the
expected outputs do not depend on the bundled lexicon.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from despin import Config, Restorer
from despin.cli import build_parser, main

from support import CLEAN, RESTORED, SPUN, write


def run_module(args: list[str], cwd: Path, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    """``python -m despin ARGS`` in a subprocess."""
    return subprocess.run([sys.executable, "-m", "despin", *args], cwd=cwd, input=stdin,
                          capture_output=True, timeout=60)


def lex_args(lexicon: Path) -> list[str]:
    return ["--lexicon", str(lexicon), "--no-bundled-lexicon"]


def summary_counts(stderr: str) -> dict[str, int]:
    """The counts of the final summary line on stderr."""
    line = [ln for ln in stderr.splitlines() if " read: " in ln][-1]
    words = line.replace(",", " ").replace(";", " ").split()
    counts = {"read": int(words[1])}
    for i, w in enumerate(words):
        if w in ("restored", "unchanged", "skipped", "failed", "edits", "spun", "clean") and words[i - 1].isdigit():
            counts[w] = int(words[i - 1])
    return counts


# -- restore: single documents ----------------------------------------------------------------


def test_restore_one_file_to_stdout(cli, tmp_path, capsys):
    write(tmp_path / "a.txt", SPUN)
    assert cli("restore", "a.txt") == 0
    out, err = capsys.readouterr()
    assert out == RESTORED
    assert summary_counts(err) == {"read": 1, "restored": 1, "unchanged": 0, "skipped": 0, "failed": 0, "edits": 2}


def test_restore_unchanged_file_is_copied_byte_for_byte(cli, tmp_path, capsysbinary):
    data = "caf\u00e9 \u2014 nothing here\r\nsecond line without newline".encode("utf-8")
    write(tmp_path / "a.txt", b"\xef\xbb\xbf" + data)  # with a BOM and CRLF
    assert cli("restore", "a.txt", "-o", "b.txt") == 0
    assert (tmp_path / "b.txt").read_bytes() == b"\xef\xbb\xbf" + data


def test_restore_one_file_to_output_file(cli, tmp_path):
    write(tmp_path / "a.txt", SPUN)
    assert cli("restore", "a.txt", "-o", "deep/er/b.txt") == 0
    assert (tmp_path / "deep/er/b.txt").read_text() == RESTORED


def test_restore_one_file_into_existing_folder(cli, tmp_path):
    write(tmp_path / "a.txt", SPUN)
    (tmp_path / "out").mkdir()
    assert cli("restore", "a.txt", "-o", "out") == 0
    assert (tmp_path / "out/a.txt").read_text() == RESTORED


def test_restore_stdin_to_stdout(cli, monkeypatch, capsys):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(SPUN.encode())))
    assert cli("restore", "-") == 0
    assert capsys.readouterr().out == RESTORED


def test_restore_stdin_to_file(cli, tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(SPUN.encode())))
    assert cli("restore", "-", "-o", "out.txt") == 0
    assert (tmp_path / "out.txt").read_text() == RESTORED


def test_restore_subprocess_stdin_stdout(tmp_path, lexicon):
    proc = run_module(["restore", "-", *lex_args(lexicon), "--no-context", "-q"], tmp_path, SPUN.encode())
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == RESTORED.encode()
    assert proc.stderr == b""  # --quiet: no summary


def test_threshold_above_confidence_makes_no_edit(cli, tmp_path, capsys):
    write(tmp_path / "a.txt", SPUN)
    assert cli("restore", "a.txt", "--threshold", "0.999") == 0
    assert capsys.readouterr().out == SPUN


# -- restore: folders -------------------------------------------------------------------------


def make_tree(root: Path) -> None:
    write(root / "a.txt", SPUN)
    write(root / "b.txt", CLEAN)
    write(root / "sub/c.txt", "Before the chilly conflict.\n")
    write(root / "sub/deeper/d.md", SPUN)


def test_folder_mirrors_to_output_folder(cli, tmp_path, capsys):
    make_tree(tmp_path / "in")
    assert cli("restore", "in", "-o", "out") == 0
    files = sorted(p.relative_to(tmp_path / "out").as_posix() for p in (tmp_path / "out").rglob("*") if p.is_file())
    assert files == ["a.txt", "b.txt", "sub/c.txt", "sub/deeper/d.md"]
    assert (tmp_path / "out/a.txt").read_text() == RESTORED
    assert (tmp_path / "out/b.txt").read_text() == CLEAN
    assert (tmp_path / "out/sub/c.txt").read_text() == "Before the cold war.\n"
    assert (tmp_path / "out/sub/deeper/d.md").read_text() == RESTORED
    assert (tmp_path / "in/a.txt").read_text() == SPUN  # input untouched
    counts = summary_counts(capsys.readouterr().err)
    assert counts == {"read": 4, "restored": 3, "unchanged": 1, "skipped": 0, "failed": 0, "edits": 5}


def test_include_and_exclude_globs(cli, tmp_path):
    make_tree(tmp_path / "in")
    assert cli("restore", "in", "-o", "out", "--include", "*.txt", "--exclude", "deeper", "--exclude", "b.*") == 0
    files = sorted(p.relative_to(tmp_path / "out").as_posix() for p in (tmp_path / "out").rglob("*") if p.is_file())
    assert files == ["a.txt", "sub/c.txt"]


def test_include_matches_relative_paths(cli, tmp_path):
    make_tree(tmp_path / "in")
    assert cli("restore", "in", "-o", "out", "--include", "sub/*.txt") == 0
    files = sorted(p.relative_to(tmp_path / "out").as_posix() for p in (tmp_path / "out").rglob("*") if p.is_file())
    assert files == ["sub/c.txt"]


def test_several_files_go_into_the_output_folder(cli, tmp_path):
    write(tmp_path / "x/a.txt", SPUN)
    write(tmp_path / "y/b.txt", CLEAN)
    assert cli("restore", "x/a.txt", "y/b.txt", "-o", "out") == 0
    assert (tmp_path / "out/a.txt").read_text() == RESTORED
    assert (tmp_path / "out/b.txt").read_text() == CLEAN


def test_two_inputs_with_the_same_output_are_refused(cli, tmp_path, capsys):
    write(tmp_path / "x/a.txt", SPUN)
    write(tmp_path / "y/a.txt", CLEAN)
    assert cli("restore", "x/a.txt", "y/a.txt", "-o", "out") == 2
    assert "would both be written" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_several_documents_without_output_is_a_usage_error(cli, tmp_path, capsys):
    make_tree(tmp_path / "in")
    assert cli("restore", "in") == 2
    assert "-o FOLDER" in capsys.readouterr().err


def test_folder_subprocess(tmp_path, lexicon):
    make_tree(tmp_path / "in")
    proc = run_module(["restore", "in", "-o", "out", *lex_args(lexicon), "--no-context", "-j", "2"], tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "out/sub/deeper/d.md").read_text() == RESTORED
    assert summary_counts(proc.stderr.decode())["read"] == 4


# -- restore: JSONL ---------------------------------------------------------------------------


def test_jsonl_restores_one_field_and_keeps_the_rest(cli, tmp_path):
    lines = [
        '{"id": "a", "text": "The satellite tv for pc.", "meta": {"k": [1, 2.5]}, "z": null}\n',
        '{"z":1,"text":"Nothing here.","id":"b"}\n',  # unchanged: byte for byte
        '{"text": "Caf\\u00e9 in the chilly conflict.", "id": 3}\n',  # ASCII-escaped stays ASCII
        '{"id": "d", "text": "\u00e9t\u00e9 satellite tv for pc"}\n',
    ]
    write(tmp_path / "in.jsonl", "".join(lines))
    assert cli("restore", "in.jsonl", "-o", "out.jsonl") == 0
    out = (tmp_path / "out.jsonl").read_text(encoding="utf-8").splitlines(keepends=True)
    assert len(out) == 4
    assert out[0] == '{"id": "a", "text": "The satellite.", "meta": {"k": [1, 2.5]}, "z": null}\n'
    assert out[1] == lines[1]
    assert out[2] == '{"text": "Caf\\u00e9 in the cold war.", "id": 3}\n'
    assert out[3] == '{"id": "d", "text": "\u00e9t\u00e9 satellite"}\n'


def test_jsonl_other_field_and_forced_jsonl(cli, tmp_path):
    write(tmp_path / "in.txt", '{"body": "A satellite tv for pc.", "text": "satellite tv for pc"}\n')
    assert cli("restore", "in.txt", "--jsonl", "--field", "body", "-o", "out.txt") == 0
    assert (tmp_path / "out.txt").read_text() == '{"body": "A satellite.", "text": "satellite tv for pc"}\n'


def test_jsonl_extension_only_implies_jsonl(cli, tmp_path):
    line = '{"text": "The satellite tv for pc."}\n'
    write(tmp_path / "in/a.jsonl", line)
    write(tmp_path / "in/b.txt", line)  # a text file that happens to hold JSON
    assert cli("restore", "in", "-o", "out") == 0
    assert (tmp_path / "out/a.jsonl").read_text() == '{"text": "The satellite."}\n'
    assert (tmp_path / "out/b.txt").read_text() == '{"text": "The satellite."}\n'  # restored as text
    write(tmp_path / "in/b.txt", '{"text": "x", "note": "satellite tv for pc"}\n')
    assert cli("restore", "in/b.txt", "-o", "b.out") == 0
    assert (tmp_path / "b.out").read_text() == '{"text": "x", "note": "satellite"}\n'


def test_jsonl_crlf_and_missing_final_newline_are_kept(cli, tmp_path):
    write(tmp_path / "in.jsonl", b'{"text": "satellite tv for pc"}\r\n{"text": "satellite tv for pc"}')
    assert cli("restore", "in.jsonl", "-o", "out.jsonl") == 0
    assert (tmp_path / "out.jsonl").read_bytes() == b'{"text": "satellite"}\r\n{"text": "satellite"}'


def test_jsonl_stdin_to_stdout_subprocess(tmp_path, lexicon):
    data = b'{"text": "satellite tv for pc", "id": 1}\n{"id": 2}\n'
    proc = run_module(["restore", "-", "--jsonl", *lex_args(lexicon), "--no-context", "-j", "2"], tmp_path, data)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == b'{"text": "satellite", "id": 1}\n{"id": 2}\n'
    assert b"<stdin>:2: skipped: no field 'text'" in proc.stderr


# -- restore: --explain and --diff ------------------------------------------------------------


def test_explain_writes_one_record_per_edit(cli, tmp_path):
    write(tmp_path / "in/a.txt", SPUN)
    write(tmp_path / "in/b.jsonl", '{"id": "x7", "text": "Clean."}\n{"id": "x8", "text": "A satellite tv for pc."}\n')
    assert cli("restore", "in", "-o", "out", "--explain", "edits.jsonl") == 0
    records = [json.loads(line) for line in (tmp_path / "edits.jsonl").read_text().splitlines()]
    assert [(r["path"], r["line"], r.get("id"), r["before"], r["after"]) for r in records] == [
        (os.path.join("in", "a.txt"), None, None, "satellite tv for pc", "satellite"),
        (os.path.join("in", "a.txt"), None, None, "chilly conflict", "cold war"),
        (os.path.join("in", "b.jsonl"), 2, "x8", "satellite tv for pc", "satellite"),
    ]
    first = records[0]
    assert SPUN[first["start"] : first["end"]] == "satellite tv for pc"
    assert first["confidence"] == pytest.approx(0.99)
    assert first["rule"] == "lex.tsv:3"
    assert set(first) >= {"path", "line", "start", "end", "before", "after", "confidence", "reason", "rule"}


def test_diff_without_output_shows_only_the_diff(cli, tmp_path, capsys):
    write(tmp_path / "a.txt", "First line.\n" + SPUN + "Last line.\n")
    assert cli("restore", "a.txt", "--diff") == 0
    out = capsys.readouterr().out
    assert out == (
        "a.txt:2: The [-satellite tv for pc-]{+satellite+} was launched during the "
        "[-chilly conflict-]{+cold war+}.\n"
    )
    assert "\x1b[" not in out  # stdout is not a terminal


def test_diff_colours_only_when_asked_or_on_a_terminal(cli, tmp_path, capsys, monkeypatch):
    write(tmp_path / "in/a.txt", SPUN)
    assert cli("restore", "in", "-o", "out", "--diff", "--color", "always") == 0
    out = capsys.readouterr().out
    assert "\x1b[31msatellite tv for pc\x1b[0m\x1b[32msatellite\x1b[0m" in out
    assert (tmp_path / "out/a.txt").read_text() == RESTORED  # the text still goes to its file
    monkeypatch.setattr("despin.cli._isatty", lambda stream: True)
    assert cli("restore", "in", "-o", "out2", "--diff") == 0  # auto on a "terminal"
    assert "\x1b[31m" in capsys.readouterr().out
    assert cli("restore", "in", "-o", "out3", "--diff", "--color", "never") == 0
    assert "\x1b[" not in capsys.readouterr().out


def test_diff_of_jsonl_names_the_line(cli, tmp_path, capsys):
    write(tmp_path / "in.jsonl", '{"text": "ok"}\n{"text": "a satellite tv for pc"}\n')
    assert cli("restore", "in.jsonl", "--diff") == 0
    assert capsys.readouterr().out == "in.jsonl:2: a [-satellite tv for pc-]{+satellite+}\n"


# -- detect -----------------------------------------------------------------------------------


def expected_score(lexicon: Path, text: str) -> float:
    return Restorer(Config(lexicons=(str(lexicon),), bundled_lexicon=False)).detect(text).score


def test_detect_table(cli, tmp_path, lexicon, capsys):
    write(tmp_path / "in/a.txt", SPUN)
    write(tmp_path / "in/b.txt", CLEAN)
    assert cli("detect", "in") == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["score", "verdict", "words", "spun/1k", "document"]
    a = lines[1].split()
    assert a[0] == f"{expected_score(lexicon, SPUN):.3f}" and a[-1] == os.path.join("in", "a.txt")
    assert lines[2].split()[-1] == os.path.join("in", "b.txt")
    assert len(lines) == 3


def test_detect_csv_and_threshold(cli, tmp_path, lexicon, capsys):
    write(tmp_path / "a.txt", SPUN)
    write(tmp_path / "b.txt", CLEAN)
    spun, clean = expected_score(lexicon, SPUN), expected_score(lexicon, CLEAN)
    assert clean < spun
    between = f"{(spun + clean) / 2:.4f}"
    assert cli("detect", "a.txt", "b.txt", "--format", "csv", "--spin-threshold", between) == 0
    rows = capsys.readouterr().out.splitlines()
    assert rows[0] == "path,line,id,status,score,spun,words,spun_forms,per_1000_words,artifacts,error"
    assert rows[1].startswith(f"a.txt,,,spun,{round(spun, 4)},True,")
    assert rows[2].startswith(f"b.txt,,,clean,{round(clean, 4)},False,")
    assert cli("detect", "a.txt", "--format", "csv", "--spin-threshold", "1") == 0
    assert ",clean," in capsys.readouterr().out


def test_detect_jsonl_format_over_jsonl_input(cli, tmp_path, capsys):
    write(tmp_path / "in.jsonl", '{"id": 7, "text": "satellite tv for pc"}\nnot json\n\n{"other": 1}\n')
    assert cli("detect", "in.jsonl", "--format", "jsonl") == 3  # a malformed line failed
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(r["line"], r["id"], r["status"]) for r in rows] == [
        (1, 7, "clean"), (2, None, "failed"), (4, None, "skipped")]
    assert rows[0]["spun_forms"] == 1 and rows[0]["words"] == 4
    assert rows[1]["error"].startswith("malformed JSON")


def test_detect_check_exit_codes(cli, tmp_path):
    write(tmp_path / "a.txt", SPUN)
    write(tmp_path / "b.txt", CLEAN)
    assert cli("detect", "b.txt", "--check", "--spin-threshold", "0.3") == 0
    assert cli("detect", "a.txt", "b.txt", "--check", "--spin-threshold", "0.3") == 1
    assert cli("detect", "a.txt", "b.txt", "--check", "--spin-threshold", "0.95") == 0
    write(tmp_path / "c.bin", b"\0\1")
    assert cli("detect", "b.txt", "c.bin", "--check", "--spin-threshold", "0.95") == 3  # not sure it's clean


def test_detect_subprocess_check(tmp_path, lexicon):
    write(tmp_path / "a.txt", SPUN)
    proc = run_module(["detect", "a.txt", "--check", "--spin-threshold", "0.3", *lex_args(lexicon)], tmp_path)
    assert proc.returncode == 1, proc.stderr
    assert b" spun " in proc.stdout
    proc = run_module(["detect", "-", "--check", *lex_args(lexicon), "--format", "csv"], tmp_path, CLEAN.encode())
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.decode().splitlines()[1].startswith("<stdin>,,,clean,")


# -- eval, parser, options --------------------------------------------------------------------


def test_eval_still_works(cli, tmp_path, capsys):
    write(tmp_path / "pairs/x.spun.txt", SPUN)
    write(tmp_path / "pairs/x.orig.txt", RESTORED)
    assert cli("eval", "--pairs", "pairs") == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("pair\twords\tWER before\tWER after")
    fields = out[1].split("\t")
    assert fields[0] == "x" and fields[3] == "0.0000" and fields[5] == "2"  # perfect restoration, 2 edits


def test_eval_prints_a_total_over_several_pairs(cli, tmp_path, capsys):
    write(tmp_path / "pairs/x.spun.txt", SPUN)
    write(tmp_path / "pairs/x.orig.txt", RESTORED)
    write(tmp_path / "pairs/y.spun.txt", SPUN)
    write(tmp_path / "pairs/y.orig.txt", SPUN)  # gold = the spun text: every edit is wrong
    assert cli("eval", "--pairs", "pairs") == 0
    lines = capsys.readouterr().out.splitlines()
    rows = [line.split("\t") for line in lines[1 : lines.index("confidence\tedits\tright")]]
    assert [r[0] for r in rows] == ["x", "y", "all"]
    x, y, total = rows
    assert int(total[1]) == int(x[1]) + int(y[1])
    assert int(total[5]) == int(x[5]) + int(y[5]) == 4
    right = float(x[6]) * int(x[5]) + float(y[6]) * int(y[5])
    assert float(y[6]) < float(x[6]) == 1.0
    assert float(total[6]) == pytest.approx(right / 4, abs=1e-3)


def test_eval_clean_still_works(cli, tmp_path, capsys):
    write(tmp_path / "clean.jsonl",
          '{"id": "c1", "text": "Nothing to restore."}\n{"id": "c2", "text": "A satellite tv for pc."}\n')
    assert cli("eval", "--clean", "clean.jsonl") == 0
    assert capsys.readouterr().out.startswith("clean clean.jsonl: 2 docs, 8 words, 1 edits")


def test_options_map_to_config():
    from despin.cli import _batch_options, _config

    args = build_parser().parse_args(["restore", "x", "--no-bundled-lexicon", "--lexicon", "l.tsv",
                                      "--threshold", "0.7", "--spin-threshold", "0.3", "--no-context"])
    cfg = _config(args)
    assert cfg.bundled_lexicon is False and cfg.threshold == 0.7 and cfg.spin_threshold == 0.3
    assert cfg.lexicons == (os.path.abspath("l.tsv"),) and cfg.context is False
    assert _batch_options(args).jobs == (os.cpu_count() or 1)
    args = build_parser().parse_args(["detect", "x", "--spin-threshold", "0.8"])
    assert _config(args).spin_threshold == 0.8 and _config(args).threshold == 0.5


def test_detect_threshold_is_a_deprecated_spelling_of_spin_threshold(capsys):
    from despin.cli import _config

    args = build_parser().parse_args(["detect", "x", "--threshold", "0.8"])
    assert _config(args).spin_threshold == 0.8 and _config(args).threshold == 0.5
    assert "--threshold is deprecated here; use --spin-threshold" in capsys.readouterr().err


def test_help_and_bad_options_return_codes(capsys):
    assert main(["restore", "--help"]) == 0
    assert "--in-place" in capsys.readouterr().out
    assert main(["restore"]) == 2
    assert main(["detect", "x", "--spin-threshold", "2"]) == 2
    assert main(["detect", "x", "--threshold", "2"]) == 2
    assert main(["restore", "x", "--jobs", "0"]) == 2
    assert main(["restore", "x", "--errors", "bogus"]) == 2


def test_quiet_suppresses_the_summary(cli, tmp_path, capsys):
    write(tmp_path / "a.txt", SPUN)
    assert cli("restore", "a.txt", "-q") == 0
    assert capsys.readouterr().err == ""


def test_bad_lexicon_is_a_usage_error_before_any_output(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "in/a.txt", SPUN)
    write(tmp_path / "bad.tsv", "not a lexicon\n")
    assert main(["restore", "in", "-o", "out", "--lexicon", "bad.tsv", "--no-bundled-lexicon"]) == 2
    assert "bad.tsv:1" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
