"""Browser tests: Playwright driving Debian's chromium against uvicorn on 127.0.0.1.

Sign in, create a case through the form, see the assessment, download the PDF, edit it and see
the new version in the history; the form's add/remove buttons and regimen presets; every
problem in one round; the first-run sign-in page.  Each page visited is checked with axe-core
(vendored under tests/data/axe-core) for serious or critical violations, at desktop width and
at 390 px, where nothing may scroll sideways.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from service_helpers import EXAMPLES as EXAMPLES_DIR
from service_helpers import PASSWORD, require_modules

CHROMIUM = Path("/usr/bin/chromium")
AXE = Path(__file__).parents[1] / "data" / "axe-core" / "axe.min.js"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
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
def with_accounts() -> bool:
    """Whether the live server starts with a clinician account (overridden per test)."""
    return True


@pytest.fixture
def live_server(
    tmp_path: Path, settings_for: Any, with_accounts: bool
) -> Iterator[tuple[str, Any]]:
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
    if with_accounts:
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
def viewport() -> dict[str, int]:
    return DESKTOP


@pytest.fixture
def page(live_server: tuple[str, Any], viewport: dict[str, int]) -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip(f"chromium is not installed at {CHROMIUM}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        # bypass_csp lets the test inject axe-core; the pages themselves run no script.
        context = browser.new_context(
            accept_downloads=True,
            base_url=live_server[0],
            viewport=viewport,
            bypass_csp=True,
        )
        tab = context.new_page()
        tab.set_default_timeout(30_000)
        try:
            yield tab
        finally:
            context.close()
            browser.close()


def _field(page: Any, name: str) -> Any:
    return page.locator(f'[name="{name}"]')


def _button(page: Any, action: str) -> Any:
    return page.locator(f'button[name="_action"][value="{action}"]')


def _sign_in(page: Any) -> None:
    page.goto("/signin")
    page.fill("#username", "dr-browser")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/cases")


_AXE_RUN = """async () => {
  const r = await axe.run(document, {resultTypes: ['violations']});
  return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                 where: v.nodes.slice(0, 3).map(n => n.target.join(' '))}));
}"""


def check_page(page: Any) -> None:
    """One h1, a skip link to the main landmark, the same header on every page, no serious or
    critical axe-core violation, and nothing wider than the window (no sideways scrolling)."""
    assert page.locator("h1").count() == 1, page.url
    assert page.locator("a.skip[href='#main']").count() == 1
    assert page.locator("main#main").count() == 1
    assert page.locator("header.top .brand").inner_text() == "rhabdo"
    page.add_script_tag(path=str(AXE))
    bad = [v for v in page.evaluate(_AXE_RUN) if v["impact"] in ("serious", "critical")]
    assert bad == [], (page.url, bad)
    overflow = page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, (page.url, overflow)


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


WIDTHS = pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "390px"])


@WIDTHS
@pytest.mark.parametrize("with_accounts", [False])
def test_first_run_sign_in_page_says_how_to_create_the_first_account(page: Any) -> None:
    page.goto("/cases")
    assert "/signin" in page.url
    hint = page.locator("#first-account")
    assert "No account exists yet" in hint.inner_text()
    assert "rhabdo admin create-user" in hint.inner_text()
    check_page(page)


@WIDTHS
def test_sign_in_page_has_no_first_account_hint_once_an_account_exists(page: Any) -> None:
    page.goto("/signin")
    assert page.locator("#first-account").count() == 0
    check_page(page)


@WIDTHS
def test_form_lists_presets_and_all_problems_in_one_round(page: Any) -> None:
    require_modules("rhabdo.engine", "rhabdo.report.html")
    _sign_in(page)
    check_page(page)
    page.goto("/cases/new")
    check_page(page)
    # clinician labels and date hints in words
    assert "FOXO1 fusion" in page.locator("label[for='f-diagnosis-foxo1-fusion']").inner_text()
    assert (
        "LVEF (%)"
        in page.locator("label[for='f-current-organ-function-lvef-percent']").inner_text()
    )
    assert "Creatinine clearance (mL/min/1.73 m²)" in page.content()
    assert "YYYY-MM-DD" in page.locator("label[for='f-diagnosis-date']").inner_text()
    assert _field(page, "diagnosis.date").get_attribute("placeholder") == "YYYY-MM-DD"
    assert "[]" not in page.locator("#f-diagnosis-distant-metastases").inner_text()
    assert page.locator("textarea[name='current.goals_of_care']").count() == 1

    _field(page, "patient.id").fill("BRW-LIST")
    _field(page, "patient.date_of_birth").fill("2012-05-01")
    _field(page, "diagnosis.date").fill("2019-03-01")
    _field(page, "events[0].kind").select_option("relapse")
    _field(page, "events[0].date").fill("2021-04-01")
    # add a second event: what was typed survives the round trip, the new slot has focus
    _button(page, "add:events").click()
    page.wait_for_selector("[name='events[1].kind']")
    assert _field(page, "patient.id").input_value() == "BRW-LIST"
    assert _field(page, "events[0].date").input_value() == "2021-04-01"
    assert page.evaluate("document.activeElement.name") == "events[1].kind"
    assert "Added event 2" in page.locator("#form-status").inner_text()
    _field(page, "events[1].kind").select_option("progression")
    # two sites for the first event
    _field(page, "events[0].sites[0].extent").select_option("local")
    _button(page, "add:events[0].sites").click()
    _field(page, "events[0].sites[1].extent").select_option("regional")
    # a surgery, then remove it again
    _button(page, "add:first_line.surgeries").click()
    _field(page, "first_line.surgeries[1].site").fill("to be removed")
    _button(page, "remove:first_line.surgeries[1]").click()
    assert page.locator("[name='first_line.surgeries[1].site']").count() == 0
    # a regimen preset fills agents and standard doses from the knowledge base, editable
    _field(page, "_preset.first_line").select_option("vit")
    _button(page, "preset:first_line").click()
    agents = [_field(page, f"first_line.chemotherapy[{i}].agent").input_value() for i in range(3)]
    assert agents == ["vincristine", "irinotecan", "temozolomide"]
    assert _field(page, "first_line.chemotherapy[1].dose_per_administration").input_value() == "50"
    assert _field(page, "first_line.chemotherapy[1].dose_unit").input_value() == "mg/m2"
    _field(page, "first_line.chemotherapy[2].dose_per_administration").fill("150")
    # one field error and one cross-field error (event before diagnosis) in the same round
    _field(page, "diagnosis.max_diameter_cm").fill("-2")
    _field(page, "events[1].date").fill("2019-01-01")
    _button(page, "add:diagnosis.tumour_alterations").click()
    _field(page, "diagnosis.tumour_alterations[0].gene").fill("NRAS")
    _field(page, "diagnosis.tumour_alterations[0].alteration").select_option(index=1)
    _field(page, "diagnosis.tumour_alterations[0].detected").select_option("true")
    page.click("#save")
    problems = page.locator("#problems")
    assert "Tumour size at diagnosis (largest diameter, cm)" in problems.inner_text()
    assert "must come after date of diagnosis" in problems.inner_text()
    check_page(page)
    _field(page, "diagnosis.max_diameter_cm").fill("5")
    _field(page, "events[1].date").fill("2022-01-10")
    page.click("#save")
    page.wait_for_url("**/cases/*")
    assert "version 1" in page.locator("#case-title").inner_text()
    check_page(page)
    page.click("#edit")
    assert _field(page, "first_line.chemotherapy[2].dose_per_administration").input_value() == "150"
    assert _field(page, "events[0].sites[1].extent").input_value() == "regional"
    assert _field(page, "diagnosis.tumour_alterations[0].gene").input_value() == "NRAS"
    check_page(page)


def _new_case(page: Any, patient_id: str, diameter: str) -> str:
    page.goto("/cases/new")
    _field(page, "patient.id").fill(patient_id)
    _field(page, "patient.date_of_birth").fill("2012-05-01")
    _field(page, "diagnosis.date").fill("2019-03-01")
    _field(page, "diagnosis.primary_site").select_option("extremity")
    _field(page, "diagnosis.histology").select_option("alveolar")
    _field(page, "diagnosis.max_diameter_cm").fill(diameter)
    _field(page, "diagnosis.regional_nodes").select_option("N0")
    _field(page, "diagnosis.distant_metastases.__known").select_option("known")
    _field(page, "events[0].kind").select_option("relapse")
    _field(page, "events[0].date").fill("2021-04-01")
    _field(page, "events[0].sites[0].extent").select_option("local")
    page.click("#save")
    page.wait_for_url("**/cases/*")
    return str(page.url.rsplit("/", 1)[1])


@WIDTHS
def test_meeting_present_decide_and_print(page: Any, tmp_path: Path) -> None:
    require_modules("rhabdo.engine", "rhabdo.report.html", "weasyprint")
    _sign_in(page)
    first = _new_case(page, "BRW-MTG-1", "4")
    _new_case(page, "BRW-MTG-2", "8")
    # an edit with a reason, shown field by field in the history
    page.goto(f"/cases/{first}/edit")
    _field(page, "diagnosis.max_diameter_cm").fill("6")
    page.fill("#reason", "restaging MRI")
    page.click("#save")
    page.wait_for_url(f"**/cases/{first}")
    page.click("#history")
    changes = page.locator("#versions").inner_text()
    assert "restaging MRI" in changes and "Tumour size at diagnosis" in changes
    check_page(page)
    # the case list: stage, relapse type, last assessed; filter by stage
    page.goto("/cases")
    check_page(page)
    assert page.locator("#case-rows tbody tr").count() == 2
    stage = page.locator("#filter-stage option").nth(1).get_attribute("value")
    page.select_option("#filter-stage", stage)
    page.click("#case-search button[type=submit]")
    assert 1 <= page.locator("#case-rows tbody tr").count() <= 2
    # a meeting with both cases
    page.click("header.top >> text=Meetings")
    check_page(page)
    page.fill("#meeting_date", "2026-12-14")
    page.click("#create-meeting")
    page.wait_for_url("**/meetings/*")
    for _ in range(2):
        page.click("#add-to-agenda")
    assert page.locator("#agenda tbody tr").count() == 2
    check_page(page)
    page.click("#present")
    assert "Case 1 of 2" in page.locator("h1").inner_text()
    assert page.locator("header.top").is_hidden()  # full-screen presentation: no app chrome
    check_page(page)
    page.fill("#decision-text", "Wide local excision, then VIT")
    page.fill("#rationale", "Localised late relapse; resectable")
    page.click("#record-decision")
    page.wait_for_selector("#recorded-decision")
    assert "Wide local excision" in page.locator("#recorded-decision").inner_text()
    page.click("#next")
    assert "Case 2 of 2" in page.locator("h1").inner_text()
    page.click("#exit")
    assert "Wide local excision" in page.locator("#agenda").inner_text()
    with page.expect_download() as info:
        page.click("#summary-pdf")
    pdf = tmp_path / "meeting.pdf"
    info.value.save_as(pdf)
    assert pdf.read_bytes().startswith(b"%PDF")
    # the decision on the case page and in its history
    page.goto(f"/cases/{first}")
    assert "Wide local excision, then VIT" in page.locator("#board-decision").inner_text()
    assert "case has changed since" not in page.locator("#board-decision").inner_text()
    check_page(page)
    page.goto(f"/cases/{first}/history")
    assert "Wide local excision" in page.locator("#decision-rows").inner_text()


@WIDTHS
def test_import_of_a_known_patient_id_asks(page: Any) -> None:
    from service_helpers import EXAMPLES

    _sign_in(page)
    example = EXAMPLES / "local-relapse-paratesticular.yaml"
    for _ in range(2):
        page.goto("/cases/import")
        page.set_input_files("#file", str(example))
        page.click("main button[type=submit]")
    assert "already exists" in page.locator("#duplicate").inner_text()
    check_page(page)
    page.click("#confirm-import")  # default choice: a new version of the existing case
    page.wait_for_url("**/cases/*")
    assert "version 2" in page.locator("#case-title").inner_text()
    page.goto("/cases")
    assert page.locator("#case-rows tbody tr").count() == 1


@pytest.fixture
def bare_page(viewport: dict[str, int]) -> Iterator[Any]:
    """A Chromium tab with no server (for standalone HTML reports)."""
    if not CHROMIUM.exists():
        pytest.skip(f"chromium is not installed at {CHROMIUM}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = browser.new_context(viewport=viewport)
        try:
            yield context.new_page()
        finally:
            context.close()
            browser.close()


@WIDTHS
@pytest.mark.parametrize(
    "example", sorted(p.name for p in EXAMPLES_DIR.glob("*.yaml")), ids=lambda n: n[:-5]
)
def test_the_html_report_fits_the_screen_and_passes_axe(bare_page: Any, example: str) -> None:
    require_modules("rhabdo.engine", "rhabdo.report.html")
    from rhabdo.case.io import load_case
    from rhabdo.engine import assess
    from rhabdo.report import render_html

    case = load_case(EXAMPLES_DIR / example)
    bare_page.set_content(render_html(case, assess(case)))
    bare_page.add_script_tag(path=str(AXE))
    bad = [v for v in bare_page.evaluate(_AXE_RUN) if v["impact"] in ("serious", "critical")]
    assert bad == []
    overflow = bare_page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0
