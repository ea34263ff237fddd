"""Batch restore and detect over files, folders, stdin and JSONL.

The engine behind ``despin restore`` and ``despin detect``; usable from
Python too::

    from despin import Restorer
    from despin.batch import BatchOptions, run_restore

    summary = run_restore(["in/"], Restorer(), BatchOptions(output="out/", jobs=4))

A run has three steps:

1. **discover** the documents: files given directly, files found in folders
   (recursively, sorted, filtered by ``include``/``exclude`` globs), or ``-``
   for stdin. In JSONL mode every line of a file is a document.
2. **plan** where each output goes (stdout, one file, a mirrored folder, or
   in place) and refuse, before anything is written, to write over an input
   or into an input folder.
3. **drive** the documents through a :class:`~despin.api.Restorer`, in worker
   processes when ``jobs > 1``, with at most a few chunks in flight (so a
   200 MB JSONL file streams in bounded memory) and results consumed in input
   order (so outputs are deterministic). A file restored to a file of its own
   is written (atomically) by the worker that restored it, so writing runs in
   parallel too; JSONL outputs, stdout and in-place edits are written here.

One bad document never stops the batch: it is reported and counted as
``failed`` or ``skipped`` in the :class:`Summary`, whose counts always add up
(``read == restored + unchanged + skipped + failed`` for restore,
``read == spun + clean + skipped + failed`` for detect). In JSONL mode a bad
line is passed through to the output unchanged, so no line is lost.
"""

from __future__ import annotations

import json
import os
import stat
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import IO, Any, Protocol

from .api import Restorer
from .batch_io import AtomicFile, fsync_dir, make_backup, remove_stale_temps, write_atomic
from .batch_plan import (
    JSONL_SUFFIXES,
    STDIN_NAME,
    BatchOptions,
    Plan,
    Source,
    Unit,
    UsageError,
    discover,
    plan_detect,
    plan_restore,
)
from .batch_work import DocumentResult, Executor, Job, effective_jobs, tasks_of

__all__ = [
    "BatchOptions",
    "UsageError",
    "Source",
    "Unit",
    "Plan",
    "DocumentResult",
    "Summary",
    "Reporter",
    "discover",
    "plan_restore",
    "plan_detect",
    "run_restore",
    "run_detect",
    "STDIN_NAME",
    "JSONL_SUFFIXES",
]

MESSAGES_PER_SOURCE = 20  # problems shown per file before the rest are only counted


# -- accounting and reporting ----------------------------------------------------------------


@dataclass
class Summary:
    """Counts of a run; ``read`` is the sum of the outcome counts."""

    read: int = 0
    restored: int = 0
    unchanged: int = 0
    spun: int = 0
    clean: int = 0
    skipped: int = 0
    failed: int = 0
    resumed: int = 0  # among skipped: output already there
    edits: int = 0
    bytes: int = 0
    seconds: float = 0.0

    def add(self, res: DocumentResult) -> None:
        self.read += 1
        setattr(self, res.status, getattr(self, res.status) + 1)
        self.resumed += res.resumed
        self.edits += res.n_edits
        self.bytes += res.nbytes

    @property
    def mb_per_second(self) -> float:
        return self.bytes / 1e6 / self.seconds if self.seconds > 0 else 0.0

    def line(self, detect: bool = False) -> str:
        outcome = (f"{self.spun} spun, {self.clean} clean" if detect
                   else f"{self.restored} restored, {self.unchanged} unchanged")
        skipped = f"{self.skipped} skipped" + (f" ({self.resumed} already done)" if self.resumed else "")
        edits = "" if detect else f"; {self.edits} edits"
        docs = "document" if self.read == 1 else "documents"
        return (f"{self.read} {docs} read: {outcome}, {skipped}, {self.failed} failed{edits}; "
                f"{self.bytes / 1e6:.2f} MB in {self.seconds:.2f} s ({self.mb_per_second:.2f} MB/s)")


class Reporter:
    """Problems on stderr as ``despin: PATH[:LINE]: KIND: message``, a few per file."""

    def __init__(self, stream: IO[str], per_source: int = MESSAGES_PER_SOURCE):
        self.stream = stream
        self.per_source = per_source
        self._shown: Counter[str] = Counter()
        self._hidden: Counter[str] = Counter()

    def problem(self, display: str, where: str, kind: str, message: str) -> None:
        if self._shown[display] >= self.per_source:
            self._hidden[display] += 1
            return
        self._shown[display] += 1
        print(f"despin: {where}: {kind}: {message}", file=self.stream)

    def result(self, res: DocumentResult) -> None:
        if res.warning:
            self.problem(res.display, res.where, "warning", res.warning)
        if res.message and res.status in ("skipped", "failed"):
            self.problem(res.display, res.where, res.status, res.message)

    def note(self, message: str) -> None:
        print(f"despin: {message}", file=self.stream)

    def close(self) -> None:
        for display, n in self._hidden.items():
            self.note(f"{display}: {n} more problem(s) not shown")


