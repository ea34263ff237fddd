"""An investigator's report: one self-contained HTML page that shows what was
spun, what it was, and why despin thinks so.

The page makes no network request (inline CSS and SVG, system fonts, no
script; a Content-Security-Policy forbids anything else) and works without
JavaScript: the evidence of every span is in its ``title`` attribute, shown
as a tooltip on hover and as a box on focus (click or Tab), and the
highlighting combines a single-hue lightness scale with an underline style,
so it reads without colour and in print. Every piece of the input is
HTML-escaped.

>>> page = report_html("The satellite tv for pc was launched.")
>>> page.startswith("<!DOCTYPE html>") and "satellite tv for pc" in page
True
"""

from __future__ import annotations

import base64
import html
import json
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .config import Config
from .detection import SpinReport
from .edits import Edit
from .lexicon import Entry
from .restorer import Restored, Restorer

__all__ = ["BANDS", "report_html", "report_html_documents"]

#: Confidence bands of the highlighting: (lower bound, CSS class, label), highest first.
BANDS: tuple[tuple[float, str, str], ...] = (
    (0.9, "c4", "0.9 and above"),
    (0.75, "c3", "0.75 to 0.9"),
    (0.6, "c2", "0.6 to 0.75"),
    (0.0, "c1", "below 0.6"),
)
_BINS = 10  # histogram bins over [0, 1]
_TOP_FORMS = 8  # forms named in the header line; the table lists them all
_UNSHOWABLE_RE = re.compile("[\x00\ud800-\udfff]")  # NUL and lone surrogates: shown as U+FFFD


@dataclass(frozen=True)
class _Doc:
    """One analysed text of a report."""

    key: str  # "d1", "d2", ...: prefixes the ids of its elements
    name: str
    text: str
    result: Restored
    threshold: float


# -- public API ----------------------------------------------------------------------------------


def report_html(text: str, name: str = "text", *, restorer: Restorer | None = None, **options: Any) -> str:
    """The HTML report of one text, as a complete page.

    ``name`` heads the page and is the ``path`` of the explanation lines it
    offers for download. Options are :class:`~despin.Config` fields (or pass a
    ``restorer``).
    """
    return report_html_documents([(name, text)], restorer=restorer, **options)


def report_html_documents(
    documents: Iterable[tuple[str, str]],
    title: str | None = None,
    *,
    restorer: Restorer | None = None,
    **options: Any,
) -> str:
    """One HTML page reporting on several ``(name, text)`` documents, with an
    index of them first when there are more than one."""
    r = restorer if restorer is not None else Restorer(Config().replace(**options))
    docs = [_analyse(r, f"d{k}", name, text) for k, (name, text) in enumerate(documents, start=1)]
    entries = {e.source: e for e in r.lexicon.entries}
    if title is None:
        title = f"despin report: {docs[0].name}" if len(docs) == 1 else f"despin report: {len(docs)} documents"
    body = [f"<h1>{_esc(title)}</h1>"]
    if not docs:
        body.append("<p>No documents.</p>")
    if len(docs) > 1:
        body.append(_index(docs))
    body.extend(_document(d, entries, heading=len(docs) > 1) for d in docs)
    return _page(title, "\n".join(body))


# -- analysis ------------------------------------------------------------------------------------


def _analyse(r: Restorer, key: str, name: str, text: str) -> _Doc:
    return _Doc(key, name, text, r.restore_and_explain(text, considered=True), r.config.threshold)


def _band(confidence: float) -> str:
    return next(cls for low, cls, _ in BANDS if confidence >= low)


# -- page ----------------------------------------------------------------------------------------


def _esc(s: str) -> str:
    """``s`` as HTML text or attribute value (NUL and lone surrogates, which no page can hold, as U+FFFD)."""
    return html.escape(_UNSHOWABLE_RE.sub("\ufffd", s), quote=True)


