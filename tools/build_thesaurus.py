#!/usr/bin/env python3
"""Build despin's compact thesaurus (data/thesaurus/oewn_candidates.tsv.gz) from Open English WordNet.

For every word form a spinner may write (an OEWN lemma of one to three words,
and its regular inflections), the file lists its *frequent candidates*: the
words that could have stood there before a spinner swapped in a synonym.
A candidate is a lemma that shares a synset with the form (relation ``s``),
or stands one step from it (a direct hypernym or hyponym, ``h``; an
adjective's ``similar``/``also`` set, ``r``), inflected like the form, that
is at least MIN_GAIN Zipf units more frequent than the form (``wordfreq``)
and itself at least MIN_ZIPF. Only forms with a candidate are kept, with at
most MAX_CANDIDATES candidates each, most frequent first.

One command (run from the repository root; wordfreq and lemminflect installed)::

    python tools/build_thesaurus.py ../shared/thesaurus/oewn_synsets.jsonl

Format ``despin-thesaurus 1`` (gzip, UTF-8, tab-separated): comment lines
starting with ``#`` (provenance and licence), then one line per form:
``form  zipf100  candidates`` where ``zipf100`` is the form's Zipf frequency
times 100 (an integer) and ``candidates`` is ``word:zipf100:relation`` joined
by ``|``. Nothing else is stored.

Credit: derived from Open English WordNet (the Open English Wordnet team,
CC BY 4.0), itself derived from Princeton WordNet 3.0 (WordNet License,
Princeton University); frequencies from wordfreq (Robyn Speer; its data's
licences are listed in the wordfreq package).
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import sys
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path

from lemminflect import getAllInflections
from wordfreq import zipf_frequency

OUT = Path(__file__).resolve().parents[1] / "data" / "thesaurus" / "oewn_candidates.tsv.gz"
MIN_GAIN = 0.5  # Zipf units a candidate must be more frequent than the form (about 3x)
MIN_ZIPF = 3.0  # a candidate is a frequent word: about once per million words at least
MIN_FORM_ZIPF = 0.5  # forms wordfreq does not know at all are left out
MAX_CANDIDATES = 8  # synonyms first, then similar adjectives, then hypernyms and hyponyms
MAX_WORDS = 3
_RANK = {"s": 0, "r": 1, "h": 2}
_POS = {"n": "NOUN", "v": "VERB", "a": "ADJ", "s": "ADJ", "r": "ADV"}
# Inflection tags kept per part of speech (the form and the candidate share the tag).
_TAGS = {"NOUN": ("NN", "NNS"), "VERB": ("VB", "VBD", "VBG", "VBN", "VBZ"), "ADJ": ("JJ",), "ADV": ("RB",)}
# Function words are never forms or candidates: spinners leave them, and a
# "synonym" of one is a different word ("may" / "can").
_FUNCTION = frozenset(
    """a an the and or but nor if of to in on at by for with from as into onto upon than then so such that this these
    those there here it its he she they we you i me him her them us my our your their his be is am are was were been
    being have has had do does did will would shall should can could may might must not no yes all any some each every
    one two who whom whose which what when where why how out up down off over""".split()
)


def _inflect(lemma: str, upos: str) -> dict[str, str]:
    """tag -> inflected form of a one- to three-word lemma (the head word inflected:
    the first word of a verb phrase, the last of a noun phrase)."""
    words = lemma.split(" ")
    head = 0 if upos == "VERB" else len(words) - 1
    out: dict[str, str] = {}
    table = getAllInflections(words[head], upos=upos) if upos in ("NOUN", "VERB") else {}
    for tag in _TAGS[upos]:
        forms = table.get(tag)
        if tag in ("NN", "VB", "JJ", "RB") or not forms:
            form = words[head] if tag in ("NN", "VB", "JJ", "RB") else None
        else:
            form = forms[0]
        if form is None:
            continue
        out[tag] = " ".join([*words[:head], form, *words[head + 1 :]])
    return out


def _usable(lemma: str) -> bool:
    words = lemma.split(" ")
    return 1 <= len(words) <= MAX_WORDS and all(w.replace("-", "").isalpha() for w in words) and not (
        len(words) == 1 and lemma in _FUNCTION
    )


def read_synsets(path: str) -> dict[str, dict[str, object]]:
    synsets: dict[str, dict[str, object]] = {}
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            s = json.loads(line)
            s["members"] = [m.lower().replace("_", " ") for m in s["members"]]
            synsets[s["id"]] = s
    return synsets


def related(synsets: dict[str, dict[str, object]]) -> Iterable[tuple[str, str, str, str]]:
    """(lemma, candidate lemma, upos, relation) for every pair the thesaurus relates."""
    hyponyms: dict[str, list[str]] = defaultdict(list)
    for sid, s in synsets.items():
        for h in s.get("hypernym", []):  # type: ignore[attr-defined]
            hyponyms[h].append(sid)
    for sid, s in synsets.items():
        upos = _POS[str(s["pos"])]
        members = [m for m in s["members"] if _usable(m)]  # type: ignore[attr-defined]
        near: list[tuple[str, str]] = []
        for rel, key in (("h", "hypernym"), ("r", "similar"), ("r", "also")):
            for other in s.get(key, []):  # type: ignore[attr-defined]
                o = synsets.get(other)
                if o is not None and _POS[str(o["pos"])] == upos:
                    near.extend((m, rel) for m in o["members"] if _usable(m))  # type: ignore[attr-defined]
        for other in hyponyms.get(sid, []):
            near.extend((m, "h") for m in synsets[other]["members"] if _usable(m))  # type: ignore[attr-defined]
        for m in members:
            for c in members:
                if c != m:
                    yield m, c, upos, "s"
            for c, rel in near:
                if c != m:
                    yield m, c, upos, rel


def build(path: str) -> tuple[dict[str, int], dict[str, dict[str, tuple[int, str]]]]:
    zipf_cache: dict[str, int] = {}

    def z100(w: str) -> int:
        v = zipf_cache.get(w)
        if v is None:
            v = zipf_cache[w] = round(100 * zipf_frequency(w, "en"))
        return v

    cands: dict[str, dict[str, tuple[int, str]]] = defaultdict(dict)
    for lemma, cand, upos, rel in related(read_synsets(path)):
        forms, cforms = _inflect(lemma, upos), _inflect(cand, upos)
        for tag, form in forms.items():
            c = cforms.get(tag)
            if c is None or c == form:
                continue
            zf, zc = z100(form), z100(c)
            if zf < 100 * MIN_FORM_ZIPF or zc < 100 * MIN_ZIPF or zc - zf < 100 * MIN_GAIN:
                continue
            old = cands[form].get(c)
            if old is None or _RANK[rel] < _RANK[old[1]]:
                cands[form][c] = (zc, rel)
    return zipf_cache, cands


def write(out: Path, source: str, zipf: dict[str, int], cands: dict[str, dict[str, tuple[int, str]]]) -> int:
    digest = hashlib.sha256(Path(source).read_bytes()).hexdigest()[:16]
    lines = [
        "# despin-thesaurus 1",
        "# Derived from Open English WordNet (the Open English Wordnet team, CC BY 4.0), itself derived from",
        "# Princeton WordNet 3.0 (WordNet License, Princeton University). Frequencies: wordfreq (Robyn Speer).",
        f"# Source: shared/thesaurus/oewn_synsets.jsonl (sha256 {digest}...); built by tools/build_thesaurus.py",
        f"# MIN_GAIN {MIN_GAIN} MIN_ZIPF {MIN_ZIPF} MIN_FORM_ZIPF {MIN_FORM_ZIPF} MAX_CANDIDATES {MAX_CANDIDATES}",
    ]
    for form in sorted(cands):
        best = sorted(cands[form].items(), key=lambda kv: (_RANK[kv[1][1]], -kv[1][0], kv[0]))[:MAX_CANDIDATES]
        lines.append(f"{form}\t{zipf[form]}\t" + "|".join(f"{c}:{z}:{r}" for c, (z, r) in best))
    out.parent.mkdir(parents=True, exist_ok=True)
    data = ("\n".join(lines) + "\n").encode("utf-8")
    with open(out, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename="") as fh:
        fh.write(data)  # mtime 0 and no name: the same input gives the same bytes
    return len(cands)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("synsets", help="shared/thesaurus/oewn_synsets.jsonl")
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args(argv)
    zipf, cands = build(args.synsets)
    n = write(args.out, args.synsets, zipf, cands)
    print(f"{args.out}: {n} forms, {args.out.stat().st_size} bytes", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
