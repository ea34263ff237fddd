"""What the tests share: the small test lexicon and a restorer that uses it,
the tiny command-line lexicon (so expected outputs do not depend on the
bundled one), sample texts, and file helpers. The fixtures that use them are
in conftest.py."""

from __future__ import annotations

from pathlib import Path

from hypothesis import strategies as st

import despin

DATA = Path(__file__).parent / "data"
TEST_LEXICON = str(DATA / "test_lexicon.tsv")
# Restorer options for the small fixed test lexicon without the context model.
SMALL_OPTIONS = {"bundled_lexicon": False, "lexicons": (TEST_LEXICON,), "context": False}
SMALL = despin.Restorer(**SMALL_OPTIONS)
SPIN_THRESHOLD = despin.Config().spin_threshold  # the default, for calls below the Restorer

LEXICON_HEAD = "# despin-lexicon 1\nspun\toriginal\tclass\tweight\ttags\n"
LEXICON = (
    LEXICON_HEAD
    + "satellite tv for pc\tsatellite\tartifact\t0.99\t\n"
    + "chilly conflict\tcold war\tartifact\t0.99\t\n"
)
SPUN = "The satellite tv for pc was launched during the chilly conflict.\n"
RESTORED = "The satellite was launched during the cold war.\n"
CLEAN = "Nothing to restore in this sentence.\n"


def write(path: Path, data: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
    return path


def write_lexicon(path: Path, rows: str, head: str = LEXICON_HEAD) -> str:
    """A lexicon file of ``rows`` (TSV lines) under the usual header; its path."""
    write(path, head + rows)
    return str(path)


def tree(root: Path) -> dict[str, bytes]:
    """Every file under root (relative posix path -> bytes)."""
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def summary_line(err: str) -> str:
    return [ln for ln in err.splitlines() if " read: " in ln][-1]


# -- hypothesis strategies -------------------------------------------------------------------

# Text built from spinner forms, ordinary words and awkward characters.
PIECES = [
    "satellite tv for pc", "applied sciences", "Chilly Conflict", "officers", "OFFICERS", "mentioned",
    "in response to", "navy", "an", "a", "settlement", "{that a}", "{x|y}", "p.c.", "yr", "the", "said",
    "College", "Kookmin", "’s", "’", "'", "“", "”", "\"", "\n", "\n\n", "  ", "\t", ".", ",", "2", "the 2 men",
    "é", "İ", "ﬁ", "\u00a0", "\ud800", "🙂", "www.x.com/yr", "a@b.co",
    # the parts of multi-word forms, so that they also meet across dashes, stops and quotations
    "in", "response", "to", "satellite tv", "for pc", "-", "—", "”“", "” he said “",
]
texts = st.one_of(
    st.text(max_size=200),
    st.lists(st.sampled_from(PIECES), max_size=40).map(" ".join),
    st.lists(st.sampled_from(PIECES), max_size=40).map("".join),
)

# Paragraphs of spun forms, originals and separators (for tests of later passes).
WORDS = ["officers", "mentioned", "in response to", "navy", "said", "the", "according to", "“", "”",
         "satellite tv for pc", "{that a}", "officials", "-", ".", "in", "response", "to", "\n"]
paragraph = st.lists(st.sampled_from(WORDS), min_size=1, max_size=25).map(" ".join)


def decisions_with_detection(path: Path, scale: float = 0.3, offset: float = 12.0, drift: float = 2.5) -> str:
    """The bundled decision model with other detection parameters, written to
    ``path`` (for tests that need a text just short of being called spun)."""
    from dataclasses import replace

    from despin.decision import DetectionParams, load_decision_model, write_decision_model

    write_decision_model(replace(load_decision_model(), detection=DetectionParams(scale, offset, drift)), path)
    return str(path)