def _page(title: str, body: str) -> str:
    return (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        "<meta http-equiv=\"Content-Security-Policy\" "
        "content=\"default-src 'none'; style-src 'unsafe-inline'\">\n"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        "<meta name=\"generator\" content=\"despin\">\n"
        f"<title>{_esc(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n{body}\n</body>\n</html>\n"
    )


def _index(docs: Sequence[_Doc]) -> str:
    rows = "".join(
        f"<tr><td><a href=\"#{d.key}\">{_esc(d.name)}</a></td><td>{_verdict_word(d.result.report)}</td>"
        f"<td class=\"num\">{d.result.report.score:.3f}</td><td class=\"num\">{d.result.report.words:,}</td>"
        f"<td class=\"num\">{len(d.result.edits):,}</td><td class=\"num\">{len(d.result.considered):,}</td></tr>"
        for d in docs
    )
    return (
        "<nav class=\"index\" aria-label=\"documents\"><h2>Documents</h2><table><thead><tr><th>document</th>"
        "<th>verdict</th><th>spin score</th><th>words</th><th>edits</th><th>left alone</th></tr></thead>"
        f"<tbody>{rows}</tbody></table></nav>"
    )


def _document(d: _Doc, entries: Mapping[str, Entry], heading: bool) -> str:
    h2 = f"<h2>{_esc(d.name)}</h2>\n" if heading else ""
    return (
        f"<article class=\"doc\" id=\"{d.key}\">\n{h2}{_summary(d)}\n"
        f"{_annotated(d, entries)}\n{_edit_groups(d, entries)}\n{_restored_section(d)}\n</article>"
    )


# -- header: verdict, evidence, histogram -------------------------------------------------------


def _verdict_word(report: SpinReport) -> str:
    return "spun" if report.spun else "not spun"


def _summary(d: _Doc) -> str:
    rep = d.result.report
    verdict = (
        f"<p class=\"verdict {'spun' if rep.spun else 'clean'}\"><strong>{_verdict_word(rep).capitalize()}</strong>"
        f": spin score {rep.score:.3f} (spun from {rep.threshold:.2f})</p>"
    )
    facts = (
        f"<p class=\"facts\">{rep.words:,} words; {rep.spun_forms:,} spun forms found "
        f"({rep.per_1000_words:.1f} per 1,000 words), {rep.artifacts:,} of them artifacts; "
        f"evidence {rep.llr:.1f} nats. <strong>{len(d.result.edits):,} edits</strong> "
        f"at confidence {d.threshold:.2f} or more; {len(d.result.considered):,} candidates left alone.</p>"
    )
    return (
        f"<header class=\"summary\">{verdict}{facts}<div class=\"panels\">{_histogram(d)}"
        f"{_legend()}</div>{_evidence_table(rep)}</header>"
    )


def _histogram(d: _Doc) -> str:
    """An inline SVG bar chart of the confidences: edits solid, candidates left alone hollow."""
    made = _bin_counts(e.confidence for e in d.result.edits)
    left = _bin_counts(e.confidence for e in d.result.considered)
    top = max([m + k for m, k in zip(made, left, strict=True)] + [1])
    w, h, bar, y0 = 24, 76, 20, 14  # per-bin width, plot height, bar width, plot top
    parts = []
    for i, (m, k) in enumerate(zip(made, left, strict=True)):
        x = 30 + i * w
        hm, hk = h * m / top, h * k / top
        lo, hi = i / _BINS, (i + 1) / _BINS
        tip = f"confidence {lo:.1f} to {hi:.1f}: {m} edits, {k} left alone"
        parts.append(
            f"<g><title>{tip}</title>"
            f"<rect class=\"made\" x=\"{x}\" y=\"{y0 + h - hm:.1f}\" width=\"{bar}\" height=\"{hm:.1f}\"/>"
            f"<rect class=\"left\" x=\"{x + .5}\" y=\"{y0 + h - hm - hk + .5:.1f}\" width=\"{bar - 1}\" "
            f"height=\"{max(hk - 1, 0):.1f}\"/>"
            + (f"<text x=\"{x + bar / 2}\" y=\"{y0 - 3 + h - hm - hk:.1f}\">{m + k}</text>" if m + k else "")
            + "</g>"
        )
    tx = 30 + d.threshold * _BINS * w - (w - bar) / 2
    label = (f"Confidence of {len(d.result.edits)} edits (solid) and {len(d.result.considered)} candidates "
             f"left alone (hollow); threshold {d.threshold:.2f} (dashed)")
    return (
        f"<figure class=\"hist\"><svg viewBox=\"0 0 280 110\" width=\"280\" height=\"110\" role=\"img\" "
        f"aria-label=\"{_esc(label)}\">{''.join(parts)}"
        f"<line class=\"axis\" x1=\"28\" y1=\"{y0 + h}\" x2=\"272\" y2=\"{y0 + h}\"/>"
        f"<line class=\"thr\" x1=\"{tx:.1f}\" y1=\"{y0 - 8}\" x2=\"{tx:.1f}\" y2=\"{y0 + h + 2}\"/>"
        f"<text x=\"28\" y=\"104\">0</text><text x=\"150\" y=\"104\">0.5</text><text x=\"268\" y=\"104\">1</text>"
        f"</svg><figcaption>{_esc(label)}</figcaption></figure>"
    )


