"""Dictionary-free spin evidence: "a much more frequent synonym fits here far
better than the word used".

A spinner that despin has no lexicon for still leaves a mark: it swaps
ordinary words for thesaurus synonyms, which are mostly rarer than the word
they replace and fit its context worse. This module measures that mark with
a compact thesaurus derived from Open English WordNet
(``data/thesaurus/oewn_candidates.tsv.gz``, built by
``tools/build_thesaurus.py``; CC BY 4.0, credit in the file and in
``data/thesaurus/PROVENANCE.md``) and any context scorer with the
``advantage_at`` API (:class:`Scorer`).

Per content word ``w`` that the thesaurus lists (a *site*), with candidates
``c`` (frequent words related to ``w``):

* the **static** gain ``g``: how many nats more frequent the best candidate is
  than ``w`` (wordfreq Zipf values, stored in the file);
* the **context** advantage ``a``: how much better the best candidate fits
  the window than ``w`` (the scorer's nats; today's counts model, the trigram
  LM of the ``ctx`` branch or the neural ``lm`` scorer);

and a fitted logistic model (:class:`WordModel`) turns them into the odds
that ``w`` is a spinner's substitution. A document's evidence is the
log-likelihood ratio of a mixture: in a spun text a share ``mix`` of the
sites are substitutions, so each site adds ``log(1 - mix + mix * rho)``
nats, ``rho`` the site's likelihood ratio; a word type adds at most
``type_cap`` (one repeated word never decides), and a fitted drift per
1,000 words is subtracted by the caller's score, as
:mod:`despin.detection` does for the lexicon evidence.

The static part alone bounds every site's evidence from above (the context
advantage is clipped, and the model's weight on it is known), so
:func:`static_bound` is a cheap, exact upper bound on :func:`thesaurus_evidence`
for a quick reject: set operations on the text's words and one sum.

:func:`thesaurus_candidates` proposes restorations (rule ``thesaurus``) only
where a candidate beats the word by a wide, calibrated margin, and
:func:`propose_mappings` ranks (spun form -> original) pairs seen across
unpaired spun pages, for a person to review.
"""

from __future__ import annotations

import gzip
import json
import math
import os
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple, Protocol

from ._resources import data_path, load_once
from .errors import ModelError
from .tokenize import Tokens, joinable, space_out, split_words, tokenize

__all__ = [
    "FORMAT",
    "RULE",
    "Candidate",
    "Proposal",
    "Scorer",
    "Site",
    "Thesaurus",
    "ThesaurusParams",
    "ThesaurusReport",
    "WordModel",
    "bundled_thesaurus_path",
    "detection_evidence",
    "find_sites",
    "measure",
    "parse_thesaurus",
    "load_thesaurus",
    "propose_mappings",
    "restoration",
    "static_bound",
    "thesaurus_candidates",
    "thesaurus_evidence",
    "thesaurus_params",
]

FORMAT = "despin-thesaurus 1"
RULE = "thesaurus"
LN10 = math.log(10.0)
REASON = (
    "Open English WordNet (CC BY 4.0) lists {after!r} for {before!r}; it is {ratio:.0f}x as frequent "
    "and fits here {adv:.1f} nats better"
)


class Scorer(Protocol):
    """What this module needs of a context model: the ``advantage_at`` API
    shared by :class:`despin.context.ContextModel`, the trigram LM and the
    neural scorer (nats that ``original`` fits tokens i..j better than ``literal``)."""

    def advantage_at(
        self, tokens: Tokens, i: int, j: int, literal: str, original: str, neighbours: dict[int, str] | None = None
    ) -> float: ...


# -- the thesaurus file ------------------------------------------------------------------------


