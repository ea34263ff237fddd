#!/usr/bin/env python3
"""What ``Config.unseen`` (the dictionary-free evidence) changes, measured
through despin itself (``despin.Restorer``), not the fitting tool's model of it.

    python tools/eval_unseen.py --shared ../shared [--json out.json]

For each set of texts, with the option off (the default) and on:

* clean text, none of it fitted on by the option: the 1,000 documents of
  ``corpus/clean_en/donoharm_news_sample.jsonl``, the 124 speeches of
  ``pd_us_speeches.jsonl``; and the clean originals
  ``corpus/real/sources/*.orig_page.txt`` (fitted on: the option's
  ``clean_margin`` is their highest margin plus one nat). Figures: texts
  called spun, texts changed by restoring, and texts the quick reject settles
  (the option computes its evidence only in the others).
* the real spun pages of ``corpus/real`` by family (pairs and unpaired):
  pages called spun; on the pairs, word error reduction and edit precision
  (despin.evaluate.evaluate_pair).

Only counts are printed; no text of the corpus.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from despin import Config, Restorer  # noqa: E402
from despin.bounds import surely_clean  # noqa: E402
from despin.corpus import read_corpus  # noqa: E402
from despin.evaluate import combine_pairs, evaluate_pair  # noqa: E402


def _strip_header(text: str) -> str:
    return "\n".join(line for line in text.splitlines() if not line.startswith("# "))


def clean_sets(shared: Path) -> dict[str, list[str]]:
    ce = shared / "corpus" / "clean_en"
    return {
        "donoharm": [d.text for d in read_corpus([str(ce / "donoharm_news_sample.jsonl")])],
        "speeches": [d.text for d in read_corpus([str(ce / "pd_us_speeches.jsonl")])],
        "sources": [_strip_header(p.read_text(encoding="utf-8"))
                    for p in sorted((shared / "corpus" / "real" / "sources").glob("*.orig_page.txt"))],
    }


def spun_sets(shared: Path) -> dict[str, list[tuple[str, str | None]]]:
    real = shared / "corpus" / "real"
    out: dict[str, list[tuple[str, str | None]]] = {}
    with open(real / "manifest.tsv", encoding="utf-8") as fh:
        for row in csv.DictReader(fh, delimiter="\t"):
            pid, fam = row["id"], row["family"]
            pair = real / "pairs" / f"{pid}.spun.txt"
            lone = real / "unpaired" / f"{pid}.spun.txt"
            if pair.exists():
                gold = (real / "pairs" / f"{pid}.orig.txt").read_text(encoding="utf-8")
                out.setdefault(fam, []).append((pair.read_text(encoding="utf-8"), gold))
            elif lone.exists():
                out.setdefault(fam, []).append((lone.read_text(encoding="utf-8"), None))
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
    figures: dict[str, Any] = {}
    restorers = {"off": Restorer(Config()), "on": Restorer(Config(unseen=True))}
    print(f"{'clean set':10} {'texts':>5} {'spun off':>8} {'spun on':>7} {'changed off':>11} {'changed on':>10} "
          f"{'quick':>5}")
    for name, texts in clean_sets(args.shared).items():
        row: dict[str, Any] = {"texts": len(texts)}
        for key, r in restorers.items():
            lexicon, params, thr = r.lexicon, r.decision.detection, r.config.spin_threshold
            row[f"spun_{key}"] = sum(r.detect(t).spun for t in texts)
            row[f"changed_{key}"] = sum(r.restore(t) != t for t in texts)
        row["quick"] = sum(surely_clean(t, lexicon, thr, params) for t in texts)  # the same with the option
        figures[name] = row
        print(f"{name:10} {row['texts']:5d} {row['spun_off']:8d} {row['spun_on']:7d} {row['changed_off']:11d} "
              f"{row['changed_on']:10d} {row['quick']:5d}")
    print(f"\n{'family':10} {'pages':>5} {'spun off':>8} {'spun on':>7} {'pairs':>5} {'err.red off':>11} "
          f"{'err.red on':>10} {'prec off':>8} {'prec on':>7} {'edits off':>9} {'edits on':>8}")
    for fam, pages in sorted(spun_sets(args.shared).items()):
        row = {"pages": len(pages), "pairs": sum(g is not None for _, g in pages)}
        for key, r in restorers.items():
            row[f"spun_{key}"] = sum(r.detect(s).spun for s, _ in pages)
            res = combine_pairs(evaluate_pair(r, s, g) for s, g in pages if g is not None)
            row[f"error_reduction_{key}"] = res.error_reduction
            row[f"precision_{key}"] = res.precision
            row[f"edits_{key}"] = res.edits
        figures[fam] = row
        print(f"{fam:10} {row['pages']:5d} {row['spun_off']:8d} {row['spun_on']:7d} {row['pairs']:5d} "
              f"{row['error_reduction_off']:11.1%} {row['error_reduction_on']:10.1%} {row['precision_off']:8.2f} "
              f"{row['precision_on']:7.2f} {row['edits_off']:9d} {row['edits_on']:8d}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