class Progress(Protocol):
    def update(self, n: int) -> Any: ...

    def close(self) -> Any: ...


ProgressFactory = Callable[[int], Progress]


def _drive(plan: Plan, job: Job, jobs: int, handle: Callable[[DocumentResult], DocumentResult | None],
           reporter: Reporter, stdin: IO[bytes], progress: ProgressFactory | None) -> Summary:
    """Run every unit of the plan, hand results to ``handle`` in order, and count them."""
    summary = Summary()
    start = time.perf_counter()
    with Executor(job, effective_jobs(plan, jobs)) as executor:
        bar = progress(plan.input_bytes) if progress is not None else None  # after forking workers
        try:
            for res in executor.map(tasks_of(plan, stdin)):
                counted = handle(res)
                if counted is None:
                    continue
                summary.add(counted)
                reporter.result(counted)
                if bar is not None:
                    bar.update(counted.nbytes)
        finally:
            if bar is not None:
                bar.close()
            reporter.close()
    summary.seconds = time.perf_counter() - start
    return summary


def _prepare(restorer: Restorer, detect: bool) -> None:
    """Load (and so check) the lexicon and model, and build their indexes, before
    any document and before forking workers (which then share them)."""
    restorer.prepare(detect_only=detect)  # loading raises LexiconError early


# -- outputs ---------------------------------------------------------------------------------


class _BinaryOut:
    """Bytes to a text stream's buffer (or decoded, for streams without one)."""

    def __init__(self, stream: IO[str]):
        self.stream = stream
        self.buffer = getattr(stream, "buffer", None)
        stream.flush()

    def write(self, data: bytes) -> None:
        if self.buffer is not None:
            self.buffer.write(data)
        else:
            self.stream.write(data.decode("utf-8", "replace"))

    def flush(self) -> None:
        (self.buffer or self.stream).flush()


class _Outputs:
    """Where restored documents go: stdout, files written atomically, or in place with a backup."""

    def __init__(self, plan: Plan, stdout: IO[str]):
        self.plan = plan
        self.units = {u.id: u for u in plan.units}
        self.stdout = _BinaryOut(stdout) if plan.mode == "stdout" else None
        self._open: dict[int, AtomicFile] = {}
        self._changed: set[int] = set()
        self._broken: set[int] = set()
        self._folders: set[str] = set()

    def accept(self, res: DocumentResult) -> DocumentResult:
        """Write a result's output; a write error turns it into a failure."""
        if res.unit in self._broken:
            res.status, res.message, res.out = "failed", "output not written (see the error above)", None
            return res
        if res.written is not None:  # the worker wrote it
            self._folders.add(os.path.dirname(os.path.abspath(res.written)))
            return res
        if res.out is None or self.plan.mode == "preview":
            return res
        unit = self.units[res.unit]
        try:
            if self.stdout is not None:
                self.stdout.write(res.out)
            elif unit.source.jsonl:
                self._write_line(unit, res)
            else:
                self._write_document(unit, res)
        except OSError as exc:
            self._fail_unit(unit)
            res.status, res.message = "failed", f"cannot write {unit.dest}: {exc.strerror or exc}"
        return res

    def _write_document(self, unit: Unit, res: DocumentResult) -> None:
        assert unit.dest is not None and res.out is not None
        if self.plan.mode != "in-place":
            write_atomic(unit.dest, res.out)
        elif res.status == "restored":
            with AtomicFile(unit.dest, stat.S_IMODE(os.stat(unit.dest).st_mode)) as f:
                f.write(res.out)
                make_backup(unit.dest)
        self._folders.add(os.path.dirname(os.path.abspath(unit.dest)))

    def _write_line(self, unit: Unit, res: DocumentResult) -> None:
        assert unit.dest is not None and res.out is not None
        f = self._open.get(unit.id)
        if f is None:
            mode = stat.S_IMODE(os.stat(unit.dest).st_mode) if self.plan.mode == "in-place" else None
            f = self._open[unit.id] = AtomicFile(unit.dest, mode)
        f.write(res.out)
        if res.status == "restored":
            self._changed.add(unit.id)

    def end(self, res: DocumentResult) -> None:
        """The end of a JSONL file: make its output appear (or drop it)."""
        if self.stdout is not None:
            self.stdout.flush()
        f = self._open.pop(res.unit, None)
        if f is None:
            return
        unit = self.units[res.unit]
        keep = not res.abort and res.unit not in self._broken
        if self.plan.mode == "in-place":
            keep = keep and res.unit in self._changed
        try:
            if not keep:
                f.abort()
                return
            if self.plan.mode == "in-place":
                make_backup(f.dest)
            f.commit()
            self._folders.add(os.path.dirname(os.path.abspath(f.dest)))
        except OSError as exc:
            f.abort()
            raise _UnitWriteError(unit, exc) from exc

    def _fail_unit(self, unit: Unit) -> None:
        if unit.source.jsonl:
            self._broken.add(unit.id)
            f = self._open.pop(unit.id, None)
            if f is not None:
                f.abort()

    def close(self, completed: bool) -> None:
        for f in self._open.values():
            f.abort()
        self._open.clear()
        if self.stdout is not None:
            self.stdout.flush()
        if self._folders:
            # A worker killed while writing (its pool broke) leaves a temporary behind.
            remove_stale_temps(sorted(self._folders))
        if completed:
            for folder in sorted(self._folders):
                fsync_dir(folder)


