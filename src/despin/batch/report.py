"""Batch runs: what the user is told. The :class:`Summary` counts of a run,
problems on stderr (:class:`Reporter`), and the progress bar's interface."""

from __future__ import annotations

import json
import unicodedata
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import IO, Any, Protocol

from .work import DocumentResult, Status

__all__ = ["MESSAGES_PER_SOURCE", "Progress", "ProgressFactory", "Reporter", "Summary", "printable"]

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
        self.read += res.count
        self.outcomes[res.status] += res.count
        self.resumed += res.count if res.resumed else 0
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


def printable(text: str) -> str:
    """``text`` safe to show on a terminal: control and format characters
    (escape sequences, bidirectional overrides) and undecodable bytes of a
    file name are written as ``\\xNN``/``\\uNNNN`` escapes, as are backslashes."""
    if text.isprintable() and "\\" not in text:
        return text
    return "".join(_escape(ch) for ch in text)


def _escape(ch: str) -> str:
    if ch == "\\":
        return "\\\\"
    if ch.isprintable() or ch == " ":
        return ch
    if unicodedata.category(ch) in ("Zs",):  # other spaces: shown as they are
        return ch
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


class Reporter:
    """Problems on stderr as ``despin: PATH[:LINE]: KIND: message``, a few per
    file (names escaped with :func:`printable`); with ``problems``, every
    problem also as a JSON line in that file."""

    def __init__(self, stream: IO[str], per_source: int = MESSAGES_PER_SOURCE, problems: IO[str] | None = None):
        self.stream = stream
        self.per_source = per_source
        self.problems = problems
        self._shown: Counter[str] = Counter()
        self._hidden: Counter[str] = Counter()

    def problem(self, display: str, where: str, kind: str, message: str, res: DocumentResult | None = None) -> None:
        if self.problems is not None:
            record = {"path": display, "line": res.line if res is not None else None,
                      "id": res.doc_id if res is not None else None, "kind": kind, "message": message}
            self.problems.write(json.dumps(record, ensure_ascii=True) + "\n")
        if self._shown[display] >= self.per_source:
            self._hidden[display] += 1
            return
        self._shown[display] += 1
        print(f"despin: {printable(where)}: {kind}: {printable(message)}", file=self.stream)

    def result(self, res: DocumentResult) -> None:
        if res.warning:
            self.problem(res.display, res.where, "warning", res.warning, res)
        if res.message and res.status in (Status.SKIPPED, Status.FAILED):
            self.problem(res.display, res.where, res.status, res.message, res)

    def note(self, message: str) -> None:
        print(f"despin: {printable(message)}", file=self.stream)

    def close(self) -> None:
        where = "listed in the --problems file" if self.problems is not None else "--problems FILE lists them all"
        for display, n in self._hidden.items():
            self.note(f"{display}: {n} more problem(s) not shown ({where})")


class Progress(Protocol):
    def update(self, n: int) -> Any: ...

    def close(self) -> Any: ...


ProgressFactory = Callable[[int], Progress]
