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
from pathlib import Path

import despin
from despin.corpus import read_corpus

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


def auc(pos: list[float], neg: list[float]) -> float:
    """Mann-Whitney: the chance that a spun item outscores a clean one (ties count half)."""
    import bisect

    s = sorted(neg)
    total = 0.0
    for p in pos:
        lo = bisect.bisect_left(s, p)
        hi = bisect.bisect_right(s, p)
        total += lo + 0.5 * (hi - lo)
    return total / (len(pos) * len(neg))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--shared", default=str(Path(__file__).resolve().parents[1].parent / "shared"))
    ap.add_argument("--context", choices=["ngram", "lm"], default="ngram")
    ap.add_argument("--windows-only", action="store_true", help="skip the whole clean_en corpora")
    args = ap.parse_args(argv)
    shared = Path(args.shared)
    real = shared / "corpus" / "real"
    r = despin.Restorer(despin.Config(context=args.context))
    family = {}
    with open(real / "manifest.tsv", encoding="utf-8") as f:
        for row in csv.DictReader(f, delimiter="\t"):
            family[row["id"]] = row["family"]

    spun: list[tuple[str, str, str]] = []  # (group, name, text)
    for folder in ("pairs", "unpaired"):
        for p in sorted((real / folder).glob("*.spun.txt")):
            name = p.name.removesuffix(".spun.txt")
            spun.append((family.get(name, "?"), name, p.read_text(encoding="utf-8")))
    for name in ("000", "001"):
        spun.append(("dev", name, (shared / "corpus" / "dev" / f"{name}.spun.txt").read_text(encoding="utf-8")))
    clean: list[tuple[str, str, str]] = []
    for p in sorted((real / "sources").glob("*.orig_page.txt")):
        clean.append(("sources", p.name, p.read_text(encoding="utf-8")))
    for p in sorted((real / "pairs").glob("*.orig.txt")):
        clean.append(("pair originals", p.name, p.read_text(encoding="utf-8")))
    clean.append(("dev 002", "002", (shared / "corpus" / "dev" / "002.clean.txt").read_text(encoding="utf-8")))
    donoharm = shared / "corpus" / "clean_en" / "donoharm_news_sample.jsonl"
    corpora = [donoharm] if args.windows_only else sorted((shared / "corpus" / "clean_en").glob("*.jsonl"))
    for path in corpora:
        for doc in read_corpus([str(path)], strict=True):
            clean.append((path.stem, doc.id, doc.text))

    def score(text: str) -> float:
        return r.detect(text).score

    print("## Whole texts\n")
    print("| set | texts | words >= 50 | spun: lowest of 50+ words; clean: highest | called spun |")
    print("|---|---:|---:|---:|---:|")
    top_clean = ("", "", -1.0)
    for label, rows in (("spun", spun), ("clean", clean)):
        groups: dict[str, list[tuple[str, float, int]]] = {}
        for g, name, text in rows:
            groups.setdefault(g, []).append((name, score(text), len(text.split())))
        for g, items in groups.items():
            long = [s for _, s, w in items if w >= LOW]
            called = sum(s >= r.config.spin_threshold for _, s, _ in items)
            if label == "spun":
                low = min((t for t in items if t[2] >= LOW), key=lambda t: t[1])
                shown = f"{low[1]:.3f} ({low[0]}, {low[2]} words)"
            else:
                high = max(items, key=lambda t: t[1])
                shown = f"{high[1]:.3f} ({high[0]})"
                if high[1] > top_clean[2]:
                    top_clean = (g, high[0], high[1])
            print(f"| {label}: {g} | {len(items)} | {len(long)} | {shown} | {called} |")
    lowest_spun = min(
        (score(t), n) for g, n, t in spun if len(t.split()) >= LOW and g != "roundtrip"
    )
    print(f"\nLowest spun page of 50+ words (target, maybejust, dev): {lowest_spun[0]:.3f} ({lowest_spun[1]}); "
          f"highest clean text: {top_clean[2]:.3f} ({top_clean[0]} {top_clean[1]}); "
          f"margin {lowest_spun[0] - top_clean[2]:+.3f}")

    print("\n## Windows of 50-100 words\n")
    print("| spun family | windows | AUC against clean windows | recall at threshold |")
    print("|---|---:|---:|---:|")
    neg = [score(w) for g, _, t in clean if g in ("sources", "pair originals", "dev 002", donoharm.stem)
           for w in windows(t)]
    by_family: dict[str, list[float]] = {}
    for g, _, t in spun:
        by_family.setdefault(g, []).extend(score(w) for w in windows(t))
    for g, pos in by_family.items():
        if pos:
            recall = sum(s >= r.config.spin_threshold for s in pos) / len(pos)
            print(f"| {g} | {len(pos)} | {auc(pos, neg):.3f} | {recall:.2f} |")
    fp = sum(s >= r.config.spin_threshold for s in neg)
    print(f"\nClean windows (sources, pair originals, dev 002, do-no-harm sample): {len(neg)}, "
          f"called spun: {fp} ({fp / len(neg):.2%})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
