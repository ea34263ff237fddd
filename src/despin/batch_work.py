"""Batch runs, step 3: documents as tasks, processed here or in worker processes, in order.

Workers get a :class:`Job` once (a Restorer pickles as its Config, so each
worker loads the lexicon once) and then chunks of tasks; results come back
in input order. Every per-document problem becomes a ``failed`` or
``skipped`` :class:`DocumentResult`, never an exception.
"""

from __future__ import annotations

import contextlib
import json
import multiprocessing
import signal
import sys
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import IO, Any

from .api import Restorer
from .batch_diff import word_diff
from .batch_io import DocumentError, decode_text, write_atomic
from .batch_plan import Plan, Unit

__all__ = ["DocumentResult", "Job", "DocTask", "LineTask", "Done", "EndOfFile", "Task", "run_task", "tasks_of",
           "Executor", "effective_jobs",
           "CHUNK_ITEMS", "CHUNK_BYTES", "IN_FLIGHT_PER_JOB"]

# Chunks sent to worker processes: at most this many documents or bytes each,
# and at most IN_FLIGHT_PER_JOB chunks per worker queued or running at once.
CHUNK_ITEMS = 64
CHUNK_BYTES = 256 * 1024
IN_FLIGHT_PER_JOB = 3
_MIN_DOC_WEIGHT = 64 * 1024  # whole files are chunked a few at a time


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
        return DocumentResult(task.unit, task.display, line, "failed", _task_bytes(task),
                              message=f"internal error: {type(exc).__name__}: {exc}", out=out)


def _write_output(res: DocumentResult, dest: str) -> None:
    """Write a document's output where the worker runs, so that writing (and
    its fsync) happens in parallel and the bytes need not travel back."""
    assert res.out is not None
    try:
        write_atomic(dest, res.out)
    except OSError as exc:
        res.status, res.message = "failed", f"cannot write {dest}: {exc.strerror or exc}"
    else:
        res.written = dest
    res.out = None


def _task_bytes(task: Task) -> int:
    if isinstance(task, LineTask):
        return len(task.data)
    if isinstance(task, DocTask):
        return len(task.data) if task.data is not None else task.size
    return 0


def _run_doc(job: Job, task: DocTask) -> DocumentResult:
    base = DocumentResult(task.unit, task.display, None, "failed", task.size)
    try:
        data = task.data if task.data is not None else _read_file(task.path or "")
        base.nbytes = len(data)
        if not data:
            base.status, base.message, base.out = "skipped", "empty file", b""
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
        base.status, base.out = "restored", res.text.encode("utf-8")
    else:
        base.status, base.out = "unchanged", data if job.keep_unchanged else None
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
    res = DocumentResult(task.unit, task.display, task.line, "failed", len(raw), out=raw)
    body, end = _split_line_end(raw)
    if not body.strip():
        res.status = "skipped"  # a blank line: passed through, counted, not worth a message
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
        res.status = "unchanged"  # the line goes out byte for byte
        return res
    obj[job.field] = restored.text
    res.status, res.out = "restored", _dump_record(obj, body) + end
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
        raise DocumentError(f"no field {job.field!r}", "skipped")
    text = obj[job.field]
    if not isinstance(text, str):
        raise DocumentError(f"field {job.field!r} is {_json_type(text)}, not a string", "skipped")
    if not text:
        raise DocumentError(f"field {job.field!r} is empty", "skipped")
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


def _add_edits(job: Job, res: DocumentResult, text: str, edits: Sequence[Any], label: str, numbered: bool) -> None:
    res.n_edits = len(edits)
    if job.edits:
        res.edits = tuple(e.to_dict() for e in edits)
    if job.diff and edits:
        res.diff = word_diff(text, edits, label, color=job.color, numbered=numbered)


def _detected(job: Job, res: DocumentResult, text: str) -> DocumentResult:
    rep = job.restorer.detect(text)
    res.status = "spun" if rep.spun else "clean"
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
            yield Done(DocumentResult(u.id, s.display, None, "skipped", message=message, resumed=u.resumed))
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
        opened: Any = contextlib.nullcontext(stdin) if s.path == "-" else open(s.path, "rb")  # noqa: SIM115
    except OSError as exc:
        yield Done(DocumentResult(u.id, s.display, None, "failed", message=f"cannot read: {exc.strerror}"))
        yield EndOfFile(u.id, s.display, abort=True)
        return
    n = 0
    with opened as fh:
        try:
            for n, raw in enumerate(fh, start=1):
                yield LineTask(u.id, s.display, n, raw)
        except OSError as exc:
            yield Done(DocumentResult(u.id, s.display, n + 1, "failed",
                                      message=f"read error, the rest of the file is lost: {exc.strerror}"))
            yield EndOfFile(u.id, s.display, abort=True)
            return
    if n == 0:
        yield Done(DocumentResult(u.id, s.display, None, "skipped", message="empty file", out=b""))
    yield EndOfFile(u.id, s.display)


# -- parallel execution ----------------------------------------------------------------------

