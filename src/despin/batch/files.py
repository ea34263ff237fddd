"""File plumbing for batch runs: atomic writes, backups, stale temporaries,
partial outputs.

Every output file is written under a temporary name in its target folder
(``.NAME.despin-tmp.PID.XXXXXX``), flushed and fsynced, and only then renamed
to its final name with :func:`os.replace`. A file under its final name is
therefore always complete; an interrupted run leaves at most temporaries,
which :func:`remove_stale_temps` deletes on the next start (only those whose
process is gone, so a concurrent run is not disturbed).

What an output path points at decides how it is written
(:func:`output_target`): a symbolic link is followed (its target is written
atomically, the link stays); anything that is not a regular file (a device
such as ``/dev/null``, a FIFO) is written through, never replaced.

A JSONL output interrupted mid-way is kept as ``.NAME.despin-partial``
(:meth:`AtomicFile.keep_partial`; after a SIGKILL its temporary is adopted
instead, :func:`adopt_stale_temp`), so that ``--resume`` continues it after
its last complete line (:func:`complete_lines`).
"""

from __future__ import annotations

import contextlib
import itertools
import os
import re
import shutil
import stat
import tempfile
from collections.abc import Iterable
from types import TracebackType

__all__ = [
    "AtomicFile",
    "adopt_stale_temp",
    "backup_of",
    "complete_lines",
    "fsync_dir",
    "is_partial_name",
    "is_temp_name",
    "latest_backup",
    "make_backup",
    "output_target",
    "partial_path",
    "remove_stale_temps",
    "temp_prefix",
    "write_atomic",
]

_TEMP_MARK = ".despin-tmp."
_TEMP_RE = re.compile(r"^\..*\.despin-tmp\.(\d+)\.[a-z0-9_]+$")
_PARTIAL_MARK = ".despin-partial"
_BACKUP_RE = re.compile(r"^(.+)\.bak(?:\.(\d+))?$")
_COPY_CHUNK = 1 << 20
_MAX_NAME_IN_TEMP = 100  # keep temporary names well under NAME_MAX


# -- temporary files ---------------------------------------------------------------------


def temp_prefix(dest: str, pid: int | None = None) -> str:
    """The prefix of temporary files for ``dest``; the process id tells whose they are."""
    name = os.path.basename(dest)[:_MAX_NAME_IN_TEMP]
    return f".{name}{_TEMP_MARK}{os.getpid() if pid is None else pid}."


def is_temp_name(name: str) -> bool:
    """Whether a file name is one of despin's temporary output files."""
    return _TEMP_RE.match(name) is not None


def partial_path(dest: str) -> str:
    """Where an interrupted JSONL output for ``dest`` is kept (next to its target)."""
    target = output_target(dest)[0]
    name = os.path.basename(target)[:_MAX_NAME_IN_TEMP]
    return os.path.join(os.path.dirname(os.path.abspath(target)), f".{name}{_PARTIAL_MARK}")


def is_partial_name(name: str) -> bool:
    """Whether a file name is a kept partial output (:func:`partial_path`)."""
    return name.startswith(".") and name.endswith(_PARTIAL_MARK)


def _temp_owner(name: str) -> int | None:
    m = _TEMP_RE.match(name)
    return int(m.group(1)) if m else None


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    except (OverflowError, OSError):
        return False
    return True


def remove_stale_temps(folders: Iterable[str]) -> tuple[list[str], list[str]]:
    """Delete despin temporaries left in ``folders`` by processes that are gone.

    Returns the paths removed and messages for those that could not be removed.
    """
    removed: list[str] = []
    problems: list[str] = []
    for folder in folders:
        try:
            with os.scandir(folder) as it:
                entries = [e for e in it if is_temp_name(e.name)]
        except FileNotFoundError:
            continue
        except OSError as exc:
            problems.append(f"{folder}: cannot look for stale temporary files: {exc.strerror}")
            continue
        for e in entries:
            owner = _temp_owner(e.name)
            if owner is None or _pid_alive(owner) or not e.is_file(follow_symlinks=False):
                continue
            try:
                os.unlink(e.path)
                removed.append(e.path)
            except FileNotFoundError:
                pass
            except OSError as exc:
                problems.append(f"{e.path}: cannot remove stale temporary file: {exc.strerror}")
    return removed, problems


_umask: int | None = None


