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
   order (so outputs are deterministic).

One bad document never stops the batch: it is reported and counted as
``failed`` or ``skipped`` in the :class:`Summary`, whose counts always add up
(``read == restored + unchanged + skipped + failed`` for restore,
``read == spun + clean + skipped + failed`` for detect). In JSONL mode a bad
line is passed through to the output unchanged, so no line is lost.
"""

from __future__ import annotations

import fnmatch
import json
import multiprocessing
import os
import signal
import stat
import sys
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from typing import IO, Any, Callable, Iterable, Iterator, Protocol, Sequence, Union

from .api import Restorer
from .batch_diff import word_diff
from .batch_io import (
    ERROR_POLICIES,
    AtomicFile,
    DocumentError,
    decode_text,
    fsync_dir,
    is_temp_name,
    make_backup,
    remove_stale_temps,
    write_atomic,
)
from .errors import DespinError

__all__ = [
    "BatchOptions",
    "UsageError",
    "Source",
    "Unit",
    "Plan",
    "DocumentResult",
    "Summary",
    "discover",
    "plan_restore",
    "plan_detect",
    "run_restore",
    "run_detect",
    "STDIN_NAME",
]

STDIN_NAME = "<stdin>"
JSONL_SUFFIXES = (".jsonl", ".ndjson")
MESSAGES_PER_SOURCE = 20  # problems shown per file before the rest are only counted

# Chunks sent to worker processes: at most this many documents or bytes each,
# and at most IN_FLIGHT_PER_JOB chunks per worker queued or running at once.
CHUNK_ITEMS = 64
CHUNK_BYTES = 256 * 1024
IN_FLIGHT_PER_JOB = 3
_MIN_DOC_WEIGHT = 64 * 1024  # whole files are chunked a few at a time


class UsageError(DespinError):
    """Options that cannot work together, or a run that would overwrite its inputs."""

    exit_code = 2


@dataclass(frozen=True)
class BatchOptions:
    """How a batch run reads, writes and reports.

    output
        Output file (one input) or folder (several inputs or a folder); None
        writes a single document to stdout.
    in_place
        Write each restored file over itself, keeping ``FILE.bak``.
    resume
        Skip documents whose output already exists (outputs only ever appear
        complete, under their final name).
    include, exclude
        Glob patterns for files found in folders, matched against the path
        relative to the folder given and against the file name. Excluded
        folders are not entered. Files named directly are always read.
    jsonl
        Read every input as JSONL (otherwise only ``*.jsonl``/``*.ndjson``).
    field
        The JSONL field holding the text; every other field is kept as it is.
    errors
        Invalid UTF-8: ``strict`` fails the document, ``replace`` or ``ignore``
        process it with a warning.
    explain
        A JSONL file to write every edit to.
    diff, color
        Write a word diff of each restored document to stdout (with ANSI colours).
    jobs
        Worker processes; 1 runs everything in this process.
    """

    output: str | None = None
    in_place: bool = False
    resume: bool = False
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    jsonl: bool = False
    field: str = "text"
    errors: str = "strict"
    explain: str | None = None
    diff: bool = False
    color: bool = False
    jobs: int = 1

    def __post_init__(self) -> None:
        if self.errors not in ERROR_POLICIES:
            raise UsageError(f"errors must be one of {', '.join(ERROR_POLICIES)}, not {self.errors!r}")
        if not isinstance(self.jobs, int) or self.jobs < 1:
            raise UsageError(f"jobs must be a whole number >= 1, not {self.jobs!r}")
        if not self.field:
            raise UsageError("the JSONL field name is empty")


# -- 1. discovery ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Source:
    """One input file (or stdin)."""

    path: str  # what to open; "-" is stdin
    display: str  # how messages and reports name it
    jsonl: bool
    size: int = 0
    rel: str | None = None  # path inside the folder given on the command line (None: named directly)
    problem: str | None = None  # found while listing: why it is not read
    problem_status: str = "failed"


def discover(paths: Sequence[str], opts: BatchOptions) -> list[Source]:
    """The documents named by ``paths``, in order (folders sorted, depth first)."""
    sources: list[Source] = []
    for path in paths:
        if path == "-":
            sources.append(Source("-", STDIN_NAME, opts.jsonl, size=0))
            continue
        try:
            st = os.stat(path)
        except OSError as exc:
            sources.append(Source(path, path, _is_jsonl(path, opts), problem=f"cannot read: {exc.strerror}"))
            continue
        if stat.S_ISDIR(st.st_mode):
            sources.extend(_walk_folder(path, "", opts))
        else:  # named directly: read it even if it is a pipe (e.g. <(command))
            sources.append(Source(path, path, _is_jsonl(path, opts), size=st.st_size))
    return sources


def _is_jsonl(path: str, opts: BatchOptions) -> bool:
    return opts.jsonl or path.lower().endswith(JSONL_SUFFIXES)


def _matches(rel: str, name: str, patterns: Iterable[str]) -> bool:
    return any(fnmatch.fnmatch(rel, p) or fnmatch.fnmatch(name, p) for p in patterns)


def _walk_folder(root: str, rel: str, opts: BatchOptions) -> Iterator[Source]:
    folder = os.path.join(root, *rel.split("/")) if rel else root
    try:
        with os.scandir(folder) as it:
            entries = sorted(it, key=lambda e: e.name)
    except OSError as exc:
        yield Source(folder, folder, False, problem=f"cannot list folder: {exc.strerror}")
        return
    for entry in entries:
        child = f"{rel}/{entry.name}" if rel else entry.name
        display = os.path.join(root, *child.split("/"))
        if is_temp_name(entry.name) or _matches(child, entry.name, opts.exclude):
            continue
        try:
            st = os.stat(entry.path)  # follows symbolic links
        except OSError as exc:
            if not opts.include or _matches(child, entry.name, opts.include):
                yield Source(entry.path, display, _is_jsonl(entry.name, opts), rel=child,
                             problem=f"cannot read: {exc.strerror}")
            continue
        if stat.S_ISDIR(st.st_mode):
            if entry.is_symlink():
                yield Source(entry.path, display, False, rel=child, problem_status="skipped",
                             problem="symbolic link to a folder (not followed)")
            else:
                yield from _walk_folder(root, child, opts)
            continue
        if opts.include and not _matches(child, entry.name, opts.include):
            continue
        if stat.S_ISREG(st.st_mode):
            yield Source(entry.path, display, _is_jsonl(entry.name, opts), size=st.st_size, rel=child)
        else:
            yield Source(entry.path, display, False, rel=child, problem_status="skipped",
                         problem="not a regular file")


# -- 2. planning -----------------------------------------------------------------------------


@dataclass
class Unit:
    """A source with where its output goes."""

    id: int
    source: Source
    dest: str | None  # output file; None: stdout, or nothing written
    skip: str | None = None  # why it is skipped without being read
    resumed: bool = False  # skipped because its output exists (--resume)


@dataclass
class Plan:
    units: list[Unit]
    mode: str  # "stdout", "file", "folder", "in-place", "preview" (diff only), "report" (detect)

    @property
    def writes_files(self) -> bool:
        return self.mode in ("file", "folder", "in-place")

    @property
    def input_bytes(self) -> int:
        return sum(u.source.size for u in self.units if u.skip is None and u.source.problem is None)


def plan_detect(sources: Sequence[Source]) -> Plan:
    return Plan([Unit(i, s, None) for i, s in enumerate(sources)], "report")


def plan_restore(paths: Sequence[str], sources: Sequence[Source], opts: BatchOptions) -> Plan:
    """Decide every output path; raise :class:`UsageError` rather than overwrite an input."""
    _check_combination(paths, opts)
    mode = _output_mode(paths, opts)
    units = [Unit(i, s, _dest(s, mode, opts) if s.problem is None else None) for i, s in enumerate(sources)]
    _skip_duplicates(units)
    _refuse_to_overwrite_inputs(units, paths, opts, mode)
    if opts.resume:
        for u in units:
            if u.dest is not None and u.skip is None and os.path.exists(u.dest):
                u.skip, u.resumed = "output exists (--resume)", True
    return Plan(units, mode)


def _check_combination(paths: Sequence[str], opts: BatchOptions) -> None:
    if opts.in_place and opts.output:
        raise UsageError("--in-place and -o cannot be combined")
    if opts.in_place and "-" in paths:
        raise UsageError("--in-place cannot restore stdin")
    if "-" in paths and len(paths) > 1:
        raise UsageError("- (stdin) cannot be combined with other inputs")
    if opts.resume and not opts.output:
        raise UsageError("--resume needs -o (it skips outputs that already exist)")


def _output_mode(paths: Sequence[str], opts: BatchOptions) -> str:
    single_doc = len(paths) == 1 and not os.path.isdir(paths[0])
    if opts.in_place:
        return "in-place"
    if opts.output is None:
        if opts.diff:
            return "preview"
        if single_doc:
            return "stdout"
        raise UsageError("several documents: give -o FOLDER for the outputs, or --in-place")
    out = opts.output
    if single_doc and not os.path.isdir(out) and not out.endswith(("/", os.sep)):
        return "file"
    if "-" in paths:
        raise UsageError(f"-o {out}: stdin is restored to one file, not into a folder")
    if os.path.exists(out) and not os.path.isdir(out):
        raise UsageError(f"-o {out}: not a folder (several outputs go into a folder)")
    return "folder"


def _dest(s: Source, mode: str, opts: BatchOptions) -> str | None:
    if mode == "in-place":
        return os.path.realpath(s.path)  # write through symbolic links
    if mode == "file":
        return opts.output
    if mode == "folder":
        assert opts.output is not None
        if s.rel is not None:
            return os.path.join(opts.output, *s.rel.split("/"))
        return os.path.join(opts.output, os.path.basename(os.path.normpath(s.path)))
    return None


def _skip_duplicates(units: list[Unit]) -> None:
    """The same file twice is read once; two different files with one output is an error."""
    seen: dict[str, Unit] = {}
    for u in units:
        if u.dest is None:
            continue
        key = os.path.realpath(u.dest)
        first = seen.get(key)
        if first is None:
            seen[key] = u
        elif os.path.realpath(first.source.path) == os.path.realpath(u.source.path):
            u.skip = f"same file as {first.source.display}"
        else:
            raise UsageError(f"{first.source.display} and {u.source.display} would both be written to {u.dest}")


def _refuse_to_overwrite_inputs(units: list[Unit], paths: Sequence[str], opts: BatchOptions, mode: str) -> None:
    files = {os.path.realpath(u.source.path) for u in units if u.source.path != "-"}
    inodes = {_inode(u.source.path) for u in units if u.source.path != "-"} - {None}
    folders = {os.path.realpath(p) for p in paths if p != "-" and os.path.isdir(p)}

    def what(path: str) -> str | None:
        real = os.path.realpath(path)
        if real in files or _inode(path) in inodes:
            return "an input file"
        if real in folders:
            return "an input folder"
        inside = _inside(real, folders)
        return f"inside the input folder {inside}" if inside else None

    hint = "write the outputs elsewhere with -o, or use --in-place (keeps FILE.bak)"
    if mode == "folder" and opts.output is not None:
        problem = what(opts.output)
        if problem:
            raise UsageError(f"refusing to write into {opts.output}: it is {problem}; {hint}")
    if mode != "in-place":
        for u in units:
            if u.dest is not None and (problem := what(u.dest)):
                raise UsageError(f"refusing to overwrite {u.dest}: it is {problem}; {hint}")
    if opts.explain:
        problem = what(opts.explain)
        dests = {os.path.realpath(u.dest) for u in units if u.dest is not None}
        if problem is None and os.path.realpath(opts.explain) in dests:
            problem = "an output file"
        if problem:
            raise UsageError(f"refusing to write the edits to {opts.explain}: it is {problem}")


def _inode(path: str) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_dev, st.st_ino)


def _inside(path: str, folders: set[str]) -> str | None:
    parent = os.path.dirname(path)
    while True:
        if parent in folders:
            return parent
        up = os.path.dirname(parent)
        if up == parent:
            return None
        parent = up


# -- 3. work: tasks, workers and results -------------------------------------------------------


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
class _DocTask:
    unit: int
    display: str
    path: str | None = None  # read by the worker
    data: bytes | None = None  # already read (stdin)
    size: int = 0


@dataclass(frozen=True)
class _LineTask:
    unit: int
    display: str
    line: int
    data: bytes


@dataclass(frozen=True)
class _Done:
    result: DocumentResult


_Task = Union[_DocTask, _LineTask, _Done]


def run_task(job: Job, task: _Task) -> DocumentResult:
    """Process one task; never raises for a bad document."""
    if isinstance(task, _Done):
        return task.result
    try:
        if isinstance(task, _LineTask):
            return _run_line(job, task)
        return _run_doc(job, task)
    except Exception as exc:  # a bug must not stop the batch; reported as this document's failure
        line = task.line if isinstance(task, _LineTask) else None
        out = task.data if isinstance(task, _LineTask) else None
        return DocumentResult(task.unit, task.display, line, "failed", _task_bytes(task),
                              message=f"internal error: {type(exc).__name__}: {exc}", out=out)


def _task_bytes(task: _Task) -> int:
    if isinstance(task, _LineTask):
        return len(task.data)
    if isinstance(task, _DocTask):
        return len(task.data) if task.data is not None else task.size
    return 0


def _run_doc(job: Job, task: _DocTask) -> DocumentResult:
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


def _run_line(job: Job, task: _LineTask) -> DocumentResult:
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
class _End:
    """End of a JSONL file (goes through the workers so it stays in order)."""

    unit: int
    display: str
    abort: bool = False


def _tasks(plan: Plan, stdin: IO[bytes]) -> Iterator[_Task | _End]:
    for u in plan.units:
        s = u.source
        if s.problem is not None:
            yield _Done(DocumentResult(u.id, s.display, None, s.problem_status, message=s.problem))
        elif u.skip is not None:
            message = None if u.resumed else u.skip
            yield _Done(DocumentResult(u.id, s.display, None, "skipped", message=message, resumed=u.resumed))
        elif s.jsonl:
            yield from _line_tasks(u, stdin)
        elif s.path == "-":
            yield _DocTask(u.id, s.display, data=stdin.read())
        else:
            yield _DocTask(u.id, s.display, path=s.path, size=s.size)


def _line_tasks(u: Unit, stdin: IO[bytes]) -> Iterator[_Task | _End]:
    s = u.source
    try:
        fh = stdin if s.path == "-" else open(s.path, "rb")
    except OSError as exc:
        yield _Done(DocumentResult(u.id, s.display, None, "failed", message=f"cannot read: {exc.strerror}"))
        yield _End(u.id, s.display, abort=True)
        return
    n = 0
    try:
        for n, raw in enumerate(fh, start=1):
            yield _LineTask(u.id, s.display, n, raw)
    except OSError as exc:
        yield _Done(DocumentResult(u.id, s.display, n + 1, "failed",
                                   message=f"read error, the rest of the file is lost: {exc.strerror}"))
        yield _End(u.id, s.display, abort=True)
        return
    finally:
        if fh is not stdin:
            fh.close()
    if n == 0:
        yield _Done(DocumentResult(u.id, s.display, None, "skipped", message="empty file", out=b""))
    yield _End(u.id, s.display)


# -- parallel execution ----------------------------------------------------------------------

_worker_job: Job | None = None


def _init_worker(job: Job) -> None:
    global _worker_job
    _worker_job = job
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the main process handles Ctrl-C


def _run_chunk(chunk: list[_Task | _End]) -> list[DocumentResult]:
    assert _worker_job is not None
    return [_run_any(_worker_job, t) for t in chunk]


def _run_any(job: Job, task: _Task | _End) -> DocumentResult:
    if isinstance(task, _End):
        return DocumentResult(task.unit, task.display, None, "end", abort=task.abort)
    return run_task(job, task)


def _weight(task: _Task | _End) -> int:
    if isinstance(task, _DocTask):
        return max(_task_bytes(task), _MIN_DOC_WEIGHT)
    if isinstance(task, _LineTask):
        return len(task.data) + 256
    return 0


def _chunks(tasks: Iterable[_Task | _End]) -> Iterator[list[_Task | _End]]:
    chunk: list[_Task | _End] = []
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


class _Executor:
    """Runs tasks in order, here (jobs=1) or in a pool of worker processes.

    ``Pool.imap`` reads its whole input ahead of the workers, so a large file
    would end up in memory; instead chunks are submitted with ``apply_async``
    and at most ``jobs * IN_FLIGHT_PER_JOB`` are outstanding, and results are
    collected in submission order.
    """

    def __init__(self, job: Job, jobs: int):
        self.job = job
        self.jobs = jobs
        self._pool: Any = None

    def __enter__(self) -> "_Executor":
        if self.jobs > 1:
            self._pool = _mp_context().Pool(self.jobs, initializer=_init_worker, initargs=(self.job,))
        return self

    def __exit__(self, typ: Any, exc: Any, tb: Any) -> None:
        if self._pool is not None:
            if typ is None:
                self._pool.close()
            else:
                self._pool.terminate()
            self._pool.join()

    def map(self, tasks: Iterable[_Task | _End]) -> Iterator[DocumentResult]:
        if self._pool is None:
            for t in tasks:
                yield _run_any(self.job, t)
            return
        pending: deque[Any] = deque()
        limit = self.jobs * IN_FLIGHT_PER_JOB
        for chunk in _chunks(tasks):
            pending.append(self._pool.apply_async(_run_chunk, (chunk,)))
            while len(pending) >= 10**9:
                yield from pending.popleft().get()
        while pending:
            yield from pending.popleft().get()


def _effective_jobs(plan: Plan, jobs: int) -> int:
    if any(u.source.jsonl for u in plan.units):
        return jobs
    docs = sum(1 for u in plan.units if u.skip is None and u.source.problem is None)
    return max(1, min(jobs, docs))


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
    with _Executor(job, _effective_jobs(plan, jobs)) as executor:
        bar = progress(plan.input_bytes) if progress is not None else None  # after forking workers
        try:
            for res in executor.map(_tasks(plan, stdin)):
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
    """Load (and so check) the lexicon and model before any document, and before forking workers."""
    restorer.lexicon  # noqa: B018 - loading raises LexiconError early
    if not detect:
        restorer.model  # noqa: B018


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
            self.file.write((json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8", "surrogatepass"))

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
    stream = stdin if stdin is not None else sys.stdin
    return getattr(stream, "buffer", stream)


def run_restore(
    paths: Sequence[str],
    restorer: Restorer,
    opts: BatchOptions = BatchOptions(),
    *,
    stdout: IO[str] | None = None,
    stderr: IO[str] | None = None,
    stdin: IO[Any] | None = None,
    progress: ProgressFactory | None = None,
) -> Summary:
    """Restore every document of ``paths``; see the module docstring and :class:`BatchOptions`."""
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
    opts: BatchOptions = BatchOptions(),
    *,
    on_result: Callable[[DocumentResult], None],
    stderr: IO[str] | None = None,
    stdin: IO[Any] | None = None,
    progress: ProgressFactory | None = None,
) -> Summary:
    """Score every document of ``paths``; ``on_result`` gets each result in order
    (status ``spun``/``clean`` with ``report``, or ``skipped``/``failed``)."""
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
