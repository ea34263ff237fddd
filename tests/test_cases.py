"""The cases of tests/cases/*.jsonl (see its README): restorations, texts that
must come back unchanged, and known failures (strict xfail)."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

import pytest

import despin

from support import SMALL_OPTIONS

CASES = Path(__file__).parent / "cases"
LEXICONS: dict[str, dict[str, Any]] = {"small": SMALL_OPTIONS, "bundled": {}}


@functools.cache
def _restorer(lexicon: str, options: str) -> despin.Restorer:
    return despin.Restorer(**LEXICONS[lexicon], **json.loads(options))


def restorer(lexicon: str, case: dict[str, Any]) -> despin.Restorer:
    """The restorer a case of a ``*.LEXICON.jsonl`` file is run with."""
    return _restorer(lexicon, json.dumps(case.get("options", {}), sort_keys=True))


def cases(kind: str, xfail: bool = False) -> list[Any]:
    """Every case of the ``KIND.*.jsonl`` files, as (lexicon, case) parameters."""
    params = []
    for path in sorted(CASES.glob(f"{kind}.*.jsonl")):
        lexicon = path.name.split(".")[1]
        assert lexicon in LEXICONS, path
        for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            case = json.loads(line)
            assert case.get("comment") and isinstance(case.get("input"), str), f"{path.name}:{lineno}"
            case_marks = [pytest.mark.xfail(strict=True, reason=case["comment"])] if xfail else []
            params.append(pytest.param(lexicon, case, id=f"{path.name}:{lineno}", marks=case_marks))
    assert params, f"no {kind} cases"
    return params


@pytest.mark.parametrize("lexicon, case", cases("restore"))
def test_restores(lexicon: str, case: dict[str, Any]) -> None:
    res = restorer(lexicon, case).restore_and_explain(case["input"])
    assert res.text == case["expected"]
    assert despin.apply_edits(case["input"], res.edits) == res.text


@pytest.mark.parametrize("lexicon, case", cases("unchanged"))
def test_leaves_unchanged(lexicon: str, case: dict[str, Any]) -> None:
    res = restorer(lexicon, case).restore_and_explain(case["input"])
    assert res.edits == () and res.text == case["input"]


@pytest.mark.parametrize("lexicon, case", cases("known_failures", xfail=True))
def test_known_failures(lexicon: str, case: dict[str, Any]) -> None:
    assert restorer(lexicon, case).restore(case["input"]) == case["expected"]