class Thesaurus:
    """Forms (lower-case, one to three words) -> their Zipf value and their
    frequent candidates ``(word, zipf, relation)``, most likely first. Rows
    are parsed when first asked for (loading reads only the keys)."""

    def __init__(self, raw: dict[str, str], source: str = ""):
        self._raw = raw
        self._rows: dict[str, tuple[float, tuple[tuple[str, float, str], ...]]] = {}
        self.source = source
        self.singles = frozenset(k for k in raw if " " not in k)
        firsts: dict[str, list[tuple[str, ...]]] = {}
        for k in raw:
            if " " in k:
                words = tuple(k.split(" "))
                firsts.setdefault(words[0], []).append(words)
        # longest first, so the longest form at a position wins
        self.multis = {w: sorted(v, key=len, reverse=True) for w, v in firsts.items()}

    def __contains__(self, form: str) -> bool:
        return form in self._raw

    def __len__(self) -> int:
        return len(self._raw)

    def forms(self) -> Iterable[str]:
        return self._raw.keys()

    def starting(self, word: str) -> int:
        """How many forms start with ``word`` (sites there: of as many types)."""
        return (word in self.singles) + len(self.multis.get(word, ()))

    def row(self, form: str) -> tuple[float, tuple[tuple[str, float, str], ...]]:
        """The form's Zipf value and candidates (KeyError if it has none)."""
        got = self._rows.get(form)
        if got is None:
            got = self._rows[form] = _parse_row(self._raw[form], self.source)
        return got

    def zipf(self, form: str) -> float:
        return self.row(form)[0]

    def candidates(self, form: str) -> tuple[tuple[str, float, str], ...]:
        return self.row(form)[1] if form in self._raw else ()


def _parse_row(rest: str, source: str) -> tuple[float, tuple[tuple[str, float, str], ...]]:
    try:
        z, cands = rest.split("\t")
        parsed = []
        for c in cands.split("|"):
            word, cz, rel = c.split(":")
            parsed.append((word, int(cz) / 100.0, rel))
        return int(z) / 100.0, tuple(parsed)
    except ValueError:
        raise ModelError(f"{source}: malformed thesaurus row {rest[:60]!r}") from None


def parse_thesaurus(lines: Iterable[str], source: str) -> Thesaurus:
    """A thesaurus from the lines of its file; ModelError naming ``source`` on a problem
    (a row's candidates are checked when first read)."""
    raw: dict[str, str] = {}
    first = True
    for n, line in enumerate(lines, 1):
        if first:
            if not line.startswith("# " + FORMAT):
                raise ModelError(f"{source}: not a thesaurus file (expected the line '# {FORMAT}')")
            first = False
            continue
        if not line.strip() or line.startswith("#"):
            continue
        form, sep, rest = line.rstrip("\n").partition("\t")
        if not sep or "\t" not in rest:
            raise ModelError(f"{source}:{n}: malformed thesaurus line")
        raw[form] = rest
    if first:
        raise ModelError(f"{source}: empty thesaurus file")
    return Thesaurus(raw, source)


def _read(path: str) -> Thesaurus:
    try:
        with gzip.open(path, "rt", encoding="utf-8") as fh:
            return parse_thesaurus(fh, path)
    except (OSError, EOFError, UnicodeDecodeError) as exc:
        raise ModelError(f"{path}: cannot read the thesaurus ({exc})") from None


_load = load_once(_read, maxsize=2)


def bundled_thesaurus_path() -> str | None:
    path = data_path("thesaurus", "oewn_candidates.tsv.gz")
    return None if path is None else str(path)


def load_thesaurus(path: str | os.PathLike[str] | None = None) -> Thesaurus:
    """The thesaurus at ``path`` (the bundled one by default), loaded once per process."""
    if path is None:
        path = bundled_thesaurus_path()
        if path is None:
            raise ModelError("the bundled thesaurus (data/thesaurus/oewn_candidates.tsv.gz) is missing")
    return _load(os.fspath(path))


# -- the fitted parameters -----------------------------------------------------------------------


@dataclass(frozen=True)
class WordModel:
    """The odds that a site is a spinner's substitution, from its features
    (:data:`FEATURES`), as a log-likelihood ratio against an ordinary word:
    ``llr = bias + sum(w * x)``; ``a`` (the context advantage) is clipped to
    ``+-clip`` nats before use."""

    bias: float = -2.0
    weights: tuple[float, ...] = (0.35, 0.35, 0.0, 0.0, 0.0)
    clip: float = 8.0

    def llr(self, x: Sequence[float]) -> float:
        return self.bias + sum(w * v for w, v in zip(self.weights, x, strict=True))

    def llr_at_most(self, x_static: Sequence[float]) -> float:
        """The largest :meth:`llr` any context advantage gives a site whose other features are ``x_static``."""
        a_weight = self.weights[FEATURES.index("a")]
        x = list(x_static)
        x[FEATURES.index("a")] = self.clip if a_weight > 0 else -self.clip
        return self.llr(x)


