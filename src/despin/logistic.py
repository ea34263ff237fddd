"""The logistic function and its inverse: the one copy of each."""

from __future__ import annotations

import math

__all__ = ["logit", "sigmoid"]


def sigmoid(x: float) -> float:
    """1 / (1 + e^-x), computed without overflow for any x."""
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    z = math.exp(x)
    return z / (1.0 + z)


def logit(p: float) -> float:
    """The log-odds of ``p``, with ``p`` kept within 1e-6 of 0 and 1."""
    p = min(max(p, 1e-6), 1 - 1e-6)
    return math.log(p / (1 - p))