def _bin_counts(confidences: Iterable[float]) -> list[int]:
    counts = [0] * _BINS
    for c in confidences:
        counts[min(int(c * _BINS), _BINS - 1)] += 1
    return counts


def _legend() -> str:
    """How to read the highlighting, and (on screen) what the evidence numbers are."""
    bands = "".join(f"<li><mark class=\"e {cls}\"><ins>edit</ins></mark> confidence {label}</li>"
                    for _, cls, label in BANDS)
    key = "".join(f"<dt>{k}</dt><dd>{_esc(v)}</dd>" for k, v in _EVIDENCE_KEY)
    return (
        "<div class=\"legend\"><p>Spun wording is struck through, the restored wording follows it. "
        "Darker shading and a heavier underline mean more confidence:</p>"
        f"<ul>{bands}<li><span class=\"k\">faint</span> candidate left alone (below the threshold, "
        "or protected)</li></ul>"
        "<p class=\"screen\">Hover over a span for its evidence, or focus it (click, or Tab).</p>"
        "<details class=\"screen\"><summary>What the evidence numbers mean</summary>"
        f"<dl class=\"key\">{key}</dl></details></div>"
    )


def _evidence_table(rep: SpinReport) -> str:
    if not rep.evidence:
        return "<p class=\"facts\">No spun forms found.</p>"
    named = ", ".join(f"{_esc(ev.form)} ({ev.count})" for ev in rep.evidence[:_TOP_FORMS])
    more = f" and {len(rep.evidence) - _TOP_FORMS:,} more" if len(rep.evidence) > _TOP_FORMS else ""
    rows = "".join(
        f"<tr><td>{_esc(ev.form)}</td><td>{_esc(ev.original)}</td><td class=\"num\">{ev.count}</td>"
        f"<td>{_esc(ev.klass)}</td></tr>"
        for ev in rep.evidence
    )
    return (
        f"<details class=\"evidence\"><summary>The evidence: {len(rep.evidence):,} spun forms, most frequent "
        f"first: {named}{more}</summary><table><thead><tr><th>form found</th><th>its original</th><th>count</th>"
        f"<th>class</th></tr></thead><tbody>{rows}</tbody></table></details>"
    )


# -- the text ------------------------------------------------------------------------------------


def _annotated(d: _Doc, entries: Mapping[str, Entry]) -> str:
    """The text with every edit and every candidate left alone marked up."""
    spans = sorted([(e, True) for e in d.result.edits] + [(e, False) for e in d.result.considered],
                   key=lambda p: p[0].start)
    out: list[str] = []
    pos = 0
    n = 0
    for e, made in spans:
        if e.start < pos:  # never overlapping; guard anyway
            continue
        out.append(_esc(d.text[pos : e.start]))
        if made:
            n += 1
            out.append(_edit_span(d, e, n, entries))
        else:
            out.append(_left_span(d, e, entries))
        pos = e.end
    out.append(_esc(d.text[pos:]))
    return (
        f"<section class=\"annotated\" aria-label=\"the text\"><h3>The text</h3>"
        f"<span class=\"view\">Show:</span> {_view_switch(d.key)}<div class=\"text\">{''.join(out)}</div></section>"
    )


