"""despin's engine-neutral batch contract, run by real engines (issue 6).

``despin.restore_batch(texts, **options)`` and a picklable ``despin.Restorer``
are all an engine needs. Dask bag runs in CI (``pip install -e
".[test,dask]"``); the Ray Data and Spark recipes of docs/corpus-scale.md run
here too when those engines are installed, and skip otherwise.

The lexicon is a tiny file written here (independent of the bundled one),
and the context model is off, so results depend only on this file.
"""

from __future__ import annotations

import random
import shutil
import sys
from collections.abc import Iterator
from typing import Any

import pytest

import despin

from support import write_lexicon

PAIRS = {
    "satellite tv for pc": "satellite",
    "applied sciences": "technologies",
    "most cancers": "cancer",
}
SENTENCES = [
    "The {satellite} was launched on Tuesday.",
    "Farmers are adopting new {technologies} to save water.",
    "Doctors said early screening for {cancer} saves lives.",
    "The meeting ended without a vote.",
    "Officials expect a decision next week.",
]
N_DOCS = 240


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], list[str], list[str]]:
    """(options, texts, originals): even texts are spun, odd ones clean."""
    rows = "".join(f"{spun}\t{orig}\tartifact\t\t\n" for spun, orig in PAIRS.items())
    lexicon = write_lexicon(tmp_path_factory.mktemp("lexicon") / "tiny.tsv", rows)
    options = {"bundled_lexicon": False, "lexicons": (lexicon,), "context": False}
    spun_of = {orig: spun for spun, orig in PAIRS.items()}
    rng = random.Random(6)
    texts, originals = [], []
    for i in range(N_DOCS):
        sentences = rng.sample(SENTENCES, k=rng.randint(1, len(SENTENCES)))
        original = " ".join(s.format(**{o: o for o in spun_of}) for s in sentences)
        spun = " ".join(s.format(**spun_of) for s in sentences)
        texts.append(spun if i % 2 == 0 else original)
        originals.append(original)
    return options, texts, originals


def check(restored: list[str], corpus: tuple[dict[str, Any], list[str], list[str]]) -> None:
    options, texts, originals = corpus
    assert restored == despin.restore_batch(texts, **options)
    assert restored == originals  # spun texts restored, clean ones unchanged
    assert sum(r != t for r, t in zip(restored, texts, strict=True)) > N_DOCS // 3


@pytest.mark.parametrize("scheduler", ["processes", "threads"])
def test_dask_bag_map_partitions(scheduler: str, corpus: tuple[dict[str, Any], list[str], list[str]]) -> None:
    db = pytest.importorskip("dask.bag")
    options, texts, _ = corpus
    # the recipe of docs/corpus-scale.md
    restorer = despin.Restorer(**options)  # unknown options raise here, before any work is sent
    restored = db.from_sequence(texts, npartitions=6).map_partitions(restorer.restore_batch)
    out = restored.compute(scheduler=scheduler, num_workers=2)
    check(out, corpus)
    # the module-level function with options as keyword arguments works the same
    out = db.from_sequence(texts, npartitions=6).map_partitions(despin.restore_batch, **options)
    check(out.compute(scheduler=scheduler, num_workers=2), corpus)


def test_ray_data_map_batches(corpus: tuple[dict[str, Any], list[str], list[str]]) -> None:
    ray = pytest.importorskip("ray")
    pytest.importorskip("ray.data")
    pytest.importorskip("pandas")
    import pandas as pd

    options, texts, _ = corpus
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        # the recipe of docs/corpus-scale.md
        restorer = despin.Restorer(**options)

        def restore_texts(batch: pd.DataFrame) -> pd.DataFrame:
            batch["text"] = restorer.restore_batch(batch["text"])
            return batch

        ds = ray.data.from_items([{"id": i, "text": t} for i, t in enumerate(texts)], override_num_blocks=6)
        rows = ds.map_batches(restore_texts, batch_format="pandas", batch_size=32).take_all()
    finally:
        ray.shutdown()
    rows.sort(key=lambda row: row["id"])
    assert [row["id"] for row in rows] == list(range(N_DOCS))
    check([row["text"] for row in rows], corpus)


def test_spark_map_in_pandas(
    corpus: tuple[dict[str, Any], list[str], list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("pyspark")
    pytest.importorskip("pyarrow")
    if shutil.which("java") is None:
        pytest.skip("Spark needs a Java runtime")
    import pandas as pd
    from pyspark.sql import SparkSession

    options, texts, _ = corpus
    monkeypatch.setenv("PYSPARK_PYTHON", sys.executable)  # Python workers run this interpreter, with despin
    spark = SparkSession.builder.master("local[2]").config("spark.ui.enabled", "false").getOrCreate()
    try:
        # the recipe of docs/corpus-scale.md
        restorer = despin.Restorer(**options)

        def restore_partition(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
            for batch in batches:
                batch["text"] = restorer.restore_batch(batch["text"])
                yield batch

        df = spark.createDataFrame(list(enumerate(texts)), schema="id long, text string").repartition(6)
        rows = df.mapInPandas(restore_partition, schema=df.schema).orderBy("id").collect()
    finally:
        spark.stop()
    assert [row["id"] for row in rows] == list(range(N_DOCS))
    check([row["text"] for row in rows], corpus)
