"""--jobs: parallel runs give the same bytes in the same order as serial ones; JSONL streams
in bounded memory; the progress bar appears only when it should."""

from __future__ import annotations

import io
import itertools
import os
import pickle
import subprocess
import sys
import tracemalloc
import types
from pathlib import Path

import pytest

from despin import Config, Restorer
from despin.batch import BatchOptions, pool, run_restore, work
from despin.cli import main

from support import CLEAN, SPUN, tree, write


@pytest.fixture
def restorer(lexicon: Path) -> Restorer:
    return Restorer(Config(lexicons=(str(lexicon),), bundled_lexicon=False, context=False))


def make_corpus(root: Path) -> None:
    """40 text files (some bad) and a JSONL file of 600 lines (some bad)."""
    for i in range(40):
        body = SPUN * (i % 4) + CLEAN if i % 7 else b"\0binary"
        write(root / f"d{i // 10}/{i:02}.txt", body)
    lines = []
    for i in range(600):
        if i % 50 == 13:
            lines.append("{broken\n")
        else:
            lines.append(f'{{"id": {i}, "text": "{"satellite tv for pc " * (i % 3)}line {i}"}}\n')
    write(root / "big.jsonl", "".join(lines))


def cli_args(lexicon: Path, *args: str) -> list[str]:
    return [*args, "--lexicon", str(lexicon), "--no-bundled-lexicon", "--no-context"]


