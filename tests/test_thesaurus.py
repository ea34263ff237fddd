"""The dictionary-free (thesaurus) evidence: a small thesaurus written here,
a stub scorer, and the bundled thesaurus file."""

from __future__ import annotations

import gzip
import math
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from despin.errors import ModelError
from despin.thesaurus import (
    RULE,
    ThesaurusParams,
    WordModel,
    find_sites,
    load_thesaurus,
    parse_thesaurus,
    propose_mappings,
    static_bound,
    thesaurus_candidates,
    thesaurus_evidence,
)
from despin.tokenize import Tokens, tokenize

SHARED = Path(__file__).resolve().parents[2] / "shared"

ROWS = [
    "# despin-thesaurus 1",
    "# test rows",
    "stated\t474\tsaid:601:s|told:554:s",
    "shoppers\t355\tcustomers:478:h|clients:445:h",
    "financiers\t289\tinvestors:480:r|bankers:377:h",
    "retail outlets\t300\tstores:520:s|shops:480:s",
    "purchase\t480\tbuy:560:s",
]
PARAMS = ThesaurusParams(word=WordModel(bias=-1.0, weights=(0.2, 0.5, 0.0, -0.3, 0.0), clip=6.0), mix=0.1,
                         type_cap=2.0, restore_llr=1.0, restore_margin=2.0)


def thesaurus():
    return parse_thesaurus(iter(line + "\n" for line in ROWS), "test")


class Stub:
    """A scorer that knows which word belongs where: an original over its
    spun form gets ``plus`` nats, anything else ``minus``."""

    def __init__(self, right: dict[str, str], plus: float = 5.0, minus: float = -3.0):
        self.right, self.plus, self.minus = right, plus, minus

    def advantage_at(self, tokens: Tokens, i: int, j: int, literal: str, original: str,
                     neighbours: dict[int, str] | None = None) -> float:
        return self.plus if self.right.get(literal) == original else self.minus


SPUN = "The firm stated that shoppers left the retail outlets. Financiers stated nothing."
CLEAN = "The firm said that customers left the stores. Investors said nothing."
STUB = Stub({"stated": "said", "shoppers": "customers", "retail outlets": "stores", "financiers": "investors"})


def test_parse_rejects_other_files():
    with pytest.raises(ModelError, match="not a thesaurus"):
        parse_thesaurus(iter(["spun\toriginal\n"]), "x.tsv")
    with pytest.raises(ModelError, match="malformed"):
        parse_thesaurus(iter(["# despin-thesaurus 1\n", "lonely\n"]), "x.tsv")
    broken = parse_thesaurus(iter(["# despin-thesaurus 1\n", "w\t1\tno-colons\n"]), "x.tsv")
    with pytest.raises(ModelError, match="malformed"):
        broken.row("w")


def test_sites_are_content_words_not_names():
    th = thesaurus()
    sites = find_sites(tokenize("Stated plainly, Mr Purchase stated that retail outlets closed."), th)
    # sentence-initial "Stated" counts, the name "Purchase" does not; the phrase wins over its first word
    assert [(s.form, s.i, s.j) for s in sites] == [("stated", 0, 1), ("stated", 4, 5), ("retail outlets", 6, 8)]


def test_spun_text_shows_more_evidence_than_clean():
    th = thesaurus()
    spun = thesaurus_evidence(SPUN, STUB, th, PARAMS)
    clean = thesaurus_evidence(CLEAN, STUB, th, PARAMS)
    assert spun.nats > 1.0 and clean.nats == 0.0
    assert spun.words == len(tokenize(SPUN).lows)
    assert sum(spun.paragraphs) == pytest.approx(spun.nats)


def test_one_word_type_adds_at_most_its_cap():
    th = thesaurus()
    once = thesaurus_evidence("They stated it.", STUB, th, PARAMS).nats
    many = thesaurus_evidence(" ".join(["They stated it."] * 50), STUB, th, PARAMS).nats
    assert 0 < once <= many <= PARAMS.type_cap


def test_no_scorer_no_context():
    th = thesaurus()
    report = thesaurus_evidence(SPUN, None, th, PARAMS)
    assert all(not s.advantages for s, _ in report.sites)
    assert thesaurus_candidates(SPUN, None, th, PARAMS) == []