#: A site's features: static gain of the best candidate (nats), context
#: advantage of the best-fitting candidate (nats), that candidate's static
#: gain, whether it is a hypernym/hyponym (else a synonym or similar), and
#: the form's own Zipf value minus 4.
FEATURES: tuple[str, ...] = ("g", "a", "g_c", "h", "z")


@dataclass(frozen=True)
class ThesaurusParams:
    """Everything fitted (tools/fit_thesaurus.py; shipped as data/thesaurus/params.json)."""

    word: WordModel = field(default_factory=WordModel)
    mix: float = 0.1  # share of sites a spun text is assumed to have replaced
    type_cap: float = 3.0  # nats one word type can add in a text
    floor: float = 0.0  # nats below which a site adds nothing (noise)
    # the document score sigmoid(scale * (nats - drift * words / 1000 - offset))
    scale: float = 0.5
    offset: float = 10.0
    drift: float = 5.0
    # restoration: the site's llr and the candidate's margin over the next one (nats)
    restore_llr: float = 4.0
    restore_margin: float = 2.0
    # detection (Config.unseen): nats of lexicon evidence one nat of this
    # evidence is worth beyond ``clean_margin``, the highest margin
    # (nats - drift * words / 1000) of the clean texts fitted on
    detection_weight: float = 1.0
    clean_margin: float = 10.0
    scorer: str = ""
    provenance: str = ""

    def site_nats(self, llr: float) -> float:
        """The evidence one site with this likelihood ratio adds to the mixture."""
        x = math.log1p(self.mix * math.expm1(min(llr, 30.0)))
        return x if x > self.floor else 0.0

    def detection_nats(self, nats: float, words: int) -> float:
        """The nats detection adds to the lexicon evidence for a text of
        ``words`` words with ``nats`` of this evidence: ``detection_weight``
        times its margin (``nats - drift * words / 1000``) beyond
        ``clean_margin``, else nothing (it never counts against spin)."""
        excess = nats - self.drift * words / 1000.0 - self.clean_margin
        return self.detection_weight * excess if excess > 0.0 else 0.0

    def score(self, nats: float, words: int) -> float:
        z = self.scale * (nats - self.drift * words / 1000.0 - self.offset)
        return 1.0 / (1.0 + math.exp(-z)) if z > -500 else 0.0

    def to_json(self) -> dict[str, object]:
        return {
            "format": "despin-thesaurus-params 1",
            "word": {"bias": self.word.bias, "weights": dict(zip(FEATURES, self.word.weights, strict=True)),
                     "clip": self.word.clip},
            **{k: getattr(self, k) for k in ("mix", "type_cap", "floor", "scale", "offset", "drift",
                                              "restore_llr", "restore_margin", "detection_weight", "clean_margin",
                                              "scorer", "provenance")},
        }

    @staticmethod
    def from_json(body: dict[str, object], where: str = "") -> ThesaurusParams:
        try:
            w = body["word"]
            assert isinstance(w, dict)
            word = WordModel(float(w["bias"]), tuple(float(w["weights"][k]) for k in FEATURES), float(w["clip"]))
            names = ("mix", "type_cap", "floor", "scale", "offset", "drift", "restore_llr", "restore_margin")
            kw = {k: float(body[k]) for k in names}  # type: ignore[arg-type]
            kw["detection_weight"] = float(body.get("detection_weight", 1.0))  # type: ignore[arg-type]
            kw["clean_margin"] = float(body.get("clean_margin", 10.0))  # type: ignore[arg-type]
            return ThesaurusParams(word=word, scorer=str(body.get("scorer", "")),
                                   provenance=str(body.get("provenance", "")), **kw)
        except (KeyError, TypeError, ValueError, AssertionError) as exc:
            raise ModelError(f"{where}: malformed thesaurus parameters ({exc!r})") from None