def _view_switch(key: str) -> str:
    """Radio buttons that show the text with both wordings, the spun one or the restored one (by CSS alone:
    they precede the text, so ``.v-spun:checked ~ .text`` selects it)."""
    return "".join(
        f"<input type=\"radio\" name=\"{key}-view\" id=\"{key}-{v}\" class=\"v-{v}\"{checked}>"
        f"<label for=\"{key}-{v}\">{label}</label>"
        for v, label, checked in (("both", "both", " checked"), ("spun", "spun text", ""),
                                  ("restored", "restored text", ""))
    )


def _edit_span(d: _Doc, e: Edit, n: int, entries: Mapping[str, Entry]) -> str:
    tip = _tip(d, e, True, entries, f"edit {n} of {len(d.result.edits)}")
    return (
        f"<mark class=\"e {_band(e.confidence)}\" id=\"{d.key}-e{n}\" tabindex=\"0\" data-c=\"{e.confidence:.2f}\" "
        f"title=\"{_esc(tip)}\"><del>{_esc(e.before)}</del><ins>{_esc(e.after)}</ins></mark>"
    )


def _left_span(d: _Doc, e: Edit, entries: Mapping[str, Entry]) -> str:
    tip = _tip(d, e, False, entries, "left alone")
    return f"<span class=\"k\" tabindex=\"0\" title=\"{_esc(tip)}\">{_esc(e.before)}</span>"


def _tip(d: _Doc, e: Edit, made: bool, entries: Mapping[str, Entry], head: str) -> str:
    """The evidence of one span, as plain lines (for its ``title``)."""
    if made:
        status = f"{head}, confidence {e.confidence:.2f} (threshold {d.threshold:.2f})"
    elif e.confidence < d.threshold:
        status = f"{head}: confidence {e.confidence:.2f}, below the threshold {d.threshold:.2f}"
    else:
        status = f"{head}: confidence {e.confidence:.2f}, but protected (quotation, name, pattern or address)"
    entry = entries.get(e.rule)
    where = f"lexicon {e.rule}: {_entry_text(entry)}" if entry is not None else f"rule: {e.rule}"
    return "\n".join((status, f"{e.before} \u2192 {e.after} ({e.reason})", _evidence_text(e), where))


# What each evidence number is, for the page's key; the formats of the numbers.
_EVIDENCE_KEY = (
    ("prior", "the lexicon entry's weight: how often this form is spinner output in a spun text"),
    ("context", "nats of evidence from the neighbouring words for the original over the form"),
    ("document", "the spin score of the whole text"),
    ("unspun", "nats against: the original also appears unspun in the text"),
    ("choice", "the chance that this original, of those the entry lists, is the right one"),
)
_EVIDENCE_FORMATS = {"prior": "prior {:.3f}", "context": "context {:+.2f} nats", "document": "document {:.3f}",
                     "unspun_original": "unspun {:+.2f} nats", "choice": "choice {:.2f}"}


def _evidence_text(e: Edit) -> str:
    return " \u00b7 ".join(_EVIDENCE_FORMATS.get(k, k + " {:.4g}").format(v) for k, v in e.evidence.items())


def _entry_text(entry: Entry) -> str:
    return f"{entry.spun} \u2192 {' | '.join(entry.originals)} ({entry.klass}, weight {entry.weight:g})"


# -- edits by entry ------------------------------------------------------------------------------


