#!/usr/bin/env python3
"""Measure the context model on real spun pages (../shared/corpus/real, target family).

Substitutions: every target pair's spun and original lines are aligned token by
token (difflib); each replaced stretch that holds a row of the pair's
``changes.tsv`` is one substitution (a row split word by word, "based on" ->
"according to", stays one). For each the scorer compares the window with the
original against the window with the spun form, read in the spun line (its
other substitutions unrestored, as despin first sees it) or, with
``--gold-context``, in the original line.

Figures:
* share where the scorer prefers the original (advantage > 0), over all
  substitutions and over those the bundled lexicon covers (a candidate at the
  same span listing the original);
* ambiguous ones (the lexicon's entry is class ``common`` with several
  originals): the original chosen by rank prior + context (0.7 nats per rank,
  as despin.score) and by context alone, right or wrong;
* genuine uses: lexicon candidates (class common) in clean text - the target
  pages' ``sources/*.orig_page.txt`` and the pairs' ``orig.txt`` outside
  substitutions - where the scorer would prefer some original over the word
  that is really there; "same words": forms that occur among the measured
  substitutions.

Nothing here is tuned; the model is used as built. Run from the repository root:

    python tools/eval_context.py [--real ../shared/corpus/real] [--model FILE] [--src DIR] [--end-to-end]

``--src`` imports despin from another source tree (a checkout of an older
commit) to measure its context model the same way.
"""

from __future__ import annotations

import argparse
import csv
import difflib
import glob
import os
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass

RANK_PRIOR = 0.7


@dataclass
class Substitution:
    pair: str
    line: str  # the spun line
    orig_line: str
    si: int  # token span in the spun line
    sj: int
    oi: int  # token span in the original line
    oj: int
    spun: str
    orig: str


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    here = os.path.dirname(os.path.abspath(__file__))
    ap.add_argument("--real", default=os.path.join(here, "..", "..", "shared", "corpus", "real"))
    ap.add_argument("--model", help="a context model file (default: the bundled one)")
    ap.add_argument("--src", default=os.path.join(here, "..", "src"), help="the despin source tree to import")
    ap.add_argument("--gold-context", action="store_true", help="read windows in the original lines")
    ap.add_argument("--end-to-end", action="store_true",
                    help="also restore the target pairs and their clean originals with the default Restorer")
    args = ap.parse_args(argv)
    sys.path.insert(0, os.path.abspath(args.src))
    from despin.context import load_model
    from despin.lexicon import load_lexicon

    model = load_model(args.model)
    if model is None:
        ap.error("no context model")
    lex = load_lexicon()
    pairs = target_pairs(args.real)
    subs = [s for p in pairs for s in substitutions(args.real, p)]
    covered = lexicon_cover(subs, lex)
    print(f"{len(subs):,} substitutions in {len(pairs)} target pairs; {len(covered):,} covered by the lexicon")
    prefers(model, subs, covered, args.gold_context)
    genuine(model, args.real, pairs, subs, covered, lex)
    if args.end_to_end:
        end_to_end(args.real, pairs)
    return 0


def end_to_end(real: str, pairs: list[str]) -> None:
    """Error reduction and precision of despin (defaults) on the target pairs, and
    its edits on their clean original pages."""
    import despin
    from despin.evaluate import combine_pairs, evaluate_pair

    r = despin.Restorer()
    res = combine_pairs(
        evaluate_pair(r, "\n".join(_lines(os.path.join(real, "pairs", f"{p}.spun.txt"))),
                      "\n".join(_lines(os.path.join(real, "pairs", f"{p}.orig.txt"))), p)
        for p in pairs
    )
    print(f"end to end, {len(pairs)} target pairs: error reduction {res.error_reduction:.1%}, precision "
          f"{res.precision:.3f}, {res.edits} edits, "
          f"confidence >= 0.9 right {res.confident_correct}/{res.confident_edits}")
    pages = [p for pair in pairs for p in glob.glob(os.path.join(real, "sources", f"{pair}.orig_page.txt"))]
    edits = sum(len(r.restore_and_explain("\n".join(x for x in _lines(p) if not x.startswith("# "))).edits)
                for p in pages)
    print(f"edits on the {len(pages)} clean original pages of those pairs: {edits}")


def target_pairs(real: str) -> list[str]:
    with open(os.path.join(real, "manifest.tsv"), encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    return sorted(r["id"] for r in rows if r["family"] == "target" and os.path.exists(
        os.path.join(real, "pairs", f"{r['id']}.changes.tsv")))


def _lines(path: str) -> list[str]:
    with open(path, encoding="utf-8") as fh:
        return fh.read().split("\n")


def substitutions(real: str, pair: str) -> list[Substitution]:
    from despin.tokenize import WORD_RE, tokenize

    spun = _lines(os.path.join(real, "pairs", f"{pair}.spun.txt"))
    orig = _lines(os.path.join(real, "pairs", f"{pair}.orig.txt"))
    rows: dict[int, list[tuple[str, ...]]] = defaultdict(list)
    with open(os.path.join(real, "pairs", f"{pair}.changes.tsv"), encoding="utf-8") as fh:
        for r in csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE):
            rows[int(r["line"])].append(tuple(WORD_RE.findall(r["spun"].lower())))
    out = []
    for n, row_forms in sorted(rows.items()):
        s_line, o_line = spun[n - 1], orig[n - 1]
        st, ot = tokenize(s_line), tokenize(o_line)
        sm = difflib.SequenceMatcher(None, st.lows, ot.lows, autojunk=False)
        for tag, i1, i2, j1, j2 in sm.get_opcodes():
            seg = tuple(st.lows[i1:i2])
            if tag == "replace" and any(f and _inside(f, seg) for f in row_forms):
                spun_text = s_line[st.starts[i1] : st.ends[i2 - 1]]
                orig_text = o_line[ot.starts[j1] : ot.ends[j2 - 1]]
                out.append(Substitution(pair, s_line, o_line, i1, i2, j1, j2, spun_text, orig_text))
    return out


