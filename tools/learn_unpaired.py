#!/usr/bin/env python3
"""Propose (spun form -> original) mappings from unpaired spun pages and clean text alone.

    python tools/learn_unpaired.py PAGE.txt... --clean CLEAN.txt... [--scorer default|ctx:SRC:MODEL] [--min-pages 2]

Prints a review report (TSV: spun, original, pages, occurrences, mean context
advantage in nats, rate per 1,000 words in the pages and in the clean text,
score), best first: candidates for a person to check, not a lexicon. See
despin.thesaurus.propose_mappings; the paired case is ``despin learn``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "tools"))

from fit_thesaurus import _strip_header, load_scorer  # noqa: E402

from despin.thesaurus import propose_mappings  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("pages", nargs="+", type=Path)
    ap.add_argument("--clean", nargs="+", type=Path, required=True)
    ap.add_argument("--scorer", default="default")
    ap.add_argument("--min-pages", type=int, default=2)
    args = ap.parse_args(argv)
    pages = [_strip_header(p.read_text(encoding="utf-8")) for p in args.pages]
    clean = [_strip_header(p.read_text(encoding="utf-8")) for p in args.clean]
    props = propose_mappings(pages, clean, load_scorer(args.scorer), min_pages=args.min_pages)
    print("spun\toriginal\tpages\toccurrences\tmean_advantage\tspun_per_1000\tclean_per_1000\tscore")
    for p in props:
        print(f"{p.spun}\t{p.original}\t{p.pages}\t{p.occurrences}\t{p.mean_advantage:.2f}\t{p.spun_rate:.2f}\t"
              f"{p.clean_rate:.2f}\t{p.score:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