words = st.sampled_from(["stated", "Stated", "shoppers", "retail", "outlets", "purchase", "the", "Financiers",
                         "financiers", "said", "buy"])
gaps = st.sampled_from([" ", " ", ", ", ". ", "\n\n", "-"])


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(words, gaps), max_size=40), st.floats(-20, 20), st.floats(-20, 20))
def test_static_bound_bounds_the_evidence(pieces, plus, minus):
    text = "".join(w + g for w, g in pieces)
    th = thesaurus()
    scorer = Stub(STUB.right, plus, minus)
    got = thesaurus_evidence(text, scorer, th, PARAMS).nats
    assert static_bound(text, th, PARAMS) >= got - 1e-9


def test_candidates_restore_where_the_margin_is_wide():
    th = thesaurus()
    cands = thesaurus_candidates(SPUN, STUB, th, PARAMS)
    assert [(c.before, c.after) for c in cands] == [
        ("stated", "said"), ("shoppers", "customers"), ("retail outlets", "stores"),
        ("Financiers", "Investors"), ("stated", "said")]
    c = cands[0]
    assert c.rule == RULE and "Open English WordNet" in c.reason
    assert SPUN[c.start : c.end] == c.before and 0.0 < c.confidence < 1.0
    assert {"thesaurus_llr", "context", "margin"} <= set(c.evidence)
    # spans another rule covers are left to it
    skip = [(c.i, c.j) for c in cands[:2]]
    assert [c.before for c in thesaurus_candidates(SPUN, STUB, th, PARAMS, skip=skip)] == [
        "retail outlets", "Financiers", "stated"]
    # a narrow margin is no evidence
    assert thesaurus_candidates(SPUN, Stub(STUB.right, plus=1.0), th, PARAMS) == []


def test_proposals_rank_the_spinners_forms_first():
    th = thesaurus()
    pages = [SPUN, "Shoppers stated they would purchase more. " + SPUN]
    clean = [CLEAN * 3, "We purchase what we need, he said."]
    got = propose_mappings(pages, clean, STUB, th, PARAMS, min_pages=2)
    assert got and got[0].spun in {"stated", "shoppers", "retail outlets", "financiers"}
    assert all(p.pages >= 2 and p.mean_advantage > 0 for p in got)
    assert ("purchase", "buy") not in {(p.spun, p.original) for p in got}  # the stub says buy fits worse


def test_params_round_trip():
    body = PARAMS.to_json()
    assert ThesaurusParams.from_json(body) == PARAMS
    with pytest.raises(ModelError):
        ThesaurusParams.from_json({"word": {}}, "p.json")


def test_bundled_thesaurus():
    th = load_thesaurus()
    assert len(th) > 50_000
    assert "said" in [c[0] for c in th.candidates("stated")]
    assert th.zipf("stated") < th.candidates("stated")[0][1]
    path = Path(th.source)
    assert path.stat().st_size < 4_000_000
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        head = fh.read(600)
    assert "Open English WordNet" in head and "CC BY 4.0" in head and "Princeton WordNet" in head


def test_bundled_evidence_without_scorer_is_bounded():
    text = "The corporate stated that shoppers would proceed to purchase belongings at retail outlets."
    got = thesaurus_evidence(text)
    assert got.nats <= static_bound(text) + 1e-9
    assert not math.isnan(got.score)


@pytest.mark.skipif(not (SHARED / "thesaurus" / "oewn_synsets.jsonl").exists(), reason="needs ../shared")
def test_bundled_file_is_built_from_the_shared_thesaurus():
    import hashlib

    digest = hashlib.sha256((SHARED / "thesaurus" / "oewn_synsets.jsonl").read_bytes()).hexdigest()[:16]
    with gzip.open(load_thesaurus().source, "rt", encoding="utf-8") as fh:
        head = fh.read(800)
    assert digest in head


@pytest.mark.parametrize("end", ["", " ", " \n", "  "])
def test_evidence_at_the_text_end_with_the_context_model(end):
    """A site that ends the text, with or without whitespace after it, is read
    with the bundled context model (a lone trailing space once raised IndexError)."""
    from despin.context import load_model

    model = load_model()
    text = "They will commence" + end
    report = thesaurus_evidence(text, model)
    assert [s.form for s, _ in report.sites] == ["commence"]
    assert report.nats == thesaurus_evidence("They will commence", model).nats
    thesaurus_candidates(text, model)  # no error