def _inside(a: tuple[str, ...], b: tuple[str, ...]) -> bool:
    return any(b[k : k + len(a)] == a for k in range(len(b) - len(a) + 1))


def _norm(s: str) -> str:
    from despin.tokenize import WORD_RE

    return " ".join(WORD_RE.findall(s.lower()))


def lexicon_cover(subs: list[Substitution], lex) -> dict[int, object]:
    """Substitution index -> the lexicon candidate at its span that lists its original."""
    from despin.candidates import scan
    from despin.tokenize import tokenize

    out = {}
    for k, s in enumerate(subs):
        for c in scan(tokenize(s.line), lex).candidates:
            if c.i == s.si and c.j == s.sj and _norm(s.orig) in {_norm(o) for o in c.originals}:
                out[k] = c
    return out


def prefers(model, subs: list[Substitution], covered: dict, gold: bool) -> None:
    from despin.tokenize import tokenize

    res: Counter[str] = Counter()
    for k, s in enumerate(subs):
        tokens, i, j = (tokenize(s.orig_line), s.oi, s.oj) if gold else (tokenize(s.line), s.si, s.sj)
        adv = model.advantage_at(tokens, i, j, s.spun, s.orig)
        verdict = "pref" if adv > 0 else "none" if adv == 0 else "against"
        groups = ["all"] + (["lex"] if k in covered else [])
        c = covered.get(k)
        if c is not None and c.klass == "common" and len(c.originals) > 1:
            advs = [model.advantage_at(tokens, i, j, s.spun, o) for o in c.originals]
            with_prior = [a - RANK_PRIOR * r for r, a in enumerate(advs)]
            gold_o = _norm(s.orig)
            res["amb_n"] += 1
            res["amb_prior"] += _norm(c.originals[0]) == gold_o
            res["amb_ctx_prior"] += _norm(c.originals[_argmax(with_prior)]) == gold_o
            res["amb_ctx"] += _norm(c.originals[_argmax(advs)]) == gold_o
        for g in groups:
            res[f"{g}_n"] += 1
            res[f"{g}_{verdict}"] += 1
    where = "original lines" if gold else "spun lines"
    for g, label in (("all", "all substitutions"), ("lex", "lexicon-covered")):
        n = res[f"{g}_n"]
        print(f"{label} ({where}): original preferred {res[f'{g}_pref']}/{n} = {res[f'{g}_pref'] / max(n, 1):.1%}, "
              f"no evidence {res[f'{g}_none']}, spun form preferred {res[f'{g}_against']}")
    n = res["amb_n"]
    print(f"ambiguous (common, several originals) {n}: "
          f"prior alone {res['amb_prior']} = {res['amb_prior'] / max(n, 1):.1%}, "
          f"prior + context {res['amb_ctx_prior']} = {res['amb_ctx_prior'] / max(n, 1):.1%}, "
          f"context alone {res['amb_ctx']} = {res['amb_ctx'] / max(n, 1):.1%}")


def _argmax(xs: list[float]) -> int:
    return max(range(len(xs)), key=xs.__getitem__)


def genuine(model, real: str, pairs: list[str], subs: list[Substitution], covered: dict, lex) -> None:
    from despin.candidates import scan
    from despin.tokenize import tokenize

    same = {_norm(s.spun) for k, s in enumerate(subs) if k in covered}
    texts: list[tuple[str, str, list[tuple[int, int]]]] = []
    for pair in pairs:
        page = os.path.join(real, "sources", f"{pair}.orig_page.txt")
        for p in glob.glob(page):
            texts.append(("pages", "\n".join(x for x in _lines(p) if not x.startswith("# ")), []))
        spans = defaultdict(list)
        for s in subs:
            if s.pair == pair:
                spans[s.orig_line].append((s.oi, s.oj))
        for line in _lines(os.path.join(real, "pairs", f"{pair}.orig.txt")):
            texts.append(("pair lines", line, spans.get(line, [])))
    res: Counter[str] = Counter()
    for kind, text, excluded in texts:
        tokens = tokenize(text)
        for c in scan(tokens, lex).candidates:
            if c.i < 0 or c.klass != "common" or any(c.i < b and a < c.j for a, b in excluded):
                continue
            literal = text[c.start : c.end]
            flip = max(model.advantage_at(tokens, c.i, c.j, literal, o) for o in c.originals) > 0
            groups = [f"{kind}, all forms"] + ([f"{kind}, same words"] if _norm(literal) in same else [])
            for g in groups:
                res[g + "_n"] += 1
                res[g + "_flip"] += flip
    print("genuine uses in clean text where another candidate is preferred: " + "; ".join(
        f"{g} {res[g + '_flip']}/{res[g + '_n']} = {res[g + '_flip'] / max(res[g + '_n'], 1):.1%}"
        for g in ("pages, same words", "pair lines, same words", "pages, all forms", "pair lines, all forms")))


if __name__ == "__main__":
    raise SystemExit(main())
