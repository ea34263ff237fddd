"""Batch runs: where restored documents and edits go.

:class:`Outputs` writes what the main process writes (stdout, JSONL outputs,
in-place edits with a backup; files restored to files of their own are
written by the workers), :class:`ExplainWriter` the edits (``--explain``).

A JSONL output that a run does not finish is kept as a partial output
(:meth:`Outputs.close`), and :func:`prepare_partials` lets the next run with
``--resume`` continue it after its last complete line. Writing to stdout
after its reader has gone (``| head``) stops the run: the
:class:`BrokenPipeError` is not a per-document failure.
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Callable
from typing import IO, Any

from .files import (
    AtomicFile,
    adopt_stale_temp,
    complete_lines,
    fsync_dir,
    make_backup,
    output_target,
    partial_path,
    remove_stale_temps,
    write_atomic,
)
from .plan import BatchOptions, Plan, Unit
from .report import Reporter
from .work import DocumentResult, Status

__all__ = ["ExplainWriter", "Outputs", "UnitWriteError", "clean_stale_temps", "prepare_partials"]


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


class Outputs:
    """Where restored documents go: stdout, files written atomically, or in place with a backup."""

    def __init__(self, plan: Plan, stdout: IO[str]):
        self.plan = plan
        self.units = {u.id: u for u in plan.units}
        self.stdout = _BinaryOut(stdout) if plan.mode == "stdout" else None
        self._open: dict[int, AtomicFile] = {}
        self._changed: set[int] = set()
        self._broken: set[int] = set()
        self._folders: set[str] = set()

    def _note_folder(self, dest: str) -> None:
        """Remember the folder of an output file written (to fsync it at the end)."""
        target, direct = output_target(dest)
        if not direct:
            self._folders.add(os.path.dirname(os.path.abspath(target)))

    def accept(self, res: DocumentResult) -> DocumentResult:
        """Write a result's output; a write error turns it into a failure."""
        if res.copy is not None:
            return self.accept_copy(res)
        if res.unit in self._broken:
            res.status, res.message, res.out = Status.FAILED, "output not written (see the error above)", None
            return res
        if res.written is not None:  # the worker wrote it
            self._note_folder(res.written)
            return res
        if res.out is None or self.plan.mode == "preview":
            return res
        unit = self.units[res.unit]
        if self.stdout is not None:  # a BrokenPipeError here ends the run
            self.stdout.write(res.out)
            return res
        try:
            if unit.source.jsonl:
                self._write_line(unit, res)
            else:
                self._write_document(unit, res)
        except OSError as exc:
            self._fail_unit(unit)
            res.status, res.message = Status.FAILED, f"cannot write {unit.dest}: {exc.strerror or exc}"
        return res

    def accept_copy(self, res: DocumentResult) -> DocumentResult:
        """A result whose output is a stretch of its input, copied unchanged (an oversized JSONL line)."""
        if res.copy is None or self.plan.mode == "preview" or res.unit in self._broken:
            return res
        unit = self.units[res.unit]
        if self.stdout is not None:
            _copy_range(res.copy, self.stdout.write)
            return res
        if unit.dest is None:
            return res
        try:
            self._file(unit).copy_from(*res.copy)
        except OSError as exc:
            self._fail_unit(unit)
            res.message = f"{res.message}; cannot copy it to {unit.dest}: {exc.strerror or exc}"
        return res

    def _write_document(self, unit: Unit, res: DocumentResult) -> None:
        assert unit.dest is not None and res.out is not None
        if self.plan.mode != "in-place":
            write_atomic(unit.dest, res.out)
        elif res.status == Status.RESTORED:
            with AtomicFile(unit.dest, stat.S_IMODE(os.stat(unit.dest).st_mode)) as f:
                f.write(res.out)
                make_backup(unit.dest)
        self._note_folder(unit.dest)

    def _file(self, unit: Unit) -> AtomicFile:
        """The output file of a JSONL unit, opened on first use (continuing its
        partial output when the run resumes one)."""
        f = self._open.get(unit.id)
        if f is None:
            assert unit.dest is not None
            mode = stat.S_IMODE(os.stat(unit.dest).st_mode) if self.plan.mode == "in-place" else None
            f = self._open[unit.id] = AtomicFile(unit.dest, mode, resume_from=unit.partial)
            if unit.partial is not None:
                self._changed.add(unit.id)  # (what the partial holds was written to be kept)
        return f

    def _write_line(self, unit: Unit, res: DocumentResult) -> None:
        assert unit.dest is not None and res.out is not None
        self._file(unit).write(res.out)
        if res.status == Status.RESTORED:
            self._changed.add(unit.id)

    def end(self, res: DocumentResult) -> None:
        """The end of a JSONL file: make its output appear (or drop it)."""
        if self.stdout is not None:
            self.stdout.flush()
        unit = self.units[res.unit]
        if unit.partial is not None and res.unit not in self._open and not res.abort and unit.dest is not None:
            self._file(unit)  # every line was in the partial output: it is the output
        f = self._open.pop(res.unit, None)
        if f is None:
            return
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
            if not f.direct:
                self._folders.add(os.path.dirname(os.path.abspath(f.dest)))
        except OSError as exc:
            f.abort()
            raise UnitWriteError(unit, exc) from exc

    def _fail_unit(self, unit: Unit) -> None:
        if unit.source.jsonl:
            self._broken.add(unit.id)
            f = self._open.pop(unit.id, None)
            if f is not None:
                f.abort()

    def close(self, completed: bool) -> list[str]:
        """Finish writing; the partial outputs kept (JSONL outputs the run did
        not finish, which ``--resume`` continues)."""
        kept = []
        for f in self._open.values():
            partial = f.keep_partial()
            if partial is not None:
                kept.append(partial)
        self._open.clear()
        if self.stdout is not None:
            self.stdout.flush()
        if self._folders:
            # A worker killed while writing (its pool broke) leaves a temporary behind.
            remove_stale_temps(sorted(self._folders))
        if completed:
            for folder in sorted(self._folders):
                fsync_dir(folder)
        return kept


