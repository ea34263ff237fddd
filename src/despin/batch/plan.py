"""Batch runs, steps 1 and 2: find the documents, and decide where each output goes.

Planning happens before anything is written, so that a run which would write
over an input (or into an input folder) is refused as a whole with
:class:`UsageError`.
"""

from __future__ import annotations

import fnmatch
import os
import stat
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from ..errors import UsageError
from .files import backup_of, is_partial_name, is_temp_name, latest_backup, same_bytes

__all__ = [
    "ERROR_POLICIES",
    "BatchOptions",
    "UsageError",
    "Source",
    "Unit",
    "Plan",
    "discover",
    "plan_restore",
    "plan_detect",
    "STDIN_NAME",
    "JSONL_SUFFIXES",
    "DEFAULT_MAX_SIZE",
    "parse_size",
]
# (UsageError, raised here, is in despin.errors with every public exception.)

#: How invalid UTF-8 is handled: ``strict`` fails the document, ``replace``
#: puts U+FFFD for each bad byte, ``ignore`` drops bad bytes (both with a warning).
ERROR_POLICIES = ("strict", "replace", "ignore")

STDIN_NAME = "<stdin>"
JSONL_SUFFIXES = (".jsonl", ".ndjson")

#: The largest document (a file, stdin, or one JSONL line) restored or
#: detected by default, in bytes. Restoring holds the whole text and needs
#: about 1.5 KB of memory per edit besides (tokens, candidates, scores,
#: edits): 10 to 50 times a clean or lightly spun text's size, about 100
#: times densely spun news, up to 300 times a text made only of spintax
#: ("{a b}{a b}..."). At 1 MiB every document stays under 500 MB (measured:
#: 380 MB at most); larger ones fail with a message (``--max-size``).
DEFAULT_MAX_SIZE = 1024 * 1024
_SIZE_UNITS = {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3}


def parse_size(value: str) -> int:
    """A size such as ``4M``, ``500K``, ``1G`` or ``12345`` (bytes) as bytes; 0 means no limit."""
    text = value.strip().upper().removesuffix("B").removesuffix("I")
    unit = text[-1] if text and text[-1] in "KMG" else ""
    number = text[: len(text) - len(unit)]
    try:
        size = float(number) * _SIZE_UNITS[unit]
    except ValueError:
        raise UsageError(f"not a size: {value!r} (give bytes, or a number with K, M or G)") from None
    if not 0 <= size < 2**63:
        raise UsageError(f"not a size: {value!r}")
    return int(size)


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
        A JSONL file to write every edit to (``-``: stdout).
    diff, color
        Write a word diff of each restored document to stdout (with ANSI colours).
    jobs
        Worker processes; 1 runs everything in this process.
    max_size
        The largest document (file, stdin, or JSONL line) read, in bytes;
        larger ones fail with a message (a JSONL line is then copied to the
        output unchanged). None or 0: no limit.
    problems
        A JSONL file to write every problem to (stderr shows the first
        :data:`~despin.batch.report.MESSAGES_PER_SOURCE` of each file).
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
    max_size: int | None = DEFAULT_MAX_SIZE
    problems: str | None = None

    def __post_init__(self) -> None:
        if self.errors not in ERROR_POLICIES:
            raise UsageError(f"errors must be one of {', '.join(ERROR_POLICIES)}, not {self.errors!r}")
        if not isinstance(self.jobs, int) or self.jobs < 1:
            raise UsageError(f"jobs must be a whole number >= 1, not {self.jobs!r}")
        if not self.field:
            raise UsageError("the JSONL field name is empty")
        if self.max_size is not None and (not isinstance(self.max_size, int) or self.max_size < 0):
            raise UsageError(f"max_size must be a number of bytes >= 0, not {self.max_size!r}")

    @property
    def size_limit(self) -> int | None:
        """The largest document in bytes, or None for no limit."""
        return self.max_size or None


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
    regular: bool = True  # a regular file (not a pipe, device or stdin)


