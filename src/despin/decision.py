"""The fitted decision model: how sure an edit is, from named evidence.

Two small models, fitted on real spun/original pairs by :mod:`despin.fit`
and shipped as ``data/model/decisions.json``:

* **choice** among an entry's originals: a softmax over
  ``-rank_cost * rank + context_weight * context``, where ``rank`` is the
  original's place in the entry (learned entries list them by how often the
  spinner made this form from each) and ``context`` the context model's
  advantage for it over the literal form (nats);
* **edit**: the probability that restoring the chosen original is right,
  a logistic regression over the named evidence :data:`EVIDENCE` that
  :mod:`despin.score` measures for every candidate.

File format ``despin-decisions 1``: a JSON object with ``format``,
``provenance``, ``choice`` (``rank_cost``, ``context_weight``),
``edit`` (``intercept`` and a weight for each evidence name), ``detection``
(``scale``, ``offset`` and ``drift`` of the spin score, :class:`DetectionParams`), ``clip``
(the bound on context advantages, nats) and ``sha256``, the hex digest of
the canonical JSON of everything else. Every problem on load raises
:class:`~despin.errors.ModelError` naming the file.
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ._resources import data_path, load_once
from .errors import ModelError
from .logistic import logit, sigmoid

__all__ = [
    "EVIDENCE",
    "FORMAT",
    "SCALES",
    "SHORT_WORDS",
    "DecisionModel",
    "DetectionParams",
    "bundled_decision_path",
    "detection_params",
    "features",
    "load_decision_model",
    "write_decision_model",
]

FORMAT = "despin-decisions 1"
SHORT_WORDS = 50  # texts shorter than this need more evidence to be called spun (DetectionParams.short)

#: The named evidence an edit's confidence is computed from (see despin.score),
#: as explanations show it; the model reads some of it on another scale
#: (:data:`SCALES`).
EVIDENCE: tuple[str, ...] = (
    "prior",  # the entry's weight: how often the form is spinner output
    "learned",  # 1 if the entry was learned from real pairs
    "inflected",  # 1 if it was generalised to an unseen inflection
    "context",  # context advantage (nats) of the chosen original over the literal form
    "frequency",  # the part of that advantage which is the two wordings' own frequency (nats)
    "choice",  # the probability of the chosen original among the entry's originals
    "originals",  # how many originals the entry lists
    "document",  # the document's spin score
    "local",  # spin evidence (nats) of the other forms within a few sentences
    "quote",  # 1 inside a quotation
    "name",  # 1 inside a capitalised name
    "name_unspun",  # 1 for a cased name form in a text that shows no other spun names
    "cased",  # 1 if the entry matches only with its capitals
    "capital",  # 1 if the word is capitalised
    "initial",  # 1 at the start of a sentence
    "unspun_original",  # how often (up to 3) the original also stands unspun in the text
    "multiword",  # 1 if the form has several words
    "numeral",  # 1 for a digit written for a number word
    "lm",  # the neural language model's advantage (nats) for the chosen original (context="lm" only)
)


def _log(x: float) -> float:
    return math.log(max(x, 1e-12))


def _bounded_logit(x: float) -> float:
    return max(-10.0, min(10.0, logit(x)))


#: The scale the model reads a piece of evidence on, where it is not the
#: evidence itself: log-odds of probabilities, logarithms of counts.
SCALES: dict[str, Callable[[float], float]] = {
    "prior": logit,
    "choice": _log,
    "originals": _log,
    "document": _bounded_logit,
}


def features(evidence: Mapping[str, float]) -> dict[str, float]:
    """The evidence on the scales the model reads it on (:data:`SCALES`)."""
    return {k: SCALES[k](v) if k in SCALES else v for k, v in evidence.items()}


@dataclass(frozen=True)
class DetectionParams:
    """How detection turns evidence into a spin score (:mod:`despin.detection`):
    ``sigmoid(scale * (llr - drift * words / 1000 - short * s - offset))``,
    where ``s = max(0, 1 - words / SHORT_WORDS)``: a text needs ``short``
    nats more evidence the shorter it is under SHORT_WORDS words."""

    scale: float = 0.3
    offset: float = 12.0
    drift: float = 2.5
    short: float = 0.0

    def _against(self, words: int) -> float:
        """The evidence (nats) a text of ``words`` words must overcome."""
        return self.offset + self.drift * words / 1000.0 + self.short * max(0.0, 1.0 - words / SHORT_WORDS)

    def score(self, llr: float, words: int) -> float:
        """The spin score of a text of ``words`` words whose evidence is ``llr`` nats."""
        return sigmoid(self.scale * (llr - self._against(words)))

    def highest(self, llr: float, fewest: int, most: int) -> float:
        """The highest score of a text with evidence ``llr`` and between ``fewest``
        and ``most`` words (what it must overcome is smallest at one end or at
        SHORT_WORDS)."""
        candidates = {fewest, most} | ({SHORT_WORDS} if fewest < SHORT_WORDS < most else set())
        return max(self.score(llr, n) for n in candidates)

    def needed(self, threshold: float, words: int) -> float:
        """The evidence (nats) at which a text of ``words`` words scores ``threshold`` (0 < threshold < 1)."""
        return math.log(threshold / (1.0 - threshold)) / self.scale + self._against(words)


@dataclass(frozen=True)
class DecisionModel:
    """Fitted coefficients (plain data; see the module docstring).

    ``lm``, when present, is the model for ``context="lm"``: candidates whose
    confidence under this model lies within its ``band`` are decided again by
    it, with the neural language model's advantages (``lm_weight`` in the
    choice, evidence ``lm`` in the edit)."""

    intercept: float
    weights: Mapping[str, float]
    rank_cost: float = 0.7
    context_weight: float = 1.0
    clip: float = 4.0
    provenance: str = ""
    fitted: Mapping[str, Any] = field(default_factory=dict)
    detection: DetectionParams = field(default_factory=DetectionParams)
    lm_weight: float = 0.0
    band: tuple[float, float] = (0.0, 1.0)
    lm: DecisionModel | None = None

    def choice(self, advantages: Sequence[float], lm: Sequence[float] | None = None) -> list[float]:
        """The probability of each original (in the entry's order), given the
        context advantage of each over the literal form (and the neural
        language model's, ``lm``, where the model weighs it)."""
        scores = [self.context_weight * self.clip_context(a) - self.rank_cost * r for r, a in enumerate(advantages)]
        if lm is not None and self.lm_weight:
            scores = [x + self.lm_weight * self.clip_context(b) for x, b in zip(scores, lm, strict=True)]
        top = max(scores)
        exp = [math.exp(s - top) for s in scores]
        total = sum(exp)
        return [e / total for e in exp]

    def confidence(self, evidence: Mapping[str, float]) -> float:
        """The probability that the edit is right, given its named evidence."""
        x = features(evidence)
        return sigmoid(self.intercept + sum(w * x.get(name, 0.0) for name, w in self.weights.items()))

    def clip_context(self, x: float) -> float:
        """A context advantage bounded to +-``clip`` nats."""
        return -self.clip if x < -self.clip else self.clip if x > self.clip else x

    def _coefficients(self) -> dict[str, Any]:
        return {
            "choice": {"rank_cost": self.rank_cost, "context_weight": self.context_weight, "lm_weight": self.lm_weight},
            "clip": self.clip,
            "edit": {"intercept": self.intercept, **{k: self.weights[k] for k in EVIDENCE if k in self.weights}},
        }

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"format": FORMAT, "provenance": self.provenance, **self._coefficients()}
        body["detection"] = {"scale": self.detection.scale, "offset": self.detection.offset,
                             "drift": self.detection.drift, "short": self.detection.short}
        if self.lm is not None:
            body["lm"] = {**self.lm._coefficients(), "band": list(self.lm.band)}
        body["fitted"] = dict(self.fitted)
        body = _rounded(body)
        body["sha256"] = _digest(body)
        return body


def _rounded(value: Any) -> Any:
    """``value`` with every float rounded to 6 decimals (a refit on the same data
    gives the same file, whatever order sums were taken in)."""
    if isinstance(value, float):
        return round(value, 6)
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_rounded(v) for v in value]
    return value