def _read_params(path: str) -> ThesaurusParams:
    try:
        with open(path, encoding="utf-8") as fh:
            body = json.load(fh)
    except (OSError, ValueError) as exc:
        raise ModelError(f"{path}: cannot read the thesaurus parameters ({exc})") from None
    if not isinstance(body, dict):
        raise ModelError(f"{path}: malformed thesaurus parameters")
    return ThesaurusParams.from_json(body, path)


_load_params = load_once(_read_params, maxsize=4)


def thesaurus_params(path: str | os.PathLike[str] | None = None) -> ThesaurusParams:
    """The fitted parameters at ``path`` (the bundled ones by default; the
    defaults above if none are bundled)."""
    if path is None:
        found = data_path("thesaurus", "params.json")
        if found is None:
            return ThesaurusParams()
        path = found
    return _load_params(os.fspath(path))


# -- sites ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Site:
    """A content word (or phrase) the thesaurus lists, in tokens i..j, with its
    features and the candidates' context advantages over it."""

    i: int
    j: int
    form: str
    zipf: float
    candidates: tuple[tuple[str, float, str], ...]
    advantages: tuple[float, ...] = ()

    def static_features(self) -> list[float]:
        g = max(c[1] for c in self.candidates) - self.zipf
        return [g * LN10, 0.0, g * LN10, 0.0, self.zipf - 4.0]

    def best(self) -> int:
        """The index of the best-fitting candidate (the first if no advantages were measured)."""
        if not self.advantages:
            return 0
        return max(range(len(self.advantages)), key=lambda k: (self.advantages[k], -k))

    def features(self, clip: float) -> list[float]:
        g = max(c[1] for c in self.candidates) - self.zipf
        k = self.best()
        word, z, rel = self.candidates[k]
        a = self.advantages[k] if self.advantages else 0.0
        a = max(-clip, min(clip, a))
        return [g * LN10, a, (z - self.zipf) * LN10, 1.0 if rel == "h" else 0.0, self.zipf - 4.0]


class Restoration(NamedTuple):
    """A site that :func:`restoration` restores."""

    k: int  # the candidate
    llr: float  # the site's likelihood ratio (nats)
    margin: float  # the candidate's advantage over the word and over the runner-up, whichever is less (nats)
    features: list[float]


def restoration(site: Site, p: ThesaurusParams) -> Restoration | None:
    """The rule of :func:`thesaurus_candidates` for one measured site: its
    llr at least ``restore_llr`` and its best candidate's margin at least
    ``restore_margin``; None where it makes no edit (or no advantage was measured)."""
    if not site.advantages:
        return None
    x = site.features(p.word.clip)
    llr = p.word.llr(x)
    k = site.best()
    adv = site.advantages[k]
    runner_up = max((a for m, a in enumerate(site.advantages) if m != k), default=-math.inf)
    margin = min(adv, adv - runner_up)
    if llr < p.restore_llr or margin < p.restore_margin:
        return None
    return Restoration(k, llr, margin, x)


def _eligible(tokens: Tokens, i: int) -> bool:
    """Lower-case words, and capitalised words that open a sentence (not names)."""
    w = tokens.words[i]
    if w.islower():
        return True
    if not w[:1].isupper() or not w[1:].islower():
        return False
    if i == 0:
        return True
    gap = tokens.gaps[i - 1].rstrip(" \"'“‘(")
    return gap == "" and "\n" in tokens.gaps[i - 1] or gap.endswith((".", "!", "?", "\n", ":"))


def find_sites(tokens: Tokens, thesaurus: Thesaurus) -> list[Site]:
    """The thesaurus's forms in ``tokens``, longest first at each position, not overlapping."""
    lows = tokens.lows
    sites: list[Site] = []
    i, n = 0, len(lows)
    singles, multis = thesaurus.singles, thesaurus.multis
    while i < n:
        w = lows[i]
        hit = 0
        for words in multis.get(w, ()):
            k = len(words)
            if tuple(lows[i : i + k]) == words and all(joinable(tokens, i + m) for m in range(k - 1)):
                hit = k
                break
        if not hit and w in singles:
            hit = 1
        if hit and _eligible(tokens, i) and all(tokens.words[i + m].islower() for m in range(1, hit)):
            form = " ".join(lows[i : i + hit])
            z, cands = thesaurus.row(form)
            sites.append(Site(i, i + hit, form, z, cands))
            i += hit
        else:
            i += 1
    return sites


