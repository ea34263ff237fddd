#!/usr/bin/env python3
"""Build data/lexicon/*.tsv from raw slices, with class and weight from corpus counts.

Raw slices are TSV rows ``spun<TAB>original<TAB>note`` (note: ``artifact`` or
``common``, optionally ``,name``). For every row this tool:

* counts the spun form and the original in clean news (Reuters-21578 and ABC
  2006, without the documents of donoharm_news_sample.jsonl) and in all of
  clean_en (same hold-out), using despin's own model builder;
* sets the weight (prior that the form is spinner output when seen in a spun
  text) to  r F(o) / (r F(o) + F(f)),  r = 0.5, where F is the news rate,
  geometric-mean blended with wordfreq for single words;
* keeps a lower-case ``artifact`` only if the spun form never occurs in the
  9M words of clean_en (else demotes it to ``common``); capitalised name forms
  ("Supreme Courtroom") keep the label, since they match only with capitals;
* orders the originals of a form by news frequency times 0.6 ** (rank in the slice);
* drops rows whose original is not a real news word (fewer than 3 news
  occurrences and wordfreq Zipf < 3.0).

Usage:
    python tools/build_lexicon.py --corpus ../shared/corpus/clean_en \
        --out data/lexicon RAW.tsv [RAW.tsv ...] [--tortured ../shared/tortured]
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import sys
import tempfile
from collections import defaultdict

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "src"))

from wordfreq import zipf_frequency  # noqa: E402

from despin.context import load_model  # noqa: E402
from despin.corpus import read_ids  # noqa: E402
from despin.lexicon import Entry, Lexicon, parse_spun_form  # noqa: E402
from despin.model_build import build_model  # noqa: E402
from despin.tokenize import WORD_RE  # noqa: E402

R = 0.5
RANK_DECAY = 0.6
NEWS = ("news_reuters21578.jsonl", "news_abc2006.jsonl")
ALL = NEWS + ("pd_us_speeches.jsonl", "pd_gutenberg_sample.jsonl")
HOLDOUT = "donoharm_news_sample.jsonl"
_NOTE_ALIASES = {"a": "artifact", "c": "common", "n": "name"}


def read_raw(path: str):
    with open(path, encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            line = line.rstrip("\n")
            if not line.strip() or line.startswith("#"):
                continue
            cols = line.split("\t")
            if len(cols) < 2:
                continue
            spun, orig = cols[0].strip(), cols[1].strip()
            note = cols[2].strip().lower() if len(cols) > 2 else "common"
            if not spun or not orig:
                continue
            yield spun, orig, note


def clean_tortured(folder: str):
    """(spun, original) pairs from the Problematic Paper Screener lists, cleaned."""
    ok = __import__("regex").compile(r"[a-z][a-z\- ]*[a-z]")
    pairs = {}
    with open(os.path.join(folder, "pps_tortured_torturedcheck.json"), encoding="utf-8") as fh:
        for d in json.load(fh)["phrases"]:
            pairs.setdefault(d["tortured"].strip().lower(), d["correct"].strip())
    with open(os.path.join(folder, "pps_tortured_hahuyhoang411.csv"), encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            q = row["tortured_phrase"]
            if "AND" in q or "NOT" in q or "~" in q:
                continue
            pairs.setdefault(q.strip().strip('"').lower(), row["expected_phrase"].strip())
    for spun, orig in pairs.items():
        orig = orig.strip().lower()
        if not ok.fullmatch(spun) or not ok.fullmatch(orig) or spun == orig:
            continue
        if not 2 <= len(spun.split()) <= 4 or len(orig.split()) > 4:
            continue
        yield spun, orig, "artifact"


def unit(s: str) -> str:
    return " ".join(WORD_RE.findall(s.lower()))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("raw", nargs="*")
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--tortured")
    args = ap.parse_args(argv)

    slices: dict[str, list[tuple[str, str, str]]] = {}
    for path in args.raw:
        name = os.path.splitext(os.path.basename(path))[0]
        slices[name] = list(read_raw(path))
    if args.tortured:
        slices["science_tortured"] = list(clean_tortured(args.tortured))

    # A throwaway lexicon of all rows, to count its units.
    entries = []
    for name, rows in slices.items():
        for k, (spun, orig, note) in enumerate(rows):
            try:
                toks, gaps, suffix = parse_spun_form(spun)
            except ValueError:
                continue
            entries.append(Entry(spun, tuple(t.lower() for t in toks), toks, gaps, suffix,
                                 tuple(o.strip() for o in orig.split("|")), "common", 0.5, frozenset(), f"{name}:{k}",
                                 spun != spun.lower()))
    lex = Lexicon(entries)
    holdout = read_ids(os.path.join(args.corpus, HOLDOUT))
    tmp = tempfile.mkdtemp()
    counts = {}
    for label, files in (("news", NEWS), ("all", ALL)):
        path = os.path.join(tmp, f"{label}.bin")
        s = build_model([os.path.join(args.corpus, f) for f in files], path, lex, exclude_ids=holdout, quiet=True)
        counts[label] = (load_model(path), s.tokens)
        print(f"counted {label}: {s.tokens:,} tokens, {s.documents:,} documents", file=sys.stderr)
    news, n_news = counts["news"]
    allm, _ = counts["all"]

    def rate(u: str) -> float:
        c = news.unit_count(u) or 0
        f_news = (c + 0.5) / n_news
        if " " in u:
            return f_news
        wf = 10 ** (zipf_frequency(u, "en") - 9) if zipf_frequency(u, "en") > 0 else 1e-9
        return math.sqrt(f_news * wf)

    os.makedirs(args.out, exist_ok=True)
    stats = defaultdict(int)
    # A spun form listed in several slices is written once, in the first slice
    # that lists it, with the originals and notes of all of them.
    merged: dict[str, list] = {}
    home: dict[str, str] = {}
    for name, rows in slices.items():
        for spun, orig, note in rows:
            key = spun if spun != spun.lower() else spun.lower()
            notes = {_NOTE_ALIASES.get(n, n) for n in note.replace(" ", "").split(",")}
            entry = merged.setdefault(key, [spun, [], set()])
            home.setdefault(key, name)
            entry[2] |= notes
            for o in orig.split("|"):
                o = o.strip()
                if o and o.lower() != spun.lower() and o not in entry[1]:
                    entry[1].append(o)
    for name in slices:
        by_spun = {k: v for k, v in merged.items() if home[k] == name}
        lines = []
        for key, (spun, origs, notes) in sorted(by_spun.items()):
            if not origs:
                stats["empty"] += 1
                continue
            origs = [o for o in origs if (news.unit_count(unit(o)) or 0) >= 3 or zipf_frequency(o, "en") >= 3.0]
            if not origs:
                stats["dropped: rare original"] += 1
                continue
            try:
                parse_spun_form(spun)
            except ValueError:
                stats["dropped: bad spun form"] += 1
                continue
            # Most probable original first: news frequency, discounted by the slice's own rank.
            origs = sorted(origs, key=lambda o: -rate(unit(o)) * RANK_DECAY ** origs.index(o))
            uf, uo = unit(spun), unit(origs[0])
            f_f, f_o = rate(uf), rate(uo)
            weight = R * f_o / (R * f_o + f_f)
            c_all = allm.unit_count(uf) or 0
            klass = "common"
            cased = spun != spun.lower()
            if "artifact" in notes and (c_all == 0 or cased):
                klass = "artifact"
            if klass == "artifact":
                weight = max(weight, 0.95)
            weight = min(max(weight, 0.02), 0.99)
            tags = sorted({"name"} & notes)
            if name != "science_tortured":
                tags.append(name.split("_")[0])
            else:
                tags.append("science")
            stats[klass] += 1
            lines.append(f"{spun}\t{'|'.join(origs)}\t{klass}\t{weight:.3f}\t{','.join(tags)}")
        with open(os.path.join(args.out, f"{name}.tsv"), "w", encoding="utf-8") as fh:
            fh.write("# despin-lexicon 1\n")
            fh.write(f"# slice {name}: generated by tools/build_lexicon.py; see README.md in this folder.\n")
            fh.write("spun\toriginal\tclass\tweight\ttags\n")
            fh.write("\n".join(lines) + "\n")
        print(f"{name}: {len(lines)} entries", file=sys.stderr)
    print(dict(stats), file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
