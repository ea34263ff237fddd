"""Safety of ``despin restore``: inputs are never overwritten (unless --in-place, with a
backup), outputs appear atomically, and an interrupted run can be resumed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from despin.batch import files, work
from despin.batch.files import AtomicFile, is_temp_name, make_backup, remove_stale_temps, temp_prefix
from despin.cli import main

from support import CLEAN, LEXICON, RESTORED, SPUN, tree, write

DEAD_PID = 4194305  # above Linux's largest pid_max: no such process


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "lex.tsv").write_text(LEXICON, encoding="utf-8")

    def run(*args: str) -> int:
        return main(["restore", *args, "--lexicon", "lex.tsv", "--no-bundled-lexicon", "--no-context", "-j", "1"])

    return run


def temps(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if is_temp_name(p.name)]


# -- never overwrite an input -----------------------------------------------------------------


def test_output_file_equal_to_input_is_refused(cli, tmp_path, capsys):
    write(tmp_path / "a.txt", SPUN)
    assert cli("a.txt", "-o", "a.txt") == 2
    assert "refusing to overwrite a.txt: it is an input file" in capsys.readouterr().err
    assert (tmp_path / "a.txt").read_text() == SPUN


def test_output_folder_inside_input_folder_is_refused(cli, tmp_path, capsys):
    write(tmp_path / "in/a.txt", SPUN)
    before = tree(tmp_path / "in")
    assert cli("in", "-o", "in/restored") == 2
    assert "inside the input folder" in capsys.readouterr().err
    assert cli("in", "-o", "in") == 2
    assert tree(tmp_path / "in") == before


def test_symlinked_output_to_an_input_is_refused(cli, tmp_path, capsys):
    write(tmp_path / "a.txt", SPUN)
    (tmp_path / "link.txt").symlink_to(tmp_path / "a.txt")
    assert cli("a.txt", "-o", "link.txt") == 2
    assert "an input file" in capsys.readouterr().err
    assert (tmp_path / "a.txt").read_text() == SPUN


def test_hard_linked_output_of_an_input_is_refused(cli, tmp_path):
    write(tmp_path / "in/a.txt", SPUN)
    (tmp_path / "out").mkdir()
    os.link(tmp_path / "in/a.txt", tmp_path / "out/a.txt")
    assert cli("in/a.txt", "-o", "out/a.txt") == 2
    assert (tmp_path / "in/a.txt").read_text() == SPUN


def test_explain_file_inside_input_folder_is_refused(cli, tmp_path, capsys):
    write(tmp_path / "in/a.txt", SPUN)
    assert cli("in", "-o", "out", "--explain", "in/edits.jsonl") == 2
    assert "refusing to write the edits" in capsys.readouterr().err
    assert not (tmp_path / "out").exists() and not (tmp_path / "in/edits.jsonl").exists()


def test_usage_errors_for_conflicting_options(cli, tmp_path, capsys):
    write(tmp_path / "a.txt", SPUN)
    assert cli("a.txt", "--in-place", "-o", "b.txt") == 2
    assert cli("-", "--in-place") == 2
    assert cli("a.txt", "--resume") == 2
    assert cli("-", "a.txt", "-o", "out") == 2
    err = capsys.readouterr().err
    assert "--in-place and -o" in err and "--resume needs -o" in err
    assert not (tmp_path / "b.txt").exists()


def test_refusal_exit_code_in_a_subprocess(tmp_path):
    write(tmp_path / "lex.tsv", LEXICON)
    write(tmp_path / "in/a.txt", SPUN)
    proc = subprocess.run([sys.executable, "-m", "despin", "restore", "in", "-o", "in/sub", "--lexicon", "lex.tsv",
                           "--no-bundled-lexicon"], cwd=tmp_path, capture_output=True, timeout=60)
    assert proc.returncode == 2
    assert b"refusing" in proc.stderr
    assert tree(tmp_path / "in") == {"a.txt": SPUN.encode()}


# -- in place -----------------------------------------------------------------------------------


def test_in_place_keeps_a_backup_of_changed_files_only(cli, tmp_path):
    write(tmp_path / "in/a.txt", SPUN)
    write(tmp_path / "in/b.txt", CLEAN)
    os.chmod(tmp_path / "in/a.txt", 0o640)
    assert cli("in", "--in-place") == 0
    assert tree(tmp_path / "in") == {"a.txt": RESTORED.encode(), "a.txt.bak": SPUN.encode(), "b.txt": CLEAN.encode()}
    assert (tmp_path / "in/a.txt").stat().st_mode & 0o777 == 0o640  # mode kept


def test_in_place_never_overwrites_an_existing_backup(cli, tmp_path):
    write(tmp_path / "a.txt", SPUN)
    write(tmp_path / "a.txt.bak", "older backup")
    assert cli("a.txt", "--in-place") == 0
    assert (tmp_path / "a.txt").read_text() == RESTORED
    assert (tmp_path / "a.txt.bak").read_text() == "older backup"
    assert (tmp_path / "a.txt.bak.1").read_text() == SPUN


def test_in_place_jsonl(cli, tmp_path):
    write(tmp_path / "d.jsonl", '{"text": "satellite tv for pc"}\nbroken\n')
    write(tmp_path / "e.jsonl", '{"text": "clean"}\n')
    assert cli("d.jsonl", "e.jsonl", "--in-place") == 3  # the broken line failed (and was kept)
    assert (tmp_path / "d.jsonl").read_text() == '{"text": "satellite"}\nbroken\n'
    assert (tmp_path / "d.jsonl.bak").read_text() == '{"text": "satellite tv for pc"}\nbroken\n'
    assert not (tmp_path / "e.jsonl.bak").exists()
    assert temps(tmp_path) == []


def test_in_place_through_a_symlink_edits_the_target(cli, tmp_path):
    write(tmp_path / "real.txt", SPUN)
    (tmp_path / "link.txt").symlink_to("real.txt")
    assert cli("link.txt", "--in-place") == 0
    assert (tmp_path / "link.txt").is_symlink()
    assert (tmp_path / "real.txt").read_text() == RESTORED
    assert (tmp_path / "real.txt.bak").read_text() == SPUN


def test_backup_helper_falls_back_to_copy(tmp_path, monkeypatch):
    write(tmp_path / "f", "one")

    def no_links(src: str, dst: str) -> None:
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(os, "link", no_links)
    assert make_backup(str(tmp_path / "f")) == str(tmp_path / "f.bak")
    write(tmp_path / "f", "two")
    assert make_backup(str(tmp_path / "f")) == str(tmp_path / "f.bak.1")
    assert (tmp_path / "f.bak").read_text() == "one" and (tmp_path / "f.bak.1").read_text() == "two"
    # a run stopped between backing up and replacing the file left a backup equal to it: it is kept as the backup
    assert make_backup(str(tmp_path / "f")) == str(tmp_path / "f.bak.1")
    assert not (tmp_path / "f.bak.2").exists()


# -- atomic writes --------------------------------------------------------------------------------


def test_atomic_file_appears_only_on_commit(tmp_path):
    dest = tmp_path / "sub" / "out.txt"
    f = AtomicFile(str(dest))
    f.write(b"partial")
    assert not dest.exists()
    assert len(temps(tmp_path)) == 1
    f.commit()
    assert dest.read_bytes() == b"partial" and temps(tmp_path) == []
    with pytest.raises(RuntimeError), AtomicFile(str(dest)) as g:
        g.write(b"half of a new vers")
        raise RuntimeError("crash")
    assert dest.read_bytes() == b"partial" and temps(tmp_path) == []


def test_failed_write_leaves_no_output_and_counts_as_failed(cli, tmp_path, monkeypatch, capsys):
    write(tmp_path / "in/a.txt", SPUN)
    write(tmp_path / "in/b.txt", CLEAN)
    real_fsync = os.fsync
    calls = []

    def failing_fsync(fd: int) -> None:
        calls.append(fd)
        if len(calls) == 1:
            raise OSError(28, "No space left on device")
        real_fsync(fd)

    monkeypatch.setattr(files.os, "fsync", failing_fsync)
    assert cli("in", "-o", "out") == 3
    assert tree(tmp_path / "out") == {"b.txt": CLEAN.encode()}
    err = capsys.readouterr().err
    assert "a.txt: failed: cannot write" in err and "No space left on device" in err
    assert temps(tmp_path) == []


# -- interruption and --resume --------------------------------------------------------------------


def test_stale_temporaries_of_dead_processes_are_removed(tmp_path):
    stale = write(tmp_path / (temp_prefix("x.txt", DEAD_PID) + "abc123"), "half")
    alive = write(tmp_path / (temp_prefix("y.txt", os.getppid()) + "def456"), "being written")
    other = write(tmp_path / ".x.txt.something-else", "not ours")
    removed, problems = remove_stale_temps([str(tmp_path)])
    assert removed == [str(stale)] and problems == []
    assert alive.exists() and other.exists() and not stale.exists()


def test_resume_after_an_interrupted_run(cli, tmp_path, capsys):
    for name in "abcde":
        write(tmp_path / f"in/{name}.txt", SPUN if name in "ace" else CLEAN)
    assert cli("in", "-o", "expected") == 0
    expected = tree(tmp_path / "expected")
    # The state an interrupted run leaves: some complete outputs, a temporary file.
    write(tmp_path / "out/a.txt", "done earlier")  # complete (under its final name): kept as is
    write(tmp_path / "out/b.txt", CLEAN)
    write(tmp_path / "out" / (temp_prefix("c.txt", DEAD_PID) + "x1y2z3"), "The satellite tv f")
    capsys.readouterr()
    assert cli("in", "-o", "out", "--resume") == 0
    err = capsys.readouterr().err
    assert "removed 1 stale temporary file" in err
    assert "5 documents read: 2 restored, 1 unchanged, 2 skipped (2 already done), 0 failed" in err
    assert tree(tmp_path / "out") == {**expected, "a.txt": b"done earlier"}


def test_interrupted_run_leaves_only_complete_outputs_then_resume_finishes(cli, tmp_path, monkeypatch, capsys):
    for i in range(6):
        write(tmp_path / f"in/{i}.txt", SPUN if i % 2 else CLEAN)
    assert cli("in", "-o", "expected") == 0
    expected = tree(tmp_path / "expected")

    real_write = work.write_atomic  # outputs are written where the document is restored
    written = []

    def interrupted_write(dest: str, data: bytes, mode: int | None = None) -> None:
        if len(written) == 3:
            raise KeyboardInterrupt  # Ctrl-C while the 4th output is written
        written.append(dest)
        real_write(dest, data, mode)

    monkeypatch.setattr(work, "write_atomic", interrupted_write)
    capsys.readouterr()
    assert cli("in", "-o", "out") == 130
    assert "interrupted" in capsys.readouterr().err
    partial = tree(tmp_path / "out")
    assert sorted(partial) == ["0.txt", "1.txt", "2.txt"]
    assert all(partial[k] == expected[k] for k in partial)  # complete, byte for byte
    assert temps(tmp_path) == []

    monkeypatch.setattr(work, "write_atomic", real_write)
    assert cli("in", "-o", "out", "--resume") == 0
    assert "(3 already done)" in capsys.readouterr().err
    assert tree(tmp_path / "out") == expected


def test_resume_in_a_subprocess_replaces_a_killed_runs_temporary(tmp_path):
    """After a SIGKILL only temporaries can be incomplete; the next run removes them and writes the output."""
    write(tmp_path / "lex.tsv", LEXICON)
    big = SPUN * 20000  # ~1.3 MB: one slow document
    write(tmp_path / "in/a.txt", CLEAN)
    write(tmp_path / "in/b.txt", big)
    # A stand-in for a killed run: a dead process's temporary next to the final name.
    write(tmp_path / "out" / (temp_prefix("b.txt", DEAD_PID) + "q9w8e7"), big[:1000])
    write(tmp_path / "out/a.txt", CLEAN)
    args = [sys.executable, "-m", "despin", "restore", "in", "-o", "out", "--resume", "--lexicon", "lex.tsv",
            "--no-bundled-lexicon", "--no-context", "-j", "2", "--max-size", "4M"]
    proc = subprocess.run(args, cwd=tmp_path, capture_output=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert tree(tmp_path / "out") == {"a.txt": CLEAN.encode(), "b.txt": (RESTORED * 20000).encode()}
