"""despin inside a real datatrove pipeline (issue 6).

Needs the extra: ``pip install -e ".[test,datatrove]"``; without it the
datatrove tests skip, but the import-contract tests still run.

The lexicon is a tiny file written here (independent of the bundled one),
and the context model is off, so results depend only on this file.
"""

from __future__ import annotations

import gzip
import json
import pickle
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import despin
from despin import ConfigError, LexiconError

from support import write_lexicon

# spun form -> original; every spun form is an artifact, so it is always restored
PAIRS = {
    "satellite tv for pc": "satellite",
    "applied sciences": "technologies",
    "local weather change": "climate change",
    "most cancers": "cancer",
    "synthetic intelligence": "artificial intelligence",
}
TEMPLATES = {
    "satellite": "The {} was launched from the coast on Tuesday.",
    "technologies": "Farmers are adopting new {} to save water.",
    "climate change": "The report links {} to the long drought.",
    "cancer": "Doctors said early screening for {} saves lives.",
    "artificial intelligence": "The company will invest in {} research.",
}
FILLER = [
    "The meeting ended without a vote.",
    "Prices rose sharply in March.",
    "Officials expect a decision next week.",
    "The mayor thanked the volunteers.",
    "Schools will reopen after the holiday.",
    "The river flooded parts of the old town.",
]
N_DOCS = 320
N_FILES = 4


def tiny_lexicon(path: Path) -> str:
    return write_lexicon(path, "".join(f"{spun}\t{orig}\tartifact\t\t\n" for spun, orig in PAIRS.items()))


def make_corpus(n: int, seed: int = 6) -> list[dict[str, Any]]:
    """Documents ``{"id", "text", "original", "spun"}``: even ones spun, odd ones clean."""
    rng = random.Random(seed)
    spun_of = {orig: spun for spun, orig in PAIRS.items()}
    docs = []
    for i in range(n):
        is_spun = i % 2 == 0
        # few spun forms or all five, so that both verdicts occur; clean docs may hold no original at all
        n_topics = rng.choice([1, 2, 5] if is_spun else [0, 1, 2, 5])
        parts = [(TEMPLATES[t], t) for t in rng.sample(sorted(TEMPLATES), k=n_topics)]
        parts += [(s, None) for s in rng.sample(FILLER, k=rng.randint(1, 4))]
        rng.shuffle(parts)
        original = " ".join(tpl.format(t) if t else tpl for tpl, t in parts)
        spun = " ".join(tpl.format(spun_of[t]) if t else tpl for tpl, t in parts)
        docs.append(
            {"id": f"doc-{i:04d}", "text": spun if is_spun else original, "original": original, "spun": is_spun}
        )
    return docs


# -- import contract (runs without datatrove) ------------------------------------------


def _python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)


def test_importing_despin_never_imports_datatrove() -> None:
    res = _python(
        "import sys, despin, despin.integrations\n"
        "loaded = [m for m in sys.modules if m.partition('.')[0] == 'datatrove']\n"
        "assert not loaded, loaded\n"
    )
    assert res.returncode == 0, res.stderr


def test_clear_import_error_without_datatrove() -> None:
    res = _python(
        "import sys\n"
        "sys.modules['datatrove'] = None  # as if it were not installed\n"
        "try:\n"
        "    import despin.integrations.datatrove\n"
        "except ImportError as exc:\n"
        "    print(exc)\n"
        "else:\n"
        "    raise SystemExit('no ImportError')\n"
    )
    assert res.returncode == 0, res.stderr
    assert 'pip install "despin[datatrove]"' in res.stdout


# -- the steps ---------------------------------------------------------------------------


def datatrove_steps() -> Any:
    """despin.integrations.datatrove, or a skip when datatrove is not installed.

    The skip asks for datatrove itself: importing the integration without it
    raises a deliberate ImportError, which pytest 9's importorskip reports as
    an error rather than a skip (it skips only ModuleNotFoundError)."""
    pytest.importorskip("datatrove")
    from despin.integrations import datatrove

    return datatrove


@pytest.fixture
def options(tmp_path: Path) -> dict[str, Any]:
    lexicon = tiny_lexicon(tmp_path / "tiny.tsv")
    return {"bundled_lexicon": False, "lexicons": (str(lexicon),), "context": False}


def test_unknown_option_raises_at_construction() -> None:
    dt = datatrove_steps()
    for step in (dt.DespinFormatter, dt.DespinAnnotator):
        with pytest.raises(ConfigError, match="thresold"):
            step(thresold=0.7)
        with pytest.raises(ConfigError):
            step(threshold=7)