def discover(paths: Sequence[str], opts: BatchOptions) -> list[Source]:
    """The documents named by ``paths``, in order (folders sorted, depth first).

    A path named on the command line that does not exist (or cannot be
    looked at) is a usage error: nothing is done. Files found in folders
    that cannot be read are reported and counted instead. With ``in_place``,
    the backups an earlier run made (``FILE.bak``, ``FILE.bak.N`` beside
    ``FILE``) are not documents of the run."""
    sources: list[Source] = []
    for path in paths:
        if path == "-":
            sources.append(Source("-", STDIN_NAME, opts.jsonl, size=0))
            continue
        try:
            st = os.stat(path)
        except OSError as exc:
            what = "no such file or folder" if isinstance(exc, FileNotFoundError) else f"cannot read: {exc.strerror}"
            raise UsageError(f"{path}: {what}; nothing done") from None
        if stat.S_ISDIR(st.st_mode):
            sources.extend(_walk_folder(path, "", opts))
            continue
        if opts.in_place and (original := backup_of(path)) is not None:
            raise UsageError(f"refusing to restore {path} in place: it is the backup of {original}")
        # named directly: read it even if it is a pipe (e.g. <(command))
        sources.append(Source(path, path, _is_jsonl(path, opts), size=st.st_size, regular=stat.S_ISREG(st.st_mode)))
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
        if is_temp_name(entry.name) or is_partial_name(entry.name) or _matches(child, entry.name, opts.exclude):
            continue
        if opts.in_place and backup_of(entry.path) is not None:
            continue  # a backup of an earlier in-place run: never restored over
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
    backup: str | None = None  # in place: the newest backup, if this file may be that backup restored
    partial: str | None = None  # JSONL: the partial output of an interrupted run, continued (--resume)
    done_lines: int = 0  # JSONL: the lines that partial output holds


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


def plan_detect(sources: Sequence[Source], opts: BatchOptions | None = None) -> Plan:
    """Every source, read for a report; refuses a ``--problems`` file that is an input."""
    units = [Unit(i, s, None) for i, s in enumerate(sources)]
    if opts is not None and opts.problems:
        problem = _Inputs(units, [s.path for s in sources]).what(opts.problems)
        if problem:
            raise UsageError(f"refusing to write the problems to {opts.problems}: it is {problem}")
    return Plan(units, "report")


def plan_restore(paths: Sequence[str], sources: Sequence[Source], opts: BatchOptions) -> Plan:
    """Decide every output path; raise :class:`UsageError` rather than overwrite an input."""
    _check_combination(paths, opts)
    mode = _output_mode(paths, opts)
    units = [Unit(i, s, _dest(s, mode, opts) if s.problem is None else None) for i, s in enumerate(sources)]
    _skip_duplicates(units)
    _refuse_to_overwrite_inputs(units, paths, opts, mode)
    if mode == "in-place":
        _plan_in_place(units, opts)
    elif opts.resume:
        for u in units:
            if u.dest is not None and u.skip is None and os.path.exists(u.dest):
                u.skip, u.resumed = "output exists (--resume)", True
    return Plan(units, mode)


def _plan_in_place(units: list[Unit], opts: BatchOptions) -> None:
    """Files restored in place by an earlier run are left alone.

    Such a file has a backup (``FILE.bak``, or the newest ``FILE.bak.N``)
    that differs from it. With ``--resume`` that is enough to skip it;
    otherwise its worker checks that the file is its backup restored
    (:attr:`Unit.backup`) before restoring it again. A backup equal to the
    file is what a run stopped between backing up and replacing leaves: the
    file is restored, and that backup kept."""
    for u in units:
        if u.dest is None or u.skip is not None:
            continue
        if not u.source.regular:
            u.skip = "not a regular file (cannot be restored in place)"
            continue
        backup = latest_backup(u.dest)
        if backup is None or same_bytes(backup, u.dest):
            continue
        if opts.resume:
            u.skip, u.resumed = f"already restored in place ({os.path.basename(backup)} holds the original)", True
        elif not u.source.jsonl:
            u.backup = backup