def _digest(body: Mapping[str, Any]) -> str:
    canonical = json.dumps({k: v for k, v in body.items() if k != "sha256"}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _number(where: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ModelError(f"{where} must be a finite number, not {value!r}")
    return float(value)


def parse_decision_model(body: Any, path: str) -> DecisionModel:
    """A model from its JSON object; ModelError naming ``path`` on any problem."""
    if not isinstance(body, dict) or body.get("format") != FORMAT:
        got = body.get("format") if isinstance(body, dict) else type(body).__name__
        raise ModelError(f"{path}: not a decision model (format {got!r}, expected {FORMAT!r})")
    if body.get("sha256") != _digest(body):
        raise ModelError(f"{path}: checksum mismatch (the file is corrupt or was edited by hand)")
    try:
        lm = None
        if "lm" in body:
            part = body["lm"]
            lo, hi = (_number(f"{path}: lm.band", x) for x in part["band"])
            if not 0.0 <= lo <= hi <= 1.0:
                raise ModelError(f"{path}: lm.band must be two numbers 0 <= lo <= hi <= 1")
            lm = replace(_coefficients(part, f"{path}: lm."), band=(lo, hi))
        detection = _detection(body["detection"], path)
        return replace(_coefficients(body, f"{path}: "), provenance=str(body.get("provenance", "")),
                       fitted=dict(body.get("fitted", {})), detection=detection, lm=lm)
    except (KeyError, TypeError, AttributeError, ValueError) as exc:
        if isinstance(exc, ModelError):
            raise
        raise ModelError(f"{path}: malformed decision model ({exc!r})") from None


def _detection(det: Any, path: str) -> DetectionParams:
    scale, offset, drift = (_number(f"{path}: detection.{k}", det[k]) for k in ("scale", "offset", "drift"))
    detection = DetectionParams(scale, offset, drift, _number(f"{path}: detection.short", det.get("short", 0.0)))
    if detection.scale <= 0 or detection.short < 0 or detection.drift < 0:
        raise ModelError(f"{path}: detection.scale must be positive, short and drift not negative")
    return detection


def _coefficients(body: Any, where: str) -> DecisionModel:
    """The choice and edit coefficients of a model (or of its lm part); ``where``
    prefixes every message ("FILE: " or "FILE: lm.")."""
    choice, edit = body["choice"], dict(body["edit"])
    unknown = sorted(set(edit) - set(EVIDENCE) - {"intercept"})
    if unknown:
        raise ModelError(f"{where}unknown evidence {', '.join(unknown)}")
    clip = _number(f"{where}clip", body["clip"])
    if clip <= 0:
        raise ModelError(f"{where}clip must be positive")
    return DecisionModel(
        intercept=_number(f"{where}edit.intercept", edit.pop("intercept")),
        weights={k: _number(f"{where}edit.{k}", v) for k, v in edit.items()},
        rank_cost=_number(f"{where}choice.rank_cost", choice["rank_cost"]),
        context_weight=_number(f"{where}choice.context_weight", choice["context_weight"]),
        lm_weight=_number(f"{where}choice.lm_weight", choice.get("lm_weight", 0.0)),
        clip=clip,
    )


def _read(path: str) -> DecisionModel:
    try:
        with open(path, encoding="utf-8") as fh:
            body = json.load(fh)
    except FileNotFoundError:
        raise ModelError(f"{path}: no such decision model file") from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ModelError(f"{path}: cannot read the decision model ({exc})") from None
    return parse_decision_model(body, path)


_load = load_once(_read, maxsize=8)


@functools.cache
def bundled_decision_path() -> str:
    """The bundled decision model's path (found once per process)."""
    path = data_path("model", "decisions.json")
    if path is None:
        raise ModelError("the bundled decision model (data/model/decisions.json) is missing from this installation")
    return str(path)


def load_decision_model(path: str | os.PathLike[str] | None = None) -> DecisionModel:
    """The decision model in ``path`` (the bundled one when None), loaded once per process."""
    return _load(os.fspath(path) if path is not None else bundled_decision_path())


def detection_params(params: DetectionParams | None = None) -> DetectionParams:
    """``params``, or the bundled model's detection parameters when None."""
    return params if params is not None else load_decision_model().detection


def write_decision_model(model: DecisionModel, path: str | os.PathLike[str]) -> None:
    """Write ``model`` as JSON (atomically: a temporary file renamed over ``path``)."""
    target = Path(path)
    tmp = target.with_name(f".{target.name}.tmp{os.getpid()}")
    tmp.write_text(json.dumps(model.to_json(), indent=1, sort_keys=False) + "\n", encoding="utf-8")
    os.replace(tmp, target)