_worker_job: Job | None = None


def _init_worker(job: Job) -> None:
    global _worker_job
    _worker_job = job
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the main process handles Ctrl-C


def _run_chunk(chunk: list[Task | EndOfFile]) -> list[DocumentResult]:
    assert _worker_job is not None
    return [_run_any(_worker_job, t) for t in chunk]


def _run_any(job: Job, task: Task | EndOfFile) -> DocumentResult:
    if isinstance(task, EndOfFile):
        return DocumentResult(task.unit, task.display, None, "end", abort=task.abort)
    return run_task(job, task)


def _weight(task: Task | EndOfFile) -> int:
    if isinstance(task, DocTask):
        return max(_task_bytes(task), _MIN_DOC_WEIGHT)
    if isinstance(task, LineTask):
        return len(task.data) + 256
    return 0


def _chunks(tasks: Iterable[Task | EndOfFile]) -> Iterator[list[Task | EndOfFile]]:
    chunk: list[Task | EndOfFile] = []
    size = 0
    for t in tasks:
        chunk.append(t)
        size += _weight(t)
        if len(chunk) >= CHUNK_ITEMS or size >= CHUNK_BYTES:
            yield chunk
            chunk, size = [], 0
    if chunk:
        yield chunk


def _mp_context() -> Any:
    # fork: workers inherit the loaded lexicon and need not re-import __main__
    if sys.platform.startswith("linux") and "fork" in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context()


_Submitted = tuple[list[Task | EndOfFile], "Future[list[DocumentResult]]", int]  # chunk, future, pool generation


class Executor:
    """Runs tasks in order, here (jobs=1) or in a pool of worker processes.

    ``Pool.imap`` reads its whole input ahead of the workers, so a large file
    would end up in memory; instead chunks are submitted one by one and at
    most ``jobs * IN_FLIGHT_PER_JOB`` are outstanding; results are collected
    in submission order.

    A worker that dies (killed for using too much memory, say) breaks the
    pool: the chunks that were in flight are then run again one document at a
    time in a fresh pool, so that only the document that kills a worker fails.
    """

    def __init__(self, job: Job, jobs: int):
        self.job = job
        self.jobs = jobs
        self._pool: ProcessPoolExecutor | None = None
        self._generation = 0  # bumped whenever a broken pool is replaced

    def __enter__(self) -> Executor:
        if self.jobs > 1:
            self._start()
        return self

    def __exit__(self, typ: Any, exc: Any, tb: Any) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=typ is None, cancel_futures=True)
            self._pool = None

    def _start(self) -> None:
        self._pool = ProcessPoolExecutor(self.jobs, mp_context=_mp_context(), initializer=_init_worker,
                                         initargs=(self.job,))
        self._pool.submit(int).result()  # start the workers now (before any other thread exists)

    def _restart(self, generation: int) -> None:
        if generation != self._generation:
            return  # already replaced
        assert self._pool is not None
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._generation += 1
        self._start()

    def map(self, tasks: Iterable[Task | EndOfFile]) -> Iterator[DocumentResult]:
        if self._pool is None:
            for t in tasks:
                yield _run_any(self.job, t)
            return
        pending: deque[_Submitted] = deque()
        limit = self.jobs * IN_FLIGHT_PER_JOB
        for chunk in _chunks(tasks):
            pending.append(self._submit(chunk))
            while len(pending) >= limit:
                yield from self._collect(*pending.popleft())
        while pending:
            yield from self._collect(*pending.popleft())

    def _submit(self, chunk: list[Task | EndOfFile]) -> _Submitted:
        assert self._pool is not None
        try:
            return chunk, self._pool.submit(_run_chunk, chunk), self._generation
        except BrokenProcessPool:
            self._restart(self._generation)
            return chunk, self._pool.submit(_run_chunk, chunk), self._generation

    def _collect(self, chunk: list[Task | EndOfFile], future: Future[list[DocumentResult]],
                 generation: int) -> list[DocumentResult]:
        try:
            return future.result()
        except BrokenProcessPool:
            self._restart(generation)
            return [self._run_alone(task) for task in chunk]

    def _run_alone(self, task: Task | EndOfFile) -> DocumentResult:
        if isinstance(task, (Done, EndOfFile)):
            return _run_any(self.job, task)  # nothing to compute
        assert self._pool is not None
        generation = self._generation
        try:
            return self._pool.submit(_run_chunk, [task]).result()[0]
        except BrokenProcessPool:
            self._restart(generation)
            line = task.line if isinstance(task, LineTask) else None
            out = task.data if isinstance(task, LineTask) else None
            return DocumentResult(task.unit, task.display, line, "failed", _task_bytes(task), out=out,
                                  message="the worker process died on it (out of memory?)")


def effective_jobs(plan: Plan, jobs: int) -> int:
    if any(u.source.jsonl for u in plan.units):
        return jobs
    docs = sum(1 for u in plan.units if u.skip is None and u.source.problem is None)
    return max(1, min(jobs, docs))
