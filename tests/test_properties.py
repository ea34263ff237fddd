"""Properties that hold for any text (hypothesis), checked against simple references."""

from __future__ import annotations

import string

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import despin
from despin.edits import Edit, apply_edits, compose

from conftest import TEST_LEXICON

SMALL = despin.Restorer(bundled_lexicon=False, lexicons=(TEST_LEXICON,), context=False)

# Text built from spinner forms, ordinary words and awkward characters.
PIECES = [
    "satellite tv for pc", "applied sciences", "Chilly Conflict", "officers", "OFFICERS", "mentioned",
    "in response to", "navy", "an", "a", "settlement", "{that a}", "{x|y}", "p.c.", "yr", "the", "said",
    "College", "Kookmin", "’s", "’", "'", "“", "”", "\"", "\n", "\n\n", "  ", "\t", ".", ",", "2", "the 2 men",
    "é", "İ", "ﬁ", "\u00a0", "\ud800", "🙂", "www.x.com/yr", "a@b.co",
    # the parts of multi-word forms, so that they also meet across dashes, stops and quotations
    "in", "response", "to", "satellite tv", "for pc", "-", "—", "”“", "” he said “",
]
texts = st.one_of(
    st.text(max_size=200),
    st.lists(st.sampled_from(PIECES), max_size=40).map(" ".join),
    st.lists(st.sampled_from(PIECES), max_size=40).map("".join),
)
SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(texts)
def test_never_raises_and_replays(text):
    res = SMALL.restore_and_explain(text)
    assert isinstance(res.text, str)
    assert apply_edits(text, res.edits) == res.text
    assert 0.0 <= res.report.score <= 1.0


@SETTINGS
@given(texts)
def test_lossless_outside_edits(text):
    res = SMALL.restore_and_explain(text)
    pos = 0
    out_pos = 0
    for e in res.edits:
        # the unedited stretch before this edit is copied byte for byte
        stretch = text[pos : e.start]
        assert res.text[out_pos : out_pos + len(stretch)] == stretch
        out_pos += len(stretch) + len(e.after)
        pos = e.end
        assert e.before.strip() == e.before and e.before  # edits cover tokens, not surrounding space
    assert res.text[out_pos:] == text[pos:]


@SETTINGS
@given(texts)
def test_idempotent(text):
    once = SMALL.restore(text)
    assert SMALL.restore(once) == once


@settings(max_examples=50, deadline=None)
@given(st.text(max_size=300))
def test_default_restorer_never_raises_and_is_idempotent(text):
    r = despin.Restorer()
    once = r.restore(text)
    assert r.restore(once) == once


def _random_edits(draw, text):
    cuts = sorted(draw(st.lists(st.integers(0, len(text)), max_size=8)))
    edits = []
    last = -1
    for a, b in zip(cuts[::2], cuts[1::2]):
        if a < last or a == b:  # despin's edits are never empty and never overlap
            continue
        after = draw(st.text(alphabet=string.ascii_letters, min_size=1, max_size=4))
        edits.append(Edit(a, b, text[a:b], after, 1.0, "r", "t"))
        last = b
    return edits


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_compose_equals_applying_in_turn(data):
    """compose(first, second) against the obvious reference: apply one after the other."""
    text = data.draw(st.text(alphabet="abc ", max_size=30))
    first = _random_edits(data.draw, text)
    mid = apply_edits(text, first)
    second = _random_edits(data.draw, mid)
    combined = compose(text, first, second)
    assert apply_edits(text, combined) == apply_edits(mid, second)
    starts = [e.start for e in combined]
    assert starts == sorted(starts)


def _separates_as(gap, want):
    """A gap between two words of a multi-word form: spaces and tabs with at most
    one line break where the form has a space, else exactly its punctuation."""
    import re

    if want == " ":
        return bool(gap) and re.fullmatch(r"[ \t\u00a0]*(\r?\n)?[ \t\u00a0]*", gap) is not None
    return gap.replace("\u2019", "'") == want or (gap.isspace() and want == " ")


def _reference_counts(text, lexicon):
    """Slow, obvious reference for detection's counts: slide over the tokens."""
    from collections import Counter

    from despin.detect import MIN_WEIGHT
    from despin.tokenize import tokenize

    tokens = tokenize(text)
    lows, words = tokens.lows, tokens.words
    nf, no = Counter(), Counter()
    for e in lexicon.entries:
        if not (e.klass == "artifact" or (e.klass == "common" and e.weight >= MIN_WEIGHT)):
            continue
        n = len(e.toks)
        for i in range(len(lows) - n + 1):
            if tuple(lows[i : i + n]) != e.toks:
                continue
            if not all(_separates_as(tokens.gaps[i + k], e.gaps[k]) for k in range(n - 1)):
                continue
            if e.cased and tuple(words[i : i + n]) != e.case_toks and not all(w.isupper() for w in words[i : i + n]):
                continue
            nf[e.originals[0].lower()] += 1
    for i, w in enumerate(lows):
        if w in lexicon.orig_singles:
            no[lexicon.orig_singles[w]] += 1
        for otoks, g in lexicon.orig_multis.get(tuple(lows[i : i + 2]), ()):
            if tuple(lows[i : i + len(otoks)]) == otoks and all(
                _separates_as(tokens.gaps[i + k], " ") for k in range(len(otoks) - 1)
            ):
                no[g] += 1
                break
    return nf, no


