#!/usr/bin/env python3
"""How despin fares on a spinner it was not built for: random WordNet synonyms.

Public "article spinner" scripts often replace words with a random synonym
from WordNet (any of the first two senses). This tool spins clean news that
way and reports what despin detects and restores, so that the limits of a
lexicon built for dictionary spinners are measured, not guessed.

    python tools/eval_other_spinner.py --thesaurus ../shared/thesaurus/oewn_synsets.jsonl \
        --news ../shared/corpus/clean_en/news_abc2006.jsonl \
        --exclude-ids ../shared/corpus/clean_en/donoharm_news_sample.jsonl [--docs 60] [--rate 0.3] [--unseen]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections import defaultdict
from pathlib import Path

import regex

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

import despin
from despin.corpus import read_corpus, read_ids
from despin.evaluate import combine_pairs, evaluate_pair

_STOP = frozenset(
    "the a an and or but of to in on at for with by from as is are was were be been has have had "
    "it its this that these those he she they we you i not no said says".split()
)
_WORD = regex.compile(r"[A-Za-z]+")


def load_synonyms(path: str) -> dict[str, list[list[str]]]:
    """word -> the other members of its first senses (up to three synsets)."""
    senses: dict[str, list[list[str]]] = defaultdict(list)
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            members = [m for m in json.loads(line)["members"] if "_" not in m]
            for m in members:
                if len(senses[m.lower()]) < 3:
                    senses[m.lower()].append([x for x in members if x.lower() != m.lower()])
    return senses


def wordnet_spin(text: str, senses: dict[str, list[list[str]]], rate: float, seed: int) -> str:
    rng = random.Random(seed)

    def swap(m: regex.Match) -> str:
        w = m.group(0)
        if w.lower() in _STOP or len(w) < 4 or rng.random() > rate:
            return w
        choices = [x for sense in senses.get(w.lower(), [])[:2] for x in sense]
        if not choices:
            return w
        c = rng.choice(choices)
        return c[0].upper() + c[1:] if w[0].isupper() else c

    return _WORD.sub(swap, text)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--thesaurus", required=True)
    ap.add_argument("--news", required=True, help="JSONL with id and text")
    ap.add_argument("--exclude-ids", help="JSONL whose ids are skipped")
    ap.add_argument("--docs", type=int, default=60)
    ap.add_argument("--rate", type=float, default=0.3)
    ap.add_argument("--min-words", type=int, default=250)
    ap.add_argument("--unseen", action="store_true", help="with Config.unseen (the dictionary-free evidence)")
    args = ap.parse_args(argv)
    skip = read_ids(args.exclude_ids) if args.exclude_ids else set()
    docs = []
    for d in read_corpus([args.news], exclude_ids=skip, strict=True):
        if len(d.text.split()) >= args.min_words:
            docs.append(d.text)
            if len(docs) >= args.docs:
                break
    senses = load_synonyms(args.thesaurus)
    r = despin.Restorer(despin.Config(unseen=args.unseen))
    results, detected = [], 0
    for k, text in enumerate(docs):
        spun = wordnet_spin(text, senses, args.rate, seed=k)
        results.append(evaluate_pair(r, spun, text))
        detected += r.detect(spun).spun
    res = combine_pairs(results)
    print(f"WordNet spinner, rate {args.rate}, {len(docs)} documents, {res.words} words")
    print(f"WER before {res.wer_before:.3f}, after {res.wer_after:.3f}, error reduction {res.error_reduction:.1%}")
    print(f"edits {res.edits}, precision {res.precision if res.edits else float('nan'):.2f}, "
          f"called spun {detected} of {len(docs)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