def _check_combination(paths: Sequence[str], opts: BatchOptions) -> None:
    if opts.in_place and opts.output:
        raise UsageError("--in-place and -o cannot be combined")
    if opts.in_place and "-" in paths:
        raise UsageError("--in-place cannot restore stdin")
    if "-" in paths and len(paths) > 1:
        raise UsageError("- (stdin) cannot be combined with other inputs")
    if opts.resume and not (opts.output or opts.in_place):
        raise UsageError("--resume needs -o or --in-place (it skips outputs that already exist)")
    if opts.output == "-" and opts.resume:
        raise UsageError("--resume cannot continue output to stdout (-o -)")
    if opts.explain == "-" and (opts.output in (None, "-") and not opts.in_place or opts.diff):
        raise UsageError("--explain - needs the restored text elsewhere (-o FILE, or --in-place) and no --diff")


def _output_mode(paths: Sequence[str], opts: BatchOptions) -> str:
    single_doc = len(paths) == 1 and not os.path.isdir(paths[0])
    if opts.in_place:
        return "in-place"
    if opts.output == "-":
        if not single_doc:
            raise UsageError("-o - writes one document to stdout; give -o FOLDER for several")
        return "stdout"
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


_HINT = "write the outputs elsewhere with -o, or use --in-place (keeps FILE.bak)"


def _refuse_to_overwrite_inputs(units: list[Unit], paths: Sequence[str], opts: BatchOptions, mode: str) -> None:
    inputs = _Inputs(units, paths)
    if mode == "folder" and opts.output is not None:
        problem = inputs.what(opts.output)
        if problem:
            raise UsageError(f"refusing to write into {opts.output}: it is {problem}; {_HINT}")
    if mode != "in-place":
        for u in units:
            if u.dest is not None and (problem := inputs.what(u.dest)):
                raise UsageError(f"refusing to overwrite {u.dest}: it is {problem}; {_HINT}")
    dests = {os.path.realpath(u.dest) for u in units if u.dest is not None}
    for what, path in (("the edits", opts.explain), ("the problems", opts.problems)):
        if not path or path == "-":
            continue
        problem = inputs.what(path)
        if problem is None and os.path.realpath(path) in dests and not _device(path):
            problem = "an output file"
        if problem:
            raise UsageError(f"refusing to write {what} to {path}: it is {problem}")
    if opts.explain and opts.explain != "-" and opts.problems and not _device(opts.explain) \
            and os.path.realpath(opts.explain) == os.path.realpath(opts.problems):
        raise UsageError("--explain and --problems name the same file")


class _Inputs:
    """The input files (by path and by inode) and folders of a run."""

    def __init__(self, units: list[Unit], paths: Sequence[str]):
        self.files = {os.path.realpath(u.source.path) for u in units if u.source.path != "-"}
        self.inodes = {_inode(u.source.path) for u in units if u.source.path != "-"} - {None}
        self.folders = {os.path.realpath(p) for p in paths if p != "-" and os.path.isdir(p)}

    def what(self, path: str) -> str | None:
        """What writing to ``path`` would overwrite, or None if nothing of the input."""
        real = os.path.realpath(path)
        if real in self.files or _inode(path) in self.inodes:
            return "an input file"
        if real in self.folders:
            return "an input folder"
        inside = _inside(real, self.folders)
        return f"inside the input folder {inside}" if inside else None


def _device(path: str) -> bool:
    """Whether ``path`` exists and is not a regular file or folder (a device, a FIFO): written through."""
    try:
        st = os.stat(path)
    except OSError:
        return False
    return not stat.S_ISREG(st.st_mode) and not stat.S_ISDIR(st.st_mode)


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
