#!/usr/bin/env python3
"""Build data/lexicon/*.tsv from raw slices, with class and weight from corpus counts.

Raw slices are TSV rows ``spun<TAB>original<TAB>note`` (note: ``artifact`` or
``common``, optionally ``,name``). For every row this tool:

* counts the spun form and the original in clean news (Reuters-21578 and ABC
  2006, without the documents of donoharm_news_sample.jsonl) and in all of
  clean_en (same hold-out), with despin.model_build.count_units;
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
from collections import defaultdict

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "src"))

from wordfreq import zipf_frequency

from despin.corpus import read_ids
from despin.lexcheck import neutralise
from despin.lexicon import Entry, Lexicon, _parse_row, parse_spun_form
from despin.model_build import UnitCounts
from despin.model_build import count_units as corpus_unit_counts
from despin.tokenize import WORD_RE

R = 0.5
RANK_DECAY = 0.6
NEWS = ("news_reuters21578.jsonl", "news_abc2006.jsonl")
ALL = NEWS + ("pd_us_speeches.jsonl", "pd_gutenberg_sample.jsonl")
HOLDOUT = "donoharm_news_sample.jsonl"
_NOTE_ALIASES = {"a": "artifact", "c": "common", "n": "name"}


def read_raw(path: str):
    with open(path, encoding="utf-8") as fh:
        for line in fh:
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


def parse_pps_query(query: str) -> tuple[str, list[str]] | None:
    """The tortured phrase of a Problematic Paper Screener query and its
    context terms, or None for a query that is not a plain phrase search.

    ``"X"`` searches the tortured phrase X; ``"X" AND "Y"`` searches X in
    papers that also use Y, where Y is the established term (a context
    filter, never a spun form); ``"X" NOT "Y"`` leaves out papers with Y.
    Proximity (``"X"~N``) and ``OR`` queries are not phrase searches."""
    if "~" in query or " OR " in query:
        return None
    main, *excluded = query.split(" NOT ")
    conjuncts = [t.strip().strip('"').strip() for t in main.split(" AND ")]
    if not conjuncts[0]:
        return None
    return conjuncts[0], conjuncts[1:] + [t.strip().strip('"').strip() for t in excluded]


def clean_tortured(folder: str, stats: dict[str, int] | None = None):
    """(spun, original) pairs from the Problematic Paper Screener lists, cleaned.

    Only the CSV's plain phrase queries are imported from it: the X of
    ``"X" AND "Y"`` is flagged by the screener only beside Y ("sent to the
    rest" alone is ordinary English). The JSON list was made from the
    screener's queries and took the context term Y of ``"X" AND "Y"`` for a
    tortured phrase ("cloud computing" ->
    "cloud environment", from ``"cloud climate" AND "cloud computing"``). So
    a phrase that a query uses as a context term, and never searches on its
    own, is not a spun form; neither is a phrase that either list gives as
    the established term of another (a real term is never a tortured
    phrase), nor a phrase whose original contains it (restoring it would
    grow the text on every call: "cloud platform" -> "the cloud platform")."""
    stats = stats if stats is not None else {}
    ok = __import__("regex").compile(r"[a-z][a-z\- ]*[a-z]")
    searched: dict[str, str] = {}  # tortured phrase -> expected, from the CSV's queries
    context: set[str] = set()  # phrases the queries use as context terms
    with open(os.path.join(folder, "pps_tortured_hahuyhoang411.csv"), encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            parsed = parse_pps_query(row["tortured_phrase"])
            if parsed is None:
                continue
            spun, terms = parsed
            context.update(t.lower() for t in terms)
            if not terms:  # (X of "X" AND "Y" is a tortured phrase only beside Y: not imported alone)
                searched.setdefault(spun.lower(), row["expected_phrase"].strip())
    pairs: dict[str, str] = {}
    with open(os.path.join(folder, "pps_tortured_torturedcheck.json"), encoding="utf-8") as fh:
        for d in json.load(fh)["phrases"]:
            spun = d["tortured"].strip().lower()
            if spun in context and spun not in searched:
                stats["dropped: a query's context term, not a spun form"] = stats.get(
                    "dropped: a query's context term, not a spun form", 0) + 1
                continue
            pairs.setdefault(spun, d["correct"].strip())
    for spun, expected in searched.items():
        pairs.setdefault(spun, expected)
    real_terms = {o.strip().lower() for o in pairs.values()}
    for spun, orig in pairs.items():
        orig = orig.strip().lower()
        if not ok.fullmatch(spun) or not ok.fullmatch(orig) or spun == orig:
            continue
        if not 2 <= len(spun.split()) <= 4 or len(orig.split()) > 4:
            continue
        if spun in real_terms or f" {spun} " in f" {orig} ":
            why = "an established term" if spun in real_terms else "inside its own original"
            stats[f"dropped: {why}"] = stats.get(f"dropped: {why}", 0) + 1
            continue
        yield spun, orig, "artifact"


def unit(s: str) -> str:
    return " ".join(WORD_RE.findall(s.lower()))


def read_slices(raw: list[str], tortured: str | None) -> dict[str, list[tuple[str, str, str]]]:
    """Slice name -> its rows (spun, original, note)."""
    slices: dict[str, list[tuple[str, str, str]]] = {}
    for path in raw:
        name = os.path.splitext(os.path.basename(path))[0]
        slices[name] = list(read_raw(path))
    if tortured:
        stats: dict[str, int] = {}
        slices["science_tortured"] = list(clean_tortured(tortured, stats))
        print(f"tortured phrases: {len(slices['science_tortured'])} kept, {stats}", file=sys.stderr)
    return slices


def unit_lexicon(slices: dict[str, list[tuple[str, str, str]]]) -> Lexicon:
    """A throwaway lexicon of all rows, to count its units."""
    entries = []
    for name, rows in slices.items():
        for k, (spun, orig, _note) in enumerate(rows):
            try:
                toks, gaps, suffix = parse_spun_form(spun)
            except ValueError:
                continue
            entries.append(Entry(spun, tuple(t.lower() for t in toks), toks, gaps, suffix,
                                 tuple(o.strip() for o in orig.split("|")), "common", 0.5, frozenset(), f"{name}:{k}",
                                 spun != spun.lower()))
    return Lexicon(entries)


def count_units(corpus: str, lex: Lexicon) -> dict[str, tuple[UnitCounts, int]]:
    """The lexicon's units counted in clean news and in all clean text (the
    hold-out left out), with their token counts."""
    holdout = read_ids(os.path.join(corpus, HOLDOUT))
    counts = {}
    for label, files in (("news", NEWS), ("all", ALL)):
        c = corpus_unit_counts([os.path.join(corpus, f) for f in files], lex, exclude_ids=holdout)
        counts[label] = (c, c.tokens)
        print(f"counted {label}: {c.tokens:,} tokens, {c.documents:,} documents", file=sys.stderr)
    return counts


def merge_slices(slices: dict[str, list[tuple[str, str, str]]]) -> tuple[dict[str, list], dict[str, str]]:
    """A spun form listed in several slices is written once, in the first slice
    that lists it, with the originals and notes of all of them: key ->
    [spun, originals, notes], and key -> the slice it is written in."""
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
    return merged, home


class Rows:
    """Makes the lexicon rows from the counts."""

    def __init__(self, news: UnitCounts, n_news: int, allm: UnitCounts):
        self.news, self.n_news, self.allm = news, n_news, allm
        self.stats: dict[str, int] = defaultdict(int)
        self.common_weight: dict[str, str] = {}  # spun form -> its weight as a common form

    def rate(self, u: str) -> float:
        c = self.news.unit_count(u) or 0
        f_news = (c + 0.5) / self.n_news
        if " " in u:
            return f_news
        wf = 10 ** (zipf_frequency(u, "en") - 9) if zipf_frequency(u, "en") > 0 else 1e-9
        return math.sqrt(f_news * wf)

    def row(self, slice_name: str, spun: str, origs: list[str], notes: set[str]) -> str | None:
        """The TSV row of a spun form, or None (counted in ``stats``) if it is dropped."""
        if not origs:
            self.stats["empty"] += 1
            return None
        origs = [o for o in origs if (self.news.unit_count(unit(o)) or 0) >= 3 or zipf_frequency(o, "en") >= 3.0]
        if not origs:
            self.stats["dropped: rare original"] += 1
            return None
        try:
            parse_spun_form(spun)
        except ValueError:
            self.stats["dropped: bad spun form"] += 1
            return None
        # Most probable original first: news frequency, discounted by the slice's own rank.
        origs = sorted(origs, key=lambda o: -self.rate(unit(o)) * RANK_DECAY ** origs.index(o))
        uf, uo = unit(spun), unit(origs[0])
        f_f, f_o = self.rate(uf), self.rate(uo)
        weight = R * f_o / (R * f_o + f_f)
        self.common_weight[spun] = f"{min(max(weight, 0.02), 0.99):.3f}"
        c_all = self.allm.unit_count(uf) or 0
        klass = "common"
        cased = spun != spun.lower()
        if "artifact" in notes and (c_all == 0 or cased):
            klass = "artifact"
        if klass == "artifact":
            weight = max(weight, 0.95)
        weight = min(max(weight, 0.02), 0.99)
        tags = sorted({"name"} & notes)
        tags.append(slice_name.split("_")[0] if slice_name != "science_tortured" else "science")
        self.stats[klass] += 1
        return f"{spun}\t{'|'.join(origs)}\t{klass}\t{weight:.3f}\t{','.join(tags)}"


def write_slice(out: str, name: str, lines: list[str]) -> None:
    with open(os.path.join(out, f"{name}.tsv"), "w", encoding="utf-8") as fh:
        fh.write("# despin-lexicon 1\n")
        fh.write(f"# slice {name}: generated by tools/build_lexicon.py; see README.md in this folder.\n")
        fh.write("spun\toriginal\tclass\tweight\ttags\n")
        fh.write("\n".join(lines) + "\n")
    print(f"{name}: {len(lines)} entries", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("raw", nargs="*")
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--tortured")
    args = ap.parse_args(argv)

    slices = read_slices(args.raw, args.tortured)
    counts = count_units(args.corpus, unit_lexicon(slices))
    news, n_news = counts["news"]
    rows = Rows(news, n_news, counts["all"][0])
    os.makedirs(args.out, exist_ok=True)
    merged, home = merge_slices(slices)
    written: dict[str, list[str]] = {}
    for name in slices:
        by_spun = {k: v for k, v in merged.items() if home[k] == name}
        written[name] = [row for _, (spun, origs, notes) in sorted(by_spun.items())
                         if (row := rows.row(name, spun, origs, notes)) is not None]
    for name, lines in check_chains(written, rows.common_weight).items():
        write_slice(args.out, name, lines)
    print(dict(rows.stats), file=sys.stderr)
    return 0


def check_chains(written: dict[str, list[str]], common_weight: dict[str, str]) -> dict[str, list[str]]:
    """The rows with despin's lexicon check applied (``despin.lexcheck``): an
    artifact whose spun form stands in an original is written ``common``
    (people write it) with its weight as a common form, one that stands in
    its own original ``keep``; what it changed, and how many originals are
    spun forms themselves (cycles and chains, kept: the restorer handles
    them), are printed."""
    entries = []
    for name, lines in written.items():
        for k, line in enumerate(lines):
            entries.append(_parse_row(line.split("\t"), f"{name}:{k}"))
    out, check = neutralise(entries)
    before = {e.source: e.klass for e in entries}
    changed = {e.source: e.klass for e in out if e.klass != before[e.source]}
    for line in check.lines()[: len(check.demoted) + len(check.switched_off)]:
        print(f"lexicon check: {line}", file=sys.stderr)
    kinds: dict[str, int] = defaultdict(int)
    for link in check.links():
        kinds[f"{link.kind} ({link.entry.klass} -> {link.inner.klass})"] += 1
    print(f"lexicon check: originals holding a spun form: {dict(kinds)}", file=sys.stderr)
    fixed = {}
    for name, lines in written.items():
        fixed[name] = []
        for k, line in enumerate(lines):
            klass = changed.get(f"{name}:{k}")
            if klass is not None:
                cols = line.split("\t")
                cols[2] = klass
                if klass == "common":
                    cols[3] = common_weight.get(cols[0], cols[3])
                line = "\t".join(cols)
            fixed[name].append(line)
    return fixed


if __name__ == "__main__":
    raise SystemExit(main())
