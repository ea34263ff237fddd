"""File plumbing for batch runs: atomic writes, backups, stale temporaries.

Every output file is written under a temporary name in its target folder
(``.NAME.despin-tmp.PID.XXXXXX``), flushed and fsynced, and only then renamed
to its final name with :func:`os.replace`. A file under its final name is
therefore always complete; an interrupted run leaves at most temporaries,
which :func:`remove_stale_temps` deletes on the next start (only those whose
process is gone, so a concurrent run is not disturbed).
"""

from __future__ import annotations

import contextlib
import itertools
import os
import re
import shutil
import tempfile
from collections.abc import Iterable
from types import TracebackType

__all__ = [
    "AtomicFile",
    "fsync_dir",
    "is_temp_name",
    "make_backup",
    "remove_stale_temps",
    "temp_prefix",
    "write_atomic",
]

_TEMP_MARK = ".despin-tmp."
_TEMP_RE = re.compile(r"^\..*\.despin-tmp\.(\d+)\.[a-z0-9_]+$")
_MAX_NAME_IN_TEMP = 100  # keep temporary names well under NAME_MAX


# -- temporary files ---------------------------------------------------------------------


def temp_prefix(dest: str, pid: int | None = None) -> str:
    """The prefix of temporary files for ``dest``; the process id tells whose they are."""
    name = os.path.basename(dest)[:_MAX_NAME_IN_TEMP]
    return f".{name}{_TEMP_MARK}{os.getpid() if pid is None else pid}."


def is_temp_name(name: str) -> bool:
    """Whether a file name is one of despin's temporary output files."""
    return _TEMP_RE.match(name) is not None


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


class AtomicFile:
    """A binary file that appears under ``dest`` complete or not at all.

    Write to it, then :meth:`commit` (flush, fsync, rename over ``dest``) or
    :meth:`abort` (delete the temporary). As a context manager it commits on
    success and aborts on an exception.
    """

    def __init__(self, dest: str, mode: int | None = None):
        self.dest = dest
        folder = os.path.dirname(os.path.abspath(dest))
        os.makedirs(folder, exist_ok=True)
        fd, self.temp = tempfile.mkstemp(prefix=temp_prefix(dest), dir=folder)
        self._fh = os.fdopen(fd, "wb")
        self._mode = mode
        self.done = False

    def write(self, data: bytes) -> None:
        self._fh.write(data)

    def commit(self) -> None:
        if self.done:
            return
        try:
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
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.temp)

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


def make_backup(path: str) -> str:
    """Keep the current content of ``path`` as ``path.bak`` and return the backup's name.

    An existing backup is never overwritten: the first free name of
    ``path.bak``, ``path.bak.1``, ``path.bak.2``, ... is used. The backup is a
    hard link when the file system allows it (instant, and the atomic
    replacement of ``path`` leaves it untouched), otherwise a copy.
    """
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
