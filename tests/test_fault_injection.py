"""Fault injection (issue 16): the ``despin`` command is run in a subprocess and hurt the ways a
real run gets hurt -- its main process killed mid-run, ``--in-place`` run twice then interrupted and
resumed, outputs that are devices, FIFOs and symbolic links, a reader that closes the pipe, an input
too large or endless, corrupted model files. Every fault must end with nothing lost and a clear
message. Nodes are made under a temporary folder, never system devices. The harness waits with
timeouts (so a hang fails the test) but asserts nothing about how long anything takes."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from despin.batch.files import is_partial_name, is_temp_name

from support import CLEAN, LEXICON, RESTORED, SPUN, tree, write

WAIT = 120  # seconds the harness waits for anything before calling it a hang
LEX = ["--lexicon", "lex.tsv", "--no-bundled-lexicon", "--no-context"]
RECORD = '{"text": "' + SPUN.strip() + '"}\n'
RESTORED_RECORD = '{"text": "' + RESTORED.strip() + '"}\n'

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals, FIFOs and devices")


def despin(*args: str) -> list[str]:
    return [sys.executable, "-m", "despin", *args]


def run(cwd: Path, *args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(despin(*args), cwd=cwd, input=stdin, capture_output=True, timeout=WAIT)


@pytest.fixture
def work(tmp_path: Path) -> Path:
    write(tmp_path / "lex.tsv", LEXICON)
    return tmp_path


def children(pid: int) -> set[int]:
    """The processes whose parent is ``pid`` (from /proc)."""
    out = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with contextlib.suppress(OSError):
                stat_line = Path(f"/proc/{entry}/stat").read_text()
                if int(stat_line.rsplit(")", 1)[1].split()[1]) == pid:
                    out.add(int(entry))
    return out


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def wait_until(condition, what: str) -> None:
    deadline = time.monotonic() + WAIT
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.01)


def big_temp(folder: Path) -> bool:
    """Whether a temporary output of more than 100 KB is being written in ``folder``."""
    for p in folder.iterdir():
        with contextlib.suppress(OSError):
            if is_temp_name(p.name) and p.stat().st_size > 100_000:
                return True
    return False


def spun_folder(root: Path, files: int = 24, copies: int = 4000) -> dict[str, bytes]:
    """A folder of spun and clean files big enough that restoring them takes a while; the expected outputs."""
    expected = {}
    for i in range(files):
        name = f"{i:02d}.txt"
        text, out = (SPUN, RESTORED) if i % 3 else (CLEAN, CLEAN)
        write(root / name, text * copies)
        expected[name] = (out * copies).encode()
    return expected


def finals(root: Path) -> dict[str, bytes]:
    """The files under their final names (no temporaries, no partial outputs)."""
    return {k: v for k, v in tree(root).items() if not is_temp_name(Path(k).name) and not is_partial_name(Path(k).name)}


# -- 1. the main process killed mid-run ---------------------------------------------------------------------


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads /proc to find the workers")
@pytest.mark.parametrize("sig,code", [(signal.SIGTERM, 143), (signal.SIGINT, 130), (signal.SIGHUP, 129)])
def test_signal_to_the_main_process_stops_workers_and_resume_finishes(work, sig, code):
    expected = spun_folder(work / "in")
    proc = subprocess.Popen(despin("restore", "in", "-o", "out", "-j", "2", *LEX), cwd=work,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    wait_until(lambda: len(children(proc.pid)) >= 2 or proc.poll() is not None, "the workers")
    workers = children(proc.pid)
    wait_until(lambda: any(p.suffix == ".txt" for p in (work / "out").glob("*")) or proc.poll() is not None,
               "a first output")
    proc.send_signal(sig)  # to the main process only, as kill PID and Popen.terminate() do
    out, err = proc.communicate(timeout=WAIT)  # hangs if a worker kept stdout or stderr open
    if proc.returncode == 0:
        pytest.skip("the run finished before the signal arrived")
    assert proc.returncode == code, err
    assert b"every output written is complete" in err and b"Traceback" not in err
    wait_until(lambda: not any(alive(w) for w in workers), "the workers to die")
    left = finals(work / "out")
    assert left and all(left[k] == expected[k] for k in left)  # whatever was written is complete
    resumed = run(work, "restore", "in", "-o", "out", "--resume", "-j", "2", *LEX)
    assert resumed.returncode == 0, resumed.stderr
    assert tree(work / "out") == expected


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
def test_sigkill_of_the_main_process_takes_the_workers_with_it(work):
    expected = spun_folder(work / "in")
    proc = subprocess.Popen(despin("restore", "in", "-o", "out", "-j", "2", *LEX), cwd=work,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    wait_until(lambda: len(children(proc.pid)) >= 2 or proc.poll() is not None, "the workers")
    workers = children(proc.pid)
    proc.kill()
    proc.communicate(timeout=WAIT)  # returns only once every holder of the pipes is gone
    wait_until(lambda: not any(alive(w) for w in workers), "the workers to die")
    resumed = run(work, "restore", "in", "-o", "out", "--resume", "-j", "2", *LEX)
    assert resumed.returncode == 0, resumed.stderr
    assert tree(work / "out") == expected


def jsonl_run_midway(work: Path, jobs: str) -> subprocess.Popen[bytes]:
    """A restore of 30,000 JSONL records to out.jsonl, once its output is partly written (or it ended)."""
    write(work / "in.jsonl", RECORD * 30000)
    proc = subprocess.Popen(despin("restore", "in.jsonl", "-o", "out.jsonl", "-j", jobs, *LEX), cwd=work,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    wait_until(lambda: big_temp(work) or proc.poll() is not None, "a partly written output")
    return proc


def test_sigkill_while_a_jsonl_output_is_written_then_resume_continues_it(work):
    proc = jsonl_run_midway(work, "1")
    proc.kill()
    proc.wait(timeout=WAIT)
    assert not (work / "out.jsonl").exists() or proc.returncode == 0
    resumed = run(work, "restore", "in.jsonl", "-o", "out.jsonl", "--resume", *LEX)
    assert resumed.returncode == 0, resumed.stderr
    assert (work / "out.jsonl").read_text() == RESTORED_RECORD * 30000
    if proc.returncode != 0:
        assert b"continuing after line" in resumed.stderr
    assert [p for p in work.iterdir() if is_temp_name(p.name) or is_partial_name(p.name)] == []


def test_sigterm_keeps_the_unfinished_jsonl_output_and_resume_continues_it(work):
    proc = jsonl_run_midway(work, "2")
    proc.terminate()
    _, err = proc.communicate(timeout=WAIT)
    if proc.returncode == 0:
        pytest.skip("the run finished before the signal arrived")
    assert proc.returncode == 143 and b"--resume continues it" in err, err
    partials = [p for p in work.iterdir() if is_partial_name(p.name)]
    assert len(partials) == 1 and partials[0].read_text().startswith(RESTORED_RECORD)
    resumed = run(work, "restore", "in.jsonl", "-o", "out.jsonl", "--resume", "-j", "2", *LEX)
    assert resumed.returncode == 0, resumed.stderr
    assert (work / "out.jsonl").read_text() == RESTORED_RECORD * 30000
    assert b"already done" in resumed.stderr


# -- 2. --in-place twice, then interrupted and resumed ---------------------------------------------------


def in_place_folder(root: Path) -> tuple[dict[str, bytes], dict[str, bytes]]:
    """Files to restore in place: what they hold, and what a single in-place run leaves."""
    before, after = {}, {}
    for i in range(30):
        name = f"d{i // 10}/{i:02d}.txt"
        text, out = (SPUN, RESTORED) if i % 2 else (CLEAN, CLEAN)
        write(root / name, text * 300)
        before[name] = (text * 300).encode()
        after[name] = (out * 300).encode()
        if i % 2:
            after[name + ".bak"] = before[name]
    write(root / "j.jsonl", RECORD * 50 + '{"text": "clean"}\n')
    before["j.jsonl"] = (RECORD * 50 + '{"text": "clean"}\n').encode()
    after["j.jsonl"] = (RESTORED_RECORD * 50 + '{"text": "clean"}\n').encode()
    after["j.jsonl.bak"] = before["j.jsonl"]
    return before, after


def test_in_place_twice_changes_nothing_the_second_time(work):
    _, after = in_place_folder(work / "in")
    first = run(work, "restore", "in", "--in-place", *LEX)
    assert first.returncode == 0, first.stderr
    assert tree(work / "in") == after
    second = run(work, "restore", "in", "--in-place", *LEX)
    assert second.returncode == 0, second.stderr
    assert tree(work / "in") == after  # no backup overwritten, no FILE.bak.bak, no FILE.bak.1
    assert b"0 restored" in second.stderr


def test_in_place_interrupted_then_resumed_restores_each_file_once(work):
    _, after = in_place_folder(work / "in")
    for name in list(after):  # bigger files, so that the run can be caught mid-way
        if name.endswith(".txt"):
            path = work / "in" / name
            path.write_bytes(path.read_bytes() * 20)
            after[name] = after[name] * 20
            if name + ".bak" in after:
                after[name + ".bak"] = after[name + ".bak"] * 20
    proc = subprocess.Popen(despin("restore", "in", "--in-place", "-j", "1", *LEX), cwd=work,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    wait_until(lambda: len(list((work / "in").rglob("*.bak"))) >= 3 or proc.poll() is not None, "a few backups")
    proc.kill()
    proc.wait(timeout=WAIT)
    resumed = run(work, "restore", "in", "--in-place", "--resume", *LEX)
    assert resumed.returncode == 0, resumed.stderr
    assert finals(work / "in") == after
    again = run(work, "restore", "in", "--in-place", *LEX)  # and once more, without --resume
    assert again.returncode == 0, again.stderr
    assert finals(work / "in") == after


# -- 3. devices, FIFOs and symbolic links as outputs ----------------------------------------------------


def read_fifo_in_background(path: Path) -> tuple[threading.Thread, list[bytes]]:
    got: list[bytes] = []

    def reader() -> None:
        with open(path, "rb") as fh:
            got.append(fh.read())

    t = threading.Thread(target=reader, daemon=True)
    t.start()
    return t, got


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_fifo_outputs_are_written_through(work):
    write(work / "a.txt", SPUN)
    os.mkfifo(work / "out.fifo")
    os.mkfifo(work / "edits.fifo")
    t1, got = read_fifo_in_background(work / "out.fifo")
    t2, edits = read_fifo_in_background(work / "edits.fifo")
    proc = run(work, "restore", "a.txt", "-o", "out.fifo", "--explain", "edits.fifo", *LEX)
    t1.join(WAIT)
    t2.join(WAIT)
    assert proc.returncode == 0, proc.stderr
    assert got == [RESTORED.encode()]
    assert [json.loads(line)["after"] for line in edits[0].splitlines()] == ["satellite", "cold war"]
    assert stat.S_ISFIFO(os.stat(work / "out.fifo").st_mode) and stat.S_ISFIFO(os.stat(work / "edits.fifo").st_mode)


def test_device_output_is_written_through_not_replaced(work):
    write(work / "a.txt", SPUN)
    try:
        os.mknod(work / "null", stat.S_IFCHR | 0o666, os.makedev(1, 3))  # a null device, in the temporary folder
    except (PermissionError, AttributeError, OSError):
        pytest.skip("cannot make a device node here")
    proc = run(work, "restore", "a.txt", "-o", "null", "--explain", "null", *LEX)
    assert proc.returncode == 0, proc.stderr
    assert stat.S_ISCHR(os.stat(work / "null").st_mode)  # still the device
    assert [p.name for p in work.iterdir() if is_temp_name(p.name)] == []


def test_symlinked_outputs_are_followed_and_stay_links(work):
    write(work / "a.txt", SPUN)
    write(work / "target/out.txt", "old")
    (work / "link.txt").symlink_to("target/out.txt")
    (work / "edits.jsonl").symlink_to("target/edits.jsonl")  # to a file not there yet
    proc = run(work, "restore", "a.txt", "-o", "link.txt", "--explain", "edits.jsonl", *LEX)
    assert proc.returncode == 0, proc.stderr
    assert (work / "link.txt").is_symlink() and (work / "edits.jsonl").is_symlink()
    assert (work / "target/out.txt").read_text() == RESTORED
    assert len((work / "target/edits.jsonl").read_text().splitlines()) == 2
    # in a mirrored folder too
    write(work / "in/b.txt", SPUN)
    (work / "out").mkdir()
    (work / "out/b.txt").symlink_to(work / "target/b.txt")
    assert run(work, "restore", "in", "-o", "out", *LEX).returncode == 0
    assert (work / "out/b.txt").is_symlink() and (work / "target/b.txt").read_text() == RESTORED


def test_report_and_model_outputs_follow_links_and_dash_is_stdout(work):
    write(work / "a.txt", SPUN)
    write(work / "corpus.txt", "The satellite was launched during the cold war.\n" * 5)
    (work / "target").mkdir()
    (work / "page.html").symlink_to("target/page.html")
    (work / "m.bin").symlink_to("target/m.bin")
    assert run(work, "report", "a.txt", "-o", "page.html", *LEX).returncode == 0
    assert (work / "page.html").is_symlink() and b"<html" in (work / "target/page.html").read_bytes()
    proc = run(work, "build-model", "corpus.txt", "-o", "m.bin", "--max-mb", "1", "-q")
    assert proc.returncode == 0, proc.stderr
    assert (work / "m.bin").is_symlink() and (work / "target/m.bin").read_bytes().startswith(b"DESPINLM")
    proc = run(work, "report", "a.txt", "-o", "-", *LEX)
    assert proc.returncode == 0 and b"<html" in proc.stdout and not (work / "-").exists()


def test_dash_output_is_stdout(work):
    write(work / "a.txt", SPUN)
    proc = run(work, "restore", "a.txt", "-o", "-", *LEX)
    assert proc.returncode == 0 and proc.stdout == RESTORED.encode()
    assert not (work / "-").exists()
    proc = run(work, "restore", "a.txt", "-o", "b.txt", "--explain", "-", *LEX)
    assert proc.returncode == 0 and (work / "b.txt").read_text() == RESTORED
    assert [json.loads(line)["before"] for line in proc.stdout.splitlines()] == ["satellite tv for pc",
                                                                                  "chilly conflict"]
    assert run(work, "restore", "a.txt", "--explain", "-", *LEX).returncode == 2  # both on stdout: refused


# -- 4. a broken pipe ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("jobs", ["1", "2"])
@pytest.mark.parametrize("command", [["restore"], ["detect", "--format", "csv"], ["restore", "--diff"]])
def test_broken_pipe_stops_quietly(work, jobs, command):
    write(work / "big.jsonl", RECORD * 20000)
    proc = subprocess.Popen(despin(*command, "big.jsonl", "-j", jobs, *LEX[:3]),
                            cwd=work, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.readline()
    proc.stdout.close()  # as `| head -1` does
    err = proc.stderr.read()
    proc.wait(timeout=WAIT)
    assert proc.returncode == 141, err
    assert b"failed" not in err and b"cannot write" not in err and b"Traceback" not in err
    assert b" read: " not in err  # stopped: no summary of a run that did not finish


# -- 5. an oversized or endless input -------------------------------------------------------------------------


def test_oversized_documents_fail_with_a_message_and_lose_nothing(work):
    write(work / "in/big.txt", SPUN * 100)
    write(work / "in/small.txt", SPUN)
    write(work / "in/lines.jsonl", RECORD + '{"text": "' + "x" * 5000 + '"}\n' + RECORD)
    proc = run(work, "restore", "in", "-o", "out", "--max-size", "4K", *LEX)
    assert proc.returncode == 3
    err = proc.stderr.decode()
    assert "big.txt: failed: larger than --max-size (6,500 bytes > 4,096); not restored" in err
    assert "lines.jsonl:2: failed: line larger than --max-size (5,013 bytes > 4,096)" in err
    assert "5 documents read: 3 restored, 0 unchanged, 0 skipped, 2 failed" in err
    out = tree(work / "out")
    assert out["small.txt"] == RESTORED.encode() and "big.txt" not in out
    assert out["lines.jsonl"] == (RESTORED_RECORD + '{"text": "' + "x" * 5000 + '"}\n' + RESTORED_RECORD).encode()


def _peak_rss_mb(cwd: Path, args: list[str], stdin=None) -> tuple[subprocess.CompletedProcess[bytes], int]:
    """Run despin in a subprocess that reports its own peak resident memory."""
    code = ("import resource, runpy, sys\n"
            "sys.argv = ['despin'] + sys.argv[1:]\n"
            "try:\n    runpy.run_module('despin', run_name='__main__')\n"
            "finally:\n    print('PEAK', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)\n")
    proc = subprocess.run([sys.executable, "-c", code, *args], cwd=cwd, stdin=stdin, capture_output=True,
                          timeout=WAIT)
    peak_kb = int(proc.stderr.split(b"PEAK ")[-1].split()[0])
    return proc, peak_kb // 1024


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
@pytest.mark.parametrize("jsonl", [False, True])
def test_endless_input_stops_at_the_size_limit(work, jsonl):
    """An input that never ends (here a FIFO fed zeros and spaces for ever, like /dev/zero) fails once it
    passes --max-size; memory stays bounded."""
    fifo = work / ("endless.jsonl" if jsonl else "endless")
    os.mkfifo(fifo)
    stop = threading.Event()

    def feed() -> None:
        with contextlib.suppress(BrokenPipeError, OSError), open(fifo, "wb") as fh:
            block = (b"satellite tv for pc " if not jsonl else b" ") * 50000
            while not stop.is_set():
                fh.write(block)

    t = threading.Thread(target=feed, daemon=True)
    t.start()
    try:
        proc, peak = _peak_rss_mb(work, ["restore", fifo.name, "-o", "out", "--max-size", "20M", *LEX])
    finally:
        stop.set()
    assert proc.returncode == 3, proc.stderr
    assert b"larger than --max-size (more bytes > 20,971,520)" in proc.stderr
    assert peak < 500
    assert not (work / "out").exists()


def test_stdin_larger_than_the_limit_fails(work):
    proc = run(work, "restore", "-", "--max-size", "1K", *LEX, stdin=SPUN.encode() * 100)
    assert proc.returncode == 3 and proc.stdout == b""
    assert b"<stdin>: failed: larger than --max-size" in proc.stderr


def test_the_default_limit_keeps_a_worst_case_document_under_500_mb(work):
    """The densest text there is for despin (spintax only: an edit every 5 bytes), just under the
    default --max-size, restored with the bundled lexicon and explained."""
    from despin.batch import DEFAULT_MAX_SIZE

    write(work / "dense.txt", "{a b}" * (DEFAULT_MAX_SIZE // 5))
    proc, peak = _peak_rss_mb(work, ["restore", "dense.txt", "-o", "out.txt", "--explain", "e.jsonl", "-j", "1"])
    assert proc.returncode == 0, proc.stderr
    assert peak < 500, peak


# -- 6. corrupted model files ----------------------------------------------------------------------------------


def test_corrupted_model_files_give_a_clear_message_and_write_nothing(work):
    from despin.context import bundled_model_path

    good = Path(bundled_model_path() or "").read_bytes()
    write(work / "a.txt", SPUN)
    for name, data in {"truncated": good[: len(good) // 2], "flipped": good[:-9] + b"\x7f" + good[-8:],
                       "empty": b"", "text": b"not a model at all\n"}.items():
        write(work / "m.bin", data)
        proc = run(work, "restore", "a.txt", "-o", "out.txt", "--model", "m.bin")
        assert proc.returncode == 2, (name, proc.stderr)
        assert proc.stderr.startswith(b"despin: ") and b"m.bin: " in proc.stderr, (name, proc.stderr)
        assert b"Traceback" not in proc.stderr and not (work / "out.txt").exists()
