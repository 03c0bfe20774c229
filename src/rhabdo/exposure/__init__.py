"""Prior exposure: cumulative chemotherapy doses and radiotherapy, as findings (``exposure.*``)."""

from __future__ import annotations

from rhabdo.exposure.findings import exposure_findings

__all__ = ["exposure_findings"]
