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
3. **drive** the documents through a :class:`~despin.Restorer`, in worker
   processes when ``jobs > 1``, with at most a few chunks in flight (so a
   200 MB JSONL file streams in bounded memory) and results consumed in input
   order (so outputs are deterministic). A file restored to a file of its own
   is written (atomically) by the worker that restored it, so writing runs in
   parallel too; JSONL outputs, stdout and in-place edits are written here.

One bad document never stops the batch: it is reported and counted as
``failed`` or ``skipped`` in the :class:`Summary`, whose counts always add up
(``read == restored + unchanged + skipped + failed`` for restore,
``read == spun + clean + skipped + failed`` for detect). In JSONL mode a bad
line is passed through to the output unchanged, so no line is lost.

The modules, in the order of a run: :mod:`~despin.batch.plan` (options,
discovery, planning), :mod:`~despin.batch.work` (tasks and what became of
each document), :mod:`~despin.batch.pool` (worker processes),
:mod:`~despin.batch.outputs` and :mod:`~despin.batch.files` (writing),
:mod:`~despin.batch.report` (counts and messages), :mod:`~despin.batch.diff`
(word diffs), :mod:`~despin.batch.run` (the entry points).
"""

from __future__ import annotations

from ..errors import UsageError
from .plan import (
    DEFAULT_MAX_SIZE,
    ERROR_POLICIES,
    JSONL_SUFFIXES,
    STDIN_NAME,
    BatchOptions,
    Plan,
    Source,
    Unit,
    discover,
    parse_size,
    plan_detect,
    plan_restore,
)
from .pool import Interrupted
from .report import Progress, ProgressFactory, Reporter, Summary
from .run import run_detect, run_restore
from .work import DocumentResult, Status

__all__ = [
    "DEFAULT_MAX_SIZE",
    "Interrupted",
    "parse_size",
    "ERROR_POLICIES",
    "JSONL_SUFFIXES",
    "STDIN_NAME",
    "BatchOptions",
    "DocumentResult",
    "Plan",
    "Progress",
    "ProgressFactory",
    "Reporter",
    "Source",
    "Status",
    "Summary",
    "Unit",
    "UsageError",
    "discover",
    "plan_detect",
    "plan_restore",
    "run_detect",
    "run_restore",
]
