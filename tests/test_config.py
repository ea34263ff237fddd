from __future__ import annotations

import pytest

import despin


@pytest.mark.parametrize(
    "options",
    [
        {"treshold": 0.5},
        {"threshold": 1.5},
        {"threshold": "high"},
        {"spin_threshold": -0.1},
        {"protect": {"quotations"}},
        {"protect_pattern": "("},
        {"context": "yes"},
        {"lexicons": 3},
    ],
)
def test_bad_options_raise(options):
    with pytest.raises(despin.ConfigError):
        despin.Restorer(**options)
    with pytest.raises(despin.ConfigError):
        despin.restore("text", **options)


def test_config_is_frozen_and_replace_keeps_the_rest():
    c = despin.Config()
    with pytest.raises(AttributeError):
        c.threshold = 0.1  # type: ignore[misc]
    c2 = c.replace(threshold=0.8)
    assert c2.threshold == 0.8 and c.threshold == 0.5 and c2.context == c.context


def test_config_normalises_collections():
    c = despin.Config(lexicons="one.tsv", protect="quotes")
    assert c.lexicons == ("one.tsv",) and c.protect == frozenset({"quotes"})
    hash(c)


def test_public_api_is_explicit():
    for name in despin.__all__:
        assert hasattr(despin, name)
    assert "Restorer" in despin.__all__ and "restore" in despin.__all__
