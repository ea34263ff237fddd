"""Originals that are themselves spun forms: cycles and chains in a lexicon.

Real spinners make cycles (the target spinner writes "corporate" for
"company" and "company" for "corporate"), so a lexicon learned from their
pages holds pairs whose original is another entry's spun form. Such data is
kept; :func:`find_links` lists it, and the restorer stays idempotent with it
(a later pass never re-edits what an earlier one wrote:
:mod:`despin.passes`).

Artifacts are the exception. They are restored in any text, clean text
included, so an artifact whose original holds another artifact's spun form
would fire again on its own output, and one whose original holds its own
spun form would grow the text on every call. But a spun form that stands in
an original is wording people write (the original is real text): it is not
an artifact. So :func:`neutralise`, run when a lexicon is loaded and when the
bundled one is built, makes such a form ``common`` (restored only in texts
that show spin, when the context agrees), and switches off (class ``keep``)
an artifact that stands in its own original. No chain of artifacts is left
("cell phone" -> "mobile phone" is no artifact, since "cellular phone" ->
"cell phone" shows people write it; "horror film" <-> "horror movie" and
"Soccer League", inside "National Women's Soccer League", neither).
:func:`check_lexicon` reports what it changed and every link left.

A spun form lies inside an original when its words stand there in order,
with the capitals of a form written with capitals (or in all capitals).
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any, Protocol, TypeVar, cast

from ._resources import data_path
from .errors import LexiconWarning
from .tokenize import WORD_RE

__all__ = ["EntryLike", "Link", "LexiconCheck", "check_lexicon", "find_links", "neutralise", "report_user_links"]


class EntryLike(Protocol):
    """What the check reads of a lexicon entry (:class:`despin.lexicon.Entry`,
    a frozen dataclass, which :mod:`despin.lexicon` loads with this module's
    help: so this module stands below it)."""

    @property
    def spun(self) -> str: ...
    @property
    def toks(self) -> tuple[str, ...]: ...
    @property
    def case_toks(self) -> tuple[str, ...]: ...
    @property
    def gaps(self) -> tuple[str, ...]: ...
    @property
    def suffix(self) -> str: ...
    @property
    def originals(self) -> tuple[str, ...]: ...
    @property
    def tags(self) -> frozenset[str]: ...
    @property
    def klass(self) -> str: ...
    @property
    def source(self) -> str: ...
    @property
    def cased(self) -> bool: ...


E = TypeVar("E", bound=EntryLike)


@dataclass(frozen=True)
class Link:
    """An original of ``entry`` that holds the spun form of ``inner``.

    ``kind`` is ``cycle`` (``inner``'s originals hold ``entry``'s spun form
    again: restoring flips back), ``growth`` (``entry``'s original holds its
    own spun form), or ``chain`` (restoring ``entry`` writes a form that
    ``inner`` would restore further)."""

    entry: EntryLike
    original: str
    inner: EntryLike
    kind: str

    def __str__(self) -> str:
        return (f"{self.entry.source}: {self.kind}: {self.entry.spun!r} -> {self.original!r}, which holds the "
                f"spun form {self.inner.spun!r} ({self.inner.source}, {self.inner.klass})")


@dataclass(frozen=True)
class LexiconCheck:
    """What :func:`check_lexicon` found in ``entries`` (as :func:`neutralise`
    left them): the artifacts it made common (with the entry whose original
    holds them), those it switched off, and (:meth:`links`, worked out when
    asked) every original that holds a spun form."""

    entries: tuple[EntryLike, ...]
    demoted: tuple[tuple[EntryLike, EntryLike], ...]
    switched_off: tuple[EntryLike, ...]

    def links(self, files: set[str] | None = None) -> list[Link]:
        """The links of the entries (of those from the lexicon files named ``files``)."""
        return find_links(self.entries, files)

    def lines(self, files: set[str] | None = None) -> list[str]:
        """One line per finding (in the lexicon files named ``files``): what
        was changed first, then every link left."""
        def mine(e: EntryLike) -> bool:
            return files is None or e.source.rsplit(":", 1)[0] in files

        out = [f"{e.source}: artifact {e.spun!r} made common: people write it, in the original "
               f"{'|'.join(why.originals)!r} of {why.spun!r} ({why.source})" for e, why in self.demoted if mine(e)]
        out += [f"{e.source}: artifact {e.spun!r} switched off: it stands in its own original "
                f"{'|'.join(e.originals)!r}" for e in self.switched_off if mine(e)]
        # (links between entries learned from real pages are the spinner's own
        # cycles and chains, found when learning: no news to whoever loads them)
        return out + [str(link) for link in self.links(files) if "learned" not in link.entry.tags]


class _Index:
    """Spun forms by their lower-cased words, and the lengths of the forms
    that start with each word, to find them inside originals."""

    def __init__(self, entries: Iterable[EntryLike]):
        self.forms: dict[tuple[str, ...], list[EntryLike]] = {}
        self.lengths: dict[str, set[int]] = {}
        for e in entries:
            if e.klass != "keep" and not e.suffix and all(g == " " for g in e.gaps):
                self.forms.setdefault(e.toks, []).append(e)
                self.lengths.setdefault(e.toks[0], set()).add(len(e.toks))

    def inside(self, phrase: str) -> list[tuple[int, EntryLike]]:
        """The spun forms that stand in ``phrase`` (word offset, entry)."""
        plain = phrase.replace(" ", "").isalpha()
        lows = phrase.lower().split() if plain else WORD_RE.findall(phrase.lower())
        if self.lengths.keys().isdisjoint(lows):
            return []
        words = phrase.split() if plain else WORD_RE.findall(phrase)
        found = []
        for k, w in enumerate(lows):
            for n in self.lengths.get(w, ()):
                if k + n > len(lows):
                    continue
                for e in self.forms.get(tuple(lows[k : k + n]), ()):
                    if e.cased and list(words[k : k + n]) != list(e.case_toks) and not all(
                        x.isupper() for x in words[k : k + n]
                    ):
                        continue
                    found.append((k, e))
        return found


def find_links(entries: Sequence[EntryLike], files: set[str] | None = None) -> list[Link]:
    """Every original (of the entries from the lexicon files named ``files``,
    or of all) that holds a spun form of ``entries`` (themselves included)."""
    index = _Index(entries)
    links = []
    for e in entries:
        if e.klass == "keep" or (files is not None and e.source.rsplit(":", 1)[0] not in files):
            continue
        for o in e.originals:
            for _, inner in index.inside(o):
                links.append(Link(e, o, inner, _kind(e, inner, index)))
    return links


def _kind(e: EntryLike, inner: EntryLike, index: _Index) -> str:
    if inner is e or _same_form(inner, e):
        return "growth"
    if any(_same_form(x, e) for o in inner.originals for _, x in index.inside(o)):
        return "cycle"
    return "chain"


def _same_form(a: EntryLike, b: EntryLike) -> bool:
    return a.toks == b.toks and (a.cased == b.cased) and (not a.cased or a.case_toks == b.case_toks)


def _reclass(e: E, klass: str) -> E:
    """A copy of the (frozen dataclass) entry ``e`` with class ``klass``."""
    return cast(E, replace(cast(Any, e), klass=klass))


def neutralise(entries: Sequence[E]) -> tuple[list[E], LexiconCheck]:
    """``entries`` with no chain of artifacts (see the module docstring), and
    what was found."""
    artifacts = _Index(e for e in entries if e.klass == "artifact")
    written: dict[int, EntryLike] = {}  # id of an artifact -> an entry whose original holds it
    for e in entries:
        if e.klass == "keep":
            continue
        for o in e.originals:
            for _, inner in artifacts.inside(o):
                if inner is e or _same_form(inner, e):
                    written[id(inner)] = inner  # grows: stands in its own original
                else:
                    written.setdefault(id(inner), e)
    out: list[E] = []
    demoted: list[tuple[EntryLike, EntryLike]] = []
    off: list[EntryLike] = []
    for e in entries:
        why = written.get(id(e))
        if why is None:
            out.append(e)
        elif why is e:
            off.append(e)
            out.append(_reclass(e, "keep"))
        else:
            demoted.append((e, why))
            out.append(_reclass(e, "common"))
    return out, LexiconCheck(tuple(out), tuple(demoted), tuple(off))


def check_lexicon(entries: Sequence[EntryLike]) -> LexiconCheck:
    """The links of a lexicon's entries after :func:`neutralise` (what it
    reports at build time, and what loading does to artifacts)."""
    return neutralise(entries)[1]


def report_user_links(check: LexiconCheck, files: Sequence[str]) -> None:
    """Warn (:class:`~despin.errors.LexiconWarning`) about what the check found
    in lexicon files other than the bundled ones: artifacts made common or
    switched off, and originals that are spun forms themselves."""
    bundled = data_path("lexicon")
    user = {os.path.basename(f) for f in files
            if bundled is None or os.path.dirname(os.path.abspath(f)) != os.path.abspath(bundled)}
    if not user:
        return
    lines = check.lines(user)
    if lines:
        shown = "\n  ".join(lines[:10]) + (f"\n  ... and {len(lines) - 10} more" if len(lines) > 10 else "")
        warnings.warn(f"lexicon check: {len(lines)} finding(s) in {', '.join(sorted(user))}:\n  {shown}",
                      LexiconWarning, stacklevel=4)
