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
import os
from collections.abc import Generator, Iterator, Sequence
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

    def __init__(self, message: str, status: str = Status.FAILED, doc_id: str | int | None = None):
        super().__init__(message)
        self.status = status
        self.doc_id = doc_id  # the record's id, when a JSONL record was read


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
    count: int = 1  # documents this result stands for (the lines a resumed JSONL output holds)
    copy: tuple[str, int, int] | None = None  # bytes of a file to pass to the output unchanged (path, start, end)

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
    max_size: int | None = None  # the largest document read, in bytes (None: no limit)


@dataclass(frozen=True)
class DocTask:
    unit: int
    display: str
    path: str | None = None  # read by the worker
    data: bytes | None = None  # already read (stdin)
    size: int = 0
    dest: str | None = None  # the output file, written (atomically) by the worker
    backup: str | None = None  # in place: skip the file if it is this backup restored


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
        data = task.data if task.data is not None else read_limited(task.path or "", job.max_size)
        base.nbytes = len(data)
        if not data:
            base.status, base.message, base.out = Status.SKIPPED, "empty file", b""
            return base
        text, base.warning = _document_text(data, job.errors)
    except DocumentError as exc:
        base.status, base.message = exc.status, str(exc)
        return base
    if job.detect:
        return _detected(job, base, text)
    if task.backup is not None and _restores_to(job, task.backup, data):
        base.status, base.resumed = Status.SKIPPED, True  # restored in place by an earlier run
        return base
    res = job.restorer.restore_and_explain(text)
    _add_edits(job, base, text, res.edits, task.display, numbered=True)
    if res.edits:
        base.status, base.out = Status.RESTORED, res.text.encode("utf-8")
    else:
        base.status, base.out = Status.UNCHANGED, data if job.keep_unchanged else None
    return base


def _document_text(data: bytes, errors: str) -> tuple[str, str | None]:
    """The text of a whole document and a decoding warning; DocumentError for binary data."""
    nul = data.find(b"\0")
    if nul >= 0:
        raise DocumentError(f"binary file (NUL byte at offset {nul})")
    return decode_text(data, errors, lines=True)


def _restores_to(job: Job, backup: str, data: bytes) -> bool:
    """Whether restoring the file ``backup`` gives exactly ``data`` (then the
    file holding ``data`` was restored in place from it already)."""
    try:
        text, _ = _document_text(read_limited(backup, job.max_size), job.errors)
    except DocumentError:
        return False
    return job.restorer.restore(text).encode("utf-8") == data


def too_big(limit: int, size: int | None = None) -> str:
    """The message for a document larger than ``limit`` (``size``: its size, when known)."""
    how_big = f"{size:,} bytes" if size is not None else "more bytes"
    return f"larger than --max-size ({how_big} > {limit:,}); not restored (a larger --max-size reads it)"


def read_limited(path: str, limit: int | None) -> bytes:
    """The bytes of a file, if at most ``limit``; DocumentError if it cannot
    be read or is larger (a regular file is not even read then; from a pipe
    or a device at most ``limit + 1`` bytes are, so endless input ends)."""
    try:
        with open(path, "rb") as fh:
            if limit is None:
                return fh.read()
            size = os.fstat(fh.fileno()).st_size
            if size > limit:
                raise DocumentError(too_big(limit, size))
            data = fh.read(limit + 1)
    except IsADirectoryError:
        raise DocumentError("is a folder") from None
    except OSError as exc:
        raise DocumentError(f"cannot read: {exc.strerror or exc}") from None
    if len(data) > limit:
        raise DocumentError(too_big(limit))
    return data


_BOM = b"\xef\xbb\xbf"


def _run_line(job: Job, task: LineTask) -> DocumentResult:
    raw = task.data
    res = DocumentResult(task.unit, task.display, task.line, Status.FAILED, len(raw), out=raw)
    body, end = _split_line_end(raw)
    bom = b""
    if task.line == 1 and body.startswith(_BOM):  # a byte-order mark before the first record
        bom, body = _BOM, body[len(_BOM) :]
    if not body.strip():
        res.status = Status.SKIPPED  # a blank line: passed through, counted, not worth a message
        return res
    if job.detect:
        res.out = None  # nothing is written
    try:
        text, obj, res.warning = _parse_record(body, job)
    except DocumentError as exc:
        res.status, res.message, res.doc_id = exc.status, str(exc), exc.doc_id
        return res
    res.doc_id = _record_id(obj)
    if job.detect:
        return _detected(job, res, text)
    restored = job.restorer.restore_and_explain(text)
    _add_edits(job, res, text, restored.edits, f"{task.display}:{task.line}", numbered=False)
    if not restored.edits:
        res.status = Status.UNCHANGED  # the line goes out byte for byte (duplicate keys and all)
        return res
    res.status, res.out = Status.RESTORED, bom + _dump_record(obj, job.field, restored.text, body) + end
    return res


