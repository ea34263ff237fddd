from __future__ import annotations

from pathlib import Path

import pytest

import despin
from despin.cli import main

from support import LEXICON, SMALL


@pytest.fixture(scope="session")
def small() -> despin.Restorer:
    """A restorer that uses only the small fixed test lexicon and no context model."""
    return SMALL


@pytest.fixture(scope="session")
def default() -> despin.Restorer:
    """The restorer users get: bundled lexicon and model."""
    return despin.Restorer()


@pytest.fixture
def lexicon(tmp_path: Path) -> Path:
    """The tiny command-line test lexicon, written to tmp_path."""
    path = tmp_path / "lex.tsv"
    path.write_text(LEXICON, encoding="utf-8")
    return path


@pytest.fixture
def cli(tmp_path: Path, lexicon: Path, monkeypatch: pytest.MonkeyPatch):
    """Run ``main`` in tmp_path with the tiny lexicon; one job unless -j is given."""
    monkeypatch.chdir(tmp_path)

    def run(command: str, *args: str) -> int:
        extra = ["--lexicon", str(lexicon), "--no-bundled-lexicon"]
        if command in ("restore", "eval", "report"):
            extra.append("--no-context")
        if command in ("restore", "detect") and not any(a in ("-j", "--jobs") for a in args):
            extra += ["-j", "1"]
        return main([command, *args, *extra])

    return run
