"""Later fixed-point passes that re-read only the paragraphs the previous pass rewrote."""

from despin.api import Restorer, _paragraphs_around, _rewritten_spans
from despin.edits import Edit

PARAGRAPHS = [
    "The {quick|fast} fox ran home.",
    'He said "the {slow|calm} reply" twice.\nA second {line|row} here.',
    "Nothing to do in this one.",
    "Ends with {one|two} {three four|five}",
]


def test_paragraphs_around_takes_whole_paragraphs():
    text = "ab\n\ncd ef\n\n\ngh\n\nij"
    assert _paragraphs_around(text, [(5, 6)]) == [(4, 11)]
    assert _paragraphs_around(text, [(0, 1), (12, 13)]) == [(0, 4), (12, 16)]  # a break after each blank line
    assert _paragraphs_around(text, [(17, 18)]) == [(16, len(text))]
    assert _paragraphs_around(text, [(5, 6), (7, 8)]) == [(4, 11)]


def test_rewritten_spans_follow_the_shifts():
    edits = [Edit(0, 3, "abc", "x", 1.0, "", ""), Edit(5, 6, "d", "wxyz", 1.0, "", "")]
    assert _rewritten_spans(edits) == [(0, 1), (3, 7)]
    assert _rewritten_spans([Edit(0, 1, "a", "b\n\nc", 1.0, "", "")]) is None


def test_local_pass_equals_full_pass():
    r = Restorer(spin_threshold=0.999)  # spintax only: restored, though the text is not called spun
    text = "\n\n".join(PARAGRAPHS)
    full, report = r._one_pass(text)
    assert full and not report.spun
    starts = [text.index(p) for p in PARAGRAPHS]
    for k, p in enumerate(PARAGRAPHS):
        near = [(starts[k] + 1, starts[k] + 2)]
        local, _ = r._one_pass(text, near)
        assert local == [e for e in full if starts[k] <= e.start < starts[k] + len(p)]
    everywhere = [(s, s + 1) for s in starts]
    assert r._one_pass(text, everywhere)[0] == full
