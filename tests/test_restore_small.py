"""Behaviour of the pipeline, checked with the small fixed test lexicon."""

from __future__ import annotations

import math

import pytest

import despin
from despin.render import transfer_case, wants_an
from despin.score import RANK_PRIOR, choice_probability

from support import SMALL_OPTIONS

# Enough unambiguous spinner artifacts to mark a text as spun.
SPUN_CONTEXT = (
    "The satellite tv for pc firm sells applied sciences. "
    "Sales rose 5 p.c. this yr after the Chilly Conflict. "
)

CASES = [
    # (input, expected) -- artifacts are restored in any text
    ("The satellite tv for pc was launched.", "The satellite was launched."),
    ("New applied sciences help.", "New technologies help."),
    ("SATELLITE TV FOR PC", "SATELLITE"),
    ("Satellite tv for pc launches failed.", "Satellite launches failed."),
    ("After the Chilly Conflict ended", "After the Cold War ended"),
    ("Profits rose 5 p.c. in May.", "Profits rose 5 percent in May."),
    ("Profits rose 5 p.c.", "Profits rose 5 percent."),  # the dot also ended the sentence
    ("Profits rose 5 p.c. Then", "Profits rose 5 percent. Then"),
    ("the White Home said", "the White House said"),
    ("Silicon Valley Financial institution failed", "Silicon Valley Bank failed"),
    ("{that a} deal", "that a deal"),
    ("pick {one|two} now", "pick one now"),
    # ordinary English forms are left alone in text that is not spun
    ("Police officers said the navy stated its position.", "Police officers said the navy stated its position."),
    ("The chilly conflict between neighbours", "The chilly conflict between neighbours"),  # lower case: not the name
    ("a financial institution", "a financial institution"),  # lower case: ordinary English
    # ...but restored in a spun text, with case, possessives and articles carried over
    (SPUN_CONTEXT + "Officers mentioned an settlement.", None),
    (SPUN_CONTEXT + "The officers’ report, in response to officers.", None),
    (SPUN_CONTEXT + "IN RESPONSE TO THE NAVY", None),
]

EXPECTED_SPUN = {
    SPUN_CONTEXT + "Officers mentioned an settlement.": "Officials said an agreement.",
    SPUN_CONTEXT + "The officers’ report, in response to officers.": "The officials’ report, according to officials.",
    SPUN_CONTEXT + "IN RESPONSE TO THE NAVY": "ACCORDING TO THE MILITARY",
}
RESTORED_CONTEXT = (
    "The satellite firm sells technologies. Sales rose 5 percent this year after the Cold War. "
)


@pytest.mark.parametrize("text,expected", CASES)
def test_restore_cases(small, text, expected):
    out = small.restore(text)
    if expected is None:
        expected = RESTORED_CONTEXT + EXPECTED_SPUN[text]
    assert out == expected


def test_article_agrees_with_restored_word(small):
    text = SPUN_CONTEXT + "It is a settlement. A SETTLEMENT"
    assert small.restore(text).endswith("It is an agreement. AN AGREEMENT")


def test_article_left_when_it_already_disagreed(small):
    # The spinner does not fix grammar: "an settlement" came from "an agreement".
    assert small.restore(SPUN_CONTEXT + "an settlement").endswith("an agreement")


def test_contractions_are_not_split(small, tmp_path):
    lex = tmp_path / "l.tsv"
    lex.write_text("# despin-lexicon 1\nspun\toriginal\tclass\nisn\twasn\tartifact\n", encoding="utf-8")
    r = despin.Restorer(bundled_lexicon=False, lexicons=(str(lex),))
    assert r.restore("It isn’t so, isn't it") == "It isn’t so, isn't it"


def test_name_only_entries_need_a_name(small):
    text = SPUN_CONTEXT + "College fees rose. She went to Kookmin College in Seoul."
    out = small.restore(text)
    assert "College fees rose." in out
    assert "Kookmin University" in out


def test_quotes_left_alone_when_the_text_leaves_them_unspun(small):
    quote = ("“We asked the officers to wait for us, and they did what we asked of them, as they always have done "
             "before in this town for years”")
    text = SPUN_CONTEXT * 2 + "Officers mentioned it. He said " + quote + " today."
    out = small.restore(text)
    assert "Officials said it." in out
    assert quote in out  # quote shows no spin, so its ordinary words stay


def test_protect_quotes_option(small):
    text = "He said “the satellite tv for pc” works."
    r = despin.Restorer(small.config, protect={"quotes"})
    assert r.restore(text) == text
    assert small.restore(text) == "He said “the satellite” works."


def test_protect_pattern_option(small):
    text = "satellite tv for pc and SKU-satellite tv for pc"
    r = despin.Restorer(small.config, protect_pattern=r"SKU-[^\n]*")
    assert r.restore(text) == "satellite and SKU-satellite tv for pc"


def test_urls_are_never_edited(small):
    text = "See www.example.com/satellite tv for pc and http://x.org/applied sciences"
    out = small.restore(text)
    assert "www.example.com/satellite" in out and "http://x.org/applied" in out


