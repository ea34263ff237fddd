"""despin steps for `datatrove <https://github.com/huggingface/datatrove>`_ pipelines.

Install with ``pip install "despin[datatrove]"``.

* :class:`DespinFormatter` restores the text of every document.
* :class:`DespinAnnotator` leaves the text alone and writes the spin score,
  the verdict and the number of edits despin would make into the document's
  metadata (``despin_score``, ``despin_spun``, ``despin_edits``), so spun
  pages can be filtered out instead of rewritten.

Both take the options of :class:`despin.Restorer` (a :class:`despin.Config`
and/or keyword overrides); unknown options raise
:class:`~despin.errors.ConfigError` when the step is built. A step holds a
:class:`~despin.Restorer`, which pickles as its configuration only, so the
lexicon and context model are loaded lazily in each worker process, once,
when the first document arrives.

Stats recorded with ``stat_update`` (shown in datatrove's stats report):

* formatter: ``changed`` / ``unchanged`` documents, ``edits`` (per document);
* annotator: ``spun`` / ``clean`` documents, ``would_change`` documents,
  ``edits`` (per document, the edits the formatter would make).
"""

from __future__ import annotations

from typing import Any

try:
    from datatrove.data import Document, DocumentsPipeline
    from datatrove.pipeline.base import PipelineStep
    from datatrove.pipeline.formatters.base import BaseFormatter
    from datatrove.utils.typeshelper import StatHints
except ModuleNotFoundError as exc:
    if exc.name is None or exc.name.partition(".")[0] != "datatrove":
        raise  # datatrove is installed but one of its own dependencies is missing
    raise ImportError(
        'despin.integrations.datatrove needs datatrove; install it with: pip install "despin[datatrove]"'
    ) from exc

from ..config import Config
from ..restorer import Restored, Restorer

__all__ = ["DespinFormatter", "DespinAnnotator", "SCORE_KEY", "SPUN_KEY", "EDITS_KEY"]

#: Metadata keys written by :class:`DespinAnnotator`.
SCORE_KEY = "despin_score"
SPUN_KEY = "despin_spun"
EDITS_KEY = "despin_edits"


class DespinFormatter(BaseFormatter):
    """Restore the text of each document (like :func:`despin.restore`).

    ``DespinFormatter(threshold=0.7, protect={"quotes"})`` takes the same
    options as :class:`despin.Restorer`.
    """

    name = "🔁 despin restore"

    def __init__(self, config: Config | None = None, **options: Any):
        super().__init__()
        self.restorer = Restorer(config, **options)

    def format(self, text: str) -> str:
        restored = self.restorer.restore_and_explain(text)
        self.stat_update("changed" if restored.changed else "unchanged")
        self.stat_update("edits", value=len(restored.edits))
        return restored.text


class DespinAnnotator(PipelineStep):
    """Write despin's verdict on each document into its metadata; the text is not changed.

    Sets ``metadata["despin_score"]`` (float in [0, 1], higher is more spun),
    ``metadata["despin_spun"]`` (bool, ``score >= spin_threshold``) and
    ``metadata["despin_edits"]`` (int, the edits :class:`DespinFormatter`
    with the same options would make). Filter on them downstream, e.g. with
    ``LambdaFilter(lambda doc: not doc.metadata["despin_spun"])``.
    """

    name = "🏷 despin annotate"
    type = "🏷 - ANNOTATE"

    def __init__(self, config: Config | None = None, **options: Any):
        super().__init__()
        self.restorer = Restorer(config, **options)

    def annotate(self, doc: Document) -> Restored:
        """Add despin's metadata to ``doc`` and return the restoration behind it."""
        restored = self.restorer.restore_and_explain(doc.text)
        doc.metadata[SCORE_KEY] = restored.report.score
        doc.metadata[SPUN_KEY] = restored.report.spun
        doc.metadata[EDITS_KEY] = len(restored.edits)
        return restored

    def run(self, data: DocumentsPipeline, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        for doc in data:
            self.stat_update(StatHints.total)
            with self.track_time():
                restored = self.annotate(doc)
            self.stat_update("spun" if restored.report.spun else "clean")
            if restored.changed:
                self.stat_update("would_change")
            self.stat_update("edits", value=len(restored.edits))
            yield doc
