"""Properties that hold for any text (hypothesis), checked against simple references."""

from __future__ import annotations

import string

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import despin
from despin.detection import MIN_WEIGHT, SPIN_RATE, count_forms, evidence_index, group_rho
from despin.edits import Edit, apply_edits, compose
from despin.evaluate import auc
from despin.protect import URL_RE, url_spans
from despin.tokenize import tokenize

from support import SMALL, texts

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


# Spun-looking texts for the default restorer (bundled lexicon with its learned
# slice, context model, fitted decisions): forms of the learned slice, names,
# originals, and the separators that end texts oddly (a trailing space, a line
# break, nothing).
_DEFAULT_PIECES = [
    "Goal", "stores", "mentioned", "stated", "corporate", "within", "additionally", "different", "chapter",
    "Mattress Bathtub & Past", "Pink Lobster", "Wall Road", "officers", "U.S.", "yr", "in response to",
    "satellite tv for pc", "said", "company", "the", "a", "an", "’s", "“", "”", ".", ",", "\n", "\n\n", " ",
]
spun_looking = st.tuples(
    st.lists(st.sampled_from(_DEFAULT_PIECES), min_size=1, max_size=60).map(" ".join),
    st.sampled_from(["", " ", "\n", "  ", ".", " \n"]),
).map("".join)
DEFAULT = despin.Restorer()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spun_looking)
@example("The officers mentioned the Goal stores within the yr ")  # a span at the text's end, then one space
def test_default_restorer_on_spun_looking_text(text):
    res = DEFAULT.restore_and_explain(text)
    assert apply_edits(text, res.edits) == res.text
    for e in res.edits:
        assert text[e.start : e.end] == e.before and 0.0 <= e.confidence <= 1.0
    assert DEFAULT.restore(res.text) == res.text


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
    for a, b in zip(cuts[::2], cuts[1::2]):  # noqa: B905 (an odd last cut is left over)
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
    counts = count_forms(text, evidence_index(SMALL.lexicon))
    nf, no = _reference_counts(text, SMALL.lexicon)
    assert +counts.nf == +nf
    assert +counts.no == _usable(no, SMALL.lexicon)


@SETTINGS
@given(texts)
def test_texts_not_called_spun_get_only_artifact_edits(text):
    res = SMALL.restore_and_explain(text)
    if not res.report.spun:
        assert all(e.reason in ("spinner artifact", "spintax leftover") for e in res.edits)


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(["a", "b", ".", "+", "-", "@", "_", " ", "\n", "\t", "\u2003", '"', "<", "é",
                                 "www.", "http://", "https://", ":", "/"]), max_size=40).map("".join))
@example("mail a.b@c.d or www.x.org/y, then @ and http:// alone")
def test_url_spans_read_only_the_runs_around_triggers(text):
    # Web addresses and e-mail addresses are never edited; they are found by
    # reading only the non-space runs that hold "://", "www." or "@", which
    # must give what a search of the whole text gives.
    assert url_spans(text) == [m.span() for m in URL_RE.finditer(text)]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 5).map(float), min_size=1, max_size=20),
       st.lists(st.integers(0, 5).map(float), min_size=1, max_size=20))
def test_auc_is_the_share_of_pairs_ranked_right(positive, negative):
    # against the obvious reference: every (positive, negative) pair, ties half
    pairs = [1.0 if p > n else 0.5 if p == n else 0.0 for p in positive for n in negative]
    assert auc(positive, negative) == pytest.approx(sum(pairs) / len(pairs))
