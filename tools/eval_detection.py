#!/usr/bin/env python3
"""Detection on real pages: every spun page against every clean text, and
50-100-word windows cut from both (issue 14's detection figures).

    python tools/eval_detection.py [--shared ../shared] [--windows-only] [--context lm]

Spun: ``corpus/real/pairs/*.spun.txt`` and ``corpus/real/unpaired/*.spun.txt``
(all families), and the dev spun articles. Clean: the originals in
``corpus/real/sources/*.orig_page.txt`` and ``pairs/*.orig.txt``, every
``corpus/clean_en/*.jsonl`` document, and ``corpus/dev/002.clean.txt``.

Windows: each text is cut at line ends into windows of 50-100 words (a window
collects lines until it has 50 words and is cut after its 100th word). The
table gives the area under the ROC curve of the spin score (spun windows
against clean ones) and the share called spun at the threshold.

The bundled model's learned slice and detection parameters were fitted on the
target pairs and unpaired pages (and on clean_en minus the do-no-harm sample),
so the target rows are in-sample; maybejust, roundtrip, the originals in
sources/ and the do-no-harm sample were not fitted on.
"""

from __future__ import annotations

import argparse
import csv
import sys
from collections.abc import Callable
from pathlib import Path

import despin
from despin.corpus import read_corpus
from despin.evaluate import auc

LOW, HIGH = 50, 100


def windows(text: str) -> list[str]:
    out: list[str] = []
    buf: list[str] = []
    n = 0
    for line in text.splitlines():
        words = line.split()
        if not words:
            continue
        buf.append(line)
        n += len(words)
        if n >= LOW:
            block = "\n".join(buf)
            if n > HIGH:
                block = " ".join(block.split()[:HIGH])
            out.append(block)
            buf, n = [], 0
    return out


Row = tuple[str, str, str]  # (set, name, text)


def read_texts(shared: Path, windows_only: bool) -> tuple[list[Row], list[Row], str]:
    """The spun and the clean texts, and the name of the do-no-harm set."""
    real = shared / "corpus" / "real"
    with open(real / "manifest.tsv", encoding="utf-8") as f:
        family = {row["id"]: row["family"] for row in csv.DictReader(f, delimiter="\t")}
    spun: list[Row] = []
    for folder in ("pairs", "unpaired"):
        for p in sorted((real / folder).glob("*.spun.txt")):
            name = p.name.removesuffix(".spun.txt")
            spun.append((family.get(name, "?"), name, p.read_text(encoding="utf-8")))
    dev = shared / "corpus" / "dev"
    spun += [("dev", name, (dev / f"{name}.spun.txt").read_text(encoding="utf-8")) for name in ("000", "001")]
    clean: list[Row] = [("sources", p.name, p.read_text(encoding="utf-8"))
                        for p in sorted((real / "sources").glob("*.orig_page.txt"))]
    clean += [("pair originals", p.name, p.read_text(encoding="utf-8"))
              for p in sorted((real / "pairs").glob("*.orig.txt"))]
    clean.append(("dev 002", "002", (dev / "002.clean.txt").read_text(encoding="utf-8")))
    donoharm = shared / "corpus" / "clean_en" / "donoharm_news_sample.jsonl"
    corpora = [donoharm] if windows_only else sorted((shared / "corpus" / "clean_en").glob("*.jsonl"))
    for path in corpora:
        clean += [(path.stem, doc.id, doc.text) for doc in read_corpus([str(path)], strict=True)]
    return spun, clean, donoharm.stem


def whole_texts(label: str, rows: list[Row], score: Callable[[str], float], threshold: float) -> tuple[float, str]:
    """Print a table row per set; return the highest score (clean) or the lowest of 50+ words (spun)."""
    groups: dict[str, list[tuple[str, float, int]]] = {}
    for g, name, text in rows:
        groups.setdefault(g, []).append((name, score(text), len(text.split())))
    extreme = (-1.0, "") if label == "clean" else (2.0, "")
    for g, items in groups.items():
        long = [t for t in items if t[2] >= LOW]
        called = sum(s >= threshold for _, s, _ in items)
        if label == "spun":
            low = min(long, key=lambda t: t[1])
            shown = f"{low[1]:.3f} ({low[0]}, {low[2]} words)"
            if g != "roundtrip" and low[1] < extreme[0]:
                extreme = (low[1], f"{g} {low[0]}")
        else:
            high = max(items, key=lambda t: t[1])
            shown = f"{high[1]:.3f} ({high[0]})"
            if high[1] > extreme[0]:
                extreme = (high[1], f"{g} {high[0]}")
        print(f"| {label}: {g} | {len(items)} | {len(long)} | {shown} | {called} |")
    return extreme


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--shared", default=str(Path(__file__).resolve().parents[1].parent / "shared"))
    ap.add_argument("--context", choices=["ngram", "lm"], default="ngram")
    ap.add_argument("--windows-only", action="store_true", help="skip the whole clean_en corpora")
    args = ap.parse_args(argv)
    r = despin.Restorer(despin.Config(context=args.context))
    threshold = r.config.spin_threshold
    spun, clean, donoharm = read_texts(Path(args.shared), args.windows_only)

    def score(text: str) -> float:
        return r.detect(text).score

    print("## Whole texts\n")
    print("| set | texts | words >= 50 | spun: lowest of 50+ words; clean: highest | called spun |")
    print("|---|---:|---:|---:|---:|")
    low, low_name = whole_texts("spun", spun, score, threshold)
    high, high_name = whole_texts("clean", clean, score, threshold)
    print(f"\nLowest spun page of 50+ words (target, maybejust, dev): {low:.3f} ({low_name}); "
          f"highest clean text: {high:.3f} ({high_name}); margin {low - high:+.3f}")

    print("\n## Windows of 50-100 words\n")
    print("| spun family | windows | AUC against clean windows | recall at threshold |")
    print("|---|---:|---:|---:|")
    neg = [score(w) for g, _, t in clean if g in ("sources", "pair originals", "dev 002", donoharm) for w in windows(t)]
    by_family: dict[str, list[float]] = {}
    for g, _, t in spun:
        by_family.setdefault(g, []).extend(score(w) for w in windows(t))
    for g, pos in by_family.items():
        if pos:
            recall = sum(s >= threshold for s in pos) / len(pos)
            print(f"| {g} | {len(pos)} | {auc(pos, neg):.3f} | {recall:.2f} |")
    fp = sum(s >= threshold for s in neg)
    print(f"\nClean windows (sources, pair originals, dev 002, do-no-harm sample): {len(neg)}, "
          f"called spun: {fp} ({fp / len(neg):.2%})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