def _split_line_end(raw: bytes) -> tuple[bytes, bytes]:
    if raw.endswith(b"\r\n"):
        return raw[:-2], b"\r\n"
    if raw.endswith(b"\n"):
        return raw[:-1], b"\n"
    return raw, b""


class _Pairs(dict):  # type: ignore[type-arg]
    """A JSON object with a repeated key: as a dict it holds the last value of
    each key (as ``json.loads`` gives), and ``pairs`` keeps every key and value
    in order."""

    pairs: list[tuple[str, Any]]


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """``object_pairs_hook`` for JSONL records: a dict, or a :class:`_Pairs` when a key repeats."""
    obj = dict(pairs)
    if len(obj) == len(pairs):
        return obj
    dup = _Pairs(obj)
    dup.pairs = pairs
    return dup


def _parse_record(body: bytes, job: Job) -> tuple[str, dict[str, Any], str | None]:
    """The text of a JSONL record, the record, and a decoding warning; DocumentError says what is wrong.

    A key given twice takes its last value (as JSON parsers do), with a warning."""
    line, warning = decode_text(body, job.errors)
    try:
        obj = json.loads(line, object_pairs_hook=_object)
    except (ValueError, RecursionError) as exc:
        raise DocumentError(f"malformed JSON: {exc}") from None
    if not isinstance(obj, dict):
        raise DocumentError(f"not a JSON object but {type(obj).__name__}")
    if isinstance(obj, _Pairs):
        keys = [k for k, _ in obj.pairs]
        repeated = sorted({k for k in keys if keys.count(k) > 1})
        note = (f"key {', '.join(map(repr, repeated))} given more than once: the last {job.field!r} is read; "
                "an unchanged line is kept byte for byte, a restored one keeps every key")
        warning = f"{warning}; {note}" if warning else note
    if job.field not in obj:
        raise DocumentError(f"no field {job.field!r}", Status.SKIPPED, _record_id(obj))
    text = obj[job.field]
    if not isinstance(text, str):
        raise DocumentError(f"field {job.field!r} is {_json_type(text)}, not a string", Status.SKIPPED, _record_id(obj))
    if not text:
        raise DocumentError(f"field {job.field!r} is empty", Status.SKIPPED, _record_id(obj))
    return text, obj, warning


def _json_type(value: Any) -> str:
    return {type(None): "null", bool: "a boolean", int: "a number", float: "a number",
            list: "an array", dict: "an object"}.get(type(value), type(value).__name__)


def _record_id(obj: dict[str, Any]) -> str | int | None:
    v = obj.get("id")
    return v if isinstance(v, (str, int)) and not isinstance(v, bool) else None


def _dump_record(obj: dict[str, Any], field: str, text: str, original: bytes) -> bytes:
    """Serialise a record with its ``field`` now ``text``, keeping key order;
    ASCII-only lines stay ASCII-only. In a record with a repeated key every
    key and value is written again in order, the last ``field`` restored."""
    try:
        return _dumps_record(obj, field, text, original.isascii()).encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates from \ud800-style escapes
        return _dumps_record(obj, field, text, True).encode("ascii")


def _dumps_record(obj: dict[str, Any], field: str, text: str, ascii_only: bool) -> str:
    if not isinstance(obj, _Pairs):
        return json.dumps({**obj, field: text}, ensure_ascii=ascii_only)
    last = max(k for k, (key, _) in enumerate(obj.pairs) if key == field)
    pairs = [(key, text if k == last else value) for k, (key, value) in enumerate(obj.pairs)]
    return _dumps_value(_Pairs({}), ascii_only, pairs)


def _dumps_value(value: Any, ascii_only: bool, pairs: list[tuple[str, Any]] | None = None) -> str:
    """``json.dumps`` (default separators) that writes repeated keys too."""
    if isinstance(value, _Pairs):
        items = pairs if pairs is not None else value.pairs
        return "{" + ", ".join(json.dumps(k, ensure_ascii=ascii_only) + ": " + _dumps_value(v, ascii_only)
                               for k, v in items) + "}"
    if isinstance(value, dict):
        if not any(isinstance(v, (dict, list)) for v in value.values()):
            return json.dumps(value, ensure_ascii=ascii_only)
        return "{" + ", ".join(json.dumps(k, ensure_ascii=ascii_only) + ": " + _dumps_value(v, ascii_only)
                               for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_dumps_value(v, ascii_only) for v in value) + "]"
    return json.dumps(value, ensure_ascii=ascii_only)


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


def decode_text(data: bytes, errors: str = "strict", lines: bool = False) -> tuple[str, str | None]:
    """Decode UTF-8 under an :data:`ERROR_POLICIES` policy: the text and a warning (or None).

    Raises :class:`DocumentError` for invalid UTF-8 under ``strict``. The
    message gives the byte offset, and with ``lines`` (a whole document) the
    line and column (in bytes, both from 1) too.
    """
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError as exc:
        where = f"invalid UTF-8 at byte {exc.start}"
        if lines:
            line = data.count(b"\n", 0, exc.start) + 1
            column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
            where += f" (line {line}, column {column})"
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