# -- the option Config.unseen -------------------------------------------------------------------

# Made up for these tests: synonyms a WordNet spinner might pick, with a few
# lexicon forms (enough that the quick reject cannot settle the text, too few
# for the lexicon evidence alone to call it spun).
UNSEEN = (
    "The governance declared on Thursday that it would commence a fresh inquiry into the disbursement of the "
    "metropolis's budget. Functionaries declared the inquiry would scrutinise how the finances were employed, "
    "and that the outcomes would be publicised next year. The premier of the city affirmed that she welcomed "
    "the inquiry and that her establishment had nothing to conceal. Critics contended the city had squandered "
    "millions on undertakings that were never finished, and demanded that the functionaries responsible be "
    "dismissed. The inquiry is expected to persist for several months."
)
SETTLED = (
    "The government said on Thursday that it would begin a new inquiry into the spending of the city's budget. "
    "Officials said the inquiry would examine how the money was used."
)


def test_detection_nats_count_only_beyond_the_clean_margin():
    p = ThesaurusParams(drift=5.0, clean_margin=2.0, detection_weight=3.0)
    assert p.detection_nats(6.9, 1000) == 0.0  # margin 1.9
    assert p.detection_nats(-50.0, 100) == 0.0  # never against spin
    assert p.detection_nats(9.0, 1000) == pytest.approx(6.0)
    assert ThesaurusParams.from_json(p.to_json()) == p


def test_spin_report_adds_the_unseen_evidence_to_a_lexicon_evidence_of_at_least_zero():
    from despin.detection import spin_report
    from despin.lexicon import load_lexicon

    lex = load_lexicon()
    base = spin_report(SETTLED, lex, 0.5)
    assert spin_report(SETTLED, lex, 0.5, unseen=0.0) == base
    assert base.llr < 0
    more = spin_report(SETTLED, lex, 0.5, unseen=2.5)
    assert more.llr == pytest.approx(2.5) and more.score > base.score
    spun = spin_report(UNSEEN, lex, 0.5)
    assert spin_report(UNSEEN, lex, 0.5, unseen=2.5).llr == pytest.approx(max(spun.llr, 0.0) + 2.5)


def test_the_option_is_off_by_default_and_on_the_command_line():
    from despin import Config
    from despin.cli import _config, build_parser

    assert Config().unseen is False
    for command in ("restore", "detect", "report"):
        assert _config(build_parser().parse_args([command, "x.txt", "--unseen"])).unseen is True
        assert _config(build_parser().parse_args([command, "x.txt"])).unseen is False
    with pytest.raises(Exception, match="unseen"):
        Config(unseen="yes")


def test_unseen_calls_a_text_the_lexicon_misses_spun_and_changes_no_edit():
    from despin import Config, Restorer
    from despin.bounds import surely_clean
    from despin.passes import unseen_scorer
    from despin.thesaurus import detection_evidence

    off, on = Restorer(Config()), Restorer(Config(unseen=True))
    assert not surely_clean(UNSEEN, off.lexicon, 0.5, off.decision.detection)
    lexicon_only, both = off.detect(UNSEEN), on.detect(UNSEEN)
    assert not lexicon_only.spun and both.spun
    assert both.llr == pytest.approx(max(lexicon_only.llr, 0.0) + detection_evidence(UNSEEN, unseen_scorer()))
    restored = on.restore_and_explain(UNSEEN)
    assert restored.report == both
    assert restored.edits == off.restore_and_explain(UNSEEN).edits  # the lexicon's verdict decides the edits
    assert all(e.rule != RULE for e in restored.edits)


def test_unseen_leaves_texts_the_quick_reject_settles_alone():
    from despin import Config, Restorer
    from despin.bounds import surely_clean

    off, on = Restorer(Config()), Restorer(Config(unseen=True))
    assert surely_clean(SETTLED, off.lexicon, 0.5, off.decision.detection)
    assert on.detect(SETTLED) == off.detect(SETTLED)
    assert on.restore_and_explain(SETTLED).edits == off.restore_and_explain(SETTLED).edits == ()
