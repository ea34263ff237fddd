"""Bad input never stops a batch: every file and line is accounted for, and the exit code is 3
when any document failed."""

from __future__ import annotations

import builtins
import io
import os
import signal
import subprocess
import sys
import time

import pytest

from despin import Restorer
from despin.batch.files import is_temp_name
from despin.batch.report import MESSAGES_PER_SOURCE

from support import CLEAN, LEXICON, RESTORED, SPUN, summary_line, tree, write

# -- bad files in a folder --------------------------------------------------------------------------


def test_bad_files_in_a_folder_do_not_stop_the_batch(cli, tmp_path, capsys):
    write(tmp_path / "in/1-good.txt", SPUN)
    (tmp_path / "in/2-broken-link.txt").symlink_to(tmp_path / "in/nowhere")  # unreadable, even as root
    write(tmp_path / "in/3-binary.txt", b"GIF89a\x00\x01\x02 satellite tv for pc")
    write(tmp_path / "in/4-latin1.txt", "caf\u00e9 satellite tv for pc\n".encode("latin-1"))
    write(tmp_path / "in/5-empty.txt", b"")
    write(tmp_path / "in/6-clean.txt", CLEAN)
    write(tmp_path / "in/7-good.txt", SPUN)
    assert cli("restore", "in", "-o", "out") == 3
    assert tree(tmp_path / "out") == {
        "1-good.txt": RESTORED.encode(),
        "5-empty.txt": b"",  # skipped, copied as empty
        "6-clean.txt": CLEAN.encode(),
        "7-good.txt": RESTORED.encode(),
    }
    err = capsys.readouterr().err
    p = lambda name: os.path.join("in", name)  # noqa: E731
    assert f"despin: {p('2-broken-link.txt')}: failed: cannot read: No such file or directory" in err
    assert f"despin: {p('3-binary.txt')}: failed: binary file (NUL byte at offset 6)" in err
    assert f"despin: {p('4-latin1.txt')}: failed: invalid UTF-8 at byte 3" in err
    assert f"despin: {p('5-empty.txt')}: skipped: empty file" in err
    assert "7 documents read: 2 restored, 1 unchanged, 1 skipped, 3 failed; 4 edits" in summary_line(err)


def test_file_that_cannot_be_opened_in_the_middle_of_a_folder(cli, tmp_path, monkeypatch, capsys):
    for name in ("a", "b", "c"):
        write(tmp_path / f"in/{name}.txt", SPUN)
    real_open = builtins.open

    def guarded_open(file, *args, **kwargs):  # works as root, unlike chmod 000
        if str(file).endswith("b.txt"):
            raise PermissionError(13, "Permission denied", str(file))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", guarded_open)
    assert cli("restore", "in", "-o", "out") == 3
    assert tree(tmp_path / "out") == {"a.txt": RESTORED.encode(), "c.txt": RESTORED.encode()}
    err = capsys.readouterr().err
    assert f"{os.path.join('in', 'b.txt')}: failed: cannot read: Permission denied" in err
    assert "3 documents read: 2 restored, 0 unchanged, 0 skipped, 1 failed" in summary_line(err)


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root can read chmod 000 files")
def test_chmod_000_file_fails_alone(cli, tmp_path, capsys):
    write(tmp_path / "in/a.txt", SPUN)
    locked = write(tmp_path / "in/b.txt", SPUN)
    write(tmp_path / "in/c.txt", CLEAN)
    locked.chmod(0)
    try:
        assert cli("restore", "in", "-o", "out") == 3
    finally:
        locked.chmod(0o644)
    assert tree(tmp_path / "out") == {"a.txt": RESTORED.encode(), "c.txt": CLEAN.encode()}
    assert "Permission denied" in capsys.readouterr().err