def test_threshold_option(small):
    text = SPUN_CONTEXT + "Officers mentioned it."
    strict = despin.Restorer(small.config, threshold=0.95)
    out = strict.restore(text)
    assert "Officers mentioned it." in out  # common forms are below 0.95
    assert "satellite firm" in out  # artifacts (0.99) still restored


def test_user_lexicon_overrides_and_keep(small, tmp_path):
    lex = tmp_path / "user.tsv"
    lex.write_text(
        "# despin-lexicon 1\nspun\toriginal\tclass\tweight\ttags\n"
        "satellite tv for pc\tsatellite television\tartifact\t0.99\t\n"
        "applied sciences\tx\tkeep\t\t\n",
        encoding="utf-8",
    )
    r = despin.Restorer(small.config, lexicons=small.config.lexicons + (str(lex),))
    assert r.restore("satellite tv for pc and applied sciences") == "satellite television and applied sciences"


@pytest.mark.parametrize(
    "scores,best,expected",
    [
        ([0.0], 0.0, 1.0),
        ([0.0, 0.0], 0.0, 0.5),
        ([0.0, -0.7, -1.4], 0.0, 1 / (1 + math.exp(-0.7) + math.exp(-1.4))),
        ([-3.0, 2.0], 2.0, 1 / (1 + math.exp(-5.0))),
    ],
)
def test_choice_probability(scores, best, expected):
    assert choice_probability(scores, best) == pytest.approx(expected)


def _one_entry(small, tmp_path, originals: str) -> despin.Restorer:
    lex = tmp_path / f"user{len(originals)}.tsv"
    lex.write_text(
        f"# despin-lexicon 1\nspun\toriginal\tclass\tweight\ttags\nbolster\t{originals}\tcommon\t0.9\t\n",
        encoding="utf-8",
    )
    return despin.Restorer(small.config, lexicons=small.config.lexicons + (str(lex),), threshold=0.05)


def test_confidence_counts_the_choice_among_originals(small, tmp_path):
    """An edit is right only if the span is spun *and* the chosen original is
    the one it replaced: with three originals and no context to choose by, the
    first is right with its rank-prior probability, and the confidence says so."""
    text = SPUN_CONTEXT + "They bolster the plan."
    one = _one_entry(small, tmp_path, "support").restore_and_explain(text)
    three = _one_entry(small, tmp_path, "support|boost|back").restore_and_explain(text)
    (e1,) = [e for e in one.edits if e.before == "bolster"]
    (e3,) = [e for e in three.edits if e.before == "bolster"]
    assert e1.after == e3.after == "support"
    p = 1 / (1 + math.exp(-RANK_PRIOR) + math.exp(-2 * RANK_PRIOR))
    assert e3.confidence == pytest.approx(e1.confidence * p)
    assert e3.evidence["choice"] == pytest.approx(p)
    assert "choice" not in e1.evidence


def test_uncertain_choice_can_keep_an_edit_below_the_threshold(small, tmp_path):
    text = SPUN_CONTEXT + "They bolster the plan."
    lex = _one_entry(small, tmp_path, "support|boost|back|bolster up|prop").config.lexicons
    assert "They support the plan." in despin.Restorer(small.config, lexicons=lex, threshold=0.2).restore(text)
    assert "They bolster the plan." in despin.Restorer(small.config, lexicons=lex, threshold=0.5).restore(text)


def test_artifacts_are_restored_however_uncertain_the_choice(small, tmp_path):
    """The literal artifact is surely wrong, so even eight originals, none of
    them likely, do not keep it; the choice is still shown."""
    lex = tmp_path / "art.tsv"
    lex.write_text(
        "# despin-lexicon 1\nspun\toriginal\tclass\tweight\ttags\n"
        "frobnicated widget\ta|b|c|d|e|f|g|h\tartifact\t0.97\t\n",
        encoding="utf-8",
    )
    r = despin.Restorer(small.config, lexicons=small.config.lexicons + (str(lex),))
    res = r.restore_and_explain("We saw the frobnicated widget.")
    (e,) = res.edits
    assert (e.after, e.confidence) == ("a", 0.97)
    assert e.evidence["choice"] == pytest.approx(choice_probability([-RANK_PRIOR * k for k in range(8)], 0.0))
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
    lex = tmp_path / "l.tsv"
    lex.write_text("# despin-lexicon 1\nspun\toriginal\tclass\nECU\tEuropean Union\tartifact\n", encoding="utf-8")
    r = despin.Restorer(bundled_lexicon=False, lexicons=(str(lex),), context=False)
    rep = r.detect("The ECU rose, and the ecu did not.")
    assert rep.artifacts == 1
    assert [(e.form, e.count) for e in rep.evidence] == [("ECU", 1)]


@pytest.mark.parametrize(
    "text, counted",
    [
        ("They acted in response to the call.", True),
        ("They acted in response\nto the call.", True),  # text wrapped inside a sentence
        ("They acted in response - to the call.", False),
        ("They acted in response. To the call.", False),
        ("“They acted in response” he said, “to the call.”", False),  # the seam between two quotations
    ],
)
def test_detection_counts_multiword_forms_only_where_they_could_be_restored(small, text, counted):
    forms = {e.form for e in small.detect(text).evidence}
    assert ("in response to" in forms) == counted
    assert (small.restore(text) != text) == (counted and small.detect(text).spun)
