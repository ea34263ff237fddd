"""Synthetic article spinners for fitting and testing despin's dictionary-free evidence.

Each spinner rewrites a clean text and records what it did: the spun text and
the substitutions as (start, end, original) character spans of the spun text.
They differ in what real spinners differ in:

* ``wordnet``: a random synonym from the first two synsets listing the word
  as written (the public "WordNet spinner" scripts; no inflection, so mostly
  base forms are swapped);
* ``wordnet-inflect``: lemma and inflection found (lemminflect), a synonym
  from any sense of the lemma (sense errors), inflected back;
* ``broad``: synonyms, similar adjectives, hypernyms and hyponyms, multi-word
  outputs allowed, the rarer of two draws preferred (a "unique-sounding" spinner);
* ``dictionary``: the reverse of despin's bundled lexicon (original -> a spun
  form): another synonym source, the target spinner's own kind.

Every spinner takes a rate (share of eligible words swapped) and whether it
protects quotations and capitalised names.
"""

from __future__ import annotations

import json
import random
import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from lemminflect import getAllInflections, getAllLemmas
from wordfreq import zipf_frequency

_WORD = re.compile(r"[A-Za-z]+(?:-[A-Za-z]+)*")
_QUOTE = re.compile(r"“[^“”\n]{0,3000}”|\"[^\"\n]{0,3000}\"")
_STOP = frozenset(
    "the a an and or but of to in on at for with by from as is are was were be been has have had it its this that "
    "these those he she they we you i not no said says do does did will would can could may might must shall should "
    "there here their them his her our your who whom which what when where why how all any some one two".split()
)
_UPOS = {"n": "NOUN", "v": "VERB", "a": "ADJ", "s": "ADJ", "r": "ADV"}
_TAGS = {"NOUN": ("NN", "NNS"), "VERB": ("VB", "VBD", "VBG", "VBN", "VBZ"), "ADJ": ("JJ",), "ADV": ("RB",)}


@dataclass(frozen=True)
class Spun:
    text: str
    subs: list[tuple[int, int, str]]  # spun-text span, original wording


class Thesaurus:
    """OEWN synonym tables for the spinners."""

    def __init__(self, path: str):
        self.first: dict[str, list[list[str]]] = defaultdict(list)  # word as written -> members of its synsets
        self.by_pos: dict[tuple[str, str], list[list[str]]] = defaultdict(list)  # (lemma, upos) -> synsets
        self.near: dict[tuple[str, str], list[str]] = defaultdict(list)  # (lemma, upos) -> related lemmas
        synsets = {}
        with open(path, encoding="utf-8") as fh:
            for line in fh:
                s = json.loads(line)
                synsets[s["id"]] = s
        hypo: dict[str, list[str]] = defaultdict(list)
        for sid, s in synsets.items():
            for h in s.get("hypernym", []):
                hypo[h].append(sid)
        for sid, s in synsets.items():
            members = [m.lower() for m in s["members"]]
            upos = _UPOS[s["pos"]]
            rel = [m.lower() for k in ("hypernym", "similar", "also") for o in s.get(k, [])
                   for m in synsets[o]["members"]]
            rel += [m.lower() for o in hypo.get(sid, []) for m in synsets[o]["members"]]
            for m in members:
                others = [x for x in members if x != m]
                if len(self.first[m]) < 3:
                    self.first[m].append(others)
                self.by_pos[(m, upos)].append(others)
                self.near[(m, upos)].extend(x for x in rel if x != m)


def _inflect(lemma: str, upos: str, tag: str) -> str | None:
    words = lemma.split(" ")
    head = 0 if upos == "VERB" else len(words) - 1
    if tag in ("NN", "VB", "JJ", "RB"):
        return lemma
    forms = getAllInflections(words[head], upos=upos).get(tag)
    if not forms:
        return None
    return " ".join([*words[:head], forms[0], *words[head + 1 :]])


def _analyses(word: str) -> list[tuple[str, str, str]]:
    """(lemma, upos, tag) readings of a lower-case word."""
    out = []
    for upos, lemmas in getAllLemmas(word).items():
        if upos not in _TAGS:
            continue
        for lemma in lemmas:
            for tag in _TAGS[upos]:
                if _inflect(lemma, upos, tag) == word:
                    out.append((lemma, upos, tag))
    return out