class UnitWriteError(Exception):
    def __init__(self, unit: Unit, exc: OSError):
        super().__init__(f"cannot write {unit.dest}: {exc.strerror or exc}")
        self.unit = unit


def _copy_range(copy: tuple[str, int, int], write: Callable[[bytes], None]) -> None:
    """Write bytes ``start`` to ``end`` of a file, a megabyte at a time."""
    path, start, end = copy
    with open(path, "rb") as src:
        src.seek(start)
        while start < end and (chunk := src.read(min(end - start, 1 << 20))):
            write(chunk)
            start += len(chunk)


class _StreamFile:
    """An already open binary stream (stdout) in the place of an output file."""

    def __init__(self, stream: IO[str]):
        self.out = _BinaryOut(stream)

    def write(self, data: bytes) -> None:
        self.out.write(data)

    def commit(self) -> None:
        self.out.flush()

    def abort(self) -> None:
        self.out.flush()


class ExplainWriter:
    """Edits as JSONL: one object per edit with its document's path (and JSONL line and id).

    ``path`` ``-`` writes them to ``stdout``."""

    def __init__(self, path: str, stdout: IO[str] | None = None):
        self.file: AtomicFile | _StreamFile = (
            _StreamFile(stdout) if path == "-" and stdout is not None else AtomicFile(path)
        )

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


def _folder_of(dest: str) -> str:
    """The folder where the output ``dest`` is written (its target's, for a symbolic link)."""
    return os.path.dirname(os.path.abspath(output_target(dest)[0]))


def prepare_partials(plan: Plan, opts: BatchOptions, reporter: Reporter) -> None:
    """Partial JSONL outputs of interrupted runs (kept, or the temporary of a
    killed run): with ``--resume`` each is cut after its last complete line and
    continued (:attr:`Unit.partial`, :attr:`Unit.done_lines`); without, it is
    removed, as its output is written again from the start."""
    for u in plan.units:
        if not u.source.jsonl or u.dest is None or u.skip is not None or u.source.problem is not None:
            if u.dest is not None and u.resumed and os.path.lexists(partial_path(u.dest)):
                _remove(partial_path(u.dest), reporter)  # the output was finished after all
            continue
        partial = adopt_stale_temp(u.dest) if opts.resume else partial_path(u.dest)
        if partial is None or not os.path.lexists(partial):
            continue
        if not opts.resume:
            _remove(partial, reporter, f"removed the partial output {partial} of an interrupted run "
                                       "(--resume would have continued it)")
            continue
        try:
            u.done_lines, _ = complete_lines(partial)
        except OSError as exc:
            reporter.note(f"{partial}: cannot read the partial output ({exc.strerror}); starting again")
            _remove(partial, reporter)
            continue
        u.partial = partial
        if u.done_lines:
            reporter.note(f"{u.source.display}: continuing after line {u.done_lines:,} (from an interrupted run)")


def _remove(path: str, reporter: Reporter, note: str | None = None) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        return
    except OSError as exc:
        reporter.note(f"{path}: cannot remove ({exc.strerror})")
        return
    if note is not None:
        reporter.note(note)


def clean_stale_temps(plan: Plan, opts: BatchOptions, reporter: Reporter) -> None:
    folders = {_folder_of(u.dest) for u in plan.units if u.dest is not None}
    for extra in (opts.explain, opts.problems):
        if extra and extra != "-":
            folders.add(_folder_of(extra))
    removed, problems = remove_stale_temps(sorted(folders))
    if removed:
        reporter.note(f"removed {len(removed)} stale temporary file(s) of an interrupted run")
    for p in problems:
        reporter.note(p)
