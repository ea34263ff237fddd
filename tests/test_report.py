"""The HTML report (despin.report_html, ``despin report``), read through a DOM
built by html5lib, the parser that follows the HTML standard as browsers do;
and the hook behind its faint spans, ``restore_and_explain(considered=True)``."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import Element

import html5lib
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import despin
from despin.cli import main
from despin.report import BANDS, report_html_documents

from support import LEXICON, SPUN, write

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "spun_news.txt"
NS = "{http://www.w3.org/1999/xhtml}"
SVG = "{http://www.w3.org/2000/svg}"
HOSTILE = '<script>alert("x")</script> & "quotes" \'single\' </textarea><img src=x onerror=alert(1)> -->'


def parse(page: str) -> Element:
    return html5lib.parse(page, treebuilder="etree", namespaceHTMLElements=True)


def find_all(root: Element, tag: str, cls: str | None = None) -> list[Element]:
    return [el for el in root.iter(NS + tag) if cls is None or cls in el.get("class", "").split()]


def find(root: Element, tag: str, cls: str | None = None) -> Element:
    found = find_all(root, tag, cls)
    assert found, (tag, cls)
    return found[0]


def text_of(el: Element, skip: str = "") -> str:
    """The text content of ``el``, leaving out elements named ``skip``."""
    parts = [el.text or ""]
    for child in el:
        if child.tag != NS + skip:
            parts.append(text_of(child, skip))
        parts.append(child.tail or "")
    return "".join(parts)


def download(root: Element) -> str:
    href = find(root, "a", "download").get("href", "")
    assert href.startswith("data:application/x-ndjson;base64,")
    return base64.b64decode(href.split(",", 1)[1]).decode("utf-8")


@pytest.fixture(scope="module")
def example() -> tuple[str, despin.Restored, Element, str]:
    text = EXAMPLE.read_text(encoding="utf-8")
    page = despin.report_html(text, "examples/spun_news.txt")
    return text, despin.restore_and_explain(text, considered=True), parse(page), page


@pytest.fixture
def hostile_lexicon(tmp_path: Path) -> str:
    """A lexicon whose file name and originals are markup, with an artifact below the threshold."""
    path = tmp_path / "lex&<b>.tsv"
    path.write_text(
        "# despin-lexicon 1\nspun\toriginal\tclass\tweight\ttags\n"
        "satellite tv for pc\t<script>alert(1)</script>\tartifact\t0.99\t\n"
        "chilly conflict\tcold war\tartifact\t0.3\t\n",
        encoding="utf-8",
    )
    return str(path)


# -- the hook: considered candidates ------------------------------------------------------------


def test_considered_is_empty_unless_asked_for() -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    assert despin.restore_and_explain(text).considered == ()
    res = despin.restore_and_explain(text, considered=True)
    assert res.text == despin.restore(text) and res.edits == despin.restore_and_explain(text).edits


def test_considered_holds_candidates_below_the_threshold(example: Any) -> None:
    text, res, _, _ = example
    assert res.considered, "the example has candidates below the threshold"
    spans = [(e.start, e.end) for e in res.edits]
    for c in res.considered:
        assert c.confidence < 0.5 and c.evidence and c.rule
        assert text[c.start : c.end] == c.before and c.after != c.before
        assert not any(a < c.end and c.start < b for a, b in spans)
    starts = [c.start for c in res.considered]
    assert starts == sorted(starts)
    assert all(a.end <= b.start for a, b in zip(res.considered, res.considered[1:], strict=False))


def test_considered_holds_protected_candidates(hostile_lexicon: str) -> None:
    r = despin.Restorer(bundled_lexicon=False, lexicons=(hostile_lexicon,), context=False,
                        protect_pattern="satellite tv for pc")
    res = r.restore_and_explain("The satellite tv for pc was launched in the chilly conflict.", considered=True)
    assert res.edits == ()
    assert [(c.before, round(c.confidence, 2)) for c in res.considered] == [
        ("satellite tv for pc", 0.99), ("chilly conflict", 0.3)]


def test_considered_is_empty_for_clean_text() -> None:
    assert despin.restore_and_explain("Nothing to restore in this sentence.", considered=True).considered == ()


# -- the page -----------------------------------------------------------------------------------


def test_every_edit_is_highlighted_with_its_evidence(example: Any) -> None:
    _, res, root, _ = example
    marks = find_all(root, "mark", "e")
    marks = [m for m in marks if m.get("id")]  # the legend's samples have none
    assert len(marks) == len(res.edits) > 10
    for n, (m, e) in enumerate(zip(marks, res.edits, strict=True), start=1):
        assert text_of(find(m, "del")) == e.before and text_of(find(m, "ins")) == e.after
        assert m.get("tabindex") == "0" and m.get("id") == f"d1-e{n}"
        tip = m.get("title", "")
        assert f"edit {n} of {len(res.edits)}, confidence {e.confidence:.2f}" in tip
        assert f"lexicon {e.rule}: " in tip and re.search(r"\.tsv:\d+", tip)
        assert f"prior {e.evidence['prior']:.3f}" in tip
        if "choice" in e.evidence:
            assert f"choice {e.evidence['choice']:.2f}" in tip
        if "context" in e.evidence:
            assert "context " in tip and "document " in tip
        band = {cls for _, cls, _ in BANDS} & set(m.get("class", "").split())
        assert band == {next(cls for low, cls, _ in BANDS if e.confidence >= low)}


def test_the_choice_among_originals_is_shown(example: Any) -> None:
    _, res, root, _ = example
    e = next(e for e in res.edits if e.before == "excessive")
    tip = next(t for m in find_all(root, "mark", "e") if "excessive" in (t := m.get("title", "")))
    assert f"choice {e.evidence['choice']:.2f}" in tip and "excessive \u2192 high | " in tip


def test_candidates_left_alone_are_shown_faintly(example: Any) -> None:
    _, res, root, _ = example
    faint = find_all(find(root, "div", "text"), "span", "k")
    assert [text_of(s) for s in faint] == [c.before for c in res.considered]
    for s, c in zip(faint, res.considered, strict=True):
        tip = s.get("title", "")
        assert f"confidence {c.confidence:.2f}, below the threshold 0.50" in tip
        assert f"{c.before} \u2192 {c.after}" in tip and c.rule in tip and s.get("tabindex") == "0"


def test_the_text_reads_back_as_the_input_and_as_the_restored_text(example: Any) -> None:
    text, res, root, _ = example
    div = find(root, "div", "text")
    assert text_of(div, skip="ins") == text
    assert text_of(div, skip="del") == res.text


def test_the_dom_stays_light(example: Any) -> None:
    """Three elements per edit (mark, del, ins), one per candidate left alone, nothing else in the text."""
    _, res, root, _ = example
    div = find(root, "div", "text")
    assert sum(1 for _ in div.iter()) - 1 == 3 * len(res.edits) + len(res.considered)


def test_the_header_gives_verdict_evidence_and_counts(example: Any) -> None:
    _, res, root, _ = example
    rep = res.report
    header = find(root, "header", "summary")
    words = " ".join(text_of(header).split())
    assert f"Spun: spin score {rep.score:.3f}" in words
    assert f"{rep.spun_forms} spun forms found ({rep.per_1000_words:.1f} per 1,000 words)" in words
    assert f"{len(res.edits)} edits" in words and f"{len(res.considered)} candidates left alone" in words
    forms = [text_of(tr[0]) for tr in find(find(header, "details", "evidence"), "tbody")]
    assert forms == [ev.form for ev in rep.evidence]


def test_the_histogram_counts_every_edit_and_candidate(example: Any) -> None:
    _, res, root, _ = example
    svg = next(root.iter(SVG + "svg"))
    titles = [t.text or "" for t in svg.iter(SVG + "title")]
    assert len(titles) == 10
    made = sum(int(re.search(r": (\d+) edits", t).group(1)) for t in titles)  # type: ignore[union-attr]
    left = sum(int(re.search(r", (\d+) left alone", t).group(1)) for t in titles)  # type: ignore[union-attr]
    assert (made, left) == (len(res.edits), len(res.considered))
    assert "threshold 0.50" in svg.get("aria-label", "")


def test_restored_text_and_explanation_download(example: Any) -> None:
    text, res, root, _ = example
    assert text_of(find(root, "textarea")) == res.text
    assert find(root, "textarea").get("readonly") is not None
    lines = [json.loads(line) for line in download(root).splitlines()]
    assert [ln["path"] for ln in lines] == ["examples/spun_news.txt"] * len(res.edits)
    assert lines == [{"path": "examples/spun_news.txt", "line": None, **e.to_dict()} for e in res.edits]
    assert despin.apply_edits(text, lines) == res.text


def test_the_page_asks_for_nothing_over_the_network(example: Any) -> None:
    _, _, root, page = example
    assert not find_all(root, "script") and not find_all(root, "link") and not find_all(root, "iframe")
    for el in root.iter():
        for attr in ("src", "href", "action", "srcset", "poster", "data"):
            value = el.get(attr)
            assert value is None or value.startswith(("#", "data:")), (el.tag, attr, value)
    css = "".join(text_of(s) for s in find_all(root, "style"))
    assert "url(" not in css and "@import" not in css and "@font-face" not in css
    csp = [m.get("content", "") for m in find_all(root, "meta") if m.get("http-equiv") == "Content-Security-Policy"]
    assert csp and "default-src 'none'" in csp[0]
    assert "http://" not in page and "https://" not in page


def test_markup_in_the_input_is_escaped(hostile_lexicon: str) -> None:
    text = f"{HOSTILE}\nThe satellite tv for pc rose in the chilly conflict. {HOSTILE}\n"
    name = 'evil<script>alert(2)</script>".txt'
    page = despin.report_html(text, name, bundled_lexicon=False, lexicons=(hostile_lexicon,), context=False)
    root = parse(page)
    assert not find_all(root, "script") and not find_all(root, "img")
    assert len(find_all(root, "textarea")) == 1
    for el in root.iter():
        assert not any(k.lower().startswith("on") for k in el.attrib), (el.tag, el.attrib)
    res = despin.restore_and_explain(text, bundled_lexicon=False, lexicons=(hostile_lexicon,), context=False)
    assert "<script>alert(1)</script>" in res.text
    div = find(root, "div", "text")
    assert text_of(div, skip="ins") == text and text_of(div, skip="del") == res.text
    assert text_of(find(root, "textarea")) == res.text
    assert text_of(find(root, "title")) == f"despin report: {name}"
    mark = find(div, "mark", "e")
    assert "lex&<b>.tsv:3" in mark.get("title", "") and "<script>alert(1)</script>" in mark.get("title", "")
    assert "chilly conflict" in find(div, "span", "k").get("title", "")
    assert despin.apply_edits(text, [json.loads(ln) for ln in download(root).splitlines()]) == res.text


_TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\x00"), max_size=60)


@pytest.fixture(scope="session")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> despin.Restorer:
    """The command-line test lexicon and an artifact below the threshold."""
    path = write(tmp_path_factory.mktemp("lexicon") / "lex.tsv", LEXICON + "stated\tsaid\tartifact\t0.2\t\n")
    return despin.Restorer(bundled_lexicon=False, lexicons=(str(path),), context=False)


@settings(max_examples=60, deadline=None)
@given(parts=st.lists(st.one_of(_TEXT, st.sampled_from(["satellite tv for pc", "chilly conflict", "stated", "<",
                                                         "&", '"', "</div>", "<!--", "]]>", "\n\n"])), max_size=12))
def test_any_text_reads_back_exactly(tiny: despin.Restorer, parts: list[str]) -> None:
    text = " ".join(parts)
    r = tiny
    root = parse(report_html_documents([(text, text)], restorer=r))
    res = r.restore_and_explain(text, considered=True)
    div = find(root, "div", "text")
    assert text_of(div, skip="ins") == text and text_of(div, skip="del") == res.text
    assert text_of(find(root, "textarea")) == res.text
    assert not find_all(root, "script")


def test_several_documents_share_one_page_with_an_index(example: Any) -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    page = report_html_documents([("a.txt", text), ("b.txt", "Nothing to restore here."), ("c.txt", "")])
    root = parse(page)
    index = find(root, "nav", "index")
    assert [a.get("href") for a in find_all(index, "a")] == ["#d1", "#d2", "#d3"]
    rows = [[" ".join(text_of(td).split()) for td in tr] for tr in find(index, "tbody")]
    assert [r[:2] for r in rows] == [["a.txt", "spun"], ["b.txt", "not spun"], ["c.txt", "not spun"]]
    assert [a.get("id") for a in find_all(root, "article")] == ["d1", "d2", "d3"]
    ids = [el.get("id") for el in root.iter() if el.get("id")]
    assert len(ids) == len(set(ids))
    assert len([m for m in find_all(root, "mark", "e") if m.get("id")]) == len(despin.restore_and_explain(text).edits)


def test_the_module_docstring_example() -> None:
    import doctest

    import despin.report

    result = doctest.testmod(despin.report, verbose=False)
    assert result.attempted >= 1 and result.failed == 0


def test_an_empty_text_gives_a_page() -> None:
    root = parse(despin.report_html(""))
    assert text_of(find(root, "div", "text")) == "" and text_of(find(root, "textarea")) == ""
    assert "Not spun" in text_of(find(root, "header", "summary"))
    assert download(root) == ""


# -- the command --------------------------------------------------------------------------------


def test_cli_writes_one_page(tmp_path: Path, cli: Any, capsys: pytest.CaptureFixture[str]) -> None:
    src = write(tmp_path / "page.txt", SPUN)
    assert cli("report", str(src), "-o", "out.html") == 0
    root = parse((tmp_path / "out.html").read_text(encoding="utf-8"))
    assert [text_of(find(m, "ins")) for m in find_all(root, "mark", "e") if m.get("id")] == ["satellite", "cold war"]
    assert "reported 1 document" in capsys.readouterr().err


def test_cli_writes_a_page_per_input_into_a_folder(tmp_path: Path, cli: Any) -> None:
    write(tmp_path / "a" / "one.txt", SPUN)
    write(tmp_path / "b.txt", "Nothing to restore.\n")
    assert cli("report", "a/one.txt", "b.txt", "-o", "pages/", "-q") == 0
    assert sorted(p.name for p in (tmp_path / "pages").iterdir()) == ["b.html", "one.html"]
    assert not find_all(parse((tmp_path / "pages" / "one.html").read_text(encoding="utf-8")), "nav")


def test_cli_several_inputs_to_stdout_with_an_index(tmp_path: Path, cli: Any,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    write(tmp_path / "a.txt", SPUN)
    write(tmp_path / "b.txt", "Nothing to restore.\n")
    assert cli("report", "a.txt", "b.txt", "--title", "Two <pages>") == 0
    root = parse(capsys.readouterr().out)
    assert text_of(find(root, "title")) == "Two <pages>" and find_all(root, "nav", "index")


def test_cli_never_overwrites_an_input(tmp_path: Path, cli: Any) -> None:
    src = write(tmp_path / "page.txt", SPUN)
    assert cli("report", "page.txt", "-o", "page.txt") == 2
    assert src.read_text(encoding="utf-8") == SPUN


def test_cli_reports_unreadable_inputs_and_goes_on(tmp_path: Path, cli: Any,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    write(tmp_path / "bad.txt", b"caf\xe9 satellite tv for pc")
    write(tmp_path / "good.txt", SPUN)
    assert cli("report", "bad.txt", "missing.txt", "good.txt", "-o", "r.html") == 3
    err = capsys.readouterr().err
    assert "bad.txt: invalid UTF-8" in err and "missing.txt" in err
    assert find_all(parse((tmp_path / "r.html").read_text(encoding="utf-8")), "article")
    assert cli("report", "bad.txt", "-o", "r2.html", "--errors", "replace") == 0


def test_cli_reads_stdin(tmp_path: Path, lexicon: Path, monkeypatch: pytest.MonkeyPatch,
                         capsys: pytest.CaptureFixture[str]) -> None:
    import io

    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(SPUN.encode("utf-8"))))
    assert main(["report", "-", "--lexicon", str(lexicon), "--no-bundled-lexicon", "-q"]) == 0
    root = parse(capsys.readouterr().out)
    assert text_of(find(root, "div", "text"), skip="ins") == SPUN


def test_characters_no_page_can_hold_are_replaced() -> None:
    text = "a \ud800 satellite tv for pc \x00 b"
    page = despin.report_html(text, "x\x00.txt")
    root = parse(page.encode("utf-8").decode("utf-8"))
    assert text_of(find(root, "div", "text"), skip="ins") == "a \ufffd satellite tv for pc \ufffd b"
    lines = [json.loads(ln) for ln in download(root).splitlines()]
    assert despin.apply_edits(text, lines) == despin.restore(text)
