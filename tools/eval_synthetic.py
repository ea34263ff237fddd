#!/usr/bin/env python3
"""Decisions on held-out news spun by the lexicon read backwards.

Spins documents that no statistic of despin has seen (the do-no-harm sample)
with ``benchmarks/spinner.py`` and reports error reduction, edits, precision
and the precision of edits reported with confidence >= 0.9. The spun forms
come from the lexicon itself, so this measures detection, scoring and the
choice among originals, not the lexicon's coverage of a real spinner.

    python tools/eval_synthetic.py --news ../shared/corpus/clean_en/donoharm_news_sample.jsonl \\
        [--originals first|all] [--docs 100] [--skip 0] [--rate 0.3]

``--originals all`` spins every original an entry lists into its form (not
only the first), so restoring must choose among them.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "benchmarks"))

import despin  # noqa: E402
from despin.evaluate import evaluate_pair  # noqa: E402
from spinner import spin  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--news", required=True, help="JSONL with a text field")
    ap.add_argument("--originals", choices=("first", "all"), default="first")
    ap.add_argument("--docs", type=int, default=100)
    ap.add_argument("--skip", type=int, default=0, help="leave out the first SKIP long documents")
    ap.add_argument("--rate", type=float, default=0.3)
    ap.add_argument("--min-words", type=int, default=250)
    ap.add_argument("--threshold", type=float, default=0.5, help="minimum confidence of an edit (default 0.5)")
    args = ap.parse_args(argv)
    docs = []
    with open(args.news, encoding="utf-8") as fh:
        for line in fh:
            text = json.loads(line)["text"]
            if len(text.split()) >= args.min_words:
                docs.append(text)
    docs = docs[args.skip : args.skip + args.docs]
    r = despin.Restorer(threshold=args.threshold)
    words = err_before = err_after = edits = correct = confident = confident_ok = 0
    for k, text in enumerate(docs):
        spun = spin(text, rate=args.rate, seed=k, all_originals=args.originals == "all")
        res = evaluate_pair(r, spun, text)
        words += res.words
        err_before += res.wer_before * res.words
        err_after += res.wer_after * res.words
        edits += res.edits
        correct += res.correct_edits
        confident += res.confident_edits
        confident_ok += res.confident_correct
    nan = float("nan")
    print(f"lexicon spinner ({args.originals} originals), rate {args.rate}, {len(docs)} documents, {words} words")
    print(f"WER before {err_before / words:.4f}, after {err_after / words:.4f}, "
          f"error reduction {(err_before - err_after) / err_before:.1%}")
    print(f"edits {edits}, precision {correct / edits if edits else nan:.3f}, "
          f"precision at confidence >= 0.9 {confident_ok / confident if confident else nan:.3f} ({confident} edits)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
