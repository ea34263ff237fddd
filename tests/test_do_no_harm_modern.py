"""Do no harm on modern technical and scientific prose (issue 16, item 7).

The shared clean corpora are 1987-2006 news and old books, so terms such as "cloud computing",
"labeled data" or "speech processing" were never tested. tests/data/modern_prose.txt holds
sentences written for this test (not taken from any corpus); despin must leave every one alone,
on its own and all together, and must not call them spun. The science slice is imported from the
Problematic Paper Screener lists; its importer must read their query syntax right."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from despin.lexicon import load_lexicon

from support import DATA

PROSE = (DATA / "modern_prose.txt").read_text(encoding="utf-8")
SENTENCES = [s for s in PROSE.splitlines() if s.strip()]
TOOLS = Path(__file__).resolve().parents[1] / "tools"


def test_modern_prose_is_left_alone(default):
    res = default.restore_and_explain(PROSE)
    assert [(e.before, e.after, e.rule) for e in res.edits] == []
    assert not default.detect(PROSE).spun


@pytest.mark.parametrize("sentence", SENTENCES)
def test_each_modern_sentence_is_left_alone(default, sentence):
    assert default.restore(sentence) == sentence
    assert default.restore("\n\n".join([sentence] * 3)) == "\n\n".join([sentence] * 3)


def test_the_terms_the_issue_named_are_no_spun_forms():
    lex = load_lexicon()
    forms = {e.spun.lower(): e.klass for e in lex.entries}
    for term in ("cloud computing", "speech processing", "speech signal", "smart device", "image features",
                 "cloud platform", "search engine"):
        assert term not in forms, term
    for term in ("labeled data", "cell phone", "energy grid", "horror film", "horror movie"):
        assert forms.get(term, "common") != "artifact", term  # people write them: never restored in clean text


def test_pps_queries_are_read_with_their_syntax():
    sys.path.insert(0, str(TOOLS))
    try:
        from build_lexicon import parse_pps_query
    finally:
        sys.path.remove(str(TOOLS))
    assert parse_pps_query('"information mining"') == ("information mining", [])
    # "X" AND "Y": X is searched in papers that also use the established term Y; Y is no spun form
    assert parse_pps_query('"cloud climate" AND "cloud computing"') == ("cloud climate", ["cloud computing"])
    assert parse_pps_query('"business knowledge" AND business intelligence') == (
        "business knowledge", ["business intelligence"])
    assert parse_pps_query('"magnetic cell separation" NOT "with MACS"') == ("magnetic cell separation", ["with MACS"])
    assert parse_pps_query('"gatherings clustering"~10') is None


def test_bundled_science_slice_holds_no_context_term_of_a_query():
    """Audit of the whole slice: no spun form is a phrase that the screener's queries use only as the
    established term beside a tortured one (the misreading behind "cloud computing" -> "cloud
    environment")."""
    import csv

    shared = Path(__file__).resolve().parents[2] / "shared" / "tortured"
    if not (shared / "pps_tortured_hahuyhoang411.csv").is_file():
        pytest.skip("needs ../shared/tortured next to the repository")
    sys.path.insert(0, str(TOOLS))
    try:
        from build_lexicon import parse_pps_query
    finally:
        sys.path.remove(str(TOOLS))
    searched, context = set(), set()
    with open(shared / "pps_tortured_hahuyhoang411.csv", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            parsed = parse_pps_query(row["tortured_phrase"])
            if parsed is not None:
                searched.add(parsed[0].lower())
                context.update(t.lower() for t in parsed[1])
    science = [e for e in load_lexicon().entries if e.source.startswith("science_tortured.tsv")]
    assert science
    bad = [e.spun for e in science if e.spun.lower() in context - searched]
    assert bad == []
