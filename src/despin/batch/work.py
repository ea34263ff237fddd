"""Batch runs, step 3: one document as a task, and what became of it.

The main process turns the plan into a stream of tasks (:func:`tasks_of`):
a whole file, one JSONL line, or a result known without reading (a problem
found while planning). :func:`run_task` processes one, here or in a worker
process (:mod:`despin.batch.pool`). Every per-document problem becomes a
``failed`` or ``skipped`` :class:`DocumentResult`, never an exception.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import IO, Any

from ..edits import Edit
from ..restorer import Restorer
from .diff import word_diff
from .files import write_atomic
from .plan import ERROR_POLICIES, Plan, Unit

__all__ = [
    "DocTask",
    "DocumentError",
    "DocumentResult",
    "Done",
    "EndOfFile",
    "Job",
    "LineTask",
    "Status",
    "Task",
    "decode_text",
    "run_task",
    "task_bytes",
    "tasks_of",
]


class Status:
    """What became of a document: the values of ``DocumentResult.status``."""

    RESTORED, UNCHANGED = "restored", "unchanged"  # restore
    SPUN, CLEAN = "spun", "clean"  # detect
    SKIPPED, FAILED = "skipped", "failed"  # either
    OUTCOMES = (RESTORED, UNCHANGED, SPUN, CLEAN, SKIPPED, FAILED)
    END = "end"  # not a document: the end of a JSONL file (its output can now appear)


class DocumentError(Exception):
    """A problem with one document: it is counted as ``status`` and the batch goes on."""

    def __init__(self, message: str, status: str = Status.FAILED):
        super().__init__(message)
        self.status = status


# -- results, jobs and tasks -------------------------------------------------------------------


@dataclass
class DocumentResult:
    """What happened to one document (a file, stdin, or a JSONL line)."""

    unit: int
    display: str
    line: int | None  # JSONL line number, 1-based
    status: str  # restored, unchanged, spun, clean, skipped, failed ("end": end of a JSONL file)
    nbytes: int = 0
    message: str | None = None  # why it was skipped or failed (None: nothing to report)
    warning: str | None = None
    out: bytes | None = None  # bytes to write (None: nothing)
    n_edits: int = 0
    edits: tuple[dict[str, Any], ...] = ()
    diff: str = ""
    report: dict[str, Any] | None = None  # detect: score, spun, words, ...
    doc_id: str | int | None = None  # the "id" field of a JSONL record
    resumed: bool = False
    abort: bool = False  # "end" only: the file could not be read to its end
    written: str | None = None  # the output file the worker wrote (``out`` is then None)

    @property
    def where(self) -> str:
        return self.display if self.line is None else f"{self.display}:{self.line}"


@dataclass(frozen=True)
class Job:
    """Everything a worker needs (pickles small: a Restorer pickles as its Config)."""

    restorer: Restorer
    detect: bool
    field: str = "text"
    errors: str = "strict"
    edits: bool = False  # return the edits (for --explain)
    diff: bool = False
    color: bool = False
    keep_unchanged: bool = True  # return the bytes of unchanged documents (to copy them)


@dataclass(frozen=True)
class DocTask:
    unit: int
    display: str
    path: str | None = None  # read by the worker
    data: bytes | None = None  # already read (stdin)
    size: int = 0
    dest: str | None = None  # the output file, written (atomically) by the worker


@dataclass(frozen=True)
class LineTask:
    unit: int
    display: str
    line: int
    data: bytes


@dataclass(frozen=True)
class Done:
    result: DocumentResult


Task = DocTask | LineTask | Done


def run_task(job: Job, task: Task) -> DocumentResult:
    """Process one task; never raises for a bad document."""
    if isinstance(task, Done):
        return task.result
    try:
        if isinstance(task, LineTask):
            return _run_line(job, task)
        res = _run_doc(job, task)
        if task.dest is not None and res.out is not None:
            _write_output(res, task.dest)
        return res
    except Exception as exc:  # a bug must not stop the batch; reported as this document's failure
        line = task.line if isinstance(task, LineTask) else None
        out = task.data if isinstance(task, LineTask) else None
        return DocumentResult(task.unit, task.display, line, Status.FAILED, task_bytes(task),
                              message=f"internal error: {type(exc).__name__}: {exc}", out=out)


def _write_output(res: DocumentResult, dest: str) -> None:
    """Write a document's output where the worker runs, so that writing (and
    its fsync) happens in parallel and the bytes need not travel back."""
    assert res.out is not None
    try:
        write_atomic(dest, res.out)
    except OSError as exc:
        res.status, res.message = Status.FAILED, f"cannot write {dest}: {exc.strerror or exc}"
    else:
        res.written = dest
    res.out = None


def task_bytes(task: Task) -> int:
    if isinstance(task, LineTask):
        return len(task.data)
    if isinstance(task, DocTask):
        return len(task.data) if task.data is not None else task.size
    return 0


def _run_doc(job: Job, task: DocTask) -> DocumentResult:
    base = DocumentResult(task.unit, task.display, None, Status.FAILED, task.size)
    try:
        data = task.data if task.data is not None else _read_file(task.path or "")
        base.nbytes = len(data)
        if not data:
            base.status, base.message, base.out = Status.SKIPPED, "empty file", b""
            return base
        nul = data.find(b"\0")
        if nul >= 0:
            raise DocumentError(f"binary file (NUL byte at offset {nul})")
        text, base.warning = decode_text(data, job.errors)
    except DocumentError as exc:
        base.status, base.message = exc.status, str(exc)
        return base
    if job.detect:
        return _detected(job, base, text)
    res = job.restorer.restore_and_explain(text)
    _add_edits(job, base, text, res.edits, task.display, numbered=True)
    if res.edits:
        base.status, base.out = Status.RESTORED, res.text.encode("utf-8")
    else:
        base.status, base.out = Status.UNCHANGED, data if job.keep_unchanged else None
    return base


def _read_file(path: str) -> bytes:
    try:
        with open(path, "rb") as fh:
            return fh.read()
    except IsADirectoryError:
        raise DocumentError("is a folder") from None
    except OSError as exc:
        raise DocumentError(f"cannot read: {exc.strerror or exc}") from None


def _run_line(job: Job, task: LineTask) -> DocumentResult:
    raw = task.data
    res = DocumentResult(task.unit, task.display, task.line, Status.FAILED, len(raw), out=raw)
    body, end = _split_line_end(raw)
    if not body.strip():
        res.status = Status.SKIPPED  # a blank line: passed through, counted, not worth a message
        return res
    if job.detect:
        res.out = None  # nothing is written
    try:
        text, obj, res.warning = _parse_record(body, job)
    except DocumentError as exc:
        res.status, res.message = exc.status, str(exc)
        return res
    res.doc_id = _record_id(obj)
    if job.detect:
        return _detected(job, res, text)
    restored = job.restorer.restore_and_explain(text)
    _add_edits(job, res, text, restored.edits, f"{task.display}:{task.line}", numbered=False)
    if not restored.edits:
        res.status = Status.UNCHANGED  # the line goes out byte for byte
        return res
    obj[job.field] = restored.text
    res.status, res.out = Status.RESTORED, _dump_record(obj, body) + end
    return res


def _split_line_end(raw: bytes) -> tuple[bytes, bytes]:
    if raw.endswith(b"\r\n"):
        return raw[:-2], b"\r\n"
    if raw.endswith(b"\n"):
        return raw[:-1], b"\n"
    return raw, b""


def _parse_record(body: bytes, job: Job) -> tuple[str, dict[str, Any], str | None]:
    """The text of a JSONL record, the record, and a decoding warning; DocumentError says what is wrong."""
    line, warning = decode_text(body, job.errors)
    try:
        obj = json.loads(line)
    except ValueError as exc:
        raise DocumentError(f"malformed JSON: {exc}") from None
    if not isinstance(obj, dict):
        raise DocumentError(f"not a JSON object but {type(obj).__name__}")
    if job.field not in obj:
        raise DocumentError(f"no field {job.field!r}", Status.SKIPPED)
    text = obj[job.field]
    if not isinstance(text, str):
        raise DocumentError(f"field {job.field!r} is {_json_type(text)}, not a string", Status.SKIPPED)
    if not text:
        raise DocumentError(f"field {job.field!r} is empty", Status.SKIPPED)
    return text, obj, warning


def _json_type(value: Any) -> str:
    return {type(None): "null", bool: "a boolean", int: "a number", float: "a number",
            list: "an array", dict: "an object"}.get(type(value), type(value).__name__)


def _record_id(obj: dict[str, Any]) -> str | int | None:
    v = obj.get("id")
    return v if isinstance(v, (str, int)) and not isinstance(v, bool) else None


def _dump_record(obj: dict[str, Any], original: bytes) -> bytes:
    """Serialise a restored record, keeping key order; ASCII-only lines stay ASCII-only."""
    try:
        return json.dumps(obj, ensure_ascii=original.isascii()).encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates from \ud800-style escapes
        return json.dumps(obj, ensure_ascii=True).encode("ascii")


def _add_edits(job: Job, res: DocumentResult, text: str, edits: Sequence[Edit], label: str, numbered: bool) -> None:
    res.n_edits = len(edits)
    if job.edits:
        res.edits = tuple(e.to_dict() for e in edits)
    if job.diff and edits:
        res.diff = word_diff(text, edits, label, color=job.color, numbered=numbered)


def _detected(job: Job, res: DocumentResult, text: str) -> DocumentResult:
    rep = job.restorer.detect(text)
    res.status = Status.SPUN if rep.spun else Status.CLEAN
    res.out = None
    res.report = {
        "score": rep.score,
        "spun": rep.spun,
        "words": rep.words,
        "spun_forms": rep.spun_forms,
        "per_1000_words": rep.per_1000_words,
        "artifacts": rep.artifacts,
    }
    return res


# -- decoding --------------------------------------------------------------------------------


def decode_text(data: bytes, errors: str = "strict") -> tuple[str, str | None]:
    """Decode UTF-8 under an :data:`ERROR_POLICIES` policy: the text and a warning (or None).

    Raises :class:`DocumentError` for invalid UTF-8 under ``strict``.
    """
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError as exc:
        where = f"invalid UTF-8 at byte {exc.start}"
        if errors == "strict":
            raise DocumentError(f"{where} (--errors replace or ignore processes it anyway)") from None
        if errors not in ERROR_POLICIES:
            raise ValueError(f"unknown error policy {errors!r}") from None
        what = "replaced with U+FFFD" if errors == "replace" else "dropped"
        return data.decode("utf-8", errors), f"{where}: bad bytes {what}"


# -- task stream (main process) --------------------------------------------------------------


@dataclass(frozen=True)
class EndOfFile:
    """End of a JSONL file (goes through the workers so it stays in order)."""

    unit: int
    display: str
    abort: bool = False


def tasks_of(plan: Plan, stdin: IO[bytes]) -> Iterator[Task | EndOfFile]:
    for u in plan.units:
        s = u.source
        if s.problem is not None:
            yield Done(DocumentResult(u.id, s.display, None, s.problem_status, message=s.problem))
        elif u.skip is not None:
            message = None if u.resumed else u.skip
            yield Done(DocumentResult(u.id, s.display, None, Status.SKIPPED, message=message, resumed=u.resumed))
        elif s.jsonl:
            yield from _line_tasks(u, stdin)
        elif s.path == "-":
            yield DocTask(u.id, s.display, data=stdin.read())
        else:
            dest = u.dest if plan.mode in ("file", "folder") else None
            yield DocTask(u.id, s.display, path=s.path, size=s.size, dest=dest)


def _line_tasks(u: Unit, stdin: IO[bytes]) -> Iterator[Task | EndOfFile]:
    """One task per line, read lazily (a huge file is never in memory), then the end marker."""
    s = u.source
    try:
        opened: Any = contextlib.nullcontext(stdin) if s.path == "-" else open(s.path, "rb")
    except OSError as exc:
        yield Done(DocumentResult(u.id, s.display, None, Status.FAILED, message=f"cannot read: {exc.strerror}"))
        yield EndOfFile(u.id, s.display, abort=True)
        return
    n = 0
    with opened as fh:
        try:
            for n, raw in enumerate(fh, start=1):
                yield LineTask(u.id, s.display, n, raw)
        except OSError as exc:
            yield Done(DocumentResult(u.id, s.display, n + 1, Status.FAILED,
                                      message=f"read error, the rest of the file is lost: {exc.strerror}"))
            yield EndOfFile(u.id, s.display, abort=True)
            return
    if n == 0:
        yield Done(DocumentResult(u.id, s.display, None, Status.SKIPPED, message="empty file", out=b""))
    yield EndOfFile(u.id, s.display)