def tasks_of(plan: Plan, stdin: IO[bytes], limit: int | None = None) -> Iterator[Task | EndOfFile]:
    """The tasks of a plan, in order; ``limit`` is the largest document read (bytes)."""
    for u in plan.units:
        s = u.source
        if s.problem is not None:
            yield Done(DocumentResult(u.id, s.display, None, s.problem_status, message=s.problem))
        elif u.skip is not None:
            message = None if u.resumed else u.skip
            yield Done(DocumentResult(u.id, s.display, None, Status.SKIPPED, message=message, resumed=u.resumed))
        elif s.jsonl:
            yield from _line_tasks(u, stdin, limit)
        elif s.path == "-":
            yield _stdin_task(u, stdin, limit)
        else:
            dest = u.dest if plan.mode in ("file", "folder") else None
            yield DocTask(u.id, s.display, path=s.path, size=s.size, dest=dest, backup=u.backup)


def _stdin_task(u: Unit, stdin: IO[bytes], limit: int | None) -> Task:
    """Stdin as one document: read whole, or at most ``limit + 1`` bytes."""
    data = stdin.read() if limit is None else stdin.read(limit + 1)
    if limit is not None and len(data) > limit:
        return Done(DocumentResult(u.id, u.source.display, None, Status.FAILED, len(data), message=too_big(limit)))
    return DocTask(u.id, u.source.display, data=data)


_LINE_CHUNK = 1 << 20


def _line_tasks(u: Unit, stdin: IO[bytes], limit: int | None) -> Iterator[Task | EndOfFile]:
    """One task per line, read lazily (a huge file is never in memory), then the end marker.

    The lines a partial output already holds (``u.done_lines``, --resume)
    are skipped as one result. A line longer than ``limit`` fails: from a
    regular file it is passed to the output unchanged (copied from the
    file, never held in memory); from a pipe the rest of the input is not
    read (it may never end)."""
    s = u.source
    try:
        opened: Any = contextlib.nullcontext(stdin) if s.path == "-" else open(s.path, "rb")
    except OSError as exc:
        yield Done(DocumentResult(u.id, s.display, None, Status.FAILED, message=f"cannot read: {exc.strerror}"))
        yield EndOfFile(u.id, s.display, abort=True)
        return
    n = offset = 0
    seekable = s.path != "-" and s.regular
    with opened as fh:
        try:
            if u.done_lines:
                offset = yield from _skip_done_lines(u, fh)
                if offset < 0:
                    return
                n = u.done_lines
            while raw := (fh.readline() if limit is None else fh.readline(limit + 2)):
                n += 1
                if limit is not None and len(raw.rstrip(b"\r\n")) > limit:
                    if not seekable:
                        yield Done(DocumentResult(u.id, s.display, n, Status.FAILED, len(raw),
                                                  message=f"line {too_big(limit)}; the rest of the input is not read"))
                        yield EndOfFile(u.id, s.display, abort=True)
                        return
                    size = len(raw) if raw.endswith(b"\n") else len(raw) + _rest_of_line(fh)
                    yield Done(DocumentResult(u.id, s.display, n, Status.FAILED, size,
                                              copy=(s.path, offset, offset + size),
                                              message=f"line {too_big(limit, size)}; passed through unchanged"))
                    offset += size
                    continue
                offset += len(raw)
                yield LineTask(u.id, s.display, n, raw)
        except OSError as exc:
            yield Done(DocumentResult(u.id, s.display, n + 1, Status.FAILED,
                                      message=f"read error, the rest of the file is lost: {exc.strerror}"))
            yield EndOfFile(u.id, s.display, abort=True)
            return
    if n == 0:
        yield Done(DocumentResult(u.id, s.display, None, Status.SKIPPED, message="empty file", out=b""))
    yield EndOfFile(u.id, s.display)


def _rest_of_line(fh: IO[bytes]) -> int:
    """Read to the end of the current line (a megabyte at a time); the bytes read."""
    size = 0
    while chunk := fh.readline(_LINE_CHUNK):
        size += len(chunk)
        if chunk.endswith(b"\n"):
            break
    return size


def _skip_done_lines(u: Unit, fh: IO[bytes]) -> Generator[Task | EndOfFile, None, int]:
    """Skip the input lines whose output a partial output holds (one result
    for them all); their bytes, or -1 (after a failure and the end marker)
    if the input has fewer lines."""
    s = u.source
    lines = size = 0
    while lines < u.done_lines:
        line = _rest_of_line(fh)
        if not line:
            yield Done(DocumentResult(u.id, s.display, None, Status.FAILED, size, message=(
                f"not resumed: the partial output of an interrupted run holds {u.done_lines} lines, the input only "
                f"{lines} (was it changed?); run again without --resume")))
            yield EndOfFile(u.id, s.display, abort=True)
            return -1
        lines, size = lines + 1, size + line
    yield Done(DocumentResult(u.id, s.display, None, Status.SKIPPED, size, resumed=True, count=lines))
    return size
