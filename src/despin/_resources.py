"""Where the bundled data lives, and loading it once per process.

The lexicon and the context model ship inside the wheel as ``despin/_data/``
(see ``[tool.hatch.build.targets.wheel.force-include]`` in pyproject.toml);
in a source checkout they are read from ``data/`` at the top of the tree.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Hashable
from importlib import resources
from pathlib import Path
from typing import TypeVar

__all__ = ["data_path", "load_once"]

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


def data_path(folder: str, name: str | None = None) -> Path | None:
    """The bundled folder ``folder`` (or the file ``name`` in it): inside the
    installed package, else in the source tree; None if neither has it."""
    try:
        packaged = resources.files("despin") / "_data" / folder
        if name is not None:
            packaged = packaged / name
        if packaged.is_file() if name is not None else packaged.is_dir():
            return Path(str(packaged))
    except (ModuleNotFoundError, TypeError):  # pragma: no cover - odd importers
        pass
    source_tree = Path(__file__).resolve().parents[2] / "data" / folder
    if name is not None:
        source_tree = source_tree / name
    found = source_tree.is_file() if name is not None else source_tree.is_dir()
    return source_tree if found else None


def load_once(load: Callable[[K], V], maxsize: int) -> Callable[[K], V]:
    """``load`` with its results kept (the last ``maxsize`` keys), one call at a
    time, so that threads asking for the same data load it once."""
    cached = functools.lru_cache(maxsize=maxsize)(load)
    lock = threading.Lock()

    def get(key: K) -> V:
        with lock:
            return cached(key)

    return get
