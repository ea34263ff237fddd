"""Batch runs: where restored documents and edits go.

:class:`Outputs` writes what the main process writes (stdout, JSONL outputs,
in-place edits with a backup; files restored to files of their own are
written by the workers), :class:`ExplainWriter` the edits (``--explain``).
"""

from __future__ import annotations

import json
import os
import stat
from typing import IO, Any

from .files import AtomicFile, fsync_dir, make_backup, remove_stale_temps, write_atomic
from .plan import BatchOptions, Plan, Unit
from .report import Reporter
from .work import DocumentResult, Status

__all__ = ["ExplainWriter", "Outputs", "UnitWriteError", "clean_stale_temps"]


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

    def accept(self, res: DocumentResult) -> DocumentResult:
        """Write a result's output; a write error turns it into a failure."""
        if res.unit in self._broken:
            res.status, res.message, res.out = Status.FAILED, "output not written (see the error above)", None
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
            res.status, res.message = Status.FAILED, f"cannot write {unit.dest}: {exc.strerror or exc}"
        return res

    def _write_document(self, unit: Unit, res: DocumentResult) -> None:
        assert unit.dest is not None and res.out is not None
        if self.plan.mode != "in-place":
            write_atomic(unit.dest, res.out)
        elif res.status == Status.RESTORED:
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
        if res.status == Status.RESTORED:
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
            raise UnitWriteError(unit, exc) from exc

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


class UnitWriteError(Exception):
    def __init__(self, unit: Unit, exc: OSError):
        super().__init__(f"cannot write {unit.dest}: {exc.strerror or exc}")
        self.unit = unit


class ExplainWriter:
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


def clean_stale_temps(plan: Plan, opts: BatchOptions, reporter: Reporter) -> None:
    folders = {os.path.dirname(os.path.abspath(u.dest)) for u in plan.units if u.dest is not None}
    if opts.explain:
        folders.add(os.path.dirname(os.path.abspath(opts.explain)))
    removed, problems = remove_stale_temps(sorted(folders))
    if removed:
        reporter.note(f"removed {len(removed)} stale temporary file(s) of an interrupted run")
    for p in problems:
        reporter.note(p)
