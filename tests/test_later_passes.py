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
    full, report, _ = r._one_pass(text)
    assert full and not report.spun
    starts = [text.index(p) for p in PARAGRAPHS]
    for k, p in enumerate(PARAGRAPHS):
        near = [(starts[k] + 1, starts[k] + 2)]
        local = r._one_pass(text, near)[0]
        assert local == [e for e in full if starts[k] <= e.start < starts[k] + len(p)]
    everywhere = [(s, s + 1) for s in starts]
    assert r._one_pass(text, everywhere)[0] == full


# -- a later pass that skips detecting the whole text again -----------------------------------------

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from despin.detect import UnspunBound, spin_report, stays_unspun  # noqa: E402
from despin.tokenize import tokenize  # noqa: E402

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
    bound = stays_unspun(UnspunBound.of(report), [tokenize(paragraphs[k])], [tokenize(new)], SMALL.lexicon, threshold)
    if bound is not None:
        after = spin_report(new_text, SMALL.lexicon, threshold)
        assert not after.spun and after.llr <= bound.llr and after.words >= bound.words


@settings(max_examples=200, deadline=None)
@given(st.lists(paragraph, min_size=2, max_size=6), st.data(), st.sampled_from([1e-4, 0.01, 0.2]))
def test_stays_unspun_chains_over_two_rewrites(paragraphs, data, margin):
    """A bound carried over two rewrites of different paragraphs still holds."""
    k1, k2 = data.draw(st.permutations(range(len(paragraphs))))[:2]
    new1, new2 = data.draw(paragraph), data.draw(paragraph)
    first = "\n\n".join(paragraphs)
    threshold = spin_report(first, SMALL.lexicon).score + margin
    if not threshold < 1.0:
        return
    bound = UnspunBound.of(spin_report(first, SMALL.lexicon, threshold))
    bound = stays_unspun(bound, [tokenize(paragraphs[k1])], [tokenize(new1)], SMALL.lexicon, threshold)
    if bound is None:
        return
    second = list(paragraphs)
    second[k1] = new1
    bound = stays_unspun(bound, [tokenize(second[k2])], [tokenize(new2)], SMALL.lexicon, threshold)
    second[k2] = new2
    if bound is not None:
        assert not spin_report("\n\n".join(second), SMALL.lexicon, threshold).spun


def test_stays_unspun_says_so_for_a_long_clean_text_and_not_for_a_short_one():
    clean = "\n\n".join(["The officials said the talks went well."] * 3000)  # drift absorbs the bound
    bound = UnspunBound.of(spin_report(clean, SMALL.lexicon))
    after = stays_unspun(
        bound, [tokenize("The officials said the talks went well.")], [tokenize("The {that a} talks.")], SMALL.lexicon
    )
    assert after is not None and after.llr > bound.llr and after.words < bound.words
    spun = "\n\n".join(["The officers mentioned the navy in response to it."] * 20)
    assert spin_report(spun, SMALL.lexicon).spun and UnspunBound.of(spin_report(spun, SMALL.lexicon)) is None
    short = "The officials said so."
    bound = UnspunBound.of(spin_report(short, SMALL.lexicon))
    assert bound is not None  # not spun, but too few words to absorb a paragraph of spun forms
    assert stays_unspun(
        bound, [tokenize(short)], [tokenize("The officers mentioned the navy in response to it.")], SMALL.lexicon
    ) is None


CLEAN_PARAGRAPH = "The officials said the talks went well, according to the report, and said so again."


def _with_and_without_the_shortcut(text):
    """restore_and_explain(text) as it is and with the shortcut never taken, and
    how often the shortcut was taken."""
    import despin.api as api

    real = api.stays_unspun
    taken = []

    def counting(*a, **k):
        out = real(*a, **k)
        taken.append(out is not None)
        return out

    api.stays_unspun = counting
    try:
        with_shortcut = SMALL.restore_and_explain(text)
        api.stays_unspun = lambda *a, **k: None  # never takes the shortcut
        without = SMALL.restore_and_explain(text)
    finally:
        api.stays_unspun = real
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
    # Nested spintax takes two passes; each later pass reads one paragraph only.
    text = "\n\n".join([CLEAN_PARAGRAPH] * 10 + ["The {{that a}|b} launch."])
    with_shortcut, without, taken = _with_and_without_the_shortcut(text)
    assert taken == 2
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
    assert _paragraphs_around(text, spans) == _paragraphs_around_reference(text, spans)
