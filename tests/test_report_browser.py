"""The HTML report in a real browser: Debian's headless Chromium, driven by
Playwright (which uses that browser and downloads none). Skipped when either is
missing; ``.ci/run`` installs both."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import despin

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "spun_news.txt"
CHROMIUM = os.environ.get("DESPIN_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
# Flags that keep Chromium's own background traffic (updates, sync, safe browsing) away.
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--disable-default-apps", "--no-first-run", "--disable-quic"]

pytestmark = pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"no Chromium at {CHROMIUM}")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield b
        b.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1100, "height": 900})
    pg = context.new_page()
    yield pg
    context.close()


class Opened:
    """A report opened from a file, with every request the page made."""

    def __init__(self, page: Any, path: Path):
        self.page = page
        self.url = path.as_uri()
        self.requests: list[str] = []
        self.dialogs: list[str] = []
        page.on("request", lambda r: self.requests.append(r.url))
        page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))
        page.goto(self.url, wait_until="load")
        page.wait_for_timeout(300)  # anything late (fonts, lazy images) would have been asked for by now


def open_report(page: Any, tmp_path: Path, text: str, name: str = "spun_news.txt", **options: Any) -> Opened:
    path = tmp_path / "report.html"
    path.write_text(despin.report_html(text, name, **options), encoding="utf-8")
    return Opened(page, path)


def test_spans_evidence_no_network_and_a_screenshot(page: Any, tmp_path: Path) -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    res = despin.restore_and_explain(text, considered=True)
    opened = open_report(page, tmp_path, text)
    assert opened.requests == [opened.url]  # the page itself, and nothing else

    marks = page.locator(".text mark.e")
    assert marks.count() == len(res.edits) and len(res.edits) > 10
    assert page.locator(".text span.k").count() == len(res.considered) > 0
    first = res.edits[0]
    assert marks.first.locator("del").inner_text() == first.before
    assert marks.first.locator("ins").inner_text() == first.after
    tip = marks.first.get_attribute("title")
    assert first.rule in tip and f"confidence {first.confidence:.2f}" in tip

    # focus shows the evidence in a box: the mark's ::after takes its title
    after = "el => getComputedStyle(el, '::after').content"
    assert marks.nth(1).evaluate(after) == "none"
    marks.nth(1).focus()
    assert res.edits[1].rule in marks.nth(1).evaluate(after)
    assert marks.nth(1).evaluate("el => getComputedStyle(el, '::after').position") == "absolute"

    shot = page.screenshot(full_page=True)
    assert len(shot) > 10_000 and shot[:8] == b"\x89PNG\r\n\x1a\n"
    assert opened.requests == [opened.url]


def test_the_request_log_sees_what_a_page_asks_for(page: Any, tmp_path: Path) -> None:
    """The harness itself: a page with outside references shows them (so an empty log means something)."""
    path = tmp_path / "outside.html"
    path.write_text('<link rel="stylesheet" href="https://cdn.invalid/x.css"><img src="http://127.0.0.1:9/x.png">',
                    encoding="utf-8")
    opened = Opened(page, path)
    assert opened.requests == [opened.url, "https://cdn.invalid/x.css", "http://127.0.0.1:9/x.png"]


def test_the_view_switch_shows_either_text_without_script(page: Any, tmp_path: Path) -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    res = despin.restore_and_explain(text)
    open_report(page, tmp_path, text)
    body = page.locator(".text")
    page.check("#d1-restored")
    assert body.inner_text() == res.text
    page.check("#d1-spun")
    assert body.inner_text() == text


def test_print_shows_confidences_and_hides_controls(page: Any, tmp_path: Path) -> None:
    open_report(page, tmp_path, EXAMPLE.read_text(encoding="utf-8"))
    page.emulate_media(media="print")
    mark = page.locator(".text mark.e").first
    assert mark.evaluate("el => getComputedStyle(el, '::after').content") == '" [0.95]"'
    assert page.locator("textarea").is_hidden() and page.locator(".legend mark.e").first.evaluate(
        "el => getComputedStyle(el, '::after').content") == "none"
    assert len(page.pdf()) > 10_000


def test_script_in_the_input_never_runs(page: Any, tmp_path: Path) -> None:
    evil = ('<script>window.pwned = 1; alert("pwned")</script><img src="http://127.0.0.1:9/x.png" '
            'onerror="window.pwned = 2">\nThe satellite tv for pc rose. <style>body{display:none}</style>')
    opened = open_report(page, tmp_path, evil, name='<script>alert("name")</script>')
    assert page.evaluate("window.pwned") is None
    assert opened.dialogs == [] and opened.requests == [opened.url]
    assert page.locator("script").count() == 0 and page.locator(".text img").count() == 0
    assert page.locator(".text").is_visible()
    assert '<script>window.pwned = 1; alert("pwned")</script>' in page.locator(".text").inner_text()


def test_the_explanation_downloads_and_replays(browser: Any, tmp_path: Path) -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    context = browser.new_context(accept_downloads=True)
    try:
        page = context.new_page()
        open_report(page, tmp_path, text)
        with page.expect_download() as info:
            page.click("a.download")
        download = info.value
        assert download.suggested_filename == "spun_news.txt.explain.jsonl"
        lines = Path(download.path()).read_text(encoding="utf-8").splitlines()
    finally:
        context.close()
    assert despin.apply_edits(text, [json.loads(line) for line in lines]) == despin.restore(text)


def test_a_50000_word_text_stays_usable(page: Any, tmp_path: Path) -> None:
    dev = Path(__file__).parent / "data" / "dev"
    one = "\n\n".join((dev / f"{name}.spun.txt").read_text(encoding="utf-8") for name in ("000", "001"))
    text = "\n\n".join([one] * (50_000 // len(one.split()) + 1))
    opened = open_report(page, tmp_path, text, name="long.txt")
    assert opened.requests == [opened.url]
    load = page.evaluate("performance.getEntriesByType('navigation')[0].duration")
    assert load < 20_000, f"{load:.0f} ms to load"  # about 1-2 s on two shared cores
    marks = page.locator(".text mark.e")
    assert marks.count() > 5_000
    marks.nth(marks.count() - 1).focus()
    assert "confidence " in marks.nth(marks.count() - 1).evaluate("el => getComputedStyle(el, '::after').content")
