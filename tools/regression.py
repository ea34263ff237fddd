#!/usr/bin/env python3
"""Byte-exact regression record: one hash per text of what despin does to it.

Runs :func:`despin.restore_and_explain` over a few thousand texts and writes
one line per text, ``NAME<TAB>HASH``, where the hash covers the restored text,
every edit (all fields, floats in full) and the whole spin report. Two runs
on the same inputs give the same file exactly when despin's behaviour on
those texts is unchanged, so a refactor is checked with::

    python tools/regression.py --shared ../shared --out /tmp/before.txt
    ... change the code ...
    python tools/regression.py --shared ../shared --out /tmp/after.txt
    diff /tmp/before.txt /tmp/after.txt   # empty: outputs identical

It runs under ``PYTHONHASHSEED=0`` (it restarts itself so): sums over sets
differ in their last bits between hash seeds, and the record is byte-exact.

Inputs (read from ``--shared``, the shared material folder; never copied):

* the 1,000 clean documents of ``corpus/clean_en/donoharm_news_sample.jsonl``;
* the same documents spun by ``benchmarks/spinner.py`` (the lexicon read
  backwards), from first originals and, for 500 of them, from every original;
* Gutenberg chunks and US speeches, clean and a few spun;
* the real spun pages ``corpus/real/pairs/*.spun.txt`` (and their gold
  originals) and ``corpus/real/unpaired/*.txt``;
* ``tests/data/dev`` of this repository;
* a few hundred random strings (fixed seed) made of spinner forms, originals
  and awkward characters, as the property tests make them;
* a few long texts (many paragraphs, one long line) that take later passes.

Some of them are run again with other options (the small test lexicon,
protected spans, other thresholds), and the command line is run on a folder
(restore with --explain and --diff, with one and two jobs; detect in every
format), its outputs and messages hashed (timings removed).
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import itertools
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

import despin  # noqa: E402
from despin.corpus import read_corpus  # noqa: E402

from spinner import spin  # noqa: E402

TEST_LEXICON = str(ROOT / "tests" / "data" / "test_lexicon.tsv")

# Pieces of random texts: spinner forms of both lexicons, originals, and
# characters that have broken tokenizers before.
PIECES = [
    "satellite tv for pc", "applied sciences", "Chilly Conflict", "officers", "OFFICERS", "mentioned",
    "in response to", "navy", "an", "a", "settlement", "{that a}", "{x|y}", "p.c.", "yr", "the", "said",
    "College", "Kookmin", "’s", "’", "'", "“", "”", "\"", "\n", "\n\n", "  ", "\t", ".", ",", "2", "the 2 men",
    "é", "İ", "ﬁ", "\u00a0", "\ud800", "🙂", "www.x.com/yr", "a@b.co", "in", "response", "to", "satellite tv",
    "for pc", "-", "—", "”“", "” he said “", "stated", "firm", "authorities", "warfare", "meals", "assist",
    "however", "but", "well-known", "financial institution", "Financial institution", "in-response", "officers’",
    "officials", "government", "help", "company", "war", "year", "military", "according to", "Put up", "put up",
    "PUT UP", "{", "}", "|", "{1}", "{{that a}|b}", "😀", "officers😀", "White Home", "an settlement", "A",
    "SETTLEMENT", "5", "p.c", "isn’t", "he’ll", "http://x.org/applied sciences", "SKU-satellite tv for pc",
]

# Option sets the subset is run with again (besides the defaults).
VARIANTS: dict[str, dict[str, Any]] = {
    "small": {"bundled_lexicon": False, "lexicons": (TEST_LEXICON,), "context": False},
    "small-protect": {"bundled_lexicon": False, "lexicons": (TEST_LEXICON,), "context": False,
                      "protect": {"quotes", "names"}, "protect_pattern": r"SKU-[^\n]*"},
    "protect": {"protect": {"quotes", "names"}, "protect_pattern": r"[A-Z]{2,}[^\n]{0,20}"},
    "thresholds": {"threshold": 0.8, "spin_threshold": 0.2, "numerals": False},
    "high-spin-threshold": {"spin_threshold": 0.999},
    "no-context": {"context": False, "threshold": 0.3},
}


def _jsonl_texts(path: Path, limit: int | None = None) -> list[str]:
    return [d.text for d in itertools.islice(read_corpus([str(path)], strict=True), limit)]


def _random_texts(n: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    out = []
    for k in range(n):
        size = rng.choice([5, 20, 60, 200, 400])
        if k % 5 == 4:  # any characters at all
            out.append("".join(chr(rng.choice([rng.randrange(32, 127), rng.randrange(0xA0, 0x3000),
                                               rng.randrange(0x1F300, 0x1F600), 10])) for _ in range(size)))
        else:
            sep = " " if k % 5 < 3 else ""
            out.append(sep.join(rng.choice(PIECES) for _ in range(size)))
    return out


def inputs(shared: Path) -> Iterator[tuple[str, str]]:
    """(name, text) of every input, in a fixed order."""
    clean = shared / "corpus" / "clean_en"
    news = _jsonl_texts(clean / "donoharm_news_sample.jsonl")
    for k, t in enumerate(news):
        yield f"news/{k}", t
    for k, t in enumerate(news):
        yield f"news-spun/{k}", spin(t, rate=0.3, seed=k)
    for k, t in enumerate(news[:500]):
        yield f"news-spun-all/{k}", spin(t, rate=0.5, seed=1000 + k, all_originals=True)
    gutenberg = _jsonl_texts(clean / "pd_gutenberg_sample.jsonl", 500)
    for k, t in enumerate(gutenberg):
        yield f"gutenberg/{k}", t
    for k, t in enumerate(gutenberg[:100]):
        yield f"gutenberg-spun/{k}", spin(t, rate=0.3, seed=k)
    speeches = _jsonl_texts(clean / "pd_us_speeches.jsonl")
    for k, t in enumerate(speeches):
        yield f"speeches/{k}", t
    for k, t in enumerate(speeches[:30]):
        yield f"speeches-spun/{k}", spin(t, rate=0.3, seed=k)
    real = shared / "corpus" / "real"
    for p in sorted((real / "pairs").glob("*.txt")) + sorted((real / "unpaired").glob("*.txt")):
        yield f"real/{p.parent.name}/{p.name}", p.read_text(encoding="utf-8")
    for p in sorted((ROOT / "tests" / "data" / "dev").glob("*.txt")):
        yield f"dev/{p.name}", p.read_text(encoding="utf-8")
    for k, t in enumerate(_random_texts(600, seed=20240612)):
        yield f"random/{k}", t
    # Long texts: clean paragraphs with a few artifacts and nested spintax
    # (later passes re-read only some paragraphs), and one long spun line.
    paras = [p for t in news[:200] for p in t.split("\n\n")]
    yield "long/clean-with-artifacts", "\n\n".join(
        p + (" The {{that a}|b} satellite tv for pc launch." if k % 50 == 7 else "") for k, p in enumerate(paras)
    )
    yield "long/one-line-spun", " ".join(spin(t, rate=0.3, seed=k).replace("\n", " ") for k, t in enumerate(news[:60]))
    yield "long/spun-paragraphs", "\n\n".join(spin(t, rate=0.3, seed=k) for k, t in enumerate(news[200:320]))
    yield "long/nested-spintax", "\n\n".join(
        ["The officials said the talks went well."] * 400 + ["The {{that a}|b} launch."]
    )


def _edit(e: despin.Edit) -> dict[str, Any]:
    return {"start": e.start, "end": e.end, "before": e.before, "after": e.after, "confidence": e.confidence,
            "reason": e.reason, "rule": e.rule, "evidence": dict(e.evidence)}


def digest(res: despin.Restored) -> str:
    """A hash of everything a restoration says (floats in full, so byte-exact)."""
    payload = [res.text, [_edit(e) for e in res.edits], dataclasses.asdict(res.report), res.changed]
    return hashlib.sha256(json.dumps(payload, ensure_ascii=True).encode("ascii")).hexdigest()[:24]


_TIMING = re.compile(r"; [0-9.]+ MB in [0-9.]+ s \([0-9.]+ MB/s\)")


def cli_records(texts: list[tuple[str, str]]) -> Iterator[tuple[str, str]]:
    """The command line over a folder of the texts: outputs and messages, hashed."""
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "in"
        src.mkdir()
        for k, (_, text) in enumerate(texts):
            (src / f"{k:04d}.txt").write_text(text, encoding="utf-8", errors="surrogatepass")
        with open(Path(tmp) / "docs.jsonl", "w", encoding="utf-8") as fh:
            for k, (_, text) in enumerate(texts):
                fh.write(json.dumps({"id": k, "text": text}) + "\n")
        runs = {
            "restore-j1": ["restore", str(src), "-o", f"{tmp}/out1", "--explain", f"{tmp}/e1.jsonl", "-j", "1"],
            "restore-j2": ["restore", str(src), "-o", f"{tmp}/out2", "--explain", f"{tmp}/e2.jsonl", "-j", "2"],
            "restore-diff": ["restore", str(src), "--diff", "-j", "1"],
            "restore-jsonl": ["restore", f"{tmp}/docs.jsonl", "-o", f"{tmp}/out.jsonl", "-j", "2"],
            "detect-table": ["detect", str(src), "-j", "1"],
            "detect-csv": ["detect", str(src), "--format", "csv", "-j", "2"],
            "detect-jsonl": ["detect", f"{tmp}/docs.jsonl", "--format", "jsonl", "-j", "1"],
        }
        for name, argv in runs.items():
            proc = subprocess.run([sys.executable, "-m", "despin", *argv], capture_output=True, cwd=tmp)
            h = hashlib.sha256()
            h.update(str(proc.returncode).encode())
            h.update(proc.stdout.replace(tmp.encode(), b"TMP"))
            h.update(_TIMING.sub("", proc.stderr.decode("utf-8", "replace").replace(tmp, "TMP")).encode())
            for out in sorted(Path(tmp).glob("out*")) + sorted(Path(tmp).glob("e*.jsonl")):
                files = sorted(out.rglob("*")) if out.is_dir() else [out]
                for f in files:
                    if f.is_file():
                        h.update(f.relative_to(tmp).as_posix().encode())
                        h.update(f.read_bytes().replace(tmp.encode(), b"TMP"))
            yield f"cli/{name}", h.hexdigest()[:24]
            for out in list(Path(tmp).glob("out*")) + list(Path(tmp).glob("e*.jsonl")):
                shutil.rmtree(out) if out.is_dir() else out.unlink()


def main(argv: list[str] | None = None) -> int:
    if os.environ.get("PYTHONHASHSEED") != "0":
        # Sums over sets (detection's evidence) change in their last bits with
        # the hash seed; the record is byte-exact for one seed.
        env = dict(os.environ, PYTHONHASHSEED="0")
        args = sys.argv[1:] if argv is None else argv
        return subprocess.run([sys.executable, __file__, *args], env=env).returncode
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shared", default=str(ROOT.parent / "shared"),
                    help="the shared material folder (default: ../shared next to the repository)")
    ap.add_argument("--out", required=True, help="file to write the NAME<TAB>HASH lines to")
    ap.add_argument("--no-cli", action="store_true", help="leave out the command-line runs")
    args = ap.parse_args(argv)
    shared = Path(args.shared)
    if not (shared / "corpus" / "clean_en").is_dir():
        ap.error(f"{shared}: no corpus/clean_en here (give --shared)")
    texts = list(inputs(shared))
    default = despin.Restorer()
    lines = [f"{name}\t{digest(default.restore_and_explain(text))}" for name, text in texts]
    subset = [(n, t) for n, t in texts if n.startswith(("random/", "dev/", "real/", "long/"))]
    subset += [(n, t) for n, t in texts if n.startswith(("news-spun/", "news/"))][::10]
    for variant, options in VARIANTS.items():
        r = despin.Restorer(**options)
        lines += [f"{variant}:{name}\t{digest(r.restore_and_explain(text))}" for name, text in subset]
    if not args.no_cli:
        folder = [(n, t) for n, t in texts if n.startswith(("dev/", "real/pairs/"))]
        folder += [(n, t) for n, t in texts if n.startswith("news-spun/")][:60]
        lines += [f"{name}\t{h}" for name, h in cli_records(folder)]
    Path(args.out).write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"{len(lines)} records ({len(texts)} texts) written to {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
