"""The docs say what the code does: README examples run, and the README's
option tables are the ones the code defines (the Config options of
config.py, and every flag of every ``despin`` subcommand with its help).

``python tests/test_docs.py`` rewrites those tables in README.md from the
code; the tests fail, showing the table expected, when they differ."""

from __future__ import annotations

import argparse
import contextlib
import doctest
import io
import re
import sys
from pathlib import Path

import pytest

import despin
from despin.cli import build_parser, main
from despin.config import OPTIONS

README = Path(__file__).resolve().parents[1] / "README.md"
_TABLE_RE = re.compile(r"(<!-- table: (?P<name>[\w-]+) -->\n)(?P<body>.*?)(<!-- end table -->)", re.S)


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def config_table() -> str:
    """The Config options: name, default, command-line flag, meaning."""
    rows = ["| option | default | flag | meaning |", "|---|---|---|---|"]
    for o in OPTIONS:
        flag = f"`{o.flag}`" if o.flag else ""
        rows.append(f"| `{o.name}` | `{o.default!r}` | {flag} | {_cell(o.doc)} |")
    return "\n".join(rows) + "\n"


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    (action,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(action.choices)


def _flag_cell(action: argparse.Action) -> str:
    names = ", ".join(f"`{s}`" for s in action.option_strings)
    if action.nargs == 0:
        return names
    if action.metavar is not None:
        value = str(action.metavar)
    elif action.choices is not None:
        value = "{" + ",".join(map(str, action.choices)) + "}"
    else:
        value = action.dest.upper()
    return f"{names} {_cell(value)}"


def cli_table(command: str) -> str:
    """The options of ``despin COMMAND`` (of ``despin`` itself for "despin"), with their help."""
    parser = build_parser()
    p = parser if command == "despin" else _subparsers(parser)[command]
    rows = ["| option | meaning |", "|---|---|"]
    for action in p._actions:
        if not action.option_strings or (command != "despin" and "--help" in action.option_strings):
            continue  # positional arguments; --help is in the table of despin itself
        rows.append(f"| {_flag_cell(action)} | {_cell(action.help or '')} |")
    return "\n".join(rows) + "\n"


def expected_tables() -> dict[str, str]:
    tables = {"config-options": config_table(), "cli-despin": cli_table("despin")}
    for command in _subparsers(build_parser()):
        tables[f"cli-{command}"] = cli_table(command)
    return tables


def readme_tables() -> dict[str, str]:
    return {m["name"]: m["body"] for m in _TABLE_RE.finditer(README.read_text(encoding="utf-8"))}


@pytest.mark.parametrize("name", sorted(expected_tables()))
def test_readme_option_tables_are_made_from_the_code(name):
    assert readme_tables().get(name) == expected_tables()[name], (
        f"README table {name!r} differs from the code; `python tests/test_docs.py` rewrites it"
    )


def _long_flags() -> dict[str, list[str]]:
    """Every long flag of every subcommand."""
    return {
        command: [s for a in p._actions for s in a.option_strings if s.startswith("--")]
        for command, p in _subparsers(build_parser()).items()
    }


@pytest.mark.parametrize("command", sorted(_long_flags()))
def test_every_cli_option_is_in_help_and_in_the_readme(command, capsys):
    assert main([command, "--help"]) == 0
    help_text = capsys.readouterr().out
    tables = readme_tables()
    documented = tables.get(f"cli-{command}", "") + tables.get("cli-despin", "")
    for flag in _long_flags()[command]:
        assert flag in help_text, flag
        assert f"`{flag}`" in documented, f"{command} {flag} is not in the README's option tables"


def test_every_config_option_is_in_the_readme_with_its_default():
    table = readme_tables().get("config-options", "")
    for o in OPTIONS:
        assert f"| `{o.name}` | `{o.default!r}` |" in table, o.name


def test_readme_python_example_runs_and_prints_what_it_claims():
    block = re.search(r"```python\n(import despin\n.*?)```", README.read_text(encoding="utf-8"), re.S).group(1)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(block, "README.md", "exec"), {})
    lines = out.getvalue().splitlines()
    assert lines[0] == "The satellite launch was delayed after the Cold War ended."
    assert lines[-1] == "['The satellite launch was delayed after the Cold War ended.', 'Nothing to restore here.']"


def test_readme_try_it_output_is_what_despin_prints():
    # The "Try it" section shows the start of `despin restore examples/spun_news.txt`.
    text = README.read_text(encoding="utf-8")
    shown = re.search(r"despin restore examples/spun_news.txt\n```\n\n```text\n(.*?) \.\.\.\n```", text, re.S).group(1)
    example = (README.parent / "examples" / "spun_news.txt").read_text(encoding="utf-8")
    assert despin.restore(example).startswith(shown)


def test_package_docstring_examples():
    result = doctest.testmod(despin, verbose=False)
    assert result.attempted >= 1 and result.failed == 0


def test_readme_sections_are_not_repeated():
    headings = [line for line in README.read_text(encoding="utf-8").splitlines() if line.startswith("## ")]
    assert headings and len(headings) == len(set(headings)), headings


def test_readme_has_the_quality_on_real_pages_section():
    assert "\n## Quality on real pages\n" in README.read_text(encoding="utf-8")


def _write_readme_tables() -> None:
    tables = expected_tables()
    text = README.read_text(encoding="utf-8")
    missing = set(tables) - set(readme_tables())
    if missing:
        sys.exit(f"README.md has no <!-- table: NAME --> marker for {sorted(missing)}")
    README.write_text(_TABLE_RE.sub(lambda m: m[1] + tables.get(m["name"], m["body"]) + m[4], text), encoding="utf-8")


if __name__ == "__main__":
    _write_readme_tables()
