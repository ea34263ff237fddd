"""Behaviour of the pipeline, checked with the small fixed test lexicon (more
restoration cases, as data, in tests/cases/restore.small.jsonl)."""

from __future__ import annotations

import math

import pytest

import despin
from despin.decision import DecisionModel, load_decision_model
from despin.render import transfer_case, wants_an

from support import SMALL_OPTIONS, write_lexicon

# Enough unambiguous spinner artifacts to mark a text as spun.
SPUN_CONTEXT = (
    "The satellite tv for pc firm sells applied sciences. "
    "Sales rose 5 p.c. this yr after the Chilly Conflict. "
)


def test_contractions_are_not_split(small, tmp_path):
    lex = write_lexicon(tmp_path / "l.tsv", "isn\twasn\tartifact\n")
    r = despin.Restorer(bundled_lexicon=False, lexicons=(lex,))
    assert r.restore("It isn’t so, isn't it") == "It isn’t so, isn't it"


def test_user_lexicon_overrides_and_keep(small, tmp_path):
    lex = write_lexicon(tmp_path / "user.tsv", "satellite tv for pc\tsatellite television\tartifact\t0.99\t\n"
                                                "applied sciences\tx\tkeep\t\t\n")
    r = despin.Restorer(small.config, lexicons=small.config.lexicons + (lex,))
    assert r.restore("satellite tv for pc and applied sciences") == "satellite television and applied sciences"


@pytest.mark.parametrize(
    "rank_cost,context_weight,advantages,expected",
    [
        (0.7, 1.0, [0.0], [1.0]),
        (0.0, 1.0, [0.0, 0.0], [0.5, 0.5]),
        (0.7, 1.0, [0.0, 0.0, 0.0], [1 / (1 + math.exp(-0.7) + math.exp(-1.4))] * 1),
        (0.0, 1.0, [-3.0, 2.0], [1 / (1 + math.exp(5.0)), 1 / (1 + math.exp(-5.0))]),
        (0.0, 0.5, [0.0, 2.0], [1 / (1 + math.exp(1.0)), 1 / (1 + math.exp(-1.0))]),
        (0.0, 1.0, [0.0, 99.0], [1 / (1 + math.exp(4.0)), 1 / (1 + math.exp(-4.0))]),  # clipped at 4 nats
    ],
)
def test_choice_among_originals(rank_cost, context_weight, advantages, expected):
    probs = DecisionModel(0.0, {}, rank_cost, context_weight, clip=4.0).choice(advantages)
    assert probs[: len(expected)] == pytest.approx(expected)
    assert sum(probs) == pytest.approx(1.0)


def test_confidence_is_the_fitted_logistic_of_the_evidence_on_its_scales():
    """Probabilities are read as log-odds (the prior) or logarithms (the choice), counts as logarithms."""
    model = DecisionModel(-1.0, {"prior": 2.0, "choice": 1.0, "local": 0.5})
    assert model.confidence({"prior": 0.5, "choice": 1.0, "ignored": 9.0, "local": 2.0}) == pytest.approx(0.5)
    expected = 1 / (1 + math.exp(-(-1.0 + 2.0 * math.log(0.75 / 0.25) + math.log(0.5))))
    assert model.confidence({"prior": 0.75, "choice": 0.5}) == pytest.approx(expected)


def _one_entry(small, tmp_path, originals: str) -> despin.Restorer:
    lex = write_lexicon(tmp_path / f"user{len(originals)}.tsv", f"bolster\t{originals}\tcommon\t0.9\t\n")
    return despin.Restorer(small.config, lexicons=small.config.lexicons + (lex,), threshold=0.01)


def test_confidence_counts_the_choice_among_originals(small, tmp_path):
    """An edit is right only if the span is spun *and* the chosen original is
    the one it replaced: with three originals and no context to choose by, the
    first is chosen with the rank prior's probability, and the confidence is
    lower than with one original."""
    text = SPUN_CONTEXT + "They bolster the plan."
    one = _one_entry(small, tmp_path, "support").restore_and_explain(text)
    three = _one_entry(small, tmp_path, "support|boost|back").restore_and_explain(text)
    (e1,) = [e for e in one.edits if e.before == "bolster"]
    (e3,) = [e for e in three.edits if e.before == "bolster"]
    assert e1.after == e3.after == "support"
    p = load_decision_model().choice([0.0, 0.0, 0.0])[0]
    assert e3.evidence["choice"] == pytest.approx(p)
    assert e1.evidence["choice"] == 1.0
    assert e3.confidence < e1.confidence


def test_an_uncertain_choice_lowers_the_confidence(small, tmp_path):
    text = SPUN_CONTEXT + "They bolster the plan."
    few = _one_entry(small, tmp_path, "support").restore_and_explain(text).edits
    many = _one_entry(small, tmp_path, "support|boost|back|bolster up|prop").restore_and_explain(text).edits
    conf = {len(edits): e.confidence for edits in (few, many) for e in edits if e.before == "bolster"}
    assert len(conf) == 1 or conf[len(many)] < conf[len(few)]
    (c_many,) = [e.confidence for e in many if e.before == "bolster"]
    (c_few,) = [e.confidence for e in few if e.before == "bolster"]
    assert c_many < c_few


