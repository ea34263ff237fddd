"""The ``despin`` command: a thin layer over the library.

``main(argv)`` returns the exit code, so tests call it in-process.
Exit codes: 0 success; 1 ``detect --check`` found spun text; 2 usage or
despin error; 3 some documents failed (the rest were processed).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Sequence

from . import __version__
from .api import Restorer
from .config import Config
from .errors import DespinError

__all__ = ["main"]


def _restorer(args: argparse.Namespace) -> Restorer:
    options = {}
    if getattr(args, "threshold", None) is not None:
        options["threshold"] = args.threshold
    if getattr(args, "lexicon", None):
        options["lexicons"] = tuple(args.lexicon)
    if getattr(args, "protect", None):
        options["protect"] = frozenset(args.protect)
    if getattr(args, "no_context", False):
        options["context"] = False
    if getattr(args, "model", None):
        options["model_path"] = args.model
    return Restorer(Config().replace(**options))


def _add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--threshold", type=float, help="minimum confidence of an edit, 0-1 (default 0.5)")
    p.add_argument("--lexicon", action="append", metavar="TSV", help="extra lexicon file (repeatable)")
    p.add_argument("--protect", action="append", choices=["quotes", "names"], help="never edit these spans")
    p.add_argument("--no-context", action="store_true", help="do not use the context model")
    p.add_argument("--model", metavar="FILE", help="context model built with 'despin build-model'")


def _read_input(path: str) -> str:
    if path == "-":
        return sys.stdin.read()
    with open(path, encoding="utf-8") as fh:
        return fh.read()


def cmd_restore(args: argparse.Namespace) -> int:
    r = _restorer(args)
    for path in args.paths:
        text = _read_input(path)
        res = r.restore_and_explain(text)
        sys.stdout.write(res.text)
        if args.explain:
            for e in res.edits:
                print(json.dumps(e.to_dict(), ensure_ascii=False), file=sys.stderr)
    return 0


def cmd_detect(args: argparse.Namespace) -> int:
    r = _restorer(args)
    any_spun = False
    for path in args.paths:
        rep = r.detect(_read_input(path))
        any_spun |= rep.spun
        print(f"{path}\t{rep.score:.3f}\t{'spun' if rep.spun else 'clean'}\t{rep.per_1000_words:.1f}")
    return 1 if args.check and any_spun else 0


def cmd_eval(args: argparse.Namespace) -> int:
    from .evaluate import evaluate_clean, evaluate_pair, find_pairs, read_clean

    r = _restorer(args)
    status = 0
    if args.pairs:
        pairs = find_pairs(args.pairs)
        if not pairs:
            raise DespinError(f"{args.pairs}: no NAME.spun.txt with NAME.orig.txt beside it")
        print("pair\twords\tWER before\tWER after\terror reduction\tedits\tprecision\tconf>=0.9 precision")
        for name, spun, gold in pairs:
            res = evaluate_pair(r, _read_input(spun), _read_input(gold), name)
            cp = f"{res.confident_correct / res.confident_edits:.3f} ({res.confident_edits})" if res.confident_edits else "-"
            print(
                f"{name}\t{res.words}\t{res.wer_before:.4f}\t{res.wer_after:.4f}\t"
                f"{res.error_reduction:.1%}\t{res.edits}\t{res.precision:.3f}\t{cp}"
            )
            if args.verbose:
                for before, after, conf in res.wrong:
                    print(f"  wrong: {before!r} -> {after!r} ({conf:.2f})")
    for path in args.clean or ():
        res = evaluate_clean(r, read_clean(path, args.field), os.path.basename(path))
        print(
            f"clean {res.name}: {res.documents} docs, {res.words} words, {res.edits} edits "
            f"({res.edits_per_1000:.3f} per 1,000 words), {res.changed_documents} docs changed, "
            f"{res.flagged_documents} flagged spun, max score {res.max_score:.3f}"
        )
        if args.verbose:
            for doc_id, ex in res.examples:
                print(f"  {doc_id}: {ex}")
    return status


def cmd_build_model(args: argparse.Namespace) -> int:
    from .lexicon import load_lexicon
    from .model_build import build_model

    exclude: set[str] = set()
    for path in args.exclude_ids or ():
        with open(path, encoding="utf-8") as fh:
            for line in fh:
                if line.strip():
                    try:
                        exclude.add(str(json.loads(line)["id"]))
                    except (ValueError, KeyError):
                        exclude.add(line.strip())
    lex = load_lexicon(tuple(args.lexicon or ()), True)
    summary = build_model(args.inputs, args.output, lex, args.field, exclude, args.min_count, args.quiet)
    for line in summary.lines():
        print(line, file=sys.stderr)
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="despin", description="Restore article-spun text to its original wording.")
    p.add_argument("--version", action="version", version=f"despin {__version__}")
    sub = p.add_subparsers(dest="command", required=True)

    r = sub.add_parser("restore", help="restore spun text")
    r.add_argument("paths", nargs="+", help="files, or - for stdin")
    r.add_argument("--explain", action="store_true", help="write the edits as JSON lines to stderr")
    _add_common(r)
    r.set_defaults(func=cmd_restore)

    d = sub.add_parser("detect", help="score how spun texts look")
    d.add_argument("paths", nargs="+")
    d.add_argument("--check", action="store_true", help="exit 1 if any text is spun")
    _add_common(d)
    d.set_defaults(func=cmd_detect)

    e = sub.add_parser("eval", help="evaluate against gold originals and clean text")
    e.add_argument("--pairs", metavar="DIR", help="folder with NAME.spun.txt and NAME.orig.txt")
    e.add_argument("--clean", action="append", metavar="FILE", help="clean JSONL or text file (repeatable)")
    e.add_argument("--field", default="text")
    e.add_argument("-v", "--verbose", action="store_true")
    _add_common(e)
    e.set_defaults(func=cmd_eval)

    b = sub.add_parser("build-model", help="build a context model from a clean corpus")
    b.add_argument("inputs", nargs="+", help="text files, JSONL files or folders")
    b.add_argument("-o", "--output", required=True)
    b.add_argument("--field", default="text", help="JSONL field holding the text")
    b.add_argument("--exclude-ids", action="append", metavar="JSONL", help="skip documents whose id is listed")
    b.add_argument("--min-count", type=int, default=2)
    b.add_argument("--lexicon", action="append", metavar="TSV")
    b.add_argument("-q", "--quiet", action="store_true")
    b.set_defaults(func=cmd_build_model)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except DespinError as exc:
        print(f"despin: {exc}", file=sys.stderr)
        return exc.exit_code
    except BrokenPipeError:  # pragma: no cover - e.g. piped into head
        return 0
    except OSError as exc:
        print(f"despin: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
