"""The conservative fast checks of despin.bounds never err the unsafe way:
property tests against the exact spin report of despin.detection."""

from __future__ import annotations

from hypothesis import example, given, settings
from hypothesis import strategies as st

import despin
from despin.bounds import (
    UnspunBound,
    credited_bound,
    first_bound,
    once_credit,
    quick_counts,
    quick_index,
    quoted_bound,
    quoted_counts,
    stays_unspun,
    surely_clean,
)
from despin.decision import DetectionParams, detection_params
from despin.detection import spin_report
from despin.lexicon import bundled_lexicon_files, is_learned_slice
from despin.tokenize import _space_table, space_out, split_words, tokenize

from support import SMALL, SPIN_THRESHOLD, paragraph, texts, write_lexicon

SETTINGS = settings(max_examples=300, deadline=None)
# -- the quick reject ------------------------------------------------------------------------


def _exact_says_clean(text, restorer):
    rep = spin_report(text, restorer.lexicon, restorer.config.spin_threshold)
    return not rep.spun and rep.artifacts == 0


@SETTINGS
@given(texts)
def test_quick_reject_never_wrong_small_lexicon(text):
    if surely_clean(text, SMALL.lexicon, SMALL.config.spin_threshold):
        assert _exact_says_clean(text, SMALL)


DEFAULT_PIECES = [
    "stated", "officers", "mentioned", "in response to", "firm", "said", "the", "yr", "Chilly Conflict",
    "authorities", "navy", "warfare", "meals", "assist", ".", "however", "but", "—", "“", "”", "-", "well-known",
    "financial institution", "Financial institution", "satellite tv for pc", "in-response", "officers’",
    # originals, whose counter-evidence the quick reject's second bound credits
    "officials", "government", "help", "company", "war", "year", "military", "according to", '"', "\n\n",
    # a capitalised artifact ("Put up" for Post), which counts only where it is spelled so
    "Put up", "put up", "PUT UP", "Put", "up", "PUT",
    # braces: spintax, and braces that are not ({} in code)
    "{", "}", "|", "{that a}", "{x|y}", "{1}",
    "😀", "officers😀",  # beyond the Basic Multilingual Plane
]


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.sampled_from(DEFAULT_PIECES), max_size=400).map(" ".join), st.sampled_from([0.0, 0.1, 0.5, 0.9, 1.0])
)
@example("navy - assist", 0.1)  # a dash between the words of a form (found by hypothesis)
@example("in response -- to --navy assist", 0.1)  # doubled and outer hyphens
@example("the", 0.0)  # at spin threshold 0 every text is spun, even one without a spun form
def test_quick_reject_never_wrong_default_lexicon(text, threshold):
    r = despin.Restorer(context=False, spin_threshold=threshold)
    if surely_clean(text, r.lexicon, threshold):
        assert _exact_says_clean(text, r)


_SEGMENT = st.lists(st.sampled_from(DEFAULT_PIECES), max_size=30).map(" ".join)
_QUOTED_TEXTS = st.lists(
    st.one_of(_SEGMENT, _SEGMENT.map(lambda x: f"“{x}”"), _SEGMENT.map(lambda x: f'"{x}"')), max_size=12
).map(". ".join)


@settings(max_examples=300, deadline=None)
@given(st.one_of(_QUOTED_TEXTS, st.lists(st.sampled_from(DEFAULT_PIECES), max_size=300).map(" ".join)))
@example('“stated stated stated stated” said said said said said said said said')  # forms inside quotations
# a form only the quick count finds (across a full stop), of a group whose forms are common
@example("price. range budget budget budget budget budget")
def test_quick_reject_bounds_are_never_below_detection(text):
    # Both bounds of the quick reject, for any text it judges, are at least the
    # evidence full detection finds: the soundness of surely_clean at every
    # threshold, checked on the number itself.
    r = despin.Restorer(context=False)
    idx = quick_index(r.lexicon)
    counted = quick_counts(text, idx)
    rep = spin_report(text, r.lexicon, SPIN_THRESHOLD)
    if counted is None:
        return
    toks, present, found = counted
    assert rep.artifacts == 0 and len(toks) == rep.words
    assert first_bound(found, idx) >= rep.llr - 1e-9
    assert first_bound(found, idx) + once_credit(found, present, idx) >= rep.llr - 1e-9
    quoted = quoted_counts(text, idx)
    if quoted is not None:
        assert credited_bound(found, toks, present, idx) + quoted_bound(quoted, idx) >= rep.llr - 1e-9


