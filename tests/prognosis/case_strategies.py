"""Hypothesis strategy shared by the prognosis property tests: a synthetic relapse case
document with every optional field present or absent (it may fail validation; the tests
``assume`` it away)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from hypothesis import strategies as st

from rhabdo.case.vocab import Extent, Histology, MetastaticSite, NodalStatus, PrimarySite

DX = dt.date(2020, 1, 1)


@st.composite
def case_docs(draw: st.DrawFn) -> dict[str, Any]:
    dx: dict[str, Any] = {"date": DX.isoformat()}
    if draw(st.booleans()):
        dx["histology"] = draw(st.sampled_from([h.value for h in Histology]))
    if draw(st.booleans()):
        dx["primary_site"] = draw(st.sampled_from([s.value for s in PrimarySite]))
    if draw(st.booleans()):
        dx["regional_nodes"] = draw(st.sampled_from([n.value for n in NodalStatus]))
    if draw(st.booleans()):
        dx["max_diameter_cm"] = draw(st.floats(0.5, 20))
    if draw(st.booleans()):
        dx["distant_metastases"] = draw(
            st.lists(st.sampled_from([m.value for m in MetastaticSite]), unique=True)
        )
    if draw(st.booleans()):
        dx["initial_surgery"] = {
            "result": draw(
                st.sampled_from(
                    ["biopsy_only", "gross_residual", "microscopic_residual", "complete"]
                )
            )
        }
    ev: dict[str, Any] = {"kind": draw(st.sampled_from(["relapse", "progression"]))}
    if draw(st.booleans()):
        ev["date"] = (DX + dt.timedelta(days=draw(st.integers(1, 2000)))).isoformat()
    if draw(st.booleans()):
        ev["sites"] = [
            {"extent": e}
            for e in draw(
                st.lists(st.sampled_from([x.value for x in Extent]), min_size=1, max_size=3)
            )
        ]
    doc: dict[str, Any] = {
        "patient": {"id": "syn-prop", "age_at_diagnosis_days": draw(st.integers(10, 45 * 365))},
        "diagnosis": dx,
        "events": [ev],
    }
    if draw(st.booleans()):
        start = DX + dt.timedelta(days=draw(st.integers(0, 30)))
        fl: dict[str, Any] = {"start_date": start.isoformat()}
        if draw(st.booleans()):
            fl["end_date"] = (start + dt.timedelta(days=draw(st.integers(1, 400)))).isoformat()
        if draw(st.booleans()):
            fl["chemotherapy"] = [
                {"agent": a}
                for a in draw(
                    st.lists(
                        st.sampled_from(["vincristine", "dactinomycin", "cyclophosphamide"]),
                        min_size=1,
                        unique=True,
                    )
                )
            ]
        doc["first_line"] = fl
    return doc
