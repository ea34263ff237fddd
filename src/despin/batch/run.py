"""Batch runs: the entry points :func:`run_restore` and :func:`run_detect`,
which discover, plan, and drive every document through the executor.

While a run drives its documents, SIGTERM and SIGHUP stop it like Ctrl-C
(:class:`~despin.batch.pool.Interrupted`, a KeyboardInterrupt): workers are
terminated, outputs written stay complete, unfinished JSONL outputs are kept
for ``--resume``. A closed stdout (:class:`BrokenPipeError`) stops it too.
"""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from typing import IO, Any

from ..restorer import Restorer
from .outputs import ExplainWriter, Outputs, UnitWriteError, clean_stale_temps, prepare_partials
from .plan import BatchOptions, Plan, discover, plan_detect, plan_restore
from .pool import Executor, effective_jobs, signals_interrupt
from .report import ProgressFactory, Reporter, Summary
from .work import DocumentResult, Job, Status, tasks_of

__all__ = ["run_detect", "run_restore"]


@contextlib.contextmanager
def _reporter(opts: BatchOptions, stderr: IO[str] | None) -> Iterator[Reporter]:
    """The run's reporter, with the ``--problems`` file open (it lists every
    problem, also when the run is interrupted)."""
    stream = stderr if stderr is not None else sys.stderr
    if not opts.problems:
        yield Reporter(stream)
        return
    try:
        problems = open(opts.problems, "w", encoding="utf-8")  # (closed below)
    except OSError as exc:
        from ..errors import UsageError

        raise UsageError(f"cannot write the problems to {opts.problems}: {exc.strerror}") from None
    try:
        yield Reporter(stream, problems=problems)
    finally:
        problems.close()


def _drive(plan: Plan, job: Job, opts: BatchOptions, handle: Callable[[DocumentResult], DocumentResult | None],
           reporter: Reporter, stdin: IO[bytes], progress: ProgressFactory | None) -> Summary:
    """Run every unit of the plan, hand results to ``handle`` in order, and count them."""
    summary = Summary()
    start = time.perf_counter()
    with signals_interrupt(), Executor(job, effective_jobs(plan, opts.jobs)) as executor:
        bar = progress(plan.input_bytes) if progress is not None else None  # after forking workers
        try:
            for res in executor.map(tasks_of(plan, stdin, opts.size_limit)):
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
    """Load (and so check) the lexicon and model, and build their indexes, before
    any document and before forking workers (which then share them)."""
    restorer.prepare(detect_only=detect)  # loading raises LexiconError early


def _stdin_bytes(stdin: IO[Any] | None) -> IO[bytes]:
    stream: Any = stdin if stdin is not None else sys.stdin
    buffer: IO[bytes] = getattr(stream, "buffer", stream)
    return buffer


def run_restore(
    paths: Sequence[str],
    restorer: Restorer,
    opts: BatchOptions | None = None,
    *,
    stdout: IO[str] | None = None,
    stderr: IO[str] | None = None,
    stdin: IO[Any] | None = None,
    progress: ProgressFactory | None = None,
) -> Summary:
    """Restore every document of ``paths``; see the module docstring and :class:`BatchOptions`."""
    opts = opts if opts is not None else BatchOptions()
    stdout = stdout if stdout is not None else sys.stdout
    plan = plan_restore(paths, discover(paths, opts), opts)
    _prepare(restorer, detect=False)
    with _reporter(opts, stderr) as reporter:
        return _restore(plan, restorer, opts, stdout, reporter, _stdin_bytes(stdin), progress)


def _restore(plan: Plan, restorer: Restorer, opts: BatchOptions, stdout: IO[str], reporter: Reporter,
             stdin: IO[bytes], progress: ProgressFactory | None) -> Summary:
    if plan.writes_files:
        prepare_partials(plan, opts, reporter)
        clean_stale_temps(plan, opts, reporter)
    job = Job(restorer, detect=False, field=opts.field, errors=opts.errors, edits=bool(opts.explain),
              diff=opts.diff, color=opts.color, keep_unchanged=plan.mode not in ("in-place", "preview"),
              max_size=opts.size_limit)
    outputs = Outputs(plan, stdout)
    explain = ExplainWriter(opts.explain, stdout) if opts.explain else None

    def handle(res: DocumentResult) -> DocumentResult | None:
        if res.status == Status.END:
            try:
                outputs.end(res)
            except UnitWriteError as exc:
                reporter.problem(res.display, res.display, Status.FAILED, str(exc))
                return DocumentResult(res.unit, res.display, None, Status.FAILED, message=None)
            return None
        res = outputs.accept(res)
        if explain is not None:
            explain.write(res)
        if res.diff:
            stdout.write(res.diff)
        return res

    completed = False
    try:
        summary = _drive(plan, job, opts, handle, reporter, stdin, progress)
        completed = True
    finally:
        try:
            kept = outputs.close(completed)
        finally:
            if explain is not None:
                explain.close(completed)
        for partial in kept:
            reporter.note(f"kept the unfinished output as {partial}; --resume continues it")
    return summary


def run_detect(
    paths: Sequence[str],
    restorer: Restorer,
    opts: BatchOptions | None = None,
    *,
    on_result: Callable[[DocumentResult], None],
    stderr: IO[str] | None = None,
    stdin: IO[Any] | None = None,
    progress: ProgressFactory | None = None,
) -> Summary:
    """Score every document of ``paths``; ``on_result`` gets each result in order
    (status ``spun``/``clean`` with ``report``, or ``skipped``/``failed``)."""
    opts = opts if opts is not None else BatchOptions()
    plan = plan_detect(discover(paths, opts), opts)
    _prepare(restorer, detect=True)
    job = Job(restorer, detect=True, field=opts.field, errors=opts.errors, keep_unchanged=False,
              max_size=opts.size_limit)

    def handle(res: DocumentResult) -> DocumentResult | None:
        if res.status == Status.END:
            return None
        if res.message is not None or res.status in (Status.SPUN, Status.CLEAN):
            on_result(res)  # blank JSONL lines (no message) get no row
        return res

    with _reporter(opts, stderr) as reporter:
        return _drive(plan, job, opts, handle, reporter, _stdin_bytes(stdin), progress)
