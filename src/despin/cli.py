"""The ``despin`` command: a thin layer over the library.

``main(argv)`` returns the exit code, so tests call it in-process.
Exit codes: 0 success; 1 ``detect --check`` found spun text (and none
failed); 2 usage or despin error (nothing was processed); 3 some documents
failed (the rest were processed); 130 interrupted (Ctrl-C), 129 and 143
stopped by SIGHUP and SIGTERM; 141 stdout closed by its reader (``| head``),
stopped quietly.

``restore`` and ``detect`` run over files, folders, stdin and JSONL through
:mod:`despin.batch`, which holds the logic; this module only maps options
and formats output.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
from collections import Counter
from collections.abc import Callable, Sequence
from typing import IO, TYPE_CHECKING, Any

from . import __version__
from .batch import (
    DEFAULT_MAX_SIZE,
    ERROR_POLICIES,
    BatchOptions,
    DocumentResult,
    ProgressFactory,
    Status,
    Summary,
    parse_size,
    run_detect,
    run_restore,
)
from .batch.pool import Interrupted
from .batch.report import printable
from .config import OPTIONS, PROTECT_KINDS, Config, Option
from .errors import DespinError, UsageError
from .restorer import Restorer

if TYPE_CHECKING:  # evaluate is imported only by the eval command
    from .evaluate import PairResult
    from .learn import Where

__all__ = ["main", "build_parser"]

EXIT_OK, EXIT_SPUN, EXIT_USAGE, EXIT_FAILED, EXIT_INTERRUPTED = 0, 1, 2, 3, 130
EXIT_BROKEN_PIPE = 128 + 13  # what a shell reports for a tool stopped by SIGPIPE

_EXIT_CODES = """exit codes: 0 success; 1 detect --check found a spun document (and none failed);
2 usage error (nothing done); 3 some documents failed (the others were processed);
130 interrupted (129, 143: stopped by SIGHUP, SIGTERM); 141 stdout was closed (| head)"""


# -- configuration ---------------------------------------------------------------------------

# Options whose command-line value is not yet the Config value.
_TO_CONFIG: dict[str, Callable[[Any], Any]] = {
    "lexicons": lambda paths: tuple(os.path.abspath(p) for p in paths),  # workers may run elsewhere
    "protect": frozenset,
    "model_path": os.path.abspath,
    "lm_path": os.path.abspath,
    "decision_model": os.path.abspath,
}


def _config(args: argparse.Namespace) -> Config:
    """The Config named by the options present on this subcommand (each
    option's flag stores into the option's own name)."""
    options: dict[str, Any] = {}
    for o in OPTIONS:
        value = getattr(args, o.name, None)
        if value is None or value == "":
            continue
        convert = _TO_CONFIG.get(o.name)
        options[o.name] = convert(value) if convert is not None else value
    return Config().replace(**options)


def _restorer(args: argparse.Namespace) -> Restorer:
    return Restorer(_config(args))


def _batch_options(args: argparse.Namespace) -> BatchOptions:
    return BatchOptions(
        output=getattr(args, "output", None),
        in_place=getattr(args, "in_place", False),
        resume=getattr(args, "resume", False),
        include=tuple(args.include or ()),
        exclude=tuple(args.exclude or ()),
        jsonl=args.jsonl,
        field=args.field,
        errors=args.errors,
        explain=getattr(args, "explain", None),
        diff=getattr(args, "diff", False),
        color=_use_color(getattr(args, "color", "never"), sys.stdout),
        jobs=args.jobs if args.jobs is not None else (os.cpu_count() or 1),
        max_size=args.max_size,
        problems=args.problems,
    )


def _isatty(stream: IO[Any]) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def _use_color(choice: str, stream: IO[Any]) -> bool:
    if choice == "always":
        return True
    if choice == "never":
        return False
    return _isatty(stream) and not os.environ.get("NO_COLOR")


def _progress(args: argparse.Namespace) -> ProgressFactory | None:
    """A tqdm bar on stderr, if tqdm is installed, stderr is a terminal and not --quiet."""
    if args.quiet or not _isatty(sys.stderr):
        return None
    try:
        from tqdm import tqdm
    except ImportError:
        return None

    def make(total: int) -> Any:
        kw = dict(total=total or None, unit="B", unit_scale=True, unit_divisor=1024, file=sys.stderr,
                  leave=False, dynamic_ncols=True)
        try:
            return tqdm(delay=0.5, **kw)  # no bar for short runs
        except (TypeError, KeyError):  # tqdm without delay=
            return tqdm(**kw)

    return make


def _print_summary(args: argparse.Namespace, summary: Summary, detect: bool) -> None:
    if not args.quiet:
        print(f"despin: {summary.line(detect)}", file=sys.stderr)


# -- restore ---------------------------------------------------------------------------------


def cmd_restore(args: argparse.Namespace) -> int:
    summary = run_restore(args.paths, _restorer(args), _batch_options(args), progress=_progress(args))
    _print_summary(args, summary, detect=False)
    return EXIT_FAILED if summary.failed else EXIT_OK


# -- detect ----------------------------------------------------------------------------------

_CSV_COLUMNS = ("path", "line", "id", "status", "score", "spun", "words", "spun_forms", "per_1000_words",
                "artifacts", "error")


def _detect_row(res: DocumentResult) -> dict[str, Any]:
    rep = res.report or {}
    score = rep.get("score")
    per_1000 = rep.get("per_1000_words")
    return {
        "path": res.display,
        "line": res.line,
        "id": res.doc_id,
        "status": res.status,
        "score": round(score, 4) if score is not None else None,
        "spun": rep.get("spun"),
        "words": rep.get("words"),
        "spun_forms": rep.get("spun_forms"),
        "per_1000_words": round(per_1000, 2) if per_1000 is not None else None,
        "artifacts": rep.get("artifacts"),
        "error": res.message if res.status in (Status.SKIPPED, Status.FAILED) else None,
    }


class _RowWriter:
    """Detect results as an aligned table, CSV or JSONL on stdout."""

    def __init__(self, fmt: str, stream: IO[str]):
        self.fmt = fmt
        self.stream = stream
        self._csv = csv.writer(stream, lineterminator="\n") if fmt == "csv" else None
        if fmt == "table":
            stream.write(f"{'score':>6}  {'verdict':<7}  {'words':>7}  {'spun/1k':>7}  document\n")
        elif self._csv is not None:
            self._csv.writerow(_CSV_COLUMNS)

    def __call__(self, res: DocumentResult) -> None:
        if self.fmt == "table":
            self.stream.write(self._table_line(res))
            return
        row = _detect_row(res)
        if self._csv is not None:
            self._csv.writerow(["" if row[c] is None else row[c] for c in _CSV_COLUMNS])
        elif self.fmt == "jsonl":
            self.stream.write(json.dumps(row, ensure_ascii=False) + "\n")

    @staticmethod
    def _table_line(res: DocumentResult) -> str:
        rep = res.report
        where = printable(res.where)  # (the table is for terminals)
        if rep is None:
            return f"{'-':>6}  {res.status:<7}  {'-':>7}  {'-':>7}  {where}\n"
        return (f"{rep['score']:>6.3f}  {res.status:<7}  {rep['words']:>7}  "
                f"{rep['per_1000_words']:>7.1f}  {where}\n")


def cmd_detect(args: argparse.Namespace) -> int:
    writer = _RowWriter(args.format, sys.stdout)
    summary = run_detect(args.paths, _restorer(args), _batch_options(args), on_result=writer,
                         progress=_progress(args))
    sys.stdout.flush()
    _print_summary(args, summary, detect=True)
    if summary.failed:  # a document that could not be read may be spun too: failures come first
        return EXIT_FAILED
    return EXIT_SPUN if args.check and summary.spun else EXIT_OK


# -- report ----------------------------------------------------------------------------------


def _report_inputs(paths: Sequence[str], errors: str) -> tuple[list[tuple[int, str, str]], int]:
    """The ``(index in paths, name, text)`` of each readable input, and how
    many could not be read (said on stderr)."""
    from .batch.work import DocumentError, decode_text

    docs: list[tuple[int, str, str]] = []
    failed = 0
    for k, path in enumerate(paths):
        try:
            if path != "-" and os.path.isdir(path):
                raise DocumentError("is a folder; report reads files (name them, e.g. folder/*.txt)")
            text, warning = decode_text(sys.stdin.buffer.read() if path == "-" else _read_bytes(path), errors)
        except (OSError, DocumentError) as exc:
            print(f"despin: {path}: {exc.strerror if isinstance(exc, OSError) else exc}", file=sys.stderr)
            failed += 1
            continue
        if warning:
            print(f"despin: {path}: {warning}", file=sys.stderr)
        docs.append((k, "stdin" if path == "-" else path, text))
    return docs, failed


def _read_bytes(path: str) -> bytes:
    with open(path, "rb") as fh:
        return fh.read()


def _report_pages(paths: Sequence[str], output: str | None) -> list[str] | None:
    """Where each input's page goes when ``output`` is a folder (it exists, or
    its name ends in a separator); None for one page (``output``, or stdout).
    Raises UsageError when a page would go over an input or two share a name."""
    per_input = output is not None and (os.path.isdir(output) or output.endswith(("/", os.sep)))
    dests = ([os.path.join(output, os.path.splitext(os.path.basename(p))[0] + ".html") for p in paths]
             if output is not None and per_input else [output] if output is not None else [])
    inputs = {os.path.realpath(p) for p in paths if p != "-"}
    for dest, n in Counter(dests).items():
        if os.path.realpath(dest) in inputs:
            raise UsageError(f"refusing to write the report over its input {dest}")
        if n > 1 and per_input:
            raise UsageError(f"two inputs would both be reported in {dest}; report them separately")
    return dests if per_input else None


def cmd_report(args: argparse.Namespace) -> int:
    from .batch.files import write_atomic
    from .report import report_html_documents

    if args.output == "-":
        args.output = None  # stdout
    dests = _report_pages(args.paths, args.output)  # before reading: nothing is done on a usage error
    r = _restorer(args)
    docs, failed = _report_inputs(args.paths, args.errors)
    if dests is not None:
        for k, name, text in docs:
            write_atomic(dests[k], report_html_documents([(name, text)], args.title, restorer=r).encode("utf-8"))
    elif docs:
        page = report_html_documents([(name, text) for _, name, text in docs], args.title, restorer=r)
        if args.output is not None:
            write_atomic(args.output, page.encode("utf-8"))
        else:
            sys.stdout.write(page)
            sys.stdout.flush()
    if not args.quiet:
        note = f"; {failed} could not be read" if failed else ""
        print(f"despin: reported {len(docs)} document(s) to {args.output or 'stdout'}{note}", file=sys.stderr)
    return EXIT_FAILED if failed else EXIT_OK


# -- eval and build-model (unchanged behaviour) ----------------------------------------------


def _read_input(path: str) -> str:
    if path == "-":
        return sys.stdin.read()
    with open(path, encoding="utf-8") as fh:
        return fh.read()


def _pair_row(res: PairResult) -> str:
    """One tab-separated row of ``despin eval --pairs``."""
    cp = f"{res.confident_correct / res.confident_edits:.3f} ({res.confident_edits})" if res.confident_edits else "-"
    return (
        f"{res.name}\t{res.words}\t{res.wer_before:.4f}\t{res.wer_after:.4f}\t"
        f"{res.error_reduction:.1%}\t{res.edits}\t{res.precision:.3f}\t{cp}"
    )


def _print_pairs(results: list[PairResult], verbose: bool) -> None:
    from .evaluate import combine_pairs

    print("pair\twords\tWER before\tWER after\terror reduction\tedits\tprecision\tconf>=0.9 precision")
    for res in results:
        print(_pair_row(res))
        if verbose:
            for before, after, conf in res.wrong:
                print(f"  wrong: {before!r} -> {after!r} ({conf:.2f})")
    if len(results) > 1:
        print(_pair_row(combine_pairs(results, "all")))


def _print_calibration(results: list[PairResult]) -> None:
    from .evaluate import calibration, combine_pairs

    print("confidence\tedits\tright")
    for lo, hi, n, share in calibration(combine_pairs(results).judged):
        print(f"[{lo:.1f}, {hi:.1f}{']' if hi == 1.0 else ')'}\t{n}\t{share:.3f}")


def _where(items: list[str] | None) -> Where:
    from .learn import parse_where

    return parse_where(items or ())

def _base_files(cfg: Config) -> tuple[str, ...]:
    """The lexicon files to learn on top of: the bundled slices but the learned
    ones (so that learning again reproduces them), and --lexicon files."""
    from .lexicon import bundled_lexicon_files, is_learned_slice

    bundled = [f for f in bundled_lexicon_files() if not is_learned_slice(f)] if cfg.bundled_lexicon else []
    return (*bundled, *cfg.lexicons)


def _learn_kwargs(args: argparse.Namespace) -> dict[str, Any]:
    from .corpus import read_corpus, read_ids
    from .learn import PhraseCounts

    kwargs: dict[str, Any] = {"generalise": not args.no_generalise}
    if args.learn_clean:
        exclude: set[str] = set()
        for path in args.exclude_ids or ():
            exclude |= read_ids(path)
        kwargs["clean"] = PhraseCounts(d.text for d in read_corpus(args.learn_clean, args.field, exclude, strict=True))
    return kwargs


def cmd_eval(args: argparse.Namespace) -> int:
    from .corpus import read_corpus
    from .evaluate import evaluate_clean, evaluate_pair

    cfg = _config(args)
    restorers = [Restorer(cfg)]
    if args.folds and not args.pairs:
        raise DespinError("--folds needs --pairs")
    if args.pairs and args.folds:
        restorers = _eval_folds(args, cfg)
    elif args.pairs:
        from .learn import read_pairs

        pairs = read_pairs(args.pairs, where=_where(args.where))
        results = [evaluate_pair(restorers[0], p.spun, p.original, p.name) for p in pairs]
        _print_pairs(results, args.verbose)
        _print_calibration(results)
    for path in args.clean or ():
        for n, r in enumerate(restorers, 1):
            clean = evaluate_clean(r, read_corpus([path], args.field, strict=True), os.path.basename(path))
            label = f"clean {clean.name}" + (f" (fold {n})" if len(restorers) > 1 else "")
            print(
                f"{label}: {clean.documents} docs, {clean.words} words, {clean.edits} edits "
                f"({clean.edits_per_1000:.3f} per 1,000 words), {clean.changed_documents} docs changed, "
                f"{clean.flagged_documents} flagged spun, max score {clean.max_score:.3f}"
            )
            if args.verbose:
                for doc_id, ex in clean.examples:
                    print(f"  {doc_id}: {ex}")
    return EXIT_OK


def _eval_folds(args: argparse.Namespace, cfg: Config) -> list[Restorer]:
    """Cross-validated figures by story group; the restorers of the folds."""
    from .evaluate import cross_validate
    from .learn import read_pairs, read_spun_texts

    where = _where(args.where)
    pairs = read_pairs(args.pairs, where=where)
    unpaired = read_spun_texts(args.unpaired, where=where) if args.unpaired else []
    progress = None if args.quiet else (lambda line: print(f"despin: {line}", file=sys.stderr))
    options = {k: v for k, v in vars(cfg).items() if k not in ("lexicons", "bundled_lexicon", "decision_model")}
    test_where = _where(args.test_where)
    result = cross_validate(pairs, args.folds, _base_files(cfg), refit=not args.no_refit,
                            learn_kwargs=_learn_kwargs(args), unpaired=unpaired,
                            test=lambda p: p.matches(test_where), progress=progress, **options)
    _print_pairs(result.pairs, args.verbose)
    _print_calibration(result.pairs)
    cov = result.coverage
    print(f"coverage: {cov.covered} of {cov.total} substitution blocks ({cov.share:.1%}) have an entry with "
          "the right original")
    if args.verbose:
        for spun, orig in cov.missed:
            print(f"  not covered: {spun!r} (original {orig!r})")
    for n, groups in enumerate(result.folds, 1):
        print(f"fold {n}: {', '.join(groups)}")
    return result.restorers


def cmd_learn(args: argparse.Namespace) -> int:
    from .fit import fit_decisions, learned_restorer_factory, neural_scorer
    from .learn import learn, read_pairs, read_spun_texts
    from .lexicon import load_lexicon

    cfg = _config(args)
    where = _where(args.where)
    pairs = read_pairs(args.pairs, args.spun_field, args.original_field, where)
    unpaired = [p.spun for p in read_spun_texts(args.unpaired, where)] if args.unpaired else []
    base_files = _base_files(cfg)
    kwargs = _learn_kwargs(args)
    result = learn(pairs, base=load_lexicon(base_files, bundled=False), unpaired=unpaired, **kwargs)
    _write_atomic(args.output, result.lexicon_text())
    if args.report:
        _write_atomic(args.report, result.report_text())
    if not args.quiet:
        print(f"despin: {len(result.rows)} entries from {result.pairs} pairs ({result.substitutions} substitutions, "
              f"{result.lines_unmatched + result.lines_too_different} lines left out) -> {args.output}",
              file=sys.stderr)
    if args.decisions:
        from .decision import write_decision_model

        groups = len({p.group for p in pairs})
        if groups < 2:
            raise DespinError("--decisions needs pairs of at least two story groups (to cross-fit)")
        options = {k: v for k, v in vars(cfg).items() if k not in ("lexicons", "bundled_lexicon", "decision_model")}
        make = learned_restorer_factory(base_files, {**kwargs, "unpaired": unpaired}, **options)
        clean = kwargs["clean"].texts if "clean" in kwargs else []
        unpaired_pairs = read_spun_texts(args.unpaired, where) if args.unpaired else []
        provenance = (f"fitted by despin learn --decisions on {len(pairs)} spun/original pairs of {groups} story groups"
                      f"{f' and {len(unpaired)} unpaired spun texts' if unpaired else ''}")
        model = fit_decisions(pairs, make, folds=min(4, groups), provenance=provenance, clean=clean,
                              unpaired=unpaired_pairs, lm=neural_scorer(options))
        write_decision_model(model, args.decisions)
        if not args.quiet:
            print(f"despin: decision model fitted on {model.fitted.get('candidates')} candidates -> {args.decisions}",
                  file=sys.stderr)
    return EXIT_OK


def _write_atomic(path: str, text: str) -> None:
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.replace(tmp, path)


def cmd_build_model(args: argparse.Namespace) -> int:
    from .corpus import read_ids
    from .model_build import build_model

    exclude: set[str] = set()
    for path in args.exclude_ids or ():
        exclude |= read_ids(path)
    summary = build_model(args.inputs, args.output, args.field, exclude, args.min_count,
                          int(args.max_mb * 1e6), args.combine_default, args.quiet)
    for line in summary.lines():
        print(line, file=sys.stderr)
    return 0


# -- parser ----------------------------------------------------------------------------------


def _unit_float(value: str) -> float:
    try:
        x = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {value!r}") from None
    if not 0.0 <= x <= 1.0:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, not {value}")
    return x


def _positive_int(value: str) -> int:
    try:
        n = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {value!r}") from None
    if n < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return n


_OPTION = {o.name: o for o in OPTIONS}


def _add_option(p: argparse.ArgumentParser | argparse._ArgumentGroup, name: str, help: str | None = None,
                **kwargs: Any) -> None:
    """The flag of the Config option ``name``, storing into ``name``; its help
    (and default) come from the option table in config.py."""
    o: Option = _OPTION[name]
    assert o.flag is not None, name
    if help is None and o.flag_doc is not None:
        help = o.flag_doc
    elif help is None:  # the doc as a phrase, like the other flags' help
        help = o.doc[0].lower() + o.doc[1:].rstrip(".")
        if o.default not in (None, (), frozenset()) and not isinstance(o.default, bool):
            help += f" (default {o.default})"
    p.add_argument(o.flag, dest=name, help=help, **kwargs)


class _DeprecatedAlias(argparse.Action):
    """An old spelling of a flag: works as the new one, with a note on stderr."""

    def __init__(self, option_strings: Sequence[str], dest: str, new: str, **kwargs: Any):
        self.new = new
        super().__init__(option_strings, dest, help=f"deprecated spelling of {new}", **kwargs)

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: Any,
                 option_string: str | None = None) -> None:
        print(f"despin: {option_string} is deprecated here; use {self.new}", file=sys.stderr)
        setattr(namespace, self.dest, values)


def _add_lexicon_options(p: argparse.ArgumentParser) -> None:
    _add_option(p, "lexicons", action="append", metavar="TSV")
    _add_option(p, "bundled_lexicon", action="store_const", const=False)


def _add_common(p: argparse.ArgumentParser) -> None:
    _add_option(p, "threshold", type=_unit_float, metavar="CONFIDENCE")
    _add_lexicon_options(p)
    _add_option(p, "protect", action="append", choices=sorted(PROTECT_KINDS))
    _add_context_options(p)
    _add_option(p, "decision_model", metavar="JSON")


def _add_context_options(p: argparse.ArgumentParser) -> None:
    _add_option(p, "context", choices=["ngram", "lm"])
    p.add_argument("--no-context", dest="context", action="store_const", const=False,
                   help="do not use a context model")
    _add_option(p, "model_path", metavar="FILE")
    _add_option(p, "lm_path", metavar="GGUF")


def _add_learn_data_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("learning")
    g.add_argument("--where", action="append", metavar="KEY=VALUE",
                   help="use only pairs (and unpaired texts) whose manifest.tsv row has this value; KEY!=VALUE "
                        "excludes (repeatable)")
    g.add_argument("--unpaired", metavar="DIR", help="a folder of more spun texts of the spinner, without originals")
    g.add_argument("--learn-clean", action="append", metavar="FILE",
                   help="clean texts (JSONL or text; repeatable): their phrase counts set the weights' prior, and "
                        "forms they never use may become artifacts")
    g.add_argument("--exclude-ids", action="append", metavar="JSONL",
                   help="with --learn-clean: skip documents whose id is listed (repeatable)")
    g.add_argument("--no-generalise", action="store_true", help="do not carry mappings to other inflections")


def _add_input_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("input")
    g.add_argument("--include", action="append", metavar="GLOB",
                   help="in folders, read only files matching GLOB (relative path or name; repeatable)")
    g.add_argument("--exclude", action="append", metavar="GLOB",
                   help="in folders, skip files and folders matching GLOB (repeatable)")
    g.add_argument("--jsonl", action="store_true",
                   help="read every input as JSONL, one document per line (implied for *.jsonl, *.ndjson)")
    g.add_argument("--field", default="text", help="the JSONL field holding the text (default: text)")
    g.add_argument("--errors", choices=ERROR_POLICIES, default="strict",
                   help="invalid UTF-8: strict fails the document (default); replace (U+FFFD) or ignore "
                        "(drop the bytes) process it with a warning")


def _size(value: str) -> int:
    try:
        return parse_size(value)
    except DespinError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _add_run_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("running")
    g.add_argument("-j", "--jobs", type=_positive_int, metavar="N",
                   help="worker processes (default: all cores)")
    g.add_argument("-q", "--quiet", action="store_true", help="no progress bar and no summary on stderr")
    g.add_argument("--max-size", type=_size, default=DEFAULT_MAX_SIZE, metavar="SIZE",
                   help="the largest document (file, stdin or JSONL line) read, e.g. 500K, 4M, 1G; larger ones "
                        "fail (a JSONL line is passed through unchanged); 0: no limit. Restoring needs 10 to 300 "
                        "times a text's size in memory, most for densely spun text "
                        f"(default {DEFAULT_MAX_SIZE // 1024**2}M: under 500 MB)")
    g.add_argument("--problems", metavar="FILE",
                   help="write every problem (path, line, id, kind, message) to FILE as JSON lines; stderr "
                        "shows the first 20 of each file")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="despin", description="Restore article-spun text to its original wording.",
                                epilog=_EXIT_CODES)
    p.add_argument("--version", action="version", version=f"despin {__version__}")
    sub = p.add_subparsers(dest="command", required=True)

    r = sub.add_parser(
        "restore", help="restore spun text", epilog=_EXIT_CODES,
        description="Restore files, folders (mirrored into -o FOLDER), stdin (-) or JSONL. "
                    "A single input without -o goes to stdout. Inputs are never overwritten "
                    "unless --in-place; outputs appear atomically.")
    r.add_argument("paths", nargs="+", metavar="PATH", help="files, folders, or - for stdin")
    out = r.add_argument_group("output")
    out.add_argument("-o", "--output", metavar="OUT",
                     help="output file (one input; - is stdout) or folder (several inputs, or a folder); a "
                          "symbolic link is followed, a device or FIFO written through")
    out.add_argument("--in-place", action="store_true",
                     help="write restored files over themselves, keeping FILE.bak (FILE.bak.1, ... if taken; a "
                          "backup is never overwritten, and files restored in place before are left alone)")
    out.add_argument("--resume", action="store_true",
                     help="finish an interrupted run: skip documents whose output exists (with --in-place: "
                          "whose backup differs from them), continue JSONL outputs after their last complete line")
    out.add_argument("--explain", metavar="FILE", help="write every edit to FILE as JSON lines (- is stdout)")
    out.add_argument("--diff", action="store_true",
                     help="show a word diff of each restored document on stdout (without -o: only the diff)")
    out.add_argument("--color", choices=["auto", "always", "never"], default="auto",
                     help="colour the diff (default: auto, when stdout is a terminal)")
    _add_input_options(r)
    _add_run_options(r)
    _add_common(r)
    _add_option(r, "spin_threshold", type=_unit_float, metavar="SCORE")
    _add_option(r, "unseen", action="store_const", const=True)
    r.set_defaults(func=cmd_restore)

    d = sub.add_parser("detect", help="score how spun texts look", epilog=_EXIT_CODES,
                       description="A spin score per document (file, stdin, or JSONL line).")
    d.add_argument("paths", nargs="+", metavar="PATH", help="files, folders, or - for stdin")
    d.add_argument("--format", choices=["table", "csv", "jsonl"], default="table", help="output format")
    _add_option(d, "spin_threshold", type=_unit_float, metavar="SCORE")
    _add_option(d, "unseen", action="store_const", const=True)
    d.add_argument("--threshold", dest="spin_threshold", type=_unit_float, action=_DeprecatedAlias,
                   new="--spin-threshold", metavar="SCORE")
    d.add_argument("--check", action="store_true", help="exit 1 if any document is spun, 0 if none")
    _add_input_options(d)
    _add_run_options(d)
    _add_lexicon_options(d)
    d.set_defaults(func=cmd_detect)

    rp = sub.add_parser(
        "report", help="an HTML report: what was spun, what it was, and why", epilog=_EXIT_CODES,
        description="A self-contained HTML page (no network, no script needed): the verdict and its "
                    "evidence, the text with every edit and every candidate left alone, the restored text "
                    "and the explanation lines. One page for all inputs, with an index (-o FILE, or stdout), "
                    "or one page per input (-o FOLDER/).")
    rp.add_argument("paths", nargs="+", metavar="PATH", help="text files, or - for stdin")
    rp.add_argument("-o", "--output", metavar="OUT",
                    help="the page to write (default: stdout); a folder (existing, or ending in /) "
                         "gets one page per input, NAME.html")
    rp.add_argument("--title", help="the page's title (default: despin report: NAME)")
    rp.add_argument("--errors", choices=ERROR_POLICIES, default="strict",
                    help="invalid UTF-8: strict fails the document (default); replace (U+FFFD) or ignore "
                         "(drop the bytes) report it with a warning")
    rp.add_argument("-q", "--quiet", action="store_true", help="no summary on stderr")
    _add_common(rp)
    _add_option(rp, "spin_threshold", type=_unit_float, metavar="SCORE")
    _add_option(rp, "unseen", action="store_const", const=True)
    rp.set_defaults(func=cmd_report)

    e = sub.add_parser(
        "eval", help="evaluate against gold originals and clean text", epilog=_EXIT_CODES,
        description="Word error rate before and after, error reduction, edit precision and a calibration "
                    "table on spun/original pairs; edits per 1,000 words on clean texts. With --folds, "
                    "cross-validated by story group: the lexicon slice (and the decision model) are learned "
                    "from the other folds only, and coverage is reported.")
    e.add_argument("--pairs", metavar="DIR", help="folder with NAME.spun.txt and NAME.orig.txt")
    e.add_argument("--clean", action="append", metavar="FILE", help="clean JSONL or text file (repeatable)")
    e.add_argument("--field", default="text", help="the JSONL field holding the text (default: text)")
    e.add_argument("--folds", type=_positive_int, metavar="K",
                   help="cross-validate over K folds of whole story groups (manifest.tsv's story_group)")
    e.add_argument("--test-where", action="append", metavar="KEY=VALUE",
                   help="with --folds: measure only the held-out pairs whose manifest row has this value "
                        "(the others still teach; repeatable)")
    e.add_argument("--no-refit", action="store_true",
                   help="with --folds: keep the decision model instead of fitting it on each fold's training pairs")
    _add_learn_data_options(e)
    e.add_argument("-v", "--verbose", action="store_true",
                   help="also list each wrong edit, uncovered substitutions, and edits in clean texts")
    e.add_argument("-q", "--quiet", action="store_true", help="no progress lines on stderr")
    _add_common(e)
    e.set_defaults(func=cmd_eval)

    n = sub.add_parser(
        "learn", help="learn a spinner's mappings from spun/original pairs", epilog=_EXIT_CODES,
        description="Align each spun text with its original, count what the spinner rewrote and what it "
                    "left alone, and write a lexicon slice (despin-lexicon 1) to use with --lexicon.")
    n.add_argument("pairs", metavar="PAIRS",
                   help="folder of NAME.spun.txt + NAME.orig.txt, or JSONL with one pair per line")
    n.add_argument("-o", "--output", required=True, metavar="TSV", help="the lexicon slice to write")
    n.add_argument("--report", metavar="FILE", help="write a report: every mapping with its counts, what was "
                   "generalised and what was rejected")
    n.add_argument("--decisions", metavar="JSON", help="also fit a decision model on the pairs (cross-fitted by "
                   "story group) and write it here, to use with --decisions")
    n.add_argument("--spun-field", default="spun", help="JSONL pairs: the field of the spun text (default: spun)")
    n.add_argument("--original-field", default="original",
                   help="JSONL pairs: the field of the original (default: original)")
    n.add_argument("--field", default="text", help="the JSONL field of --learn-clean texts (default: text)")
    _add_learn_data_options(n)
    n.add_argument("-q", "--quiet", action="store_true", help="no summary on stderr")
    _add_lexicon_options(n)
    _add_context_options(n)
    n.set_defaults(func=cmd_learn)

    b = sub.add_parser("build-model", help="build a context model (trigram language model) from a clean corpus",
                       epilog=_EXIT_CODES,
                       description="Read a clean corpus (text files, JSONL files or folders; binary files are "
                                   "skipped) as the context model reads text, count its trigrams, smooth them "
                                   "(interpolated modified Kneser-Ney), prune the model to --max-mb and write it "
                                   "for --model.")
    b.add_argument("inputs", nargs="+", help="text files, JSONL files or folders")
    b.add_argument("-o", "--output", required=True, metavar="FILE", help="the model file to write")
    b.add_argument("--field", default="text", help="the JSONL field holding the text (default: text)")
    b.add_argument("--exclude-ids", action="append", metavar="JSONL", help="skip documents whose id is listed")
    b.add_argument("--min-count", type=int, default=2, metavar="N",
                   help="list trigrams seen at least N times; rarer ones count through backoff (default 2)")
    b.add_argument("--max-mb", type=float, default=16.0, metavar="MB",
                   help="prune the model (by relative entropy) to at most this size (default 16)")
    b.add_argument("--combine-default", action="store_true",
                   help="layer the model over the bundled one, with the weight that fits a held-out tenth of the "
                        "corpus best; loading it loads both")
    b.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    b.set_defaults(func=cmd_build_model)
    return p


def _quiet_broken_pipe() -> None:
    """After stdout's reader went away: stop Python complaining when it flushes at exit."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version, usage errors: return instead of exiting
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    try:
        command: Callable[[argparse.Namespace], int] = args.func
        return command(args)
    except DespinError as exc:
        _say(f"despin: {printable(str(exc))}")
        return exc.exit_code
    except KeyboardInterrupt as exc:
        how = str(exc) if isinstance(exc, Interrupted) else "interrupted"
        _say(f"despin: {how}; every output written is complete, unfinished JSONL outputs are kept "
             "(--resume continues)")
        return 128 + exc.signum if isinstance(exc, Interrupted) else EXIT_INTERRUPTED
    except BrokenPipeError:  # stdout's reader is gone (| head): stop quietly, as Unix tools do
        _quiet_broken_pipe()
        return EXIT_BROKEN_PIPE
    except OSError as exc:
        _say(f"despin: {printable(str(exc))}")
        return EXIT_USAGE


def _say(message: str) -> None:
    """A message on stderr, unless stderr itself is gone (a closed terminal)."""
    try:
        print(message, file=sys.stderr)
    except (OSError, ValueError):
        pass


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