def test_quick_reject_credits_originals_when_forms_alone_look_spun():
    # The spun-looking forms alone outweigh the threshold (about 14 nats
    # against 12.2), but each original occurs more often than its forms: the
    # second bound settles the text without full detection (which finds
    # -15 nats).
    text = (
        "The government said on Monday it would help the company. Officials said the firm stated its case, "
        "but the authorities said nothing. The government said it would help; however, the company said "
        "the government would not help. Officials stated the case, but said the company would pay, "
        "however long it took, and said the government was wrong, but the help came. The company said so."
    )
    written = tuple(f for f in bundled_lexicon_files() if not is_learned_slice(f))  # the example's lexicon
    r = despin.Restorer(context=False, bundled_lexicon=False, lexicons=written)
    idx = quick_index(r.lexicon)
    _, present, found = quick_counts(text, idx)
    assert first_bound(found, idx) > detection_params().offset  # the first bound cannot settle it
    assert not spin_report(text, r.lexicon, SPIN_THRESHOLD).spun
    assert surely_clean(text, r.lexicon, SPIN_THRESHOLD)


def test_quick_reject_splits_exactly_where_the_tokenizer_does():
    # The quick reject maps every character that no token holds to a space and
    # splits: for every character of the Basic Multilingual Plane that must
    # agree with the tokenizer (46 characters that unicodedata 14 leaves
    # unassigned but the regex module knows as letters or marks did not).
    table = _space_table()
    disagree = [
        hex(cp) for cp in range(0x10000)
        if ("a" + chr(cp) + "b").lower().translate(table).split() != tokenize("a" + chr(cp) + "b").lows
    ]
    assert disagree == []


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("ab-- -\n.,'’éİ\u00ad\u2014\u0cf3😀𝐀𠀀\U0001f3fb")), max_size=40))
@example("a--b - c -d e- -f")
@example("ok😀fine 𝐀𝐁-x")  # beyond the Basic Multilingual Plane: an emoji, mathematical letters
def test_quick_split_gives_the_tokenizers_words(text):
    # Dashes, hyphens at word edges, doubled hyphens and characters beyond the
    # Basic Multilingual Plane included: the quick reject's split (no
    # tokenizer) gives the tokenizer's words.
    assert split_words(space_out(text.lower())) == tokenize(text).lows
    assert split_words(space_out(text)) == tokenize(text).words


def test_quick_reject_counts_overlapping_occurrences_of_a_form(tmp_path):
    rows = "big big\tlarge\tcommon\t0.9\nsatellite tv for pc\tsatellite\tcommon\t0.9\n"
    tsv = write_lexicon(tmp_path / "lex.tsv", rows)
    idx = quick_index(despin.Restorer(bundled_lexicon=False, lexicons=(tsv,), context=False).lexicon)
    assert quick_counts("big big big", idx)[2] == {"large": 2}  # overlapping occurrences
    assert quick_counts("Big, big. BIG big", idx)[2] == {"large": 3}  # whatever separates the words
    assert quick_counts("the tv for pc and a satellite", idx)[2] == {}


# -- stays unspun ----------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(st.lists(paragraph, min_size=1, max_size=6), st.data(), st.sampled_from([1e-9, 1e-4, 0.01, 0.2]))
def test_stays_unspun_never_errs(paragraphs, data, margin):
    k = data.draw(st.integers(0, len(paragraphs) - 1))
    new = data.draw(paragraph)
    old_text = "\n\n".join(paragraphs)
    new_text = "\n\n".join(paragraphs[:k] + [new] + paragraphs[k + 1 :])
    # a threshold just above the old text's score, so that any added evidence could tip it
    threshold = spin_report(old_text, SMALL.lexicon, SPIN_THRESHOLD).score + margin
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
    threshold = spin_report(first, SMALL.lexicon, SPIN_THRESHOLD).score + margin
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
    params = DetectionParams(scale=0.3, offset=12.0, drift=2.5)  # a drift that absorbs the bound
    clean = "\n\n".join(["The officials said the talks went well."] * 3000)
    bound = UnspunBound.of(spin_report(clean, SMALL.lexicon, SPIN_THRESHOLD, params=params))
    after = stays_unspun(
        bound, [tokenize("The officials said the talks went well.")], [tokenize("The {that a} talks.")], SMALL.lexicon,
        SPIN_THRESHOLD, params,
    )
    assert after is not None and after.llr > bound.llr and after.words < bound.words
    spun = "\n\n".join(["The officers mentioned the navy in response to it."] * 20)
    report = spin_report(spun, SMALL.lexicon, SPIN_THRESHOLD, params=params)
    assert report.spun and UnspunBound.of(report) is None
    short = "The officials said so."
    bound = UnspunBound.of(spin_report(short, SMALL.lexicon, SPIN_THRESHOLD, params=params))
    assert bound is not None  # not spun, but too few words to absorb a paragraph of spun forms
    assert stays_unspun(
        bound, [tokenize(short)], [tokenize("The officers mentioned the navy in response to it.")], SMALL.lexicon,
        SPIN_THRESHOLD, params,
    ) is None
