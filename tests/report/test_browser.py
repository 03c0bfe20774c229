"""A real headless Chromium renders every report to PNG without page errors."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from .conftest import EXAMPLES

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
NAMES = [p.stem for p in EXAMPLES]
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(CHROMIUM is None, reason="Debian chromium not installed"),
]
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@pytest.fixture(scope="module")
def browser():  # type: ignore[no-untyped-def]
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


@pytest.mark.parametrize("name", NAMES)
def test_report_renders_in_chromium(
    name: str, browser, html_reports: dict[str, str], tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    from PIL import Image

    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors: list[str] = []
    requests: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("request", lambda req: requests.append(req.url))
    path = tmp_path / f"{name}.html"
    path.write_text(html_reports[name], encoding="utf-8")
    page.goto(path.as_uri())
    shot = tmp_path / f"{name}.png"
    page.screenshot(path=str(shot), full_page=True)
    assert errors == []
    assert [u for u in requests if not u.startswith("file:")] == [], "the report loads nothing"
    assert page.locator("section#findings table").count() >= 1
    assert page.locator("#references li").count() >= 1
    with Image.open(shot) as img:
        assert img.height > 900
        lo, hi = img.convert("L").getextrema()
        assert hi - lo > 100
    page.close()
