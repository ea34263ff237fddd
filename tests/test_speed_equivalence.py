"""Shortcuts taken for speed give what the plain rule gives (hypothesis)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from despin.candidates import _greedy, _resolve_overlaps
from despin.lexicon import Entry
from despin.render import transfer_case
from despin.tokenize import tokenize

SETTINGS = settings(max_examples=300, deadline=None)


def _entry(klass: str, weight: float) -> Entry:
    return Entry("x", ("x",), ("x",), (), "", ("y",), klass, weight, frozenset(), "test:1")


match_lists = st.lists(
    st.tuples(st.integers(1, 4), st.sampled_from(["artifact", "common"]), st.sampled_from([0.3, 0.5, 0.9])),
    max_size=30,
)


@SETTINGS
@given(match_lists, st.lists(st.booleans(), min_size=30, max_size=30))
def test_overlaps_resolved_per_cluster_as_globally(specs, present):
    # one match at most per start token, as the scan makes them
    matches = [(i, i + n, _entry(k, w)) for i, ((n, k, w), p) in enumerate(zip(specs, present, strict=False)) if p]
    tokens = tokenize(" ".join(["w"] * 40))
    out: list = []
    covered = _resolve_overlaps(matches, out, tokens)
    want = _greedy(matches)  # the same rule, over all matches at once
    assert [(c.i, c.j) for c in out] == [(i, j) for i, j, _ in want]
    assert covered == {k for i, j, _ in want for k in range(i, j)}


def _transfer_case_rules(source: str, target: str) -> str:
    """transfer_case as first written, without the shortcut for lower-case sources."""
    letters = [ch for ch in source if ch.isalpha()]
    if not letters or not target:
        return target
    if len(letters) > 1 and all(ch.isupper() for ch in letters):
        return target.upper()
    if target != target.lower():
        return target[0].upper() + target[1:] if letters[0].isupper() else target
    words = source.split()
    if len(words) > 1 and all(w[0].isupper() for w in words if w[0].isalpha()):
        return " ".join(w[:1].upper() + w[1:] for w in target.split(" "))
    if letters[0].isupper():
        return target[0].upper() + target[1:]
    return target


words = st.text(alphabet="abAB1 .-éßİǅⅰ\u0301", max_size=12)


@SETTINGS
@given(st.one_of(words, st.text(max_size=12)), words)
def test_transfer_case_shortcut(source, target):
    assert transfer_case(source, target) == _transfer_case_rules(source, target)


ascii_texts = st.one_of(
    st.text(alphabet=st.characters(max_codepoint=127), max_size=200),
    st.lists(st.sampled_from(["said", "officers", "in response to", "-", "--", " ", "\n", "’", "a-b", "x1-", "{a|b}",
                              '"']),
             max_size=40).map(" ".join),
)


@SETTINGS
@given(ascii_texts)
def test_ascii_split_same_tokens(text):
    from despin.tokenize import _ASCII_SPLIT_RE, _SPLIT_RE

    assert _ASCII_SPLIT_RE.split(text) == _SPLIT_RE.split(text)


@settings(max_examples=100, deadline=None)
@given(st.one_of(ascii_texts, st.text(max_size=100)))
def test_spin_report_from_given_tokens(text):
    import despin
    from despin.detection import spin_report

    lexicon = despin.Restorer().lexicon
    assert spin_report(text, lexicon, 0.5, tokens=tokenize(text)) == spin_report(text, lexicon, 0.5)
