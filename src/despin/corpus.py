"""One reader for corpora: plain-text files and JSON Lines, for ``despin eval``,
``despin build-model`` and the tools.

A plain-text file is one document. A JSONL file (``*.jsonl``, ``*.ndjson``,
``*.jsonl.gz``) holds one document per line, a JSON object with the text in
a field (``text`` by default) and, optionally, an ``id``. Gzipped files are
read as they are; folders are read recursively, in sorted order, hidden files
left out. A byte-order mark at the start of a file is dropped; a binary file
(one holding a NUL byte) is skipped and counted, or refused with ``strict``.

(The batch commands, ``despin restore`` and ``detect``, read JSONL their own
way: they must write every record back, byte for byte where unchanged.)
"""

from __future__ import annotations

import gzip
import io
import json
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import IO, Any, Protocol

from .errors import DespinError

__all__ = ["JSONL_SUFFIXES", "Document", "Tally", "read_corpus", "read_ids"]

JSONL_SUFFIXES = (".jsonl", ".jsonl.gz", ".ndjson")


@dataclass(frozen=True)
class Document:
    """One text of a corpus: its ``id`` (a JSONL record's ``id``, else its line
    number; a plain file's name) and its ``text``."""

    id: str
    text: str


class Tally(Protocol):
    """Where :func:`read_corpus` counts the documents it reads and skips (and
    names the files it skips)."""

    documents: int
    skipped: int
    skipped_files: list[str]


def read_corpus(
    paths: Iterable[str],
    field: str = "text",
    exclude_ids: set[str] | None = None,
    tally: Tally | None = None,
    strict: bool = False,
) -> Iterator[Document]:
    """The documents of ``paths`` (files or folders), in order.

    Documents whose id is in ``exclude_ids`` are skipped. With ``strict``, a
    JSONL line that is not an object with a string ``field`` (or invalid
    UTF-8) raises :class:`~despin.errors.DespinError` naming ``file:line``;
    without it, the line is skipped and counted in ``tally`` (bad bytes are
    replaced).
    """
    for path in paths:
        if os.path.isdir(path):
            yield from read_corpus(_files_in(path), field, exclude_ids, tally, strict)
            continue
        try:
            fh = _open_text(path, "strict" if strict else "replace")
        except OSError as exc:
            raise DespinError(f"{path}: cannot read ({exc.strerror})") from None
        with fh:
            try:
                if path.endswith(JSONL_SUFFIXES):
                    yield from _jsonl_documents(fh, path, field, exclude_ids, tally, strict)
                else:
                    text = fh.read()
                    if "\0" in text:
                        if strict:
                            raise DespinError(f"{path}: a binary file (it holds a NUL byte), not text")
                        if tally is not None:
                            tally.skipped += 1
                            tally.skipped_files.append(f"{path}: binary file (it holds a NUL byte)")
                        continue
                    if tally is not None:
                        tally.documents += 1
                    yield Document(os.path.basename(path), text)
            except UnicodeDecodeError as exc:
                raise DespinError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None


def read_ids(path: str) -> set[str]:
    """The ids listed in a file: the ``id`` of each JSONL record, or each
    non-blank line as it stands where a line is not such a record."""
    ids: set[str] = set()
    with open(path, encoding="utf-8-sig") as fh:
        for line in fh:
            if line.strip():
                try:
                    ids.add(str(json.loads(line)["id"]))
                except (ValueError, KeyError, TypeError):
                    ids.add(line.strip())
    return ids


def _files_in(folder: str) -> list[str]:
    return sorted(os.path.join(d, f) for d, _, fs in os.walk(folder) for f in fs if not f.startswith("."))


def _open_text(path: str, errors: str) -> IO[str]:
    if path.endswith(".gz"):
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8-sig", errors=errors)
    return open(path, encoding="utf-8-sig", errors=errors)


def _jsonl_documents(
    fh: IO[str], path: str, field: str, exclude_ids: set[str] | None, tally: Tally | None, strict: bool
) -> Iterator[Document]:
    for lineno, line in enumerate(fh, 1):
        if not line.strip():
            continue
        obj = _record(line, field)
        if obj is None:
            if strict:
                raise DespinError(f"{path}:{lineno}: not a JSON object with a string field {field!r}")
            if tally is not None:
                tally.skipped += 1
            continue
        if exclude_ids and str(obj.get("id")) in exclude_ids:
            if tally is not None:
                tally.skipped += 1
            continue
        if tally is not None:
            tally.documents += 1
        yield Document(str(obj.get("id", lineno)), obj[field])


def _record(line: str, field: str) -> dict[str, Any] | None:
    """The JSON object on ``line`` if its ``field`` is a string, else None."""
    try:
        obj = json.loads(line)
    except ValueError:
        return None
    if not isinstance(obj, dict) or not isinstance(obj.get(field), str):
        return None
    return obj