def measure(sites: list[Site], tokens: Tokens, scorer: Scorer | None) -> list[Site]:
    """The sites with each candidate's context advantage (none without a scorer)."""
    if scorer is None:
        return sites
    out = []
    for s in sites:
        window = getattr(scorer, "window_logprobs", None)
        if window is not None:
            lps = window(tokens, s.i, s.j, [s.form, *(c[0] for c in s.candidates)])
            adv = tuple(x - lps[0] for x in lps[1:])
        else:
            adv = tuple(scorer.advantage_at(tokens, s.i, s.j, s.form, c[0]) for c in s.candidates)
        out.append(Site(s.i, s.j, s.form, s.zipf, s.candidates, adv))
    return out


# -- document evidence ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ThesaurusReport:
    """The thesaurus evidence of a text.

    nats
        The mixture log-likelihood ratio (spun vs clean), capped per word type.
    words
        Word tokens in the text.
    score
        The standalone score ``sigmoid(scale * (nats - drift * words/1000 - offset))``.
    paragraphs
        Nats per paragraph (the same sum over each paragraph's sites, capped per type within it).
    sites
        The sites with their context advantages and llr, strongest first (at most 20 kept).
    """

    nats: float
    words: int
    score: float
    paragraphs: tuple[float, ...]
    sites: tuple[tuple[Site, float], ...]


def _capped_sum(per_site: list[tuple[str, float]], cap: float) -> float:
    by_type: dict[str, float] = {}
    for form, x in per_site:
        by_type.setdefault(form, 0.0)
        by_type[form] += x
    return sum(min(v, cap) for v in by_type.values())


def thesaurus_evidence(
    text: str | Tokens,
    scorer: Scorer | None = None,
    thesaurus: Thesaurus | None = None,
    params: ThesaurusParams | None = None,
) -> ThesaurusReport:
    """The thesaurus evidence of ``text`` (or its tokens): what
    :func:`despin.detection.spin_report` adds to its lexicon evidence.

    Cost: one pass over the tokens for the sites, and one scorer window per
    site (a few percent of the words) — call it only on texts the quick
    reject (:func:`static_bound`) cannot settle.
    """
    tokens = tokenize(text) if isinstance(text, str) else text
    th = thesaurus if thesaurus is not None else load_thesaurus()
    p = params if params is not None else thesaurus_params()
    sites = measure(find_sites(tokens, th), tokens, scorer)
    scored = [(s, p.word.llr(s.features(p.word.clip))) for s in sites]
    per_site = [(s.form, p.site_nats(x)) for s, x in scored]
    nats = _capped_sum(per_site, p.type_cap)
    # paragraphs: split at blank lines
    paras: list[float] = []
    current: list[tuple[str, float]] = []
    k = 0
    for t in range(len(tokens.lows)):
        while k < len(sites) and sites[k].i == t:
            current.append(per_site[k])
            k += 1
        if "\n\n" in tokens.gaps[t] or "\n\r\n" in tokens.gaps[t] or t == len(tokens.lows) - 1:
            paras.append(_capped_sum(current, p.type_cap))
            current = []
    strongest = tuple(sorted(scored, key=lambda sx: -sx[1])[:20])
    words = len(tokens.lows)
    return ThesaurusReport(nats, words, p.score(nats, words), tuple(paras), strongest)