def test_jobs_2_gives_the_same_outputs_in_the_same_order(tmp_path, lexicon, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    make_corpus(tmp_path / "in")
    runs = {}
    for jobs in ("1", "2"):
        code = main(cli_args(lexicon, "restore", "in", "-o", f"out{jobs}", "--explain", f"edits{jobs}.jsonl",
                             "--diff", "-j", jobs))
        assert code == 3  # the binary files and broken lines failed
        out, err = capsys.readouterr()
        runs[jobs] = (tree(tmp_path / f"out{jobs}"), (tmp_path / f"edits{jobs}.jsonl").read_bytes(), out,
                      [ln for ln in err.splitlines() if " read: " not in ln])
    assert runs["1"] == runs["2"]
    outputs, edits, diff, problems = runs["2"]
    assert len(outputs) == 1 + 40 - 6  # 6 binary files failed
    assert edits.count(b"\n") > 500 and len(problems) == 6 + 12


def test_jobs_in_a_subprocess_match_the_library(tmp_path, lexicon, restorer):
    make_corpus(tmp_path / "in")
    proc = subprocess.run([sys.executable, "-m", "despin", *cli_args(lexicon, "restore", "in", "-o", "out", "-j", "2")],
                          cwd=tmp_path, capture_output=True, timeout=120)
    assert proc.returncode == 3, proc.stderr
    assert b"640 documents read: " in proc.stderr
    for path, data in tree(tmp_path / "out").items():
        if path.endswith(".txt"):
            assert data.decode() == restorer.restore((tmp_path / "in" / path).read_text())


def test_detect_rows_keep_input_order_with_jobs(tmp_path, lexicon, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    make_corpus(tmp_path / "in")
    outs = []
    for jobs in ("1", "2"):
        assert main(["detect", "in", "--format", "jsonl", "-j", jobs, "--lexicon", str(lexicon),
                     "--no-bundled-lexicon"]) == 3
        outs.append(capsys.readouterr().out)
    assert outs[0] == outs[1] and outs[0].count("\n") == 640


def test_job_pickles_as_configuration_only(restorer):
    assert len(restorer.lexicon) == 2  # loaded here, but not sent to workers
    job = work.Job(restorer, detect=False)
    data = pickle.dumps(job)
    assert len(data) < 2000
    again = pickle.loads(data)
    assert again.restorer.config == restorer.config and again.restorer._lexicon is None


@pytest.mark.parametrize("command, detect_only", [("restore", False), ("detect", True)])
def test_indexes_are_built_before_workers_fork(tmp_path, lexicon, monkeypatch, command, detect_only):
    """Workers inherit the built indexes instead of each building them on its first document."""
    import despin.restorer

    monkeypatch.chdir(tmp_path)
    for i in range(4):
        write(tmp_path / f"in/{i}.txt", SPUN)
    seen = []
    real = despin.restorer.Restorer.prepare

    def prepare(self, detect_only=False):
        out = real(self, detect_only=detect_only)
        built = self.lexicon.__dict__.get("_derived", {})
        seen.append((detect_only, "evidence_index" in built, "quick_index" in built, "subset:artifact" in built))
        return out

    monkeypatch.setattr(despin.restorer.Restorer, "prepare", prepare)
    args = [command, "in", "-j", "2", "--lexicon", str(lexicon), "--no-bundled-lexicon"]
    main(args + (["-o", "out"] if command == "restore" else []))
    assert seen == [(detect_only, True, not detect_only, not detect_only)]


def test_a_worker_dying_fails_only_its_document(tmp_path, lexicon, monkeypatch, capsys):
    """A document that kills its worker process (as an out-of-memory kill would) fails alone."""
    monkeypatch.chdir(tmp_path)
    for i in range(12):
        write(tmp_path / f"in/{i:02}.txt", "die\n" if i == 5 else SPUN)
    write(tmp_path / "in/z.jsonl", '{"text": "satellite tv for pc"}\n{"text": "die"}\n{"text": "chilly conflict"}\n')
    real = Restorer.restore_and_explain

    def fatal(self, text):
        if text.startswith("die"):
            os._exit(9)  # in the worker: gone without a word
        return real(self, text)

    monkeypatch.setattr(Restorer, "restore_and_explain", fatal)  # inherited by forked workers
    assert main(cli_args(lexicon, "restore", "in", "-o", "out", "-j", "2")) == 3
    out = tree(tmp_path / "out")
    assert sorted(out) == [f"{i:02}.txt" for i in range(12) if i != 5] + ["z.jsonl"]
    assert out["z.jsonl"] == b'{"text": "satellite"}\n{"text": "die"}\n{"text": "cold war"}\n'
    err = capsys.readouterr().err
    assert "05.txt: failed: the worker process died on it" in err and "z.jsonl:2: failed: the worker" in err
    assert "15 documents read: 13 restored, 0 unchanged, 0 skipped, 2 failed" in err


# -- bounded memory ---------------------------------------------------------------------------------


def test_parallel_executor_reads_ahead_only_a_few_chunks(restorer):
    pulled = 0

    def many_lines():
        nonlocal pulled
        for i in range(1, 20_001):
            pulled += 1
            yield work.LineTask(0, "x.jsonl", i, b'{"text": "satellite tv for pc"}\n')

    bound = (2 * pool.IN_FLIGHT_PER_JOB + 1) * pool.CHUNK_ITEMS
    with pool.Executor(work.Job(restorer, detect=False), 2) as executor:
        results = executor.map(many_lines())
        first = next(results)
        assert first.status == "restored" and first.line == 1
        assert pulled <= bound
        lines = [r.line for r in itertools.islice(results, 3000)]
        assert lines == list(range(2, 3002))  # in order
        assert pulled <= 3001 + bound


def test_jsonl_streams_with_bounded_memory(tmp_path, restorer):
    line = b'{"id": 1, "other": "' + b"x" * 100_000 + b'"}\n'  # no text field: skipped, passed through
    with open(tmp_path / "big.jsonl", "wb") as fh:
        for _ in range(100):
            fh.write(line)
    size = (tmp_path / "big.jsonl").stat().st_size
    assert len(restorer.lexicon) == 2  # loaded before measuring
    tracemalloc.start()
    try:
        summary = run_restore([str(tmp_path / "big.jsonl")], restorer,
                              BatchOptions(output=str(tmp_path / "out.jsonl")), stderr=io.StringIO())
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert summary.read == summary.skipped == 100
    assert (tmp_path / "out.jsonl").stat().st_size == size
    assert peak < size / 5  # ~10 MB through, a few lines at a time in memory


# -- progress --------------------------------------------------------------------------------------


class FakeBar:
    made: list[FakeBar] = []

    def __init__(self, total=None, **kwargs):
        self.total, self.kwargs, self.n, self.closed = total, kwargs, 0, False
        FakeBar.made.append(self)

    def update(self, n):
        self.n += n

    def close(self):
        self.closed = True


@pytest.fixture
def fake_tqdm(monkeypatch):
    FakeBar.made = []
    monkeypatch.setitem(sys.modules, "tqdm", types.SimpleNamespace(tqdm=FakeBar))
    return FakeBar


def test_progress_bar_on_a_terminal(tmp_path, lexicon, monkeypatch, fake_tqdm, capsys):
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "in/a.txt", SPUN)
    write(tmp_path / "in/b.txt", CLEAN)
    monkeypatch.setattr("despin.cli._isatty", lambda stream: stream is sys.stderr)
    assert main(cli_args(lexicon, "restore", "in", "-o", "out", "-j", "1")) == 0
    [bar] = fake_tqdm.made
    assert bar.total == bar.n == len(SPUN) + len(CLEAN) and bar.closed
    assert bar.kwargs["file"] is sys.stderr
    assert " read: " in capsys.readouterr().err


def test_no_progress_bar_when_quiet_or_not_a_terminal(tmp_path, lexicon, monkeypatch, fake_tqdm, capsys):
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "a.txt", SPUN)
    assert main(cli_args(lexicon, "restore", "a.txt", "-o", "o1")) == 0  # stderr is not a terminal
    assert " read: " in capsys.readouterr().err  # the summary, without a bar
    monkeypatch.setattr("despin.cli._isatty", lambda stream: True)
    assert main(cli_args(lexicon, "restore", "a.txt", "-o", "o2", "--quiet")) == 0
    assert fake_tqdm.made == []
    assert capsys.readouterr().err == ""  # --quiet: no summary either


def test_runs_without_tqdm(tmp_path, lexicon, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "a.txt", SPUN)
    monkeypatch.setitem(sys.modules, "tqdm", None)  # import fails
    monkeypatch.setattr("despin.cli._isatty", lambda stream: True)
    assert main(cli_args(lexicon, "restore", "a.txt", "-o", "b.txt")) == 0
    assert (tmp_path / "b.txt").exists()
