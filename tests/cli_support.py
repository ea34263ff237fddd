"""What the command-line tests share: a tiny lexicon (so expected outputs do not
depend on the bundled one), sample texts, and file helpers. The ``lexicon``
and ``cli`` fixtures that use them are in conftest.py."""

from __future__ import annotations

from pathlib import Path


LEXICON = (
    "# despin-lexicon 1\n"
    "spun\toriginal\tclass\tweight\ttags\n"
    "satellite tv for pc\tsatellite\tartifact\t0.99\t\n"
    "chilly conflict\tcold war\tartifact\t0.99\t\n"
)
SPUN = "The satellite tv for pc was launched during the chilly conflict.\n"
RESTORED = "The satellite was launched during the cold war.\n"
CLEAN = "Nothing to restore in this sentence.\n"


def write(path: Path, data: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
    return path


def tree(root: Path) -> dict[str, bytes]:
    """Every file under root (relative posix path -> bytes)."""
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def summary_line(err: str) -> str:
    return [ln for ln in err.splitlines() if " read: " in ln][-1]
