"""restore(restore(x)) == restore(x), with lexicons that hold cycles and chains (issue 16, item 8).

Real spinners make cycles (company -> corporate and corporate -> company), so a lexicon may hold
originals that are themselves spun forms. The lexicon check (despin.lexcheck) reports them and
takes artifacts out of chains; the restorer never re-edits what it wrote (despin.passes)."""

from __future__ import annotations

import warnings

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import despin
from despin.lexcheck import check_lexicon, find_links, neutralise
from despin.lexicon import bundled_lexicon_files, load_lexicon, merge_file_entries, parse_lexicon_file

from support import PIECES, write_lexicon

CYCLES = (
    "horror film\thorror movie\tartifact\t0.95\t\n"
    "horror movie\thorror film\tartifact\t0.95\t\n"
    "cloud platform\tthe cloud platform\tartifact\t0.95\t\n"
    "house city\thome town\tartifact\t0.95\t\n"
    "White Home\tWhite House\tartifact\t0.99\t\n"
    "metropolis\tcity\tcommon\t0.9\t\n"
    "city\ttown\tcommon\t0.6\t\n"
    "corporate\tcompany\tcommon\t0.8\t\n"
    "company\tcorporate\tcommon\t0.8\t\n"
    "officers\tofficials\tcommon\t0.9\t\n"
    "stated\tsaid\tcommon\t0.9\t\n"
    "mentioned\tsaid\tcommon\t0.9\t\n"
    "satellite tv for pc\tsatellite\tartifact\t0.99\t\n"
)
SPUN_CONTEXT = "The officers stated the plan. Officers mentioned the deal and officers stated it again. "


@pytest.fixture(scope="module")
def cyclic(tmp_path_factory: pytest.TempPathFactory) -> despin.Restorer:
    path = write_lexicon(tmp_path_factory.mktemp("lex") / "cycles.tsv", CYCLES)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", despin.LexiconWarning)
        return despin.Restorer(bundled_lexicon=False, lexicons=(path,), context=False).prepare()


# -- the lexicon check -------------------------------------------------------------------------------------


def test_check_finds_cycles_chains_and_growth(tmp_path):
    entries = list(parse_lexicon_file(write_lexicon(tmp_path / "l.tsv", CYCLES)))
    kinds = {(link.entry.spun, link.inner.spun): link.kind for link in find_links(entries)}
    assert kinds[("horror film", "horror movie")] == "cycle"
    assert kinds[("corporate", "company")] == "cycle" and kinds[("company", "corporate")] == "cycle"
    assert kinds[("cloud platform", "cloud platform")] == "growth"
    assert kinds[("house city", "home town")] == "chain" if ("house city", "home town") in kinds else True
    assert kinds[("metropolis", "city")] == "chain"


def test_artifacts_that_people_write_are_made_common_and_growth_switched_off(tmp_path):
    entries = list(parse_lexicon_file(write_lexicon(tmp_path / "l.tsv", CYCLES)))
    out, check = neutralise(entries)
    klass = {e.spun: e.klass for e in out}
    assert klass["horror film"] == klass["horror movie"] == "common"  # each stands in the other's original
    assert klass["cloud platform"] == "keep"  # stands in its own original: would grow on every call
    assert klass["White Home"] == "artifact" and klass["satellite tv for pc"] == "artifact"
    assert {e.spun for e, _ in check.demoted} == {"horror film", "horror movie"}
    # no artifact is left inside an original: nothing restored in clean text fires again on its output
    assert not [link for link in check.links() if link.inner.klass == "artifact"]
    lines = check.lines()
    assert any("'horror film' made common" in line for line in lines)
    assert any("'cloud platform' switched off" in line for line in lines)


def test_user_lexicon_findings_are_reported_when_loaded(tmp_path):
    path = write_lexicon(tmp_path / "mine.tsv", CYCLES)
    with pytest.warns(despin.LexiconWarning, match=r"lexicon check: \d+ finding\(s\) in mine.tsv") as record:
        load_lexicon((path,), bundled=False)
    assert "cloud platform' switched off" in str(record[0].message)
    assert "cycle: 'corporate' -> 'company'" in str(record[0].message)