def test_artifacts_are_restored_however_uncertain_the_choice(small, tmp_path):
    """The literal artifact is surely wrong, so even eight originals, none of
    them likely, do not keep it; the choice is still shown."""
    lex = write_lexicon(tmp_path / "art.tsv", "frobnicated widget\ta|b|c|d|e|f|g|h\tartifact\t0.97\t\n")
    r = despin.Restorer(small.config, lexicons=small.config.lexicons + (lex,))
    res = r.restore_and_explain("We saw the frobnicated widget.")
    (e,) = res.edits
    assert (e.after, e.confidence) == ("a", 0.97)
    assert e.evidence["choice"] == pytest.approx(load_decision_model().choice([0.0] * 8)[0])
    assert e.evidence["choice"] * 0.97 < 0.5


def test_explain_edits_replay(small):
    text = SPUN_CONTEXT + "The officers’ report, in response to officers, {that a} deal."
    res = small.restore_and_explain(text)
    assert despin.apply_edits(text, res.edits) == res.text == small.restore(text)
    for e in res.edits:
        assert text[e.start : e.end] == e.before
        assert 0.0 <= e.confidence <= 1.0
        assert e.reason and e.rule
    assert [e.to_dict() for e in res.edits] == [despin.Edit.from_dict(e.to_dict()).to_dict() for e in res.edits]
    assert despin.apply_edits(text, [e.to_dict() for e in res.edits]) == res.text


def test_apply_edits_rejects_mismatch():
    e = despin.Edit(0, 3, "abc", "x", 1.0, "r", "t")
    with pytest.raises(despin.EditError):
        despin.apply_edits("xyz", [e])
    with pytest.raises(despin.EditError):
        despin.apply_edits("abcdef", [e, despin.Edit(2, 4, "cd", "y", 1.0, "r", "t")])


def test_detect_report(small):
    spun = small.detect(SPUN_CONTEXT * 3 + "Officers mentioned it.")
    clean = small.detect("Police officers said on Monday that the talks were over.")
    assert spun.spun and not clean.spun
    assert spun.score > clean.score
    assert spun.artifacts >= 9
    assert spun.per_1000_words > 0
    assert any(ev.form == "satellite tv for pc" for ev in spun.evidence)


@pytest.mark.parametrize("bad", [b"bytes", None, 3, ["list"]])
def test_non_text_input_raises_despin_error(small, bad):
    with pytest.raises(despin.InputError):
        small.restore(bad)


def test_restore_batch_matches_restore(small):
    texts = ["", "satellite tv for pc", SPUN_CONTEXT + "officers", "plain"]
    assert small.restore_batch(texts) == [small.restore(t) for t in texts]
    assert despin.restore_batch(texts, **SMALL_OPTIONS) == small.restore_batch(texts)


def test_restorer_pickles_cheaply(small):
    import pickle

    small.restore("satellite tv for pc")  # loads the lexicon
    blob = pickle.dumps(small)
    assert len(blob) < 2000
    clone = pickle.loads(blob)
    assert clone.config == small.config
    assert clone.restore("satellite tv for pc") == "satellite"


def test_restorer_threads_share_one_instance(small):
    from concurrent.futures import ThreadPoolExecutor

    fresh = despin.Restorer(small.config)
    texts = [SPUN_CONTEXT + f"Officers mentioned {i}." for i in range(40)]
    with ThreadPoolExecutor(8) as pool:
        outs = list(pool.map(fresh.restore, texts))
    assert outs == [small.restore(t) for t in texts]


@pytest.mark.parametrize(
    "source,target,expected",
    [
        ("Chilly Conflict", "cold war", "Cold War"),
        ("IN RESPONSE TO", "according to", "ACCORDING TO"),
        ("In response to", "according to", "According to"),
        ("in response to", "according to", "according to"),
        ("Japanese Financial Discussion board", "Eastern Economic Forum", "Eastern Economic Forum"),
        ("mentioned", "U.N.", "U.N."),
        ("Financial institution", "bank", "Bank"),
    ],
)
def test_transfer_case(source, target, expected):
    assert transfer_case(source, target) == expected


@pytest.mark.parametrize(
    "word,an",
    [("agreement", True), ("official", True), ("union", False), ("hour", True), ("European", False),
     ("year", False), ("FBI", True), ("NATO", False), ("8-year", True), ("one", False), ("uninformed", True)],
)
def test_wants_an(word, an):
    assert wants_an(word) is an


def test_all_caps_cased_form_is_counted_once(tmp_path):
    # "ECU" is written in capitals: its spelling and its all-caps form are the same string
    lex = write_lexicon(tmp_path / "l.tsv", "ECU\tEuropean Union\tartifact\n")
    r = despin.Restorer(bundled_lexicon=False, lexicons=(lex,), context=False)
    rep = r.detect("The ECU rose, and the ecu did not.")
    assert rep.artifacts == 1
    assert [(e.form, e.count) for e in rep.evidence] == [("ECU", 1)]


@pytest.mark.parametrize(
    "text, counted",
    [
        ("They acted in response to the call.", True),
        # a line break ends a spun phrase (issue 16, item 9; see tokenize._SAME_LINE_GAP)
        ("They acted in response\nto the call.", False),
        ("They acted in response - to the call.", False),
        ("They acted in response. To the call.", False),
        ("“They acted in response” he said, “to the call.”", False),  # the seam between two quotations
    ],
)
def test_detection_counts_multiword_forms_only_where_they_could_be_restored(small, text, counted):
    forms = {e.form for e in small.detect(text).evidence}
    assert ("in response to" in forms) == counted
    assert (small.restore(text) != text) == (counted and small.detect(text).spun)
