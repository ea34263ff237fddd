"""The lexicon: spun forms and the original wording they replace.

Format (``despin-lexicon 1``), one UTF-8 TSV file per slice; see
``data/lexicon/README.md`` for the full description::

    # despin-lexicon 1
    spun<TAB>original<TAB>class<TAB>weight<TAB>tags
    satellite tv for pc<TAB>satellite<TAB>artifact<TAB>0.99<TAB>science
    officers<TAB>officials<TAB>common<TAB>0.45<TAB>politics
    assist<TAB>aid|help|support<TAB>common<TAB><TAB>

* ``spun``: the spinner's output. Lower-case forms match in any case; a form
  written with capitals ("Chilly Conflict") matches only with those capitals
  (or in all capitals). Spaces match any inline whitespace; other characters
  between words (``p.c.``) must match exactly.
* ``original``: one or more originals separated by ``|``, the most likely first.
* ``class``: ``artifact`` (hardly ever written by people: always restored),
  ``common`` (also ordinary English: restored only in documents that show
  spin, when the context fits), or ``keep`` (never restore this form; use it
  in a user lexicon to switch a bundled entry off).
* ``weight``: optional prior in (0, 1]: how often the form is spinner output
  when it occurs in a spun document. Defaults: artifact 0.97, common 0.5.
* ``tags``: optional comma-separated labels. ``name``: only inside a
  capitalised name. Any other tag (``politics``, ``science``) is a label.

Every problem is reported as :class:`~despin.errors.LexiconError` with
``path:line``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, TypeVar, cast

import regex

from ._resources import data_path, load_once
from .errors import LexiconError
from .tokenize import WORD_RE, norm_gap

__all__ = [
    "CLASSES",
    "FORMAT_VERSION",
    "Entry",
    "Lexicon",
    "artifact_lexicon",
    "bundled_lexicon_dir",
    "bundled_lexicon_files",
    "load_lexicon",
    "merge_file_entries",
    "parse_lexicon_file",
]

T = TypeVar("T")

FORMAT_VERSION = 1
_MAGIC = "# despin-lexicon"
HEADER = ("spun", "original", "class", "weight", "tags")
CLASSES = ("artifact", "common", "keep")
DEFAULT_WEIGHT = {"artifact": 0.97, "common": 0.5, "keep": 1.0}
_TAG_RE = regex.compile(r"[a-z0-9][a-z0-9_=\-]*")
_TAG_SETS: dict[str, frozenset[str]] = {}  # a tags column already checked -> its tags (a file has few)


@dataclass(frozen=True)
class Entry:
    """One spun form with its originals."""

    spun: str
    toks: tuple[str, ...]  # lower-cased word tokens
    case_toks: tuple[str, ...]  # tokens as written (for cased entries)
    gaps: tuple[str, ...]  # normalised text between tokens ("" for none)
    suffix: str  # punctuation that must follow the last token ("." in "p.c.")
    originals: tuple[str, ...]
    klass: str
    weight: float
    tags: frozenset[str]
    source: str  # "file:line"

    cased: bool = False  # written with capitals: matches only so (or in ALL CAPS)

    @property
    def name_only(self) -> bool:
        return "name" in self.tags

    @property
    def rate(self) -> float | None:
        """The share of its original's occurrences the spinner makes into this
        form, learned from real pages (a ``rate=N`` tag, N percent), if known."""
        for t in self.tags:
            if t.startswith("rate="):
                return max(int(t[5:]), 1) / 100.0
        return None

    @property
    def prior(self) -> float:
        """The prior that the form is spinner output from rates and clean-text
        frequencies alone: a ``prior=N`` tag (N percent) where learned counts
        made the weight a posterior, else the weight. Detection counts by it."""
        for t in self.tags:
            if t.startswith("prior="):
                return max(int(t[6:]), 1) / 100.0
        return self.weight


def parse_spun_form(spun: str) -> tuple[tuple[str, ...], tuple[str, ...], str]:
    """Split a spun form into its word tokens, the gaps between them, and a punctuation suffix."""
    words = spun.split(" ")
    if all(w.isalpha() for w in words):  # the common case: plain words and single spaces
        return tuple(words), (" ",) * (len(words) - 1), ""
    toks: list[str] = []
    gaps: list[str] = []
    pos = 0
    for m in WORD_RE.finditer(spun):
        if toks:
            gaps.append(norm_gap(spun[pos : m.start()]))
        elif m.start() != 0:
            raise ValueError("must start with a letter or digit")
        toks.append(m.group())
        pos = m.end()
    if not toks:
        raise ValueError("has no words")
    suffix = spun[pos:]
    if suffix and (suffix.strip() != suffix or WORD_RE.search(suffix)):
        raise ValueError(f"may end only in punctuation, not {suffix!r}")
    for g in gaps:
        if g != " " and g.strip() != g:
            raise ValueError(f"has a separator {g!r} that mixes spaces and punctuation")
    return tuple(toks), tuple(gaps), suffix


def parse_lexicon_file(path: str | os.PathLike[str]) -> Iterator[Entry]:
    """Read and validate one lexicon file, yielding its rows as entries."""
    path_s = os.fspath(path)
    lines = _read_lines(path_s)
    _check_magic(lines, path_s)
    width = 0  # columns of the header row (0: not seen yet)
    name = Path(path_s).name
    for lineno, line in enumerate(lines, start=1):
        if lineno == 1 or not line.strip() or line.lstrip().startswith("#"):
            continue
        cols = line.split("\t")
        if not width:
            width = _header_width(cols, path_s, lineno)
            continue
        if len(cols) > width and any(c.strip() for c in cols[width:]):
            raise LexiconError(f"expected at most {width} tab-separated columns, found {len(cols)}", path_s, lineno)
        try:
            entry = _parse_row(cols[:5], f"{name}:{lineno}")
        except ValueError as exc:
            raise LexiconError(str(exc), path_s, lineno) from None
        yield entry
    if not width:
        raise LexiconError("no header row", path_s)


def _read_lines(path: str) -> list[str]:
    try:
        with open(path, encoding="utf-8-sig", newline="") as fh:  # (a byte-order mark is dropped)
            return fh.read().splitlines()
    except FileNotFoundError:
        raise LexiconError("no such lexicon file", path) from None
    except UnicodeDecodeError as exc:
        raise LexiconError(f"not UTF-8 text ({exc.reason} at byte {exc.start})", path) from None
    except OSError as exc:
        raise LexiconError(f"cannot read: {exc.strerror}", path) from None


def _check_magic(lines: list[str], path: str) -> None:
    if not lines or not lines[0].startswith(_MAGIC):
        raise LexiconError(f"first line must be '{_MAGIC} {FORMAT_VERSION}'", path, 1)
    version = lines[0][len(_MAGIC) :].strip()
    if version != str(FORMAT_VERSION):
        raise LexiconError(
            f"lexicon format {version!r} is not supported (this despin reads format {FORMAT_VERSION})", path, 1
        )


def _header_width(cols: list[str], path: str, lineno: int) -> int:
    """The number of columns the header row names (3 to 5)."""
    names = tuple(c.strip() for c in cols)
    if not 3 <= len(names) <= 5 or names != HEADER[: len(names)]:
        raise LexiconError(
            "expected the header row 'spun<TAB>original<TAB>class[<TAB>weight[<TAB>tags]]'", path, lineno
        )
    return len(names)


def _parse_row(cols: list[str], source: str) -> Entry:
    """The entry of one row (``source``: ``file:line``); ValueError says what is wrong."""
    if not 3 <= len(cols) <= 5:
        raise ValueError(f"expected 3 to 5 tab-separated columns, found {len(cols)}")
    cols = [c.strip() for c in cols] + [""] * (5 - len(cols))
    spun, original, klass, weight_s, tags_s = cols
    if not spun:
        raise ValueError("empty spun form")
    spun = " ".join(spun.split())
    try:
        toks, gaps, suffix = parse_spun_form(spun)
    except ValueError as exc:
        raise ValueError(f"spun form {spun!r} {exc}") from None
    originals = tuple(" ".join(o.split()) for o in original.split("|"))
    if not original or any(not o for o in originals):
        raise ValueError(f"empty original for {spun!r}")
    if klass not in CLASSES:
        raise ValueError(f"class must be one of {', '.join(CLASSES)}, not {klass!r}")
    weight = _parse_weight(weight_s) if weight_s else DEFAULT_WEIGHT[klass]
    tags = _parse_tags(tags_s)
    if klass != "keep" and spun.lower() in {o.lower() for o in originals}:
        raise ValueError(f"{spun!r} maps to itself")
    return Entry(
        spun=spun,
        toks=tuple(t.lower() for t in toks),
        case_toks=toks,
        gaps=gaps,
        suffix=suffix,
        originals=originals,
        klass=klass,
        weight=weight,
        tags=tags,
        source=source,
        cased=spun != spun.lower(),
    )


def _parse_weight(weight_s: str) -> float:
    try:
        weight = float(weight_s)
    except ValueError:
        raise ValueError(f"weight must be a number in (0, 1], not {weight_s!r}") from None
    if not 0.0 < weight <= 1.0:
        raise ValueError(f"weight must be in (0, 1], not {weight_s}")
    return weight


def _parse_tags(tags_s: str) -> frozenset[str]:
    tags = _TAG_SETS.get(tags_s)
    if tags is None:
        tags = frozenset(t.strip() for t in tags_s.split(",") if t.strip())
        for t in tags:
            if not _TAG_RE.fullmatch(t):
                raise ValueError(f"bad tag {t!r} (tags are lower-case words, comma-separated)")
        if len(_TAG_SETS) < 1024:
            _TAG_SETS[tags_s] = tags
    return tags


class Lexicon:
    """A compiled lexicon: entries indexed by their first token for a single-pass scan."""

    def __init__(self, entries: Iterable[Entry], _word_cache: dict[str, tuple[str, ...]] | None = None):
        merged: dict[str, Entry] = {}
        for e in entries:
            merged[e.spun if e.cased else e.spun.lower()] = e
        self.entries: tuple[Entry, ...] = tuple(merged.values())
        # Single-word entries by word; multi-word entries by their first two words,
        # so the scan tries only the few entries that can match at a position.
        singles: dict[str, list[Entry]] = {}
        multis: dict[tuple[str, str], list[Entry]] = {}
        for e in self.entries:
            if len(e.toks) == 1:
                singles.setdefault(e.toks[0], []).append(e)
            else:
                multis.setdefault((e.toks[0], e.toks[1]), []).append(e)
        self.singles: dict[str, tuple[Entry, ...]] = {k: _in_match_order(v) for k, v in singles.items()}
        self.multis: dict[tuple[str, str], tuple[Entry, ...]] = {k: _in_match_order(v) for k, v in multis.items()}
        # an original's lower-cased words, by original (many entries share one)
        self._words_of = _word_cache if _word_cache is not None else {}
        self.orig_singles, self.orig_multis = self._index_originals()
        # Words at which an entry can match, and those plus the words that start an
        # original or a numeral (where the scan also counts or looks for digits).
        self.match_words: frozenset[str] = frozenset(list(singles) + [k[0] for k in multis])
        self.first_words: frozenset[str] = self.match_words | frozenset(
            list(self.orig_singles) + [k[0] for k in self.orig_multis] + [str(d) for d in range(1, 10)]
        )

    def _index_originals(
        self,
    ) -> tuple[dict[str, str], dict[tuple[str, str], tuple[tuple[tuple[str, ...], str], ...]]]:
        """The originals, to count how often the original wording itself
        appears: single words -> their group (the first original,
        lower-cased); multi-word originals by their first two words, as
        (words, group), longest first."""
        orig_singles: dict[str, str] = {}
        orig_multis: dict[tuple[str, str], set[tuple[tuple[str, ...], str]]] = {}
        for e in self.entries:
            if e.klass == "keep":
                continue
            group = e.originals[0].lower()
            for o in e.originals:
                otoks = self._words(o)
                if len(otoks) == 1:
                    orig_singles.setdefault(otoks[0], group)
                elif otoks:
                    orig_multis.setdefault((otoks[0], otoks[1]), set()).add((otoks, group))
        # Longest first; ties in a fixed order, so counts never depend on the hash seed.
        return orig_singles, {
            k: tuple(v) if len(v) == 1 else tuple(sorted(v, key=lambda x: (-len(x[0]), x)))
            for k, v in orig_multis.items()
        }

    def _words(self, original: str) -> tuple[str, ...]:
        """The lower-cased words of an original (cached: many entries share one)."""
        otoks = self._words_of.get(original)
        if otoks is None:
            if original.replace(" ", "").isalpha():  # only letters: the words are what spaces separate
                otoks = tuple(original.lower().split())
            else:
                otoks = tuple(t.lower() for t in WORD_RE.findall(original))
            self._words_of[original] = otoks
        return otoks

    def subset(self, name: str, keep: Callable[[Entry], bool]) -> Lexicon:
        """The entries for which ``keep`` is true, as a lexicon (built once per name)."""
        return self.derived(f"subset:{name}", lambda lex: Lexicon((e for e in lex.entries if keep(e)), lex._words_of))

    def derived(self, name: str, build: Callable[[Lexicon], T]) -> T:
        """``build(self)``, built once and kept with this lexicon under ``name``
        (the indexes that detection and the quick reject read)."""
        cache: dict[str, Any] = self.__dict__.setdefault("_derived", {})
        value = cache.get(name)
        if value is None:
            value = cache[name] = build(self)
        return cast(T, value)

    def __len__(self) -> int:
        return len(self.entries)

    @property
    def spun_forms(self) -> int:
        return sum(1 for e in self.entries if e.klass != "keep")


def _in_match_order(entries: list[Entry]) -> tuple[Entry, ...]:
    """Entries that start with the same word(s), in the order the scan tries
    them: longest first, then with a suffix, then written with capitals."""
    if len(entries) == 1:
        return tuple(entries)
    return tuple(sorted(entries, key=lambda e: (-len(e.toks), -len(e.suffix), not e.cased)))


def merge_file_entries(files: Iterable[str]) -> list[Entry]:
    """Entries of several files; within a file, repeated spun forms add originals;
    a later file replaces the entries of an earlier one for the same spun form."""
    out: list[Entry] = []
    for f in files:
        per_file: dict[str, Entry] = {}
        for e in parse_lexicon_file(f):
            key = e.spun if e.cased else e.spun.lower()
            prev = per_file.get(key)
            if prev is None:
                per_file[key] = e
            else:
                extra = tuple(o for o in e.originals if o not in prev.originals)
                per_file[key] = _replace_originals(prev, prev.originals + extra)
        out.extend(per_file.values())
    return out


def _replace_originals(e: Entry, originals: tuple[str, ...]) -> Entry:
    return replace(e, originals=originals)


def artifact_lexicon(lexicon: Lexicon) -> Lexicon:
    """The entries restored in texts that are not spun."""
    return lexicon.subset("artifact", lambda e: e.klass == "artifact")


def bundled_lexicon_dir() -> Path:
    """The folder of the lexicon shipped with despin."""
    folder = data_path("lexicon")
    if folder is None:
        raise LexiconError("the bundled lexicon is missing from this installation")
    return folder


LEARNED_PREFIX = "learned_"


def is_learned_slice(path: str | os.PathLike[str]) -> bool:
    """Whether a bundled slice was learned from real pairs (``learned_*.tsv``)."""
    return Path(path).name.startswith(LEARNED_PREFIX)


def bundled_lexicon_files() -> list[str]:
    """The bundled slices in load order: the written slices by name, then the
    learned ones (``learned_*.tsv``), which override them."""
    files = sorted(str(p) for p in bundled_lexicon_dir().glob("*.tsv"))
    return [f for f in files if not is_learned_slice(f)] + [f for f in files if is_learned_slice(f)]


def _read_lexicon(files: tuple[str, ...]) -> Lexicon:
    from .lexcheck import neutralise, report_user_links  # (lexcheck reads this module's Entry)

    entries, check = neutralise(merge_file_entries(files))
    lexicon = Lexicon(entries)
    lexicon.check = check  # type: ignore[attr-defined]
    report_user_links(check, files)
    return lexicon


_load_files = load_once(_read_lexicon, maxsize=16)


def load_lexicon(extra: tuple[str, ...] = (), bundled: bool = True) -> Lexicon:
    """Load (once per process) the bundled lexicon and/or extra files, later files overriding."""
    files = tuple(bundled_lexicon_files() if bundled else ()) + tuple(extra)
    return _load_files(files)