def test_steps_load_lazily_and_pickle_as_config(tmp_path: Path, options: dict[str, Any]) -> None:
    dt = datatrove_steps()
    from datatrove.data import Document

    # a missing lexicon is noticed when the step is built, on the driver (issue 16, item 11)
    with pytest.raises(LexiconError, match="missing.tsv"):
        dt.DespinFormatter(bundled_lexicon=False, lexicons=(str(tmp_path / "missing.tsv"),))

    step = dt.DespinAnnotator(threshold=0.6, **options)
    assert step.restorer._lexicon is None
    clone = pickle.loads(pickle.dumps(step))
    assert clone.restorer.config == step.restorer.config
    assert clone.restorer._lexicon is None
    [doc] = clone.run(iter([Document(text="The satellite tv for pc works.", id="y")]))
    assert doc.text == "The satellite tv for pc works."
    assert doc.metadata["despin_edits"] == 1
    assert clone.stats["would_change"].total == 1


def build_executor(src: str, dst: str, logs: str, options: dict[str, Any]) -> Any:
    """The pipeline of docs/corpus-scale.md, with folders and options as arguments."""
    from datatrove.executor import LocalPipelineExecutor
    from datatrove.pipeline.readers import JsonlReader
    from datatrove.pipeline.writers import JsonlWriter

    from despin.integrations.datatrove import DespinAnnotator, DespinFormatter

    return LocalPipelineExecutor(
        pipeline=[
            JsonlReader(src),
            DespinAnnotator(**options),  # metadata: despin_score, despin_spun, despin_edits
            DespinFormatter(**options),  # restores the text
            JsonlWriter(dst),
        ],
        tasks=2,
        workers=2,
        logging_dir=logs,
    )


def test_datatrove_pipeline_restores_and_annotates(tmp_path: Path, options: dict[str, Any]) -> None:
    pytest.importorskip("datatrove")
    pytest.importorskip("orjson")  # JsonlReader / JsonlWriter need it
    docs = make_corpus(N_DOCS)
    src, dst = tmp_path / "in", tmp_path / "out"
    src.mkdir()
    for k in range(N_FILES):
        with open(src / f"part-{k}.jsonl", "w", encoding="utf-8") as fh:
            for d in docs[k::N_FILES]:
                fh.write(json.dumps({"id": d["id"], "text": d["text"]}) + "\n")

    stats = build_executor(str(src), str(dst), str(tmp_path / "logs"), options).run()

    out: list[dict[str, Any]] = []
    for path in sorted(dst.glob("*.jsonl.gz")):
        with gzip.open(path, "rt", encoding="utf-8") as fh:
            out.extend(json.loads(line) for line in fh)
    ids = [o["id"] for o in out]
    assert len(ids) == len(set(ids)) == N_DOCS, "documents lost or duplicated"
    by_id = {o["id"]: o for o in out}
    assert set(by_id) == {d["id"] for d in docs}

    restorer = despin.Restorer(**options)
    total_edits = 0
    verdicts = set()
    for d in docs:
        got = by_id[d["id"]]
        meta = got["metadata"]
        expected = restorer.restore_and_explain(d["text"])
        assert got["text"] == expected.text == despin.restore(d["text"], **options)
        assert meta["despin_edits"] == len(expected.edits)
        assert meta["despin_spun"] is expected.report.spun
        assert meta["despin_score"] == pytest.approx(expected.report.score)
        if d["spun"]:
            assert got["text"] == d["original"] != d["text"]
            assert meta["despin_edits"] > 0
            verdicts.add(meta["despin_spun"])
        else:
            assert got["text"] == d["text"]
            assert meta["despin_edits"] == 0 and meta["despin_spun"] is False
        total_edits += meta["despin_edits"]
    assert verdicts == {True, False}, "the corpus should hold spun documents of both verdicts"

    n_spun = sum(d["spun"] for d in docs)
    _reader, annotate, restore, _writer = (s.stats for s in stats.stats)  # merged over both tasks
    assert restore["total"].total == annotate["total"].total == N_DOCS
    assert restore["changed"].total == annotate["would_change"].total == n_spun
    assert restore["unchanged"].total == N_DOCS - n_spun
    assert restore["edits"].total == annotate["edits"].total == total_edits
    assert annotate["spun"].total + annotate["clean"].total == N_DOCS