def test_missing_path_on_the_command_line_is_a_usage_error(cli, tmp_path, capsys):
    """A path named on the command line that does not exist is a mistake in the command: exit 2, nothing done
    (issue 16, item 13). Files that cannot be read inside a folder still fail alone (above)."""
    write(tmp_path / "a.txt", SPUN)
    assert cli("restore", "a.txt", "missing.txt", "-o", "out") == 2
    assert not (tmp_path / "out").exists()
    assert "despin: missing.txt: no such file or folder; nothing done" in capsys.readouterr().err
    assert cli("detect", "missing.txt") == 2
    (tmp_path / "dangling").symlink_to(tmp_path / "nowhere")
    assert cli("restore", "dangling") == 2


def test_invalid_utf8_policies(cli, tmp_path, capsys):
    data = b"caf\xe9 satellite tv for pc\n"
    write(tmp_path / "a.txt", data)
    assert cli("restore", "a.txt", "-o", "strict.txt") == 3
    assert not (tmp_path / "strict.txt").exists()
    assert cli("restore", "a.txt", "-o", "replace.txt", "--errors", "replace") == 0
    assert (tmp_path / "replace.txt").read_text(encoding="utf-8") == "caf\ufffd satellite\n"
    assert cli("restore", "a.txt", "-o", "ignore.txt", "--errors", "ignore") == 0
    assert (tmp_path / "ignore.txt").read_bytes() == b"caf satellite\n"
    err = capsys.readouterr().err
    assert "a.txt: failed: invalid UTF-8 at byte 3 (line 1, column 4)" in err  # the line too (issue 16, item 13)
    assert "a.txt: warning: invalid UTF-8 at byte 3 (line 1, column 4): bad bytes replaced with U+FFFD" in err
    assert "a.txt: warning: invalid UTF-8 at byte 3 (line 1, column 4): bad bytes dropped" in err


def test_invalid_utf8_message_gives_the_line_and_column(cli, tmp_path, capsys):
    write(tmp_path / "a.txt", "first line\nsecond \u00e9 line\n".encode() + b"third \xff\n")
    assert cli("restore", "a.txt", "-o", "b.txt") == 3
    assert "invalid UTF-8 at byte 32 (line 3, column 7)" in capsys.readouterr().err


def test_unchanged_document_with_replaced_bytes_is_copied_unchanged(cli, tmp_path):
    write(tmp_path / "a.txt", b"caf\xe9 nothing to do\n")
    assert cli("restore", "a.txt", "-o", "b.txt", "--errors", "replace") == 0
    assert (tmp_path / "b.txt").read_bytes() == b"caf\xe9 nothing to do\n"


