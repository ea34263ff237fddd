"""despin learn: alignment, substitutions, counts, inflections, rows, the command."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import despin
from despin.cli import main
from despin.errors import InputError
from despin.learn import Pair, align_pair, inflections, learn, parse_where, read_pairs, split_block, substitutions
from despin.lexicon import parse_lexicon_file


def _subs(spun: str, orig: str) -> list[tuple[str, str]]:
    al = align_pair(Pair("p", spun, orig))
    return [(" ".join(s.spun), " ".join(s.orig)) for s in substitutions([al])]


@pytest.mark.parametrize(
    "spun,orig,expected",
    [
        ("The officers stated on Monday.", "The officials said on Monday.",
         [("officers", "officials"), ("stated", "said")]),
        # a phrase for a word, and a word for a phrase
        ("They closed eating places in the city.", "They closed restaurants in the city.",
         [("eating places", "restaurants")]),
        # one side empty: joined to the unchanged word beside it
        ("Quarterly gross sales rose again.", "Quarterly sales rose again.", [("gross sales", "sales")]),
        # capitals inside a name are kept as written
        ("Shares of Pink Lobster fell.", "Shares of Red Lobster fell.", [("Pink", "Red")]),
        # nothing changed, nothing learned
        ("The plan was approved.", "The plan was approved.", []),
    ],
)
def test_substitutions_of_small_pairs(spun, orig, expected):
    assert _subs(spun, orig) == expected


def test_a_block_is_cut_into_known_pieces():
    def known(s, o):
        return {(("corporate",), ("company",)): 5, (("stated",), ("said",)): 9}.get((s, o), 0)

    assert split_block(("corporate", "stated"), ("company", "said"), known) == [(0, 1, 0, 1), (1, 2, 1, 2)]
    # unknown and of unequal length: kept whole
    assert split_block(("in", "contrast"), ("compared",), lambda s, o: 0) == [(0, 2, 0, 1)]


def test_alignment_leaves_out_edition_differences():
    spun = "\n".join([
        "The corporate stated on Monday that gross sales rose.",
        "An editor added this whole sentence to one edition only.",
        "Shares of the firm fell 5% in prolonged buying and selling.",
    ])
    orig = "\n".join([
        "The company said on Monday that sales rose.",
        "Shares of the company fell 5% in extended trading.",
        "A closing line that only the original has.",
    ])
    al = align_pair(Pair("p", spun, orig))
    assert len(al.lines) == 2
    assert al.unmatched == 1
    assert {al.lines[0].text, al.lines[1].text} == {spun.splitlines()[0], spun.splitlines()[2]}
    # a matched line that was rewritten by an editor, not spun, is left out too
    edited = align_pair(Pair("q", "The firm said it would close eleven stores across the region next spring.",
                             "Officials gave no reason for the decision on Thursday."))
    assert edited.lines == () and edited.unmatched + edited.too_different == 1


def test_alignment_offsets_point_into_the_spun_text():
    spun = "First line here.\r\n\nSecond stated line.\n"
    al = align_pair(Pair("p", spun, "First line here.\n\nSecond said line.\n"))
    for la in al.lines:
        assert spun[la.offset : la.offset + len(la.text)] == la.text


@pytest.mark.parametrize(
    "orig,spun,expected",
    [
        (("averted",), ("avoided",), [(("avert",), ("avoid",)), (("averting",), ("avoiding",)),
                                      (("averts",), ("avoids",))]),
        (("restaurants",), ("eating", "places"), [(("restaurant",), ("eating", "place"))]),
        (("filing",), ("submitting",), [(("file",), ("submit",)), (("filed",), ("submitted",)),
                                        (("files",), ("submits",))]),
        # auxiliaries head no phrase whose inflections are swapped alike
        (("were",), ("had", "been"), []),
        # words that do not inflect alike give nothing
        (("but",), ("however",), []),
    ],
)
def test_inflections(orig, spun, expected):
    assert inflections(orig, spun) == expected


PAIRS = [
    Pair("a1", "The corporate stated sales rose.\nShares of Pink Lobster fell, and it averted a strike.",
         "The company said sales rose.\nShares of Red Lobster fell, and it avoided a strike.", "a"),
    Pair("b1", "The corporate stated profits fell.\nThe firm stated it was averting layoffs.",
         "The company said profits fell.\nThe company said it was avoiding layoffs.", "b"),
    Pair("c1", "Officials said nothing.\nThe corporate stated its case.",
         "Officials said nothing.\nThe company said its case.", "c"),
]


def _rows(result):
    return {r[0]: r for r in result.rows}


def test_learn_counts_rewrites_and_what_was_left_alone():
    result = learn(PAIRS, generalise=False)
    maps = {(" ".join(m.original), " ".join(m.spun), m.name): m for m in result.mappings}
    said = maps[("said", "stated", False)]
    assert said.rewritten == 4
    assert said.kept == 1  # "Officials said nothing." was left alone
    assert said.rate == pytest.approx(4.5 / 6)
    assert maps[("company", "corporate", False)].rewritten == 3
    assert ("Red", "Pink", True) in maps  # learned inside a name, as written
    rows = _rows(result)
    assert rows["stated"][1] == "said"
    assert rows["firm"][1] == "company"
    assert "name" in rows["Pink"][4].split(",")
    assert 0.5 < rows["stated"][3] <= 0.99


def test_learn_generalises_to_other_inflections_and_reports_it():
    result = learn(PAIRS)
    rows = _rows(result)
    assert rows["avert"][1] == "avoid" and "inflected" in rows["avert"][4]
    assert "inflected" not in rows["averted"][4]
    report = result.report_text()
    assert "## generalised" in report and "avoid\tavert\t<- avoided -> averted" in report


def test_learn_rejects_with_reasons():
    pairs = [Pair("n", "It rose 5 percent to 12 million in the quarter.",
                  "It rose 6 percent to 12 million in the quarter.", "n"),
             Pair("r", "The tiny zymurgy plan was approved.", "The tiny brewing plan was approved.", "r")]
    result = learn(pairs)
    reasons = {(r.original, r.spun): r.reason for r in result.rejected}
    assert reasons[("6", "5")] == "number"
    assert not any(row[0] == "5" for row in result.rows)


def test_learned_slice_loads_and_validates_like_any_other(tmp_path):
    path = tmp_path / "learned.tsv"
    path.write_text(learn(PAIRS).lexicon_text(), encoding="utf-8")
    entries = list(parse_lexicon_file(path))
    assert {e.spun for e in entries} >= {"stated", "corporate", "Pink"}
    assert all(e.source.startswith("learned.tsv:") for e in entries)
    r = despin.Restorer(bundled_lexicon=False, lexicons=(str(path),), context=False)
    assert "Red Lobster" in r.restore("Shares of Pink Lobster fell; the corporate stated it averted a strike. " * 3)


def test_read_pairs_from_a_folder_with_a_manifest_and_from_jsonl(tmp_path):
    (tmp_path / "pairs").mkdir()
    for name in ("t1", "t2", "o1"):
        (tmp_path / "pairs" / f"{name}.spun.txt").write_text("The corporate stated.", encoding="utf-8")
        (tmp_path / "pairs" / f"{name}.orig.txt").write_text("\ufeffThe company said.", encoding="utf-8")
    (tmp_path / "manifest.tsv").write_text(
        "id\tfamily\tstory_group\nt1\ttarget\tg1\nt2\ttarget\tg1\no1\tother\tg2\n", encoding="utf-8")
    pairs = read_pairs(tmp_path / "pairs")
    assert [(p.name, p.group) for p in pairs] == [("o1", "g2"), ("t1", "g1"), ("t2", "g1")]
    assert pairs[1].original == "The company said."  # a byte-order mark is not text
    assert [p.name for p in read_pairs(tmp_path / "pairs", where=parse_where(["family=target"]))] == ["t1", "t2"]
    assert [p.name for p in read_pairs(tmp_path / "pairs", where=parse_where(["family!=target"]))] == ["o1"]
    jsonl = tmp_path / "pairs.jsonl"
    jsonl.write_text(json.dumps({"id": "x", "spun": "a", "original": "b", "group": "g"}) + "\n\n", encoding="utf-8")
    assert read_pairs(jsonl) == [Pair("x", "a", "b", "g")]
    jsonl.write_text('{"spun": "a"}\n', encoding="utf-8")
    with pytest.raises(InputError, match="pairs.jsonl:1"):
        read_pairs(jsonl)
    with pytest.raises(InputError, match="KEY=VALUE"):
        parse_where(["family"])


def test_learn_command_writes_a_slice_and_a_report(tmp_path: Path, capsys):
    (tmp_path / "pairs").mkdir()
    for p in PAIRS:
        (tmp_path / "pairs" / f"{p.name}.spun.txt").write_text(p.spun, encoding="utf-8")
        (tmp_path / "pairs" / f"{p.name}.orig.txt").write_text(p.original, encoding="utf-8")
    out, report = tmp_path / "my.tsv", tmp_path / "report.txt"
    assert main(["learn", str(tmp_path / "pairs"), "-o", str(out), "--report", str(report),
                 "--no-bundled-lexicon"]) == 0
    assert out.read_text(encoding="utf-8").startswith("# despin-lexicon 1\n")
    assert "## mappings" in report.read_text(encoding="utf-8")
    page = tmp_path / "page.txt"
    page.write_text("The corporate stated sales rose. Shares of Pink Lobster fell as the firm averted a strike. " * 3,
                    encoding="utf-8")
    assert main(["restore", str(page), "-o", str(tmp_path / "out.txt"), "--lexicon", str(out),
                 "--no-bundled-lexicon", "--no-context", "-j", "1"]) == 0
    assert "The company said sales rose." in (tmp_path / "out.txt").read_text(encoding="utf-8")
    assert main(["learn", str(tmp_path / "nowhere"), "-o", str(out)]) == 2