def _edit_groups(d: _Doc, entries: Mapping[str, Entry]) -> str:
    """A table of the edits grouped by lexicon entry, most frequent first."""
    if not d.result.edits:
        return ""
    groups: dict[str, list[tuple[int, Edit]]] = {}
    for n, e in enumerate(sorted(d.result.edits, key=lambda e: e.start), start=1):
        groups.setdefault(e.rule, []).append((n, e))
    left = Counter(e.rule for e in d.result.considered)
    rows = []
    for rule, items in sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[1][0][0])):
        first, e = items[0]
        confs = [x.confidence for _, x in items]
        entry = entries.get(rule)
        rng = f"{min(confs):.2f}" if len(items) == 1 else f"{min(confs):.2f}\u2013{max(confs):.2f}"
        rows.append(
            f"<tr><td class=\"num\">{len(items)}</td><td class=\"num\">{left.get(rule, 0)}</td>"
            f"<td><a href=\"#{d.key}-e{first}\">{_esc(e.before)} \u2192 {_esc(e.after)}</a></td>"
            f"<td class=\"num\">{rng}</td><td>{_esc(e.reason)}</td>"
            f"<td><code>{_esc(rule)}</code>{': ' + _esc(_entry_text(entry)) if entry else ''}</td></tr>"
        )
    return (
        f"<details class=\"groups\" open><summary>Edits by lexicon entry ({len(groups):,} entries)</summary>"
        "<table><thead><tr><th>edits</th><th>left alone</th><th>first edit</th><th>confidence</th>"
        f"<th>reason</th><th>lexicon entry</th></tr></thead><tbody>{''.join(rows)}</tbody></table></details>"
    )


# -- restored text and explanation ---------------------------------------------------------------


def _restored_section(d: _Doc) -> str:
    data = base64.b64encode(_explanation_jsonl(d.name, d.result.edits)).decode("ascii")
    stem = re.split(r"[\\/]", d.name)[-1] or "text"
    return (
        f"<section class=\"restored\" aria-label=\"restored text\"><h3>Restored text</h3>"
        # the parser drops one newline right after <textarea>: this one, not the text's own
        f"<textarea readonly rows=\"{_rows(d.result.text)}\" aria-label=\"restored text of {_esc(d.name)}\">\n"
        f"{_esc(d.result.text)}</textarea><p><a class=\"download\" download=\"{_esc(stem)}.explain.jsonl\" "
        f"href=\"data:application/x-ndjson;base64,{data}\">Download the explanation</a> "
        f"({len(d.result.edits):,} edits as JSON lines, as <code>despin restore --explain</code> writes them; "
        f"<code>despin.apply_edits</code> replays them on the text).</p></section>"
    )


