"""Later fixed-point passes that re-read only the paragraphs the previous pass rewrote."""

from hypothesis import given, settings
from hypothesis import strategies as st

import despin.passes as passes
from despin.edits import Edit
from despin.passes import one_pass, paragraphs_around, rewritten_spans
from despin.restorer import Restorer

from support import SMALL, decisions_with_detection, paragraph

PARAGRAPHS = [
    "The {quick|fast} fox ran home.",
    'He said "the {slow|calm} reply" twice.\nA second {line|row} here.',
    "Nothing to do in this one.",
    "Ends with {one|two} {three four|five}",
]


def test_paragraphs_around_takes_whole_paragraphs():
    text = "ab\n\ncd ef\n\n\ngh\n\nij"
    assert paragraphs_around(text, [(5, 6)]) == [(4, 11)]
    assert paragraphs_around(text, [(0, 1), (12, 13)]) == [(0, 4), (12, 16)]  # a break after each blank line
    assert paragraphs_around(text, [(17, 18)]) == [(16, len(text))]
    assert paragraphs_around(text, [(5, 6), (7, 8)]) == [(4, 11)]


def test_rewritten_spans_follow_the_shifts():
    edits = [Edit(0, 3, "abc", "x", 1.0, "", ""), Edit(5, 6, "d", "wxyz", 1.0, "", "")]
    assert rewritten_spans(edits) == [(0, 1), (3, 7)]
    assert rewritten_spans([Edit(0, 1, "a", "b\n\nc", 1.0, "", "")]) is None


def test_local_pass_equals_full_pass(tmp_path):
    # spintax only: restored, though the text is not called spun (a detection just short of it)
    r = Restorer(spin_threshold=0.999, decision_model=decisions_with_detection(tmp_path / "d.json"))
    text = "\n\n".join(PARAGRAPHS)
    full, report, _ = one_pass(r, text)
    assert full and not report.spun
    starts = [text.index(p) for p in PARAGRAPHS]
    for k, p in enumerate(PARAGRAPHS):
        near = [(starts[k] + 1, starts[k] + 2)]
        local = one_pass(r, text, near)[0]
        assert local == [e for e in full if starts[k] <= e.start < starts[k] + len(p)]
    everywhere = [(s, s + 1) for s in starts]
    assert one_pass(r, text, everywhere)[0] == full


# -- a later pass that skips detecting the whole text again -----------------------------------------



CLEAN_PARAGRAPH = "The officials said the talks went well, according to the report, and said so again."


def _with_and_without_the_shortcut(text):
    """restore_and_explain(text) as it is and with the shortcut never taken, and
    how often the shortcut was taken."""
    real = passes.stays_unspun
    taken = []

    def counting(*a, **k):
        out = real(*a, **k)
        taken.append(out is not None)
        return out

    passes.stays_unspun = counting
    try:
        with_shortcut = SMALL.restore_and_explain(text)
        passes.stays_unspun = lambda *a, **k: None  # never takes the shortcut
        without = SMALL.restore_and_explain(text)
    finally:
        passes.stays_unspun = real
    return with_shortcut, without, sum(taken)


# A few random paragraphs among clean ones: a later pass may then read only those.
among_clean = st.lists(paragraph, min_size=1, max_size=3).flatmap(
    lambda ps: st.permutations(ps + [CLEAN_PARAGRAPH] * 8)
)


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.lists(paragraph, min_size=1, max_size=8), among_clean).map("\n\n".join))
def test_restore_with_and_without_the_shortcut_agree(text):
    with_shortcut, without, _ = _with_and_without_the_shortcut(text)
    assert with_shortcut.text == without.text and with_shortcut.edits == without.edits


def test_later_passes_take_the_shortcut_in_a_long_clean_text():
    # Nested spintax is restored in one pass; the pass that confirms nothing is left reads one paragraph only.
    text = "\n\n".join([CLEAN_PARAGRAPH] * 10 + ["The {{that a}|b} launch."])
    with_shortcut, without, taken = _with_and_without_the_shortcut(text)
    assert taken == 1
    assert with_shortcut.text == without.text and without.text.endswith("\n\nThe that a launch.")
    assert with_shortcut.edits == without.edits


def _paragraphs_around_reference(text, spans):
    """The rule spelled out with str.rfind and str.find, one search per span."""
    out = []
    for a, b in spans:
        q = text.rfind("\n\n", 0, a)
        lo = 0 if q < 0 else q + 2
        q = text.find("\n\n", max(b - 2, 0))
        hi = len(text) if q < 0 else q + 2
        if out and lo <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], hi))
        else:
            out.append((lo, hi))
    return out


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="ab \n", max_size=60), st.lists(st.tuples(st.integers(0, 60), st.integers(0, 3)), max_size=6))
def test_paragraphs_around_matches_the_plain_rule(text, raw):
    spans = sorted((min(a, len(text)), min(a + n, len(text))) for a, n in raw)
    assert paragraphs_around(text, spans) == _paragraphs_around_reference(text, spans)