def static_bound(
    text: str | list[str], thesaurus: Thesaurus | None = None, params: ThesaurusParams | None = None
) -> float:
    """At least the ``nats`` of :func:`thesaurus_evidence` for ``text``
    (or its lower-cased words, as :func:`despin.bounds.quick_counts` splits
    them), whatever the scorer says: every word that can start a site counts
    at the largest evidence a site starting there can add (the context
    advantage at its clip, in whichever direction raises it), for every
    occurrence in any case (a superset of the sites); only if that sum
    exceeds one type's cap are the words counted and capped per type.

    C-level work (a filter and a sum over the words); the table is built
    once per thesaurus and parameters (about a second)."""
    th = thesaurus if thesaurus is not None else load_thesaurus()
    p = params if params is not None else thesaurus_params()
    toks = split_words(space_out(text.lower())) if isinstance(text, str) else text
    upper = _upper(th, p)
    # Every site starts at a word whose table value bounds its evidence, so
    # the uncapped sum over the words bounds the capped sum over the sites.
    total: float = sum(map(upper.__getitem__, filter(upper.__contains__, toks)))
    if total <= p.type_cap:
        return total
    counts = Counter(filter(upper.__contains__, toks))
    return sum(min(n * upper[w], p.type_cap * th.starting(w)) for w, n in counts.items())


def detection_evidence(
    text: str | Tokens, scorer: Scorer | None, thesaurus: Thesaurus | None = None,
    params: ThesaurusParams | None = None,
) -> float:
    """What ``Config.unseen`` adds to the lexicon evidence of ``text`` in
    :func:`despin.detection.spin_report` (nats, at least 0):
    :meth:`ThesaurusParams.detection_nats` of :func:`thesaurus_evidence`."""
    p = params if params is not None else thesaurus_params()
    report = thesaurus_evidence(text, scorer, thesaurus, p)
    return p.detection_nats(report.nats, report.words)


def _upper_table(th: Thesaurus, p: ThesaurusParams) -> dict[str, float]:
    """Per word: the most evidence a site starting at it can add (only words where that is positive)."""
    table: dict[str, float] = {}
    for form in th.forms():
        z, cands = th.row(form)
        x = p.site_nats(p.word.llr_at_most(Site(0, 1, form, z, cands).static_features()))
        if x > 0.0:
            first = form.split(" ", 1)[0]
            if x > table.get(first, 0.0):
                table[first] = x
    return table


def _upper(th: Thesaurus, p: ThesaurusParams) -> dict[str, float]:
    key = (id(th), p)
    got = _UPPER.get(key)
    if got is None or got[0] is not th:
        if len(_UPPER) > 4:
            _UPPER.clear()
        got = _UPPER[key] = (th, _upper_table(th, p))
    return got[1]


_UPPER: dict[tuple[int, ThesaurusParams], tuple[Thesaurus, dict[str, float]]] = {}


# -- restoration candidates ----------------------------------------------------------------------


@dataclass(frozen=True)
class Candidate:
    """A restoration the thesaurus evidence supports: replace tokens i..j
    (``start``..``end`` in the text) by ``after``. ``evidence`` holds the
    named evidence (nats) for the caller's decision model."""

    start: int
    end: int
    i: int
    j: int
    before: str
    after: str
    confidence: float
    reason: str
    rule: str
    evidence: dict[str, float]


def _match_case(word: str, like: str) -> str:
    if like.isupper() and len(like) > 1:
        return word.upper()
    if like[:1].isupper():
        return word[:1].upper() + word[1:]
    return word


def thesaurus_candidates(
    text: str | Tokens,
    scorer: Scorer | None,
    thesaurus: Thesaurus | None = None,
    params: ThesaurusParams | None = None,
    skip: Iterable[tuple[int, int]] = (),
) -> list[Candidate]:
    """Restorations where a thesaurus candidate beats the word by a wide,
    calibrated margin: the site's llr at least ``restore_llr``, and the
    candidate's context advantage over the word and over the runner-up
    candidate at least ``restore_margin`` nats. Call it only in a text
    already called spun. ``skip``: token spans (i, j) another rule (the
    lexicon) already covers; no candidate overlaps them. Without a scorer
    there is no context evidence, and no candidate."""
    if scorer is None:
        return []
    tokens = tokenize(text) if isinstance(text, str) else text
    th = thesaurus if thesaurus is not None else load_thesaurus()
    p = params if params is not None else thesaurus_params()
    taken: set[int] = set()
    for a, b in skip:
        taken.update(range(a, b))
    out = []
    for s in measure(find_sites(tokens, th), tokens, scorer):
        if taken.intersection(range(s.i, s.j)):
            continue
        r = restoration(s, p)
        if r is None:
            continue
        k, llr, margin, x = r
        adv = s.advantages[k]
        word, z, rel = s.candidates[k]
        before = tokens.text[tokens.starts[s.i] : tokens.ends[s.j - 1]]
        after = _match_case(word, before)
        odds = llr + math.log(p.mix / (1 - p.mix))
        conf = 1.0 / (1.0 + math.exp(-odds))
        reason = REASON.format(before=s.form, after=word, ratio=10 ** (z - s.zipf), adv=adv)
        evidence = {"thesaurus_llr": llr, "context": adv, "margin": margin, "static": x[0],
                    "hypernym": x[3]}
        out.append(Candidate(tokens.starts[s.i], tokens.ends[s.j - 1], s.i, s.j, before, after, conf, reason,
                             RULE, evidence))
    return out


