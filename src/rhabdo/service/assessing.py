"""The service's calls into the engine and the report renderers (imported on first use)."""

from __future__ import annotations

import logging
import re
import threading
from typing import TYPE_CHECKING, Any

from rhabdo.service.store import Assessed

if TYPE_CHECKING:
    from rhabdo.case.model import Case
    from rhabdo.results import Assessment

log = logging.getLogger("rhabdo.service")

#: Reports draw their figures with matplotlib's pyplot, whose state is global: requests
#: (each in its own worker thread, never on the event loop) render one at a time.
_RENDER_LOCK = threading.Lock()


class EngineUnavailable(Exception):
    """The assessment engine or report renderer is not installed in this deployment."""


def assess_case(case: Case) -> Assessment:
    try:
        from rhabdo.engine import assess
    except ImportError as exc:
        raise EngineUnavailable(f"the assessment engine cannot be loaded ({exc.name})") from None
    return assess(case)


def assessed_for_store(case: Case) -> Assessed:
    """The assessment to keep beside a saved version, with the engine and knowledge versions."""
    try:
        assessment = assess_case(case)
    except EngineUnavailable:
        return Assessed(None, None, None)
    return Assessed(
        assessment.provenance.engine_version,
        assessment.provenance.knowledge_version,
        assessment.model_dump(mode="json"),
    )


def stored_or_fresh(case: Case, stored: dict[str, Any] | None) -> Assessment:
    """The assessment saved with a version (as it was then), or a fresh one if none was saved."""
    if stored is not None:
        from rhabdo.results import Assessment

        return Assessment.model_validate(stored)
    return assess_case(case)


def render_report_html(case: Case, assessment: Assessment) -> str:
    try:
        from rhabdo.report import render_html
    except ImportError as exc:  # pragma: no cover - report is part of the package
        raise EngineUnavailable(f"the report renderer cannot be loaded ({exc.name})") from None
    try:
        with _RENDER_LOCK:
            return render_html(case, assessment)
    except ImportError as exc:
        raise EngineUnavailable(f"the report renderer cannot be loaded ({exc.name})") from None


def render_report_pdf(case: Case, assessment: Assessment) -> bytes:
    from rhabdo.report import render_pdf

    try:
        with _RENDER_LOCK:
            return render_pdf(case, assessment)
    except ImportError as exc:
        raise EngineUnavailable(f"the PDF renderer cannot be loaded ({exc.name})") from None


_STYLE = re.compile(r"<style[^>]*>.*?</style>", re.S | re.I)
_BODY = re.compile(r"<body[^>]*>(.*)</body>", re.S | re.I)
_SCRIPT = re.compile(r"<script[^>]*>.*?</script>", re.S | re.I)


def report_fragment(html: str) -> str:
    """The report's styles and body, to embed in a page (scripts removed)."""
    styles = "".join(_STYLE.findall(html))
    body = _BODY.search(html)
    inner = body.group(1) if body else html
    return _SCRIPT.sub("", styles + inner)
