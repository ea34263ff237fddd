"""Batch runs: processing tasks in order, here or in a pool of worker processes.

Workers get a :class:`~despin.batch.work.Job` once (a Restorer pickles as its
Config, so each worker loads the lexicon once) and then chunks of tasks;
results come back in input order.

Workers die with the run. Leaving the executor on an exception (Ctrl-C,
:class:`Interrupted` by SIGTERM or SIGHUP, a broken stdout) terminates them
and waits for them; and on Linux each worker asks the kernel to kill it when
the main process dies (``PR_SET_PDEATHSIG``), so even a SIGKILL of the main
process leaves no orphan holding its stdout and stderr open.
"""

from __future__ import annotations

import contextlib
import ctypes
import multiprocessing
import os
import signal
import sys
import threading
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from types import FrameType
from typing import Any

from .plan import Plan
from .work import DocTask, DocumentResult, Done, EndOfFile, Job, LineTask, Status, Task, run_task, task_bytes

__all__ = ["CHUNK_BYTES", "CHUNK_ITEMS", "IN_FLIGHT_PER_JOB", "Executor", "Interrupted", "effective_jobs",
           "signals_interrupt"]

# Chunks sent to worker processes: at most this many documents or bytes each,
# and at most IN_FLIGHT_PER_JOB chunks per worker queued or running at once.
CHUNK_ITEMS = 64
CHUNK_BYTES = 256 * 1024
IN_FLIGHT_PER_JOB = 3
_MIN_DOC_WEIGHT = 64 * 1024  # whole files are chunked a few at a time

_worker_job: Job | None = None
_PR_SET_PDEATHSIG = 1  # linux/prctl.h
#: Signals that stop a run the way Ctrl-C does (with :class:`Interrupted`).
STOP_SIGNALS = tuple(getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name))


class Interrupted(KeyboardInterrupt):
    """A run stopped by a signal (SIGTERM, SIGHUP): handled like Ctrl-C, so every
    output written stays complete and ``--resume`` continues."""

    def __init__(self, signum: int):
        super().__init__(f"stopped by {signal.Signals(signum).name}")
        self.signum = signum


@contextlib.contextmanager
def signals_interrupt() -> Iterator[None]:
    """While the block runs, SIGTERM and SIGHUP raise :class:`Interrupted` in
    the main thread (once; further signals are ignored while it unwinds).
    Elsewhere than in the main thread, nothing changes."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    raised = False

    def stop(signum: int, frame: FrameType | None) -> None:
        nonlocal raised
        if not raised:
            raised = True
            raise Interrupted(signum)

    previous = {s: signal.signal(s, stop) for s in STOP_SIGNALS}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


def _die_with_parent(parent: int) -> None:
    """Ask Linux to SIGKILL this process when its parent dies, and exit now if it already has."""
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):  # pragma: no cover - no prctl: the parent's handlers still apply
        return
    if os.getppid() != parent:  # the parent died before the request took effect
        os._exit(1)


def _init_worker(job: Job, parent: int) -> None:
    global _worker_job
    _worker_job = job
    _die_with_parent(parent)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the main process handles Ctrl-C
    for s in STOP_SIGNALS:  # (a forked worker inherits the main process's handlers)
        signal.signal(s, signal.SIG_DFL)


def _run_chunk(chunk: list[Task | EndOfFile]) -> list[DocumentResult]:
    assert _worker_job is not None
    return [_run_any(_worker_job, t) for t in chunk]


def _run_any(job: Job, task: Task | EndOfFile) -> DocumentResult:
    if isinstance(task, EndOfFile):
        return DocumentResult(task.unit, task.display, None, Status.END, abort=task.abort)
    return run_task(job, task)


def _weight(task: Task | EndOfFile) -> int:
    if isinstance(task, DocTask):
        return max(task_bytes(task), _MIN_DOC_WEIGHT)
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
        if self._pool is None:
            return
        pool, self._pool = self._pool, None
        if typ is not None:  # interrupted, or an error: stop the workers now
            self._terminate(pool)
        pool.shutdown(wait=True, cancel_futures=True)

    @staticmethod
    def _terminate(pool: ProcessPoolExecutor) -> None:
        """Kill a pool's worker processes and wait for them (``_processes`` is
        the pool's own table of them; it has no public way to stop them)."""
        procs = list((getattr(pool, "_processes", None) or {}).values())
        for p in procs:
            with contextlib.suppress(OSError, ValueError):
                p.terminate()
        for p in procs:
            with contextlib.suppress(OSError, ValueError, AssertionError):
                p.join(timeout=5)
                if p.is_alive():
                    p.kill()
                    p.join(timeout=5)

    def _start(self) -> None:
        self._pool = ProcessPoolExecutor(self.jobs, mp_context=_mp_context(), initializer=_init_worker,
                                         initargs=(self.job, os.getpid()))
        self._pool.submit(int).result()  # start the workers now (before any other thread exists)

    def _restart(self, generation: int) -> None:
        if generation != self._generation:
            return  # already replaced
        assert self._pool is not None
        self._terminate(self._pool)
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
            return DocumentResult(task.unit, task.display, line, Status.FAILED, task_bytes(task), out=out,
                                  message="the worker process died on it (out of memory?)")


def effective_jobs(plan: Plan, jobs: int) -> int:
    if any(u.source.jsonl for u in plan.units):
        return jobs
    docs = sum(1 for u in plan.units if u.skip is None and u.source.problem is None)
    return max(1, min(jobs, docs))
