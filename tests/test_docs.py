"""The examples in README.md and in docstrings run and say what they show."""

from __future__ import annotations

import contextlib
import doctest
import io
import re
from pathlib import Path

import despin

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_python_example_runs_and_prints_what_it_claims():
    block = re.search(r"```python\n(import despin\n.*?)```", README.read_text(encoding="utf-8"), re.S).group(1)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(block, "README.md", "exec"), {})
    lines = out.getvalue().splitlines()
    assert lines[0] == "The satellite launch was delayed after the Cold War ended."
    assert lines[-1] == "['The satellite launch was delayed after the Cold War ended.', 'Nothing to restore here.']"


def test_package_docstring_examples():
    result = doctest.testmod(despin, verbose=False)
    assert result.attempted >= 1 and result.failed == 0


def test_readme_sections_are_not_repeated():
    headings = [line for line in README.read_text(encoding="utf-8").splitlines() if line.startswith("## ")]
    assert headings and len(headings) == len(set(headings)), headings
