"""A PNG of a despin HTML report as headless Chromium shows it, with one span
focused so that its evidence box is open (the README's screenshot).

    despin report examples/spun_news.txt -o /tmp/spun_news.html
    python tools/report_screenshot.py /tmp/spun_news.html docs/report.png --focus '#d1-e2'

Needs Playwright (``pip install playwright``) and a Chromium (Debian's
``chromium`` package; ``--chromium`` names another); downloads no browser.
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--no-first-run", "--disable-quic", "--hide-scrollbars"]


def screenshot(report: Path, out: Path, chromium: str, focus: str | None, width: int, height: int) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=FLAGS)
        page = browser.new_page(viewport={"width": width, "height": height})
        page.goto(report.resolve().as_uri(), wait_until="load")
        if focus:
            page.focus(focus)
            page.evaluate("window.scrollTo(0, 0)")
        page.screenshot(path=str(out))
        browser.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("report", type=Path, help="an HTML page from 'despin report'")
    ap.add_argument("out", type=Path, help="the PNG to write")
    ap.add_argument("--focus", metavar="SELECTOR", help="CSS selector of the span to focus (e.g. '#d1-e2')")
    ap.add_argument("--width", type=int, default=1000)
    ap.add_argument("--height", type=int, default=860)
    ap.add_argument("--chromium", default=shutil.which("chromium") or "/usr/bin/chromium")
    a = ap.parse_args()
    screenshot(a.report, a.out, a.chromium, a.focus, a.width, a.height)


if __name__ == "__main__":
    main()
