"""The service's calls into the engine and the report renderers (imported on first use)."""

from __future__ import annotations

import datetime as dt
import logging
import re
import threading
from collections import OrderedDict
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


class RenderCache:
    """Recently rendered reports of stored versions, keyed by case, version and day.

    A stored version never changes and its assessment is stored beside it, so its report is
    the same all day (the report shows the day it was generated); repeated downloads are then
    served without rendering again.  Per process by design: every process renders the same.
    """

    def __init__(self, max_entries: int = 32) -> None:
        self.max_entries = max_entries
        self._items: OrderedDict[tuple[str, str, str], Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[str, str, str]) -> Any:
        with self._lock:
            item = self._items.get(key)
            if item is not None:
                self._items.move_to_end(key)
            return item

    def put(self, key: tuple[str, str, str], value: Any) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.max_entries:
                self._items.popitem(last=False)


RENDERED = RenderCache()


def _rendered(kind: str, version_key: str | None, render: Any) -> Any:
    """``render()`` under the render lock, or the cached result for a stored version."""
    if version_key is None:
        with _RENDER_LOCK:
            return render()
    key = (kind, version_key, dt.date.today().isoformat())
    found = RENDERED.get(key)
    if found is not None:
        return found
    with _RENDER_LOCK:
        found = RENDERED.get(key)  # rendered by another request while this one waited
        if found is None:
            found = render()
            RENDERED.put(key, found)
    return found


def render_report_html(case: Case, assessment: Assessment, version_key: str | None = None) -> str:
    """The HTML report; ``version_key`` (case id and version) names a stored version."""
    try:
        from rhabdo.report import render_html
    except ImportError as exc:  # pragma: no cover - report is part of the package
        raise EngineUnavailable(f"the report renderer cannot be loaded ({exc.name})") from None
    try:
        return str(_rendered("html", version_key, lambda: render_html(case, assessment)))
    except ImportError as exc:
        raise EngineUnavailable(f"the report renderer cannot be loaded ({exc.name})") from None


def render_report_pdf(case: Case, assessment: Assessment, version_key: str | None = None) -> bytes:
    """The PDF report; ``version_key`` (case id and version) names a stored version."""
    from rhabdo.report import render_pdf

    try:
        return bytes(_rendered("pdf", version_key, lambda: render_pdf(case, assessment)))
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