def _new_file_mode() -> int:
    """The mode an ordinary ``open(..., "w")`` would give a new file."""
    global _umask
    if _umask is None:
        _umask = os.umask(0o022)
        os.umask(_umask)
    return 0o666 & ~_umask


def output_target(dest: str) -> tuple[str, bool]:
    """The file to write for the output path ``dest``, and whether to write
    through it rather than replace it.

    A symbolic link is followed (its final target is what gets written, and
    the link stays a link). A path that exists and is not a regular file (a
    device, a FIFO, a socket) is written through: opened and written like
    ``cat > PATH`` would, never replaced by a regular file."""
    target = os.path.realpath(dest) if os.path.islink(dest) else dest
    try:
        st = os.stat(target)
    except FileNotFoundError:
        return target, False
    return target, not stat.S_ISREG(st.st_mode)


class AtomicFile:
    """A binary file that appears under ``dest`` complete or not at all.

    Write to it, then :meth:`commit` (flush, fsync, rename over ``dest``) or
    :meth:`abort` (delete the temporary). As a context manager it commits on
    success and aborts on an exception.

    ``dest`` is resolved by :func:`output_target`: through a symbolic link to
    its target, and a device or FIFO is written through directly (commit
    then only flushes; nothing can be taken back on abort). ``resume_from``
    names a kept partial output to continue: it becomes this file's
    temporary, and writes append to it.
    """

    def __init__(self, dest: str, mode: int | None = None, resume_from: str | None = None):
        self.dest, self.direct = output_target(dest)
        self._mode = mode
        self.done = False
        self.temp: str | None = None
        if self.direct:
            self._fh = open(self.dest, "wb")  # (closed in commit or abort)
            return
        folder = os.path.dirname(os.path.abspath(self.dest))
        if self.dest == dest:  # (the folder of a symbolic link's target is not made)
            os.makedirs(folder, exist_ok=True)
        fd, self.temp = tempfile.mkstemp(prefix=temp_prefix(self.dest), dir=folder)
        if resume_from is not None:
            os.close(fd)
            os.replace(resume_from, self.temp)  # now ours (named with our pid)
            fd = os.open(self.temp, os.O_WRONLY | os.O_APPEND)
        self._fh = os.fdopen(fd, "wb")

    def write(self, data: bytes) -> None:
        self._fh.write(data)

    def copy_from(self, path: str, start: int, end: int) -> None:
        """Append bytes ``start`` to ``end`` of the file ``path``, a megabyte at a time."""
        with open(path, "rb") as src:
            src.seek(start)
            left = end - start
            while left > 0:
                chunk = src.read(min(left, _COPY_CHUNK))
                if not chunk:
                    raise OSError(f"{path} ended before byte {end}")
                self._fh.write(chunk)
                left -= len(chunk)

    def commit(self) -> None:
        if self.done:
            return
        try:
            if self.direct:
                self._fh.close()
            else:
                assert self.temp is not None
                self._fh.flush()
                os.fsync(self._fh.fileno())
                os.fchmod(self._fh.fileno(), _new_file_mode() if self._mode is None else self._mode)
                self._fh.close()
                os.replace(self.temp, self.dest)
        except BaseException:
            self.abort()
            raise
        self.done = True

    def abort(self) -> None:
        if self.done:
            return
        self.done = True
        with contextlib.suppress(OSError):
            self._fh.close()
        if self.temp is not None:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.temp)

    def keep_partial(self) -> str | None:
        """Keep what was written so far as the partial output of ``dest`` (for
        ``--resume``); its path, or None if nothing could be kept."""
        if self.done or self.temp is None:
            self.abort()
            return None
        partial = partial_path(self.dest)
        try:
            self._fh.flush()
            os.fsync(self._fh.fileno())
            self._fh.close()
            os.replace(self.temp, partial)
        except OSError:
            self.abort()
            return None
        self.done = True
        return partial

    def __enter__(self) -> AtomicFile:
        return self

    def __exit__(self, typ: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if typ is None:
            self.commit()
        else:
            self.abort()


def write_atomic(dest: str, data: bytes, mode: int | None = None) -> None:
    """Write ``data`` to ``dest`` atomically (see :class:`AtomicFile`)."""
    with AtomicFile(dest, mode) as f:
        f.write(data)


def complete_lines(path: str) -> tuple[int, int]:
    """The number of complete lines (ending in a newline) at the start of the
    file ``path`` and their length in bytes; the file is cut after them (an
    incomplete last line is dropped)."""
    lines = size = 0
    with open(path, "r+b") as fh:
        while True:
            chunk = fh.read(_COPY_CHUNK)
            if not chunk:
                break
            n = chunk.count(b"\n")
            if n:
                lines += n
                size = fh.tell() - len(chunk) + chunk.rindex(b"\n") + 1
        fh.truncate(size)
    return lines, size


def adopt_stale_temp(dest: str) -> str | None:
    """After a run was killed (SIGKILL) while writing ``dest``, its temporary
    is left behind: keep the newest such temporary of a process that is gone
    as ``dest``'s partial output (:func:`partial_path`), unless one is kept
    already. Returns the partial's path, or None."""
    target = output_target(dest)[0]
    partial = partial_path(target)
    if os.path.lexists(partial):
        return partial
    folder = os.path.dirname(os.path.abspath(target))
    prefix = f".{os.path.basename(target)[:_MAX_NAME_IN_TEMP]}{_TEMP_MARK}"
    try:
        with os.scandir(folder) as it:
            stale = [e for e in it if e.name.startswith(prefix) and is_temp_name(e.name)
                     and not _pid_alive(_temp_owner(e.name) or 0) and e.is_file(follow_symlinks=False)]
    except OSError:
        return None
    if not stale:
        return None
    newest = max(stale, key=lambda e: e.stat(follow_symlinks=False).st_mtime_ns)
    try:
        os.replace(newest.path, partial)
    except OSError:
        return None
    return partial


def fsync_dir(folder: str) -> None:
    """Make renames in ``folder`` durable (best effort: not every system allows it)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def backup_of(path: str) -> str | None:
    """The file that ``path`` is a backup of (``FILE`` for ``FILE.bak`` or
    ``FILE.bak.N``) if that file exists beside it; else None."""
    m = _BACKUP_RE.match(os.path.basename(path))
    if m is None:
        return None
    original = os.path.join(os.path.dirname(path), m.group(1))
    return original if os.path.isfile(original) else None


def latest_backup(path: str) -> str | None:
    """The newest backup :func:`make_backup` made of ``path`` (``path.bak`` or
    the highest ``path.bak.N``), or None."""
    latest = None
    for n in itertools.count():
        backup = f"{path}.bak" if n == 0 else f"{path}.bak.{n}"
        if not os.path.lexists(backup):
            return latest
        latest = backup
    raise AssertionError("unreachable")  # pragma: no cover


def same_bytes(a: str, b: str) -> bool:
    """Whether two files hold the same bytes (read a megabyte at a time)."""
    try:
        if os.path.getsize(a) != os.path.getsize(b):
            return False
        with open(a, "rb") as fa, open(b, "rb") as fb:
            while True:
                x, y = fa.read(_COPY_CHUNK), fb.read(_COPY_CHUNK)
                if x != y:
                    return False
                if not x:
                    return True
    except OSError:
        return False


def make_backup(path: str) -> str:
    """Keep the current content of ``path`` as ``path.bak`` and return the backup's name.

    An existing backup is never overwritten: the first free name of
    ``path.bak``, ``path.bak.1``, ``path.bak.2``, ... is used, unless the
    newest backup already holds exactly the current content (a run stopped
    between making the backup and replacing the file), which is then kept as
    the backup. The backup is a hard link when the file system allows it
    (instant, and the atomic replacement of ``path`` leaves it untouched),
    otherwise a copy.
    """
    latest = latest_backup(path)
    if latest is not None and same_bytes(latest, path):
        return latest
    for n in itertools.count():
        backup = f"{path}.bak" if n == 0 else f"{path}.bak.{n}"
        try:
            os.link(path, backup)
            return backup
        except FileExistsError:
            continue
        except OSError:
            pass  # no hard links here: copy
        try:
            _copy_exclusive(path, backup)
            return backup
        except FileExistsError:
            continue
    raise AssertionError("unreachable")  # pragma: no cover


def _copy_exclusive(src: str, dest: str) -> None:
    with open(src, "rb") as fin, open(dest, "xb") as fout:
        shutil.copyfileobj(fin, fout)
        fout.flush()
        os.fsync(fout.fileno())
    shutil.copystat(src, dest)
