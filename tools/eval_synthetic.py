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
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "benchmarks"))

import despin  # noqa: E402
from despin.corpus import read_corpus  # noqa: E402
from despin.evaluate import combine_pairs, evaluate_pair  # noqa: E402

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
    docs = [d.text for d in read_corpus([args.news], strict=True) if len(d.text.split()) >= args.min_words]
    docs = docs[args.skip : args.skip + args.docs]
    r = despin.Restorer(threshold=args.threshold)
    spin_all = args.originals == "all"
    res = combine_pairs(
        evaluate_pair(r, spin(text, rate=args.rate, seed=k, all_originals=spin_all), text)
        for k, text in enumerate(docs)
    )
    confident = f"{res.confident_correct / res.confident_edits:.3f}" if res.confident_edits else "nan"
    print(f"lexicon spinner ({args.originals} originals), rate {args.rate}, {len(docs)} documents, {res.words} words")
    print(f"WER before {res.wer_before:.4f}, after {res.wer_after:.4f}, error reduction {res.error_reduction:.1%}")
    print(f"edits {res.edits}, precision {res.precision:.3f}, "
          f"precision at confidence >= 0.9 {confident} ({res.confident_edits} edits)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
