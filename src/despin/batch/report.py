"""Batch runs: what the user is told. The :class:`Summary` counts of a run,
problems on stderr (:class:`Reporter`), and the progress bar's interface."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import IO, Any, Protocol

from .work import DocumentResult, Status

__all__ = ["MESSAGES_PER_SOURCE", "Progress", "ProgressFactory", "Reporter", "Summary"]

MESSAGES_PER_SOURCE = 20  # problems shown per file before the rest are only counted


def _outcome(status: str) -> property:
    """The count of documents with this status, as a read-only attribute."""
    return property(lambda self: self.outcomes[status], doc=f"documents {status}")


@dataclass
class Summary:
    """Counts of a run: ``read`` is the sum of the outcome counts (``restored``,
    ``unchanged``, ``spun``, ``clean``, ``skipped``, ``failed``)."""

    read: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)  # status -> documents
    resumed: int = 0  # among skipped: output already there
    edits: int = 0
    bytes: int = 0
    seconds: float = 0.0

    def add(self, res: DocumentResult) -> None:
        if res.status not in Status.OUTCOMES:
            raise ValueError(f"not an outcome: {res.status!r}")
        self.read += 1
        self.outcomes[res.status] += 1
        self.resumed += res.resumed
        self.edits += res.n_edits
        self.bytes += res.nbytes

    restored = _outcome(Status.RESTORED)
    unchanged = _outcome(Status.UNCHANGED)
    spun = _outcome(Status.SPUN)
    clean = _outcome(Status.CLEAN)
    skipped = _outcome(Status.SKIPPED)
    failed = _outcome(Status.FAILED)

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
        if res.message and res.status in (Status.SKIPPED, Status.FAILED):
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
