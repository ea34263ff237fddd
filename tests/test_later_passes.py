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


# -- a later pass that skips detecting the whole text again -----------------------------------------

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from despin.detect import spin_report, stays_unspun  # noqa: E402

from conftest import TEST_LEXICON  # noqa: E402

SMALL = Restorer(bundled_lexicon=False, lexicons=(TEST_LEXICON,), context=False)
WORDS = ["officers", "mentioned", "in response to", "navy", "said", "the", "according to", "“", "”",
         "satellite tv for pc", "{that a}", "officials", "-", ".", "in", "response", "to", "\n"]
paragraph = st.lists(st.sampled_from(WORDS), min_size=1, max_size=25).map(" ".join)


@settings(max_examples=300, deadline=None)
@given(st.lists(paragraph, min_size=1, max_size=6), st.data(), st.sampled_from([1e-9, 1e-4, 0.01, 0.2]))
def test_stays_unspun_never_errs(paragraphs, data, margin):
    k = data.draw(st.integers(0, len(paragraphs) - 1))
    new = data.draw(paragraph)
    old_text = "\n\n".join(paragraphs)
    new_text = "\n\n".join(paragraphs[:k] + [new] + paragraphs[k + 1 :])
    # a threshold just above the old text's score, so that any added evidence could tip it
    threshold = spin_report(old_text, SMALL.lexicon).score + margin
    if not threshold < 1.0:
        return
    report = spin_report(old_text, SMALL.lexicon, threshold)
    if stays_unspun(report, [paragraphs[k]], [new], SMALL.lexicon, threshold):
        assert not spin_report(new_text, SMALL.lexicon, threshold).spun


def test_stays_unspun_says_so_for_a_long_clean_text_and_not_for_a_spun_one():
    clean = "\n\n".join(["The officials said the talks went well."] * 3000)  # drift absorbs the bound
    report = spin_report(clean, SMALL.lexicon)
    assert stays_unspun(report, ["The officials said the talks went well."], ["The {that a} talks."], SMALL.lexicon)
    spun = "\n\n".join(["The officers mentioned the navy in response to it."] * 20)
    report = spin_report(spun, SMALL.lexicon)
    assert report.spun and not stays_unspun(report, [], [], SMALL.lexicon)
    short = "The officials said so."
    report = spin_report(short, SMALL.lexicon)
    assert not report.spun  # but too few words to absorb a paragraph of spun forms
    assert not stays_unspun(report, [short], ["The officers mentioned the navy in response to it."], SMALL.lexicon)


@settings(max_examples=200, deadline=None)
@given(st.lists(paragraph, min_size=1, max_size=8).map("\n\n".join))
def test_restore_with_and_without_the_shortcut_agree(text):
    import despin.api as api

    with_shortcut = SMALL.restore_and_explain(text)
    real = api.stays_unspun
    api.stays_unspun = lambda *a, **k: False
    try:
        without = SMALL.restore_and_explain(text)
    finally:
        api.stays_unspun = real
    assert with_shortcut.text == without.text and with_shortcut.edits == without.edits
