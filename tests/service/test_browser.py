"""Browser tests: Playwright driving Debian's chromium against uvicorn on 127.0.0.1.

Sign in, create a case through the form, see the assessment, download the PDF, edit it and see
the new version in the history.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from service_helpers import PASSWORD, require_modules

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

pytestmark = pytest.mark.browser


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def live_server(tmp_path: Path, settings_for: Any) -> Iterator[tuple[str, Any]]:
    """The service on 127.0.0.1 (SQLite), run by uvicorn in a thread."""
    import uvicorn

    from rhabdo.service import store
    from rhabdo.service.app import create_app
    from rhabdo.service.migrate import upgrade

    url = f"sqlite:///{tmp_path / 'browser.sqlite3'}"
    upgrade(url)
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    app = create_app(settings_for(url, base_url=base))
    with app.state.sessionmaker() as db:
        store.create_user(db, "dr-browser", PASSWORD, store.Role.CLINICIAN)
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield base, app
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        app.state.engine.dispose()


@pytest.fixture
def page(live_server: tuple[str, Any]) -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip(f"chromium is not installed at {CHROMIUM}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = browser.new_context(accept_downloads=True, base_url=live_server[0])
        tab = context.new_page()
        tab.set_default_timeout(30_000)
        try:
            yield tab
        finally:
            context.close()
            browser.close()


def _field(page: Any, name: str) -> Any:
    return page.locator(f'[name="{name}"]')


def test_sign_in_create_assess_download_edit(
    page: Any, live_server: tuple[str, Any], tmp_path: Path
) -> None:
    require_modules("rhabdo.engine", "rhabdo.report.html", "rhabdo.report.pdf")
    page.goto("/cases")
    assert "/signin" in page.url  # anonymous users are sent to sign in
    page.fill("#username", "dr-browser")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/cases")

    page.click("text=New case")
    _field(page, "patient.id").fill("BRW-001")
    _field(page, "patient.sex").select_option("female")
    _field(page, "patient.date_of_birth").fill("2013-06-01")
    _field(page, "diagnosis.date").fill("2019-09-15")
    _field(page, "diagnosis.primary_site").select_option("extremity")
    _field(page, "diagnosis.histology").select_option("alveolar")
    _field(page, "diagnosis.foxo1_fusion").select_option("pax3_foxo1")
    _field(page, "diagnosis.max_diameter_cm").fill("6")
    _field(page, "diagnosis.regional_nodes").select_option("N1")
    _field(page, "diagnosis.distant_metastases.__known").select_option("known")
    _field(page, "events[0].kind").select_option("relapse")
    _field(page, "events[0].date").fill("2021-02-01")
    _field(page, "events[0].sites[0].extent").select_option("local")
    page.click("#save")
    page.wait_for_url("**/cases/*")
    assert "version 1" in page.locator("#case-title").inner_text()
    report = page.locator("#report")
    assert report.is_visible()
    assert report.inner_text().strip()

    with page.expect_download() as info:
        page.click("#pdf")
    pdf_path = tmp_path / "report.pdf"
    info.value.save_as(pdf_path)
    assert pdf_path.read_bytes().startswith(b"%PDF")

    page.click("#edit")
    _field(page, "diagnosis.max_diameter_cm").fill("4")
    page.click("#save")
    page.wait_for_url("**/cases/*")
    assert "version 2" in page.locator("#case-title").inner_text()
    page.click("#history")
    rows = page.locator("#versions tbody tr")
    assert rows.count() == 2
    assert "dr-browser" in rows.nth(0).inner_text()


def test_validation_message_beside_the_field_in_the_browser(page: Any) -> None:
    page.goto("/signin")
    page.fill("#username", "dr-browser")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/cases")
    page.goto("/cases/new")
    _field(page, "patient.id").fill("BRW-002")
    _field(page, "patient.date_of_birth").fill("2020-01-01")
    _field(page, "diagnosis.date").fill("2019-01-01")
    page.click("#save")
    message = page.locator("#f-diagnosis-date ~ .field-errors")
    assert "before the date of birth" in message.inner_text()