def test_symlinked_folder_is_reported_not_followed(cli, tmp_path, capsys):
    write(tmp_path / "elsewhere/x.txt", SPUN)
    write(tmp_path / "in/a.txt", CLEAN)
    (tmp_path / "in/linked").symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    assert cli("restore", "in", "-o", "out") == 0
    assert tree(tmp_path / "out") == {"a.txt": CLEAN.encode()}
    err = capsys.readouterr().err
    assert "linked: skipped: symbolic link to a folder (not followed)" in err
    assert "2 documents read: 0 restored, 1 unchanged, 1 skipped, 0 failed" in err


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_fifo_in_a_folder_is_skipped_without_blocking(tmp_path):
    write(tmp_path / "lex.tsv", LEXICON)
    write(tmp_path / "in/a.txt", SPUN)
    os.mkfifo(tmp_path / "in/pipe")
    proc = subprocess.run([sys.executable, "-m", "despin", "restore", "in", "-o", "out", "--lexicon", "lex.tsv",
                           "--no-bundled-lexicon"], cwd=tmp_path, capture_output=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert tree(tmp_path / "out") == {"a.txt": RESTORED.encode()}
    assert b"pipe: skipped: not a regular file" in proc.stderr


def test_an_internal_error_in_one_document_fails_only_that_one(cli, tmp_path, monkeypatch, capsys):
    write(tmp_path / "in/a.txt", SPUN)
    write(tmp_path / "in/b.txt", "boom\n")
    write(tmp_path / "in/c.txt", SPUN)
    real = Restorer.restore_and_explain

    def flaky(self, text):
        if text.startswith("boom"):
            raise RuntimeError("something broke")
        return real(self, text)

    monkeypatch.setattr(Restorer, "restore_and_explain", flaky)
    assert cli("restore", "in", "-o", "out") == 3
    assert tree(tmp_path / "out") == {"a.txt": RESTORED.encode(), "c.txt": RESTORED.encode()}
    assert "b.txt: failed: internal error: RuntimeError: something broke" in capsys.readouterr().err


# -- bad JSONL lines ------------------------------------------------------------------------------------


BAD_JSONL = (
    b'{"id": 1, "text": "A satellite tv for pc."}\n'
    b'{"id": 2, "text": "missing a brace"\n'
    b'[1, 2, 3]\n'
    b'{"id": 4, "body": "no text field"}\n'
    b'{"id": 5, "text": null}\n'
    b"\n"
    b'{"id": 7, "text": "caf\xe9 bad bytes"}\n'
    b'{"id": 8, "text": ""}\n'
    b'{"id": 9, "text": "The chilly conflict."}\n'
    b'{"id": 10, "text": "truncated satellite tv f'
)


def test_bad_jsonl_lines_are_reported_counted_and_passed_through(cli, tmp_path, capsys):
    write(tmp_path / "in.jsonl", BAD_JSONL)
    assert cli("restore", "in.jsonl", "-o", "out.jsonl") == 3
    out = (tmp_path / "out.jsonl").read_bytes().split(b"\n")
    inp = BAD_JSONL.split(b"\n")
    assert len(out) == len(inp)  # no line lost
    assert out[0] == b'{"id": 1, "text": "A satellite."}'
    assert out[8] == b'{"id": 9, "text": "The cold war."}'
    assert [o for i, o in enumerate(out) if i not in (0, 8)] == [x for i, x in enumerate(inp) if i not in (0, 8)]
    err = capsys.readouterr().err
    for line, kind, what in [
        (2, "failed", "malformed JSON"),
        (3, "failed", "not a JSON object but list"),
        (4, "skipped", "no field 'text'"),
        (5, "skipped", "field 'text' is null, not a string"),
        (7, "failed", "invalid UTF-8 at byte 22"),
        (8, "skipped", "field 'text' is empty"),
        (10, "failed", "malformed JSON: Unterminated string"),
    ]:
        assert f"despin: in.jsonl:{line}: {kind}: {what}" in err
    # 10 lines: 2 restored; blank line 6 and lines 4, 5, 8 skipped; 2, 3, 7, 10 failed
    assert "10 documents read: 2 restored, 0 unchanged, 4 skipped, 4 failed; 2 edits" in summary_line(err)


def test_bad_jsonl_line_with_replace_policy(cli, tmp_path):
    write(tmp_path / "in.jsonl", b'{"text": "caf\xe9 satellite tv for pc"}\n')
    assert cli("restore", "in.jsonl", "-o", "out.jsonl", "--errors", "replace") == 0
    assert (tmp_path / "out.jsonl").read_bytes() == '{"text": "caf\ufffd satellite"}\n'.encode("utf-8")


def test_empty_jsonl_file_is_skipped_and_copied(cli, tmp_path, capsys):
    write(tmp_path / "in/empty.jsonl", b"")
    assert cli("restore", "in", "-o", "out") == 0
    assert tree(tmp_path / "out") == {"empty.jsonl": b""}
    assert "1 document read: 0 restored, 0 unchanged, 1 skipped, 0 failed" in capsys.readouterr().err


def test_read_error_in_the_middle_of_a_jsonl_file(cli, tmp_path, monkeypatch, capsys):
    write(tmp_path / "in/a.jsonl", b'{"text": "satellite tv for pc"}\n' * 5)
    write(tmp_path / "in/b.jsonl", b'{"text": "satellite tv for pc"}\n')
    real_open = builtins.open

    class FailingFile(io.BytesIO):
        reads = 0

        def readline(self, *args):
            self.reads += 1
            if self.reads == 3:
                raise OSError(5, "Input/output error")
            return super().readline(*args)

    def open_with_bad_sector(file, mode="r", *args, **kwargs):
        if str(file).endswith("a.jsonl") and "b" in mode and "r" in mode:
            with real_open(file, mode) as fh:
                return FailingFile(fh.read())
        return real_open(file, mode, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", open_with_bad_sector)
    assert cli("restore", "in", "-o", "out") == 3
    assert tree(tmp_path / "out") == {"b.jsonl": b'{"text": "satellite"}\n'}  # no half-written a.jsonl
    assert [p for p in (tmp_path / "out").iterdir() if is_temp_name(p.name)] == []
    err = capsys.readouterr().err
    assert "a.jsonl:3: failed: read error, the rest of the file is lost: Input/output error" in err


def test_problems_per_file_are_capped(cli, tmp_path, capsys):
    write(tmp_path / "in.jsonl", b"not json\n" * 30)
    assert cli("restore", "in.jsonl", "-o", "out.jsonl") == 3
    err = capsys.readouterr().err
    assert err.count("failed: malformed JSON") == MESSAGES_PER_SOURCE
    assert f"in.jsonl: {30 - MESSAGES_PER_SOURCE} more problem(s) not shown" in err
    assert "30 documents read: 0 restored, 0 unchanged, 0 skipped, 30 failed" in err
    assert (tmp_path / "out.jsonl").read_bytes() == b"not json\n" * 30


def test_detect_reports_bad_documents_as_rows(cli, tmp_path, capsys):
    write(tmp_path / "in/a.txt", CLEAN)
    write(tmp_path / "in/b.bin", b"\x00\x00")
    write(tmp_path / "in/c.txt", b"")
    assert cli("detect", "in", "--format", "csv") == 3
    rows = capsys.readouterr().out.splitlines()[1:]
    assert [r.split(",")[3] for r in rows] == ["clean", "failed", "skipped"]


# -- a real interruption ------------------------------------------------------------------------------


def test_sigkill_mid_run_then_resume(tmp_path):
    """Kill a run while a JSONL output is being written: nothing appears under a final name
    half-written, and --resume continues the dead run's output after its last complete line
    (issue 16, item 5) and finishes the job."""
    write(tmp_path / "lex.tsv", LEXICON)
    write(tmp_path / "in/a.txt", SPUN)
    record = '{"text": "The satellite tv for pc was launched during the chilly conflict."}\n'
    write(tmp_path / "in/b.jsonl", record * 8000)  # ~0.5 MB: streams for a while
    args = [sys.executable, "-m", "despin", "restore", "in", "-o", "out", "--lexicon", "lex.tsv",
            "--no-bundled-lexicon", "--no-context", "-j", "1", "-q"]
    proc = subprocess.Popen(args, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    out = tmp_path / "out"
    deadline = time.monotonic() + 60
    killed = False
    while proc.poll() is None and time.monotonic() < deadline:
        if out.is_dir() and any(is_temp_name(p.name) and p.name.startswith(".b.jsonl.") for p in out.iterdir()):
            proc.send_signal(signal.SIGKILL)
            killed = True
            break
        time.sleep(0.002)
    proc.wait(timeout=60)
    restored_record = '{"text": "' + RESTORED.strip() + '"}\n'
    expected = {"a.txt": RESTORED.encode(), "b.jsonl": (restored_record * 8000).encode()}
    if killed:
        left = tree(out)
        assert {name: data for name, data in left.items() if not is_temp_name(name)} == {"a.txt": expected["a.txt"]}
        assert [name for name in left if is_temp_name(name)] != []  # b.jsonl exists only as a temporary
    resumed = subprocess.run([*args[:-1], "--resume"], cwd=tmp_path, capture_output=True, timeout=120)
    assert resumed.returncode == 0, resumed.stderr
    assert tree(out) == expected  # no temporary and no partial output left
