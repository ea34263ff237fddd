"""Quality with the bundled lexicon and model: dev articles, do-no-harm, detection.

The clean corpora live in ../shared/corpus/clean_en next to the repository
(CI has them); those tests are skipped where they are absent. Their texts are
never copied into the repository.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import despin
from despin.corpus import read_corpus
from despin.evaluate import combine_pairs, evaluate_clean, evaluate_pair

DEV = Path(__file__).parent / "data" / "dev"
CLEAN = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "clean_en"


def _read(name: str) -> str:
    return (DEV / name).read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def r() -> despin.Restorer:
    return despin.Restorer()


# Regression floors just under the level this version reaches (docs/evaluation.md:
# 000 60.7 %, precision 0.80; 001 58.3 %, 0.84). The figures that count are the
# cross-validated ones on real pages (README); the project's target (85 %) is the
# known failure below.
@pytest.mark.parametrize("name,floor,precision", [("000", 0.58, 0.78), ("001", 0.55, 0.82)])
def test_dev_articles_error_reduction(r, name, floor, precision):
    res = evaluate_pair(r, _read(f"{name}.spun.txt"), _read(f"{name}.orig.txt"), name)
    assert res.error_reduction >= floor
    assert res.precision >= precision
    # calibration: edits reported with confidence >= 0.9 are right at least 90 % of the time
    assert res.confident_edits and res.confident_correct / res.confident_edits >= 0.9


@pytest.mark.xfail(strict=True, reason="known failure: error reduction on the dev articles is below the 85 % target, "
                   "mostly for want of lexicon coverage of frequent words ('as' -> 'because', 'compatible' -> "
                   "'suitable') and of choices among several originals that the context model sees too rarely")
@pytest.mark.parametrize("name", ["000", "001"])
def test_dev_articles_reach_the_target_error_reduction(r, name):
    res = evaluate_pair(r, _read(f"{name}.spun.txt"), _read(f"{name}.orig.txt"), name)
    assert res.error_reduction >= 0.85


def test_dev_clean_article_unchanged(r):
    text = _read("002.clean.txt")
    res = r.restore_and_explain(text)
    assert res.edits == () and res.text == text
    assert not res.report.spun


def test_dev_articles_are_detected(r):
    for name in ("000", "001"):
        rep = r.detect(_read(f"{name}.spun.txt"))
        assert rep.spun and rep.score > 0.99
        assert not r.detect(_read(f"{name}.orig.txt")).spun


needs_clean = pytest.mark.skipif(not CLEAN.is_dir(), reason="../shared/corpus/clean_en not present")


@needs_clean
@pytest.mark.parametrize(
    "file,limit",
    [("donoharm_news_sample.jsonl", 0.2), ("pd_us_speeches.jsonl", 0.2)],
)
def test_do_no_harm_on_clean_news(r, file, limit):
    res = evaluate_clean(r, read_corpus([str(CLEAN / file)], strict=True), file)
    assert res.documents > 100
    assert res.edits_per_1000 <= limit, res.examples[:10]


@needs_clean
def test_detection_ranks_every_dev_article_above_every_clean_news_document(r):
    spun_min = min(r.detect(_read(f"{n}.spun.txt")).score for n in ("000", "001"))
    with open(CLEAN / "donoharm_news_sample.jsonl", encoding="utf-8") as fh:
        clean_max = max(r.detect(json.loads(line)["text"]).score for line in fh)
    assert spun_min > clean_max


@needs_clean
def test_calibration_on_held_out_news_spun_with_every_original(r):
    """Edits reported with confidence >= 0.9 are right 90 % of the time also on
    text nothing was tuned on: held-out news spun by the lexicon read backwards
    from every original it lists, so restoring must choose among them
    (``tools/eval_synthetic.py --originals all --skip 60 --docs 100``)."""
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    from spinner import spin

    with open(CLEAN / "donoharm_news_sample.jsonl", encoding="utf-8") as fh:
        docs = [t for t in (json.loads(line)["text"] for line in fh) if len(t.split()) >= 250][60:160]
    res = combine_pairs(evaluate_pair(r, spin(t, rate=0.3, seed=k, all_originals=True), t) for k, t in enumerate(docs))
    assert res.confident_edits > 1000
    assert res.confident_correct / res.confident_edits >= 0.9
    assert res.precision >= 0.75
    assert res.error_reduction >= 0.40