class _UnitWriteError(Exception):
    def __init__(self, unit: Unit, exc: OSError):
        super().__init__(f"cannot write {unit.dest}: {exc.strerror or exc}")
        self.unit = unit


class _ExplainWriter:
    """Edits as JSONL: one object per edit with its document's path (and JSONL line and id)."""

    def __init__(self, path: str):
        self.file = AtomicFile(path)

    def write(self, res: DocumentResult) -> None:
        for e in res.edits:
            record: dict[str, Any] = {"path": res.display, "line": res.line}
            if res.doc_id is not None:
                record["id"] = res.doc_id
            record.update(e)
            try:
                line = (json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8")
            except UnicodeEncodeError:  # lone surrogates (from \ud800-style JSON escapes)
                line = (json.dumps(record) + "\n").encode("ascii")
            self.file.write(line)

    def close(self, completed: bool) -> None:
        if completed:
            self.file.commit()
        else:
            self.file.abort()


def _clean_stale_temps(plan: Plan, opts: BatchOptions, reporter: Reporter) -> None:
    folders = {os.path.dirname(os.path.abspath(u.dest)) for u in plan.units if u.dest is not None}
    if opts.explain:
        folders.add(os.path.dirname(os.path.abspath(opts.explain)))
    removed, problems = remove_stale_temps(sorted(folders))
    if removed:
        reporter.note(f"removed {len(removed)} stale temporary file(s) of an interrupted run")
    for p in problems:
        reporter.note(p)


# -- entry points ----------------------------------------------------------------------------


def _stdin_bytes(stdin: IO[Any] | None) -> IO[bytes]:
    stream: Any = stdin if stdin is not None else sys.stdin
    buffer: IO[bytes] = getattr(stream, "buffer", stream)
    return buffer


def run_restore(
    paths: Sequence[str],
    restorer: Restorer,
    opts: BatchOptions | None = None,
    *,
    stdout: IO[str] | None = None,
    stderr: IO[str] | None = None,
    stdin: IO[Any] | None = None,
    progress: ProgressFactory | None = None,
) -> Summary:
    """Restore every document of ``paths``; see the module docstring and :class:`BatchOptions`."""
    opts = opts if opts is not None else BatchOptions()
    stdout = stdout if stdout is not None else sys.stdout
    reporter = Reporter(stderr if stderr is not None else sys.stderr)
    plan = plan_restore(paths, discover(paths, opts), opts)
    _prepare(restorer, detect=False)
    if plan.writes_files:
        _clean_stale_temps(plan, opts, reporter)
    job = Job(restorer, detect=False, field=opts.field, errors=opts.errors, edits=bool(opts.explain),
              diff=opts.diff, color=opts.color, keep_unchanged=plan.mode not in ("in-place", "preview"))
    outputs = _Outputs(plan, stdout)
    explain = _ExplainWriter(opts.explain) if opts.explain else None

    def handle(res: DocumentResult) -> DocumentResult | None:
        if res.status == "end":
            try:
                outputs.end(res)
            except _UnitWriteError as exc:
                reporter.problem(res.display, res.display, "failed", str(exc))
                return DocumentResult(res.unit, res.display, None, "failed", message=None)
            return None
        res = outputs.accept(res)
        if explain is not None:
            explain.write(res)
        if res.diff:
            stdout.write(res.diff)
        return res

    completed = False
    try:
        summary = _drive(plan, job, opts.jobs, handle, reporter, _stdin_bytes(stdin), progress)
        completed = True
    finally:
        outputs.close(completed)
        if explain is not None:
            explain.close(completed)
    return summary


def run_detect(
    paths: Sequence[str],
    restorer: Restorer,
    opts: BatchOptions | None = None,
    *,
    on_result: Callable[[DocumentResult], None],
    stderr: IO[str] | None = None,
    stdin: IO[Any] | None = None,
    progress: ProgressFactory | None = None,
) -> Summary:
    """Score every document of ``paths``; ``on_result`` gets each result in order
    (status ``spun``/``clean`` with ``report``, or ``skipped``/``failed``)."""
    opts = opts if opts is not None else BatchOptions()
    reporter = Reporter(stderr if stderr is not None else sys.stderr)
    plan = plan_detect(discover(paths, opts))
    _prepare(restorer, detect=True)
    job = Job(restorer, detect=True, field=opts.field, errors=opts.errors, keep_unchanged=False)

    def handle(res: DocumentResult) -> DocumentResult | None:
        if res.status == "end":
            return None
        if res.message is not None or res.status in ("spun", "clean"):
            on_result(res)  # blank JSONL lines (no message) get no row
        return res

    return _drive(plan, job, opts.jobs, handle, reporter, _stdin_bytes(stdin), progress)