def _rows(text: str) -> int:
    """Rows for a textarea showing ``text``: about its lines at 100 characters each, 3 to 15."""
    return max(3, min(15, len(text) // 100 + text.count("\n") + 1))


def _explanation_jsonl(name: str, edits: Sequence[Edit]) -> bytes:
    """The explanation lines ``despin restore --explain`` writes for one document."""
    out = []
    for e in edits:
        record: dict[str, Any] = {"path": name, "line": None}
        record.update(e.to_dict())
        try:
            out.append((json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8"))
        except UnicodeEncodeError:  # lone surrogates: escaped, as --explain does
            out.append((json.dumps(record) + "\n").encode("ascii"))
    return b"".join(out)


# -- style ---------------------------------------------------------------------------------------

# A single-hue (blue) lightness scale, readable for every kind of colour
# vision, doubled by the underline: dotted, dashed, solid, heavy solid.
_CSS = """
:root{--ink:#1b1b1b;--muted:#555;--line:#c8c8c8;--c1:#eaf2fa;--c2:#d3e4f4;--c3:#b3d2ec;--c4:#8fbee4;--u:#08306b}
*{box-sizing:border-box}
body{margin:0 auto;max-width:62rem;padding:1rem 1.25rem 3rem;color:var(--ink);background:#fff;
font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
h1{font-size:1.4rem;margin:.5rem 0 1rem}h2{font-size:1.25rem;margin:1.5rem 0 .5rem;border-top:2px solid var(--ink);
padding-top:.75rem}h3{font-size:1.05rem;margin:1.25rem 0 .5rem}
table{border-collapse:collapse;font-size:.875rem;margin:.5rem 0}th,td{border-bottom:1px solid var(--line);
padding:.2rem .5rem;text-align:left;vertical-align:top}td.num{text-align:right;font-variant-numeric:tabular-nums}
.verdict{font-size:1.15rem;margin:.25rem 0}.verdict.spun strong{color:#8c2d04}.facts{margin:.25rem 0}
.panels{display:flex;flex-wrap:wrap;gap:1rem 2rem;align-items:flex-start;margin:.5rem 0}
.hist{margin:0}.hist figcaption{font-size:.8rem;color:var(--muted);max-width:280px}
.hist rect.made{fill:#2166ac}.hist rect.left{fill:#fff;stroke:#2166ac;stroke-dasharray:2 1.5}
.hist text{font-size:9px;text-anchor:middle;fill:var(--ink)}.hist .axis{stroke:var(--ink)}
.hist .thr{stroke:#8c2d04;stroke-dasharray:3 2;stroke-width:1.5}
.legend{font-size:.85rem;max-width:34rem}.key{display:grid;grid-template-columns:auto 1fr;gap:0 .6rem;margin:.3rem 0}
.key dt{font-weight:600}.key dd{margin:0}.legend p{margin:.2rem 0}.legend ul{margin:.2rem 0;padding-left:1.2rem}
details summary{cursor:pointer}.evidence,.groups{margin:.5rem 0}
.text{position:relative;white-space:pre-wrap;overflow-wrap:break-word;font:17px/1.75 Georgia,"Times New Roman",serif;
border:1px solid var(--line);padding:1rem 1.25rem;border-radius:4px}
mark.e,span.k{color:inherit}
mark.e{background:none;border-bottom:2px dotted var(--u)}
mark.e ins{background:var(--c1);padding:0 .1em}
mark.c2{border-bottom:2px dashed var(--u)}mark.c2 ins{background:var(--c2)}
mark.c3{border-bottom:2px solid var(--u)}mark.c3 ins{background:var(--c3)}
mark.c4{border-bottom:3px solid var(--u)}mark.c4 ins{background:var(--c4);font-weight:600}
mark.e del{color:var(--muted);text-decoration:line-through}
mark.e del::after{content:"\\2192";display:inline-block;padding:0 .15em;color:var(--muted)}
mark.e ins{text-decoration:none}
span.k{border-bottom:1px dotted #8a8a8a;color:#3a3a3a}
mark.e:focus,span.k:focus{outline:2px solid #8c2d04;outline-offset:1px}
mark.e:focus::after,span.k:focus::after{content:attr(title);position:absolute;left:.75rem;right:.75rem;top:auto;
margin-top:2em;z-index:5;white-space:pre-line;background:#fff;color:var(--ink);
border:1px solid var(--ink);border-radius:4px;padding:.45rem .6rem;box-shadow:0 2px 8px rgba(0,0,0,.25);
font:400 13px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif}
.annotated>label,.view{font-size:.85rem}.annotated>label{margin:0 .75rem 0 .2rem}
.v-spun:checked~.text ins,.v-restored:checked~.text del{display:none}
.v-spun:checked~.text del{color:inherit;text-decoration:none}
.v-spun:checked~.text del::after{content:none}
.restored textarea{width:100%;font:14px/1.5 Georgia,"Times New Roman",serif;padding:.5rem}
.index table{font-size:.9rem}
@media print{
body{max-width:none;padding:0;font-size:11pt}
.view,.annotated>input,.annotated>label,.restored,.screen{display:none}
.text{border:0;padding:0;font-size:11pt}
mark.e,span.k{-webkit-print-color-adjust:exact;print-color-adjust:exact}
.text mark.e::after{content:" [" attr(data-c) "]";font-size:.75em;color:var(--muted);font-weight:400}
details>summary{list-style:none}.doc+.doc>h2{break-before:page}
}
"""
