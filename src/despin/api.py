"""Compatibility: what ``despin.api`` held before the layout of issue 12.

The Restorer and the module-level shortcuts now live in
:mod:`despin.restorer`; import them from ``despin`` itself.
"""

from __future__ import annotations

from .restorer import Restored, Restorer, detect, restore, restore_and_explain, restore_batch

__all__ = ["Restored", "Restorer", "detect", "restore", "restore_and_explain", "restore_batch"]