def _case_like(word: str, like: str) -> str:
    if like.isupper() and len(like) > 1:
        return word.upper()
    return word[:1].upper() + word[1:] if like[:1].isupper() else word


def spin(
    text: str,
    choose: Callable[[str, random.Random], str | None],
    rate: float,
    seed: int,
    protect_quotes: bool = False,
    protect_names: bool = False,
) -> Spun:
    rng = random.Random(seed)
    quoted = [m.span() for m in _QUOTE.finditer(text)] if protect_quotes else []
    out: list[str] = []
    subs: list[tuple[int, int, str]] = []
    pos = length = 0
    for m in _WORD.finditer(text):
        a, b = m.span()
        out.append(text[pos:a])
        length += a - pos
        pos = b
        w = m.group(0)
        lw = w.lower()
        keep = lw in _STOP or len(w) < 3 or rng.random() >= rate
        if not keep and protect_quotes and any(x <= a < y for x, y in quoted):
            keep = True
        if not keep and protect_names and w[:1].isupper():
            before = text[:a].rstrip(" \"'“‘(")
            keep = not (before == "" or before.endswith((".", "!", "?", "\n", ":")))
        new = None if keep else choose(lw, rng)
        if new is None or new == lw:
            out.append(w)
            length += len(w)
            continue
        new = _case_like(new, w)
        out.append(new)
        subs.append((length, length + len(new), w))
        length += len(new)
    out.append(text[pos:])
    return Spun("".join(out), subs)


def wordnet_choice(th: Thesaurus) -> Callable[[str, random.Random], str | None]:
    def choose(w: str, rng: random.Random) -> str | None:
        options = [x for sense in th.first.get(w, [])[:2] for x in sense]
        return rng.choice(options) if options else None

    return choose


def inflect_choice(th: Thesaurus, broad: bool = False) -> Callable[[str, random.Random], str | None]:
    cache: dict[str, list[str]] = {}

    def options(w: str) -> list[str]:
        got = cache.get(w)
        if got is None:
            got = []
            for lemma, upos, tag in _analyses(w):
                cands = [x for sense in th.by_pos.get((lemma, upos), []) for x in sense]
                if broad:
                    cands += th.near.get((lemma, upos), [])
                    cands = [c for c in cands if c.count(" ") <= 2]
                else:
                    cands = [c for c in cands if " " not in c]
                for c in cands:
                    f = _inflect(c, upos, tag)
                    if f and f != w:
                        got.append(f)
            cache[w] = got
        return got

    def choose(w: str, rng: random.Random) -> str | None:
        opts = options(w)
        if not opts:
            return None
        x = rng.choice(opts)
        if broad:  # prefer the rarer of two draws
            y = rng.choice(opts)
            x = min(x, y, key=lambda t: (zipf_frequency(t, "en"), t))
        return x

    return choose


def dictionary_choice(lexicon_dir: Path) -> Callable[[str, random.Random], str | None]:
    table: dict[str, list[str]] = defaultdict(list)
    for f in sorted(lexicon_dir.glob("*.tsv")):
        for line in f.read_text(encoding="utf-8").splitlines():
            cols = line.split("\t")
            if line.startswith("#") or len(cols) < 3 or cols[0] == "spun" or cols[2] not in ("common", "artifact"):
                continue
            spun = cols[0]
            if not spun.islower():
                continue
            for o in cols[1].split("|"):
                if " " not in o and o.islower():
                    table[o].append(spun)

    def choose(w: str, rng: random.Random) -> str | None:
        opts = table.get(w)
        return rng.choice(opts) if opts else None

    return choose


SPINNERS = ("wordnet", "wordnet-inflect", "broad", "dictionary")


def make_spinners(thesaurus_path: str, lexicon_dir: Path) -> dict[str, Callable[[str, random.Random], str | None]]:
    th = Thesaurus(thesaurus_path)
    return {
        "wordnet": wordnet_choice(th),
        "wordnet-inflect": inflect_choice(th),
        "broad": inflect_choice(th, broad=True),
        "dictionary": dictionary_choice(lexicon_dir),
    }