# -- learning from unpaired spun pages -----------------------------------------------------------


@dataclass(frozen=True)
class Proposal:
    """A candidate mapping (spun form -> original) for a person to review."""

    spun: str
    original: str
    pages: int  # spun pages where the form stands and the candidate fits better
    occurrences: int
    mean_advantage: float  # nats
    spun_rate: float  # occurrences per 1,000 words in the spun pages
    clean_rate: float  # occurrences per 1,000 words in the clean text
    score: float  # the ranking: log rate ratio (smoothed) plus mean advantage


def propose_mappings(
    spun_pages: Iterable[str],
    clean_texts: Iterable[str],
    scorer: Scorer | None,
    thesaurus: Thesaurus | None = None,
    params: ThesaurusParams | None = None,
    min_pages: int = 2,
) -> list[Proposal]:
    """Candidate mappings from unpaired spun pages and clean text alone.

    A form a spinner writes is over-represented in its pages relative to clean
    text, and where it stands a thesaurus candidate fits better. Each form seen
    on at least ``min_pages`` pages is ranked by the smoothed log ratio of its
    rate in the spun pages to its rate in clean text, plus the mean context
    advantage of its most often best-fitting candidate. This is a report for
    review, not a lexicon: a form that is frequent in the pages' topic ranks
    high too."""
    th = thesaurus if thesaurus is not None else load_thesaurus()
    p = params if params is not None else thesaurus_params()
    seen: dict[tuple[str, str], list[float]] = {}
    pages_of: dict[tuple[str, str], set[int]] = {}
    spun_words = 0
    for n, page in enumerate(spun_pages):
        tokens = tokenize(page)
        spun_words += len(tokens.lows)
        for s in measure(find_sites(tokens, th), tokens, scorer):
            k = s.best()
            a = s.advantages[k] if s.advantages else 0.0
            if a <= 0.0 and s.advantages:
                continue
            key = (s.form, s.candidates[k][0])
            seen.setdefault(key, []).append(min(a, p.word.clip))
            pages_of.setdefault(key, set()).add(n)
    forms = {f for f, _ in seen}
    clean_counts: Counter[str] = Counter()
    clean_words = 0
    for text in clean_texts:
        toks = split_words(space_out(text.lower()))
        clean_words += len(toks)
        clean_counts.update(t for t in toks if t in forms)
        for f in forms:
            if " " in f and f in " ".join(toks):
                clean_counts[f] += 1
    out = []
    for (form, orig), advs in seen.items():
        if len(pages_of[(form, orig)]) < min_pages:
            continue
        spun_rate = 1000.0 * len(advs) / max(spun_words, 1)
        clean_rate = 1000.0 * clean_counts[form] / max(clean_words, 1)
        ratio = math.log((len(advs) + 0.5) / max(spun_words, 1)) - math.log(
            (clean_counts[form] + 0.5) / max(clean_words, 1)
        )
        mean_adv = sum(advs) / len(advs)
        out.append(Proposal(form, orig, len(pages_of[(form, orig)]), len(advs), mean_adv, spun_rate, clean_rate,
                            ratio + mean_adv))
    out.sort(key=lambda pr: (-pr.score, pr.spun, pr.original))
    return out