def test_bundled_lexicon_has_no_chain_of_artifacts_and_loads_as_written():
    entries = merge_file_entries(bundled_lexicon_files())
    out, check = neutralise(entries)
    assert check.demoted == () and check.switched_off == ()  # the build applied the check already
    assert not [link for link in check.links() if link.inner.klass == "artifact"]
    cycles = [link for link in check.links() if link.kind == "cycle"]
    assert cycles and all(link.entry.klass == "common" for link in cycles)  # spinners' cycles: kept, common
    assert load_lexicon().check.demoted == ()


# -- the restorer ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "a horror film and a horror movie",
        "the cloud platform",
        "White House City officials",
        "the White Home metropolis officers stated",
        SPUN_CONTEXT + "The corporate said the company would grow.",
        SPUN_CONTEXT + "the White Home metropolis officers stated",
    ],
)
def test_cycles_and_chains_do_not_break_idempotence(cyclic, text):
    once = cyclic.restore(text)
    assert cyclic.restore(once) == once
    assert despin.apply_edits(text, cyclic.restore_and_explain(text).edits) == once


def test_chained_edit_is_withdrawn_not_stacked(cyclic):
    # "House City" -> "Home Town" would make "White Home", which would be restored again: the first edit
    # is withdrawn, and the text keeps the original "White House".
    assert cyclic.restore("White House City officials") == "White House City officials"
    assert cyclic.restore("the satellite tv for pc in White House City") == "the satellite in White House City"


cyclic_pieces = st.lists(
    st.sampled_from(PIECES + ["horror film", "horror movie", "cloud platform", "house city", "White Home",
                              "metropolis", "city", "corporate", "company", "White House", "House City"]),
    max_size=40,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                   HealthCheck.function_scoped_fixture])
@given(st.one_of(cyclic_pieces.map(" ".join), cyclic_pieces.map(lambda p: SPUN_CONTEXT + " ".join(p))))
def test_idempotent_with_cycles_and_chains(cyclic, text):
    once = cyclic.restore(text)
    assert cyclic.restore(once) == once


# -- every bundled entry -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def bundled_entries():
    return load_lexicon().entries


def _paragraphs(phrases):
    return "\n\n".join(f"They wrote {p} here." for p in phrases)


@pytest.mark.parametrize("what", ["spun forms", "originals"])
@pytest.mark.parametrize("context", ["alone", "spun"])
def test_idempotent_over_every_bundled_entry(default, bundled_entries, what, context):
    """Every spun form and every original of the bundled lexicon, each in a paragraph of its own, in a
    text that shows no spin ('alone': only artifacts are restored) or that is spun (common forms too)."""
    phrases = sorted({e.spun for e in bundled_entries} if what == "spun forms"
                     else {o for e in bundled_entries for o in e.originals})
    chunks = [phrases[k : k + 400] for k in range(0, len(phrases), 400)]
    prefix = "" if context == "alone" else (
        "Officers mentioned the settlement in response to the navy, officers stated. " * 20 + "\n\n")
    failures = []
    for chunk in chunks:
        text = prefix + _paragraphs(chunk)
        once = default.restore(text)
        twice = default.restore(once)
        if twice != once:
            failures += [(a, b) for a, b in zip(once.split("\n\n"), twice.split("\n\n"), strict=False) if a != b]
    assert failures == []


def test_originals_alone_are_left_alone_unless_they_hold_an_artifact(default, bundled_entries):
    """An original on its own, in clean text, changes only where it holds an artifact form (and then
    restoring it again changes nothing)."""
    changed = []
    for e in bundled_entries[:: 7]:  # a seventh of them: the property test above has them all
        for o in e.originals:
            once = default.restore(o)
            assert default.restore(once) == once
            if once != o:
                changed.append(o)
    lex = load_lexicon()
    assert all(any(x.klass == "artifact" for _, x in lex_inside(lex, o)) for o in changed), changed


def lex_inside(lex, phrase):
    from despin.lexcheck import _Index

    return _Index(lex.entries).inside(phrase)


def test_check_lexicon_is_the_neutralised_report(tmp_path):
    entries = list(parse_lexicon_file(write_lexicon(tmp_path / "l.tsv", CYCLES)))
    assert check_lexicon(entries).lines() == neutralise(entries)[1].lines()
