"""The package's layout holds: modules import only from modules below them,
never a private name of another module, and every public exception lives
in despin.errors."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import despin
import despin.errors

SRC = Path(despin.__file__).parent

# Every module, lowest first: each may import only from modules before it.
# Stages 1 to 5 are tokenize, candidates, score, decide, render; detection
# stands below candidates (it must not borrow from the stage above it).
ORDER = [
    "errors", "logistic", "_resources", "decision", "config", "tokenize", "lm_text", "lexcheck", "lexicon", "edits",
    "context", "thesaurus", "detection", "bounds", "candidates", "score", "decide", "render",
    "lm.model", "lm.forward", "lm.windows", "lm.scorer", "lm", "protect", "pipeline", "passes",
    "restorer", "api", "report", "corpus", "learn", "fit", "evaluate", "sphinx_lm", "lm_build", "model_build",
    "batch.files", "batch.diff", "batch.plan", "batch.work", "batch.pool", "batch.report", "batch.outputs",
    "batch.run", "batch", "integrations", "integrations.datatrove", "cli", "__main__", "",
]
# The one upward import: the command prints the package's version.
ALLOWED = {("cli", "", "__version__")}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path) -> list[tuple[str, str]]:
    """(module imported from, name) of each relative import of the file."""
    here = _module_name(path).split(".") if path.name != "__init__.py" else [*_module_name(path).split("."), "x"]
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = here[: len(here) - node.level] if _module_name(path) else []
            target = ".".join([p for p in base if p] + ([node.module] if node.module else []))
            out.extend((target, alias.name) for alias in node.names)
    return out


def test_every_module_is_placed():
    modules = {_module_name(p) for p in SRC.rglob("*.py")}
    assert modules == set(ORDER), (modules - set(ORDER), set(ORDER) - modules)


def test_modules_import_only_from_below():
    upward = []
    for path in SRC.rglob("*.py"):
        here = _module_name(path)
        for target, name in _imports(path):
            if ORDER.index(target) >= ORDER.index(here) and (here, target, name) not in ALLOWED:
                upward.append(f"{here} imports {name} from {target or 'despin'}")
    assert upward == []


def test_no_private_name_is_imported_from_another_module():
    private = [
        f"{_module_name(path)} imports {name} from {target}"
        for path in SRC.rglob("*.py")
        for target, name in _imports(path)
        if name.startswith("_") and not name.startswith("__")
    ]
    assert private == []


def test_every_public_exception_is_in_errors():
    for name in despin.__all__:
        obj = getattr(despin, name)
        if inspect.isclass(obj) and issubclass(obj, Exception):
            assert obj.__module__ == "despin.errors", name
    assert set(despin.errors.__all__) <= set(despin.__all__)
