"""Page one in a real headless Chromium, at desktop width and at 390 px: the decision summary
is there, nothing scrolls sideways, and for two examples it still looks like the committed
reference image (a coarse comparison that survives wording changes; see
``tests/data/report/page-one/README.md`` for how to regenerate the references)."""

from __future__ import annotations

import io
import os
import shutil
from pathlib import Path

import pytest

from .conftest import EXAMPLES

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
NAMES = [p.stem for p in EXAMPLES]
REFERENCE_DIR = Path(__file__).resolve().parents[1] / "data" / "report" / "page-one"
SNAPSHOT_NAMES = ["relapse-after-metastatic-alveolar", "missing-data-trunk-relapse"]
UPDATE = os.environ.get("RHABDO_UPDATE_SNAPSHOTS") == "1"
#: The comparison: both images reduced to THUMB grey pixels; the mean absolute difference must
#: stay under MAX_MEAN_DIFF (0-255) and the height within HEIGHT_TOLERANCE of the reference.
THUMB = (40, 60)
MAX_MEAN_DIFF = 18.0
HEIGHT_TOLERANCE = 0.25

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(CHROMIUM is None, reason="Debian chromium not installed"),
]
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"]


@pytest.fixture(scope="module")
def browser():  # type: ignore[no-untyped-def]
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


def _open(browser, html: str, tmp_path: Path, name: str, width: int):  # type: ignore[no-untyped-def]
    page = browser.new_page(viewport={"width": width, "height": 900})
    path = tmp_path / f"{name}-{width}.html"
    path.write_text(html, encoding="utf-8")
    page.goto(path.as_uri())
    return page


@pytest.mark.parametrize("width", [1280, 390])
@pytest.mark.parametrize("name", NAMES)
def test_page_one_is_whole_and_never_scrolls_sideways(
    name: str, width: int, browser, html_reports: dict[str, str], tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    page = _open(browser, html_reports[name], tmp_path, name, width)
    summary = page.locator("#page-one")
    assert summary.is_visible()
    text = summary.inner_text()
    for heading in ("Classification", "Prognosis", "Systemic options", "Clinical trials"):
        assert heading in text
    assert "What is missing" in text
    overflow = page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 1, f"{name} scrolls sideways by {overflow} px at {width} px"
    wide = page.evaluate(
        """() => [...document.querySelectorAll('#page-one *')]
              .filter(e => e.getBoundingClientRect().right > innerWidth + 1)
              .map(e => e.tagName + '.' + e.className).slice(0, 5)"""
    )
    assert wide == [], f"{name}: page-one elements overflow at {width} px: {wide}"
    page.close()


def _thumb(png: bytes):  # type: ignore[no-untyped-def]
    from PIL import Image

    with Image.open(io.BytesIO(png)) as img:
        return img.convert("L").resize(THUMB), img.size


@pytest.mark.parametrize("name", SNAPSHOT_NAMES)
def test_page_one_looks_like_its_reference(
    name: str, browser, html_reports: dict[str, str], tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    from PIL import ImageChops, ImageStat

    page = _open(browser, html_reports[name], tmp_path, name, 1280)
    shot = page.locator("#page-one").screenshot()
    page.close()
    reference = REFERENCE_DIR / f"{name}.png"
    if UPDATE:
        reference.parent.mkdir(parents=True, exist_ok=True)
        reference.write_bytes(shot)
    assert reference.exists(), "no reference image; run with RHABDO_UPDATE_SNAPSHOTS=1"
    (got, got_size), (want, want_size) = _thumb(shot), _thumb(reference.read_bytes())
    assert got_size[0] == want_size[0]
    assert abs(got_size[1] - want_size[1]) <= HEIGHT_TOLERANCE * want_size[1], (got_size, want_size)
    diff = ImageStat.Stat(ImageChops.difference(got, want)).mean[0]
    (tmp_path / f"{name}.png").write_bytes(shot)
    assert diff <= MAX_MEAN_DIFF, f"page one of {name} differs from its reference ({diff:.1f})"
