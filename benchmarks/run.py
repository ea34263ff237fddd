#!/usr/bin/env python3
"""despin benchmark: one run, one table, despin against ftfy on the same text.

    python benchmarks/run.py [--corpus ../shared/corpus/clean_en] [--quick]

Measures (CPU time of this process unless noted):
* throughput (MB/s) of despin.restore and ftfy.fix_text on clean news
  (Reuters-21578 and ABC 2006 documents) and on spun news (the same
  documents spun by benchmarks/spinner.py from the written lexicon slices), and their ratio; each text is
  timed once, the two taking turns every 50 texts;
* time for one text of 10 KB, 100 KB, 1 MB and 10 MB of spun news, and the
  10 MB / 1 MB ratio (linear cost: at most 11); the same tenfold ratio for
  one long line and for long runs of candidate words;
* peak RSS and import + first restore time, each in a fresh process;
* the command line with --jobs 1 and --jobs 2 on a folder of 2,000 spun
  documents (wall clock), and their ratio.
Needs ftfy (pip install "despin[bench]").
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import ftfy  # noqa: E402

import despin  # noqa: E402
from despin.corpus import read_corpus  # noqa: E402

from spinner import spin  # noqa: E402


def load_news(corpus: Path, limit_bytes: int) -> list[str]:
    docs, size = [], 0
    names = ("news_reuters21578.jsonl", "news_abc2006.jsonl")
    for doc in read_corpus([str(corpus / name) for name in names], strict=True):
        docs.append(doc.text)
        size += len(doc.text.encode())
        if size >= limit_bytes:
            break
    return docs


def throughputs(fns: dict, texts: list[str], chunk: int = 50) -> dict[str, float]:
    """MB/s of each function over ``texts``, each text seen once (so no cache
    is warmed by a repeat), the functions taking turns chunk by chunk so that
    a slow spell of a shared machine falls on all of them alike."""
    mb = sum(len(t.encode()) for t in texts) / 1e6
    spent = dict.fromkeys(fns, 0.0)
    for k in range(0, len(texts), chunk):
        part = texts[k : k + chunk]
        for name, fn in fns.items():
            t0 = time.process_time()
            for t in part:
                fn(t)
            spent[name] += time.process_time() - t0
    return {name: mb / s for name, s in spent.items()}


def one_text_seconds(fn, text: str) -> float:
    t0 = time.process_time()
    fn(text)
    return time.process_time() - t0


def fresh_process(code: str) -> dict:
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", default=str(HERE.parent.parent / "shared" / "corpus" / "clean_en"))
    ap.add_argument("--quick", action="store_true", help="smaller inputs (for a smoke run)")
    args = ap.parse_args(argv)
    corpus = Path(args.corpus)
    quick = args.quick
    rows: list[tuple[str, str, str]] = []

    r = despin.Restorer()
    news = load_news(corpus, 1_000_000 if quick else 3_000_000)
    spun_news = [spin(t, seed=k, written=True) for k, t in enumerate(news)]
    # One-time work (loading, building indexes) is measured apart, in a fresh
    # process ("import + first restore"), so do it before timing throughput.
    r.prepare()
    r.restore(spun_news[0])
    ftfy.fix_text(news[0])

    for label, texts in (("clean news", news), ("spun news", spun_news)):
        speeds = throughputs({"despin": r.restore, "ftfy": ftfy.fix_text}, texts)
        d, f = speeds["despin"], speeds["ftfy"]
        rows.append((f"{label}: despin.restore", f"{d:.2f} MB/s", ""))
        rows.append((f"{label}: ftfy.fix_text", f"{f:.2f} MB/s", ""))
        target = "target >= 3x" if label == "clean news" else "target >= 1.5x"
        rows.append((f"{label}: despin / ftfy", f"{d / f:.2f}x", target))

    big = "\n\n".join(spun_news)
    while len(big.encode()) < 10_000_000:
        big += "\n\n" + big
    sizes = [10_000, 100_000, 1_000_000] + ([] if quick else [10_000_000])
    secs = {}
    for n in sizes:
        text = big.encode()[:n].decode("utf-8", "ignore")
        secs[n] = one_text_seconds(r.restore, text)
        rows.append((f"one spun text of {n // 1000:,} KB", f"{secs[n]:.2f} s", f"{n / 1e6 / secs[n]:.2f} MB/s"))
    if 10_000_000 in secs:
        rows.append(("10 MB time / 1 MB time", f"{secs[10_000_000] / secs[1_000_000]:.1f}", "target <= 11"))

    # Shapes that could hide a quadratic path: one long line, long runs of candidate words
    # (the runs are cheap, so they are timed at sizes where timer noise does not decide the ratio).
    line = big.replace("\n", " ")
    shapes = {
        "one line of spun news": (lambda n: line[:n], 300_000),
        "a run of one spun word": (lambda n: "officers " * (n // 9), 3_000_000),
        "a run of a multi-word form's first words": (lambda n: "in response " * (n // 12), 3_000_000),
        "a run of spintax": (lambda n: "{that a} " * (n // 9), 300_000),
        "lines of artifacts, no blank line": (lambda n: "The satellite tv for pc was launched.\n" * (n // 38), 300_000),
    }
    for name, (make, n) in shapes.items():
        small, large = one_text_seconds(r.restore, make(n)), one_text_seconds(r.restore, make(10 * n))
        rows.append((f"{name}: {10 * n // 1_000_000} MB time / {n // 1000:,} KB time",
                     f"{large / max(small, 1e-9):.1f}",
                     "linear: about 10"))

    # Peak RSS from VmHWM: ru_maxrss would carry over this (large) parent's peak across fork and exec.
    probe = (
        "import time, json; t=time.perf_counter(); import despin; "
        f"despin.restore(open({str(HERE.parent / 'tests' / 'data' / 'dev' / '000.spun.txt')!r}).read()); "
        "hwm=[l for l in open('/proc/self/status') if l.startswith('VmHWM')][0].split()[1]; "
        "print(json.dumps({'first': time.perf_counter()-t, 'rss': int(hwm)/1024}))"
    )
    p = fresh_process(probe)
    rows.append(("import + first restore (fresh process)", f"{p['first']:.2f} s", "target < 0.5 s"))
    rss_code = probe.replace("despin.restore(open(", "[despin.restore(x) for x in [open(")
    rss_code = rss_code.replace(".read()); ", ".read()]*20]; ")
    p = fresh_process(rss_code)
    rows.append(("peak RSS after 20 restores (fresh process)", f"{p['rss']:.0f} MB", "target < 200 MB"))

    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "in"
        src.mkdir()
        docs = spun_news * (1 + 2000 // max(len(spun_news), 1))
        for k in range(2000):
            (src / f"{k:05d}.txt").write_text(docs[k], encoding="utf-8")
        walls = {}
        for jobs in (1, 2):
            out = Path(tmp) / f"out{jobs}"
            t0 = time.perf_counter()
            subprocess.run(
                [sys.executable, "-m", "despin", "restore", str(src), "-o", str(out), "--jobs", str(jobs), "--quiet"],
                check=True, capture_output=True,
            )
            walls[jobs] = time.perf_counter() - t0
            rows.append((f"CLI, folder of 2,000 spun docs, --jobs {jobs}", f"{walls[jobs]:.1f} s wall", ""))
        rows.append(("--jobs 2 speed-up over --jobs 1", f"{walls[1] / walls[2]:.2f}x",
                     f"target >= 1.8x ({os.cpu_count()} cores)"))

    width = max(len(a) for a, _, _ in rows)
    print(f"despin {despin.__version__}, ftfy {ftfy.__version__}, Python {sys.version.split()[0]}")
    print(f"{'measure':{width}}  {'value':>14}  note")
    for a, b, c in rows:
        print(f"{a:{width}}  {b:>14}  {c}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
