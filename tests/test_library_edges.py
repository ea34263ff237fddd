"""Wrong arguments to the library raise a DespinError with a message, never a bare
TypeError or a character-by-character restore (issue 16, item 12)."""

from __future__ import annotations

import pytest

import despin

from support import SMALL


@pytest.mark.parametrize("texts", ["one text", b"bytes", None, 42])
def test_restore_batch_refuses_what_is_not_a_list_of_texts(texts):
    with pytest.raises(despin.InputError, match="restore_batch takes an iterable of texts"):
        SMALL.restore_batch(texts)
    with pytest.raises(despin.InputError, match="restore_batch takes an iterable of texts"):
        despin.restore_batch(texts, **{"context": False})


def test_restore_batch_still_takes_any_iterable_of_texts():
    assert SMALL.restore_batch(t for t in ["satellite tv for pc", "x"]) == ["satellite", "x"]
    assert SMALL.restore_batch(("a",)) == ["a"]
    with pytest.raises(despin.InputError):
        SMALL.restore_batch(["ok", None])


def test_apply_edits_refuses_what_is_not_text_or_edits():
    with pytest.raises(despin.InputError, match="not on NoneType"):
        despin.apply_edits(None, [])
    with pytest.raises(despin.InputError, match="iterable of edits"):
        despin.apply_edits("text", None)
    with pytest.raises(despin.EditError, match="not an edit"):
        despin.apply_edits("text", [3])
    assert despin.apply_edits("text", []) == "text"


@pytest.mark.parametrize("config", ["notaconfig", {"threshold": 0.5}, 0.7])
def test_restorer_refuses_a_config_that_is_not_one(config):
    with pytest.raises(despin.ConfigError, match="Restorer takes a despin.Config or keyword options"):
        despin.Restorer(config)


def test_every_error_is_a_despin_error_and_keeps_its_builtin_base():
    assert issubclass(despin.InputError, TypeError) and issubclass(despin.ConfigError, ValueError)
    for exc in (despin.InputError, despin.ConfigError, despin.ModelError, despin.LexiconError, despin.EditError):
        assert issubclass(exc, despin.DespinError)