def _usable(counts, lexicon):
    """Only groups detection can use: with a counted form, or rare spun forms."""
    from despin.detect import MIN_WEIGHT, SPIN_RATE, group_rho

    rho = group_rho(lexicon)
    max_rho = SPIN_RATE * (1.0 - MIN_WEIGHT) / MIN_WEIGHT
    with_forms = {
        e.originals[0].lower() for e in lexicon.entries
        if e.klass == "artifact" or (e.klass == "common" and e.weight >= MIN_WEIGHT)
    }
    return +type(counts)({g: n for g, n in counts.items() if g in with_forms or rho.get(g, 1e9) <= max_rho})


@SETTINGS
@given(texts)
def test_detection_counts_match_reference(text):
    from despin.detect import _count, evidence_index

    bag = _count(text, evidence_index(SMALL.lexicon))
    nf, no = _reference_counts(text, SMALL.lexicon)
    assert +bag.nf == +nf
    assert +bag.no == _usable(no, SMALL.lexicon)


@SETTINGS
@given(texts)
def test_texts_not_called_spun_get_only_artifact_edits(text):
    res = SMALL.restore_and_explain(text)
    if not res.report.spun:
        assert all(e.reason in ("spinner artifact", "spintax leftover") for e in res.edits)


def _exact_says_clean(text, restorer):
    from despin.detect import spin_report

    rep = spin_report(text, restorer.lexicon, restorer.config.spin_threshold)
    return not rep.spun and rep.artifacts == 0


@SETTINGS
@given(texts)
def test_quick_reject_never_wrong_small_lexicon(text):
    from despin.detect import surely_clean

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
@given(st.lists(st.sampled_from(DEFAULT_PIECES), max_size=400).map(" ".join), st.sampled_from([0.0, 0.1, 0.5, 0.9, 1.0]))
@example("navy - assist", 0.1)  # a dash between the words of a form (found by hypothesis)
@example("in response -- to --navy assist", 0.1)  # doubled and outer hyphens
@example("the", 0.0)  # at spin threshold 0 every text is spun, even one without a spun form
def test_quick_reject_never_wrong_default_lexicon(text, threshold):
    from despin.detect import surely_clean

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
    from despin.detect import (
        _credited_bound, _first_bound, _quick_counts, _quoted_bound, _quoted_counts, evidence_index, spin_report,
    )

    r = despin.Restorer(context=False)
    idx = evidence_index(r.lexicon)
    counted = _quick_counts(text, idx)
    rep = spin_report(text, r.lexicon)
    if counted is None:
        return
    toks, present, found = counted
    assert rep.artifacts == 0 and len(toks) == rep.words
    assert _first_bound(found, idx) >= rep.llr - 1e-9
    quoted = _quoted_counts(text, idx)
    if quoted is not None:
        assert _credited_bound(found, toks, present, idx) + _quoted_bound(quoted, idx) >= rep.llr - 1e-9


def test_quick_reject_credits_originals_when_forms_alone_look_spun():
    # The spun-looking forms alone outweigh the threshold (about 14 nats
    # against 12.2), but each original occurs more often than its forms: the
    # second bound settles the text without full detection (which finds
    # -15 nats).
    from despin.detect import spin_report, surely_clean

    text = (
        "The government said on Monday it would help the company. Officials said the firm stated its case, "
        "but the authorities said nothing. The government said it would help; however, the company said "
        "the government would not help. Officials stated the case, but said the company would pay, "
        "however long it took, and said the government was wrong, but the help came. The company said so."
    )
    from despin.detect import OFFSET, _first_bound, _quick_counts, evidence_index

    r = despin.Restorer(context=False)
    idx = evidence_index(r.lexicon)
    assert _first_bound(_quick_counts(text, idx)[2], idx) > OFFSET  # the first bound cannot settle it
    assert not spin_report(text, r.lexicon).spun
    assert surely_clean(text, r.lexicon)


def test_quick_reject_splits_exactly_where_the_tokenizer_does():
    # The quick reject maps every character that no token holds to a space and
    # splits: for every character of the Basic Multilingual Plane that must
    # agree with the tokenizer (46 characters that unicodedata 14 leaves
    # unassigned but the regex module knows as letters or marks did not).
    from despin.detect import _space_table
    from despin.tokenize import tokenize

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
    from despin.detect import _space_out, _split_words
    from despin.tokenize import tokenize

    assert _split_words(_space_out(text.lower())) == tokenize(text).lows
    assert _split_words(_space_out(text)) == tokenize(text).words


def test_quick_reject_counts_overlapping_occurrences_of_a_form(tmp_path):
    from despin.detect import _quick_counts, evidence_index

    tsv = tmp_path / "lex.tsv"
    tsv.write_text("# despin-lexicon 1\nspun\toriginal\tclass\tweight\nbig big\tlarge\tcommon\t0.9\n"
                   "satellite tv for pc\tsatellite\tcommon\t0.9\n", encoding="utf-8")
    idx = evidence_index(despin.Restorer(bundled_lexicon=False, lexicons=(str(tsv),), context=False).lexicon)
    assert _quick_counts("big big big", idx)[2] == {"large": 2}  # overlapping occurrences
    assert _quick_counts("Big, big. BIG big", idx)[2] == {"large": 3}  # whatever separates the words
    assert _quick_counts("the tv for pc and a satellite", idx)[2] == {}


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(["a", "b", ".", "+", "-", "@", "_", " ", "\n", "\t", "\u2003", '"', "<", "é",
                                 "www.", "http://", "https://", ":", "/"]), max_size=40).map("".join))
@example("mail a.b@c.d or www.x.org/y, then @ and http:// alone")
def test_url_spans_read_only_the_runs_around_triggers(text):
    # Web addresses and e-mail addresses are never edited; they are found by
    # reading only the non-space runs that hold "://", "www." or "@", which
    # must give what a search of the whole text gives.
    from despin.api import _URL_RE, _url_spans

    assert _url_spans(text) == [m.span() for m in _URL_RE.finditer(text)]
