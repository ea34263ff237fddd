"""The bundled context model as a scorer: how despin's tokens are read as the
model's words (despin.lm_text), which words a window holds, and a sanity table
of choices the model must get right."""

from __future__ import annotations

import pytest

from despin.context import ContextModel, load_model
from despin.lm_text import phrase_words, sentences
from despin.tokenize import tokenize

KNOWN = {"u.", "s.", "p.", "m.", "company's", "didn't", "officers'", "e-mail", "'s"}


def known(word: str) -> bool:
    return word in KNOWN


@pytest.fixture(scope="module")
def model() -> ContextModel:
    m = load_model()
    if m is None:
        pytest.skip("no bundled model")
    return m


@pytest.mark.parametrize(
    "text,want",
    [
        ("U.S. officials said.", [["u.", "s.", "officials", "said"]]),
        ("The company's sales, Mr. Smith said, rose 4.3% to $1,000.", [
            ["the", "company's", "sales", "mr", "smith", "said", "rose", "<num>", "to", "<num>"]]),
        ("He didn't agree! She left at 5 p.m. Then rain.", [
            ["he", "didn't", "agree"], ["she", "left", "at", "<num>", "p.", "m.", "then", "rain"]]),
        ("Officers' union", [["officers'", "union"]]),
        ("A slow-moving e-mail from the 56-year-old", [["a", "slow", "moving", "e-mail", "from", "the", "<num>",
                                                        "year", "old"]]),
        ("First paragraph\n\nSecond one | site", [["first", "paragraph"], ["second", "one"], ["site"]]),
        ("Wrapped\nline goes on", [["wrapped", "line", "goes", "on"]]),
        ("the dog's bone", [["the", "dog", "'s", "bone"]]),
    ],
)
def test_text_is_read_as_the_model_reads_it(text, want):
    assert list(sentences(text, known)) == want


def test_phrases_are_read_the_same_way():
    assert phrase_words("U.S.", known) == ("u.", "s.")
    assert phrase_words("according to", known) == ("according", "to")


def test_tokens_and_offsets_are_unchanged():
    text = "U.S. officers said"
    tokens = tokenize(text)
    assert tokens.words == ["U", "S", "officers", "said"]  # reading the model's way changes nothing here


def test_window_reads_through_abbreviations(model):
    tokens = tokenize("Two U.S. officers said on Monday that the deal was off.")
    assert model.left_words(tokens, 3) == ("u.", "s.")
    assert model.right_words(tokens, 4) == ("", ("said", "on"))


def test_window_stops_at_sentence_boundaries(model):
    tokens = tokenize("It rained. Officers said nothing.\n\nNext paragraph here.")
    assert model.left_words(tokens, 2) == ("<s>",)
    assert model.right_words(tokens, 4) == ("", ("nothing", "</s>"))
    tokens = tokenize("Officers said nothing.\n\nNext paragraph")
    assert model.right_words(tokens, 3) == ("", ("</s>",))


def test_possessive_is_read_with_the_slot(model):
    tokens = tokenize("The company’s officers met.")
    i = tokens.lows.index("company")
    assert model.right_words(tokens, i + 1) == ("s", ("officers", "met"))
    assert model.slot_words("firm", "s") == ("firm's",)


def test_restored_neighbours_are_read(model):
    tokens = tokenize("The officers stated on Monday that talks failed.")
    plain = model.right_words(tokens, 2)
    restored = model.right_words(tokens, 2, {2: "said"})
    assert plain == ("", ("stated", "on")) and restored == ("", ("said", "on"))


def _advantage(model: ContextModel, text: str, span: str, original: str) -> float:
    tokens = tokenize(text)
    words = span.lower().split()
    for i in range(len(tokens.lows)):
        if tokens.lows[i : i + len(words)] == words:
            return model.advantage_at(tokens, i, i + len(words), span, original)
    raise AssertionError(f"{span!r} not in {text!r}")


@pytest.mark.parametrize(
    "text,span,original,prefers_original",
    [
        ("U.S. officers said on Monday that the talks had failed.", "officers", "officials", True),
        ("Police officers arrested two men on Monday.", "officers", "officials", False),
        ("The government sent food assist to the region.", "assist", "aid", True),
        ("The company stated on Tuesday that sales fell.", "stated", "said", True),
        ("Prices rose in response to rising inflation, the bank said.", "in response to", "according to", False),
        ("The central financial institution raised rates.", "financial institution", "bank", True),
        ("The firm mentioned on Monday that profits rose.", "mentioned", "said", True),
        ("Officials will meet next yr to discuss it.", "yr", "year", True),
    ],
)
def test_sanity_table(model, text, span, original, prefers_original):
    assert (_advantage(model, text, span, original) > 0) == prefers_original


def test_armored_train_is_a_known_gap(model):
    """Neither source has "armored train" often enough; recorded, not required."""
    adv = _advantage(model, "The armored practice was attacked by rebels.", "practice", "train")
    assert isinstance(adv, float)


def test_window_logprobs_and_scores_agree(model):
    tokens = tokenize("The U.S. officers said on Monday.")
    alts = ["officers", "officials", "police"]
    scores = model.window_scores(tokens, 3, 4, alts)
    assert model.window_logprobs(tokens, 3, 4, alts) == [s.total for s in scores]
    for s in scores:
        assert s.total == pytest.approx(s.slot + s.right) and s.total < 0 and s.unigram < 0
