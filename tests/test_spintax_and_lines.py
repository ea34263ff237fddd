"""A spun phrase never crosses a line break, and the line break stays (issue 16, item 9); spintax
is restored only where it looks like spinner output (issue 16, item 10)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings

from despin.tokenize import SPINTAX_RE, spintax_groups

from support import SMALL, texts

# -- line breaks ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("the satellite tv\nfor pc", "the satellite tv\nfor pc"),
        ("the satellite tv for pc\nlaunch", "the satellite\nlaunch"),
        ("the satellite tv for pc\r\nlaunch", "the satellite\r\nlaunch"),
        ("After the Chilly\nConflict", "After the Chilly\nConflict"),
        ("White Home\nofficials", "White House\nofficials"),  # (a form on one line is restored)
    ],
)
def test_forms_do_not_match_across_a_line_break(text, expected):
    assert SMALL.restore(text) == expected


def test_white_house_city_keeps_its_line_break(default):
    assert default.restore("White House\nCity officials") == "White House\nCity officials"
    assert default.restore("White Home\nCity officials said") == "White House\nCity officials said"


@settings(max_examples=300, deadline=None)
@given(texts)
def test_no_edit_spans_a_line_break_and_line_breaks_stay(text):
    res = SMALL.restore_and_explain(text)
    assert all("\n" not in e.before and "\r" not in e.before for e in res.edits)
    assert res.text.count("\n") == text.count("\n")


def test_detection_counts_no_form_across_a_line_break():
    one_line = SMALL.detect("They acted in response to the call.")
    two_lines = SMALL.detect("They acted in response\nto the call.")
    assert "in response to" in {e.form for e in one_line.evidence}
    assert "in response to" not in {e.form for e in two_lines.evidence}


# -- spintax -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "Let S = {n | n is prime}.",
        "Let S = {n|n is prime}.",
        "Hello {first name}, your order has shipped.",
        "The set {x : x > 0} is open.",
        "Use {name} and {1} in the template.",
        "function f() { return {a: 1} }",
        "pick {one|two} now",  # looks like spintax, but nothing else in the text is spinner output
    ],
)
def test_lone_braces_in_clean_text_stay(default, text):
    assert default.restore(text) == text
    assert SMALL.restore(text) == text


@pytest.mark.parametrize(
    "text, expected",
    [
        ("a {big|large|huge} and {small|little} deal", "a big and small deal"),
        ("a {big|{large|huge}} deal", "a big deal"),  # nested: spinner output even alone
        ("The satellite tv for pc is {big|large}.", "The satellite is big."),  # with an artifact
        ("The satellite tv for pc and {that a}.", "The satellite and that a."),
        ("Let S = {n | n is prime} and the satellite tv for pc.", "Let S = {n | n is prime} and the satellite."),
    ],
)
def test_spintax_with_other_evidence_is_restored(text, expected):
    assert SMALL.restore(text) == expected


def test_spintax_in_a_spun_text_is_restored():
    text = ("Officers mentioned the settlement in response to the navy. Officers stated it. " * 4
            + "The {big|large} deal.")
    assert SMALL.detect(text).spun and "The big deal." in SMALL.restore(text)


def test_spintax_groups_shape():
    assert [g.first for g in spintax_groups("{in response to|according to} {a|{b|c}} {that a}")] == [
        "in response to", "a", "that a"]
    assert spintax_groups("{ a | b }") == [] and spintax_groups("{a|b") == [] and spintax_groups("{a||b}") == []


@settings(max_examples=300, deadline=None)
@given(texts)
def test_every_spintax_group_holds_a_match_of_the_bound_pattern(text):
    """despin.bounds counts SPINTAX_RE matches as an upper bound on the groups detection counts."""
    groups = spintax_groups(text)
    assert len(groups) <= len(SPINTAX_RE.findall(text))
    for g in groups:
        assert SPINTAX_RE.search(text, g.start, g.end)
