from __future__ import annotations

from pathlib import Path

import pytest

import despin

DATA = Path(__file__).parent / "data"
TEST_LEXICON = str(DATA / "test_lexicon.tsv")


@pytest.fixture(scope="session")
def small() -> despin.Restorer:
    """A restorer that uses only the small fixed test lexicon and no context model."""
    return despin.Restorer(bundled_lexicon=False, lexicons=(TEST_LEXICON,), context=False)


@pytest.fixture(scope="session")
def default() -> despin.Restorer:
    """The restorer users get: bundled lexicon and model."""
    return despin.Restorer()
