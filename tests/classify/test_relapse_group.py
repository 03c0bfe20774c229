"""relapse.cog_risk_group: the COG ARST0121 favourable / unfavourable relapse groups.

Source: eligibility of COG ARST0121 (registry NCT00025363; Mascarenhas et al., Cancer 2019,
PMID 31067356): favourable = no prior cyclophosphamide and either initial botryoid histology
(any stage, group or pattern of relapse) or embryonal histology with stage I or group I and a
local or regional recurrence; unfavourable = embryonal stage I/group I with distant recurrence
or after prior cyclophosphamide, embryonal stage II-IV or group II-IV, alveolar histology.
Each row is tested on both sides of each of its conditions.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from rhabdo.case.io import parse_case
from rhabdo.case.model import Case
from rhabdo.case.vocab import Histology
from rhabdo.classify.relapse_group import FINDING_ID, CogRelapseGroup, cog_relapse_group
from rhabdo.engine import core_findings
from rhabdo.knowledge import sources
from rhabdo.results import FindingStatus

FR = CogRelapseGroup.FAVOURABLE.value
UR = CogRelapseGroup.UNFAVOURABLE.value

VA = [{"agent": "vincristine"}, {"agent": "dactinomycin"}]
VAC = [*VA, {"agent": "cyclophosphamide"}]
COMPLETE = {
    "result": "complete",
    "confined_to_site_of_origin": True,
    "regional_nodes_involved_pathologically": False,
}
BIOPSY = {"result": "biopsy_only"}

UNSET: Any = object()


def case(
    *,
    histology: Any = "embryonal",
    site: str = "paratesticular",
    size: float = 3.0,
    nodes: str = "N0",
    metastases: list[str] | None = None,
    surgery: Any = COMPLETE,
    chemo: Any = VA,
    extents: Any = ("local",),
    n_events: int = 1,
) -> Case:
    dx: dict[str, Any] = {
        "date": "2020-01-01",
        "primary_site": site,
        "max_diameter_cm": size,
        "regional_nodes": nodes,
        "distant_metastases": metastases or [],
    }
    if histology is not UNSET:
        dx["histology"] = histology
    if surgery is not UNSET:
        dx["initial_surgery"] = surgery
    first_line: dict[str, Any] = {"start_date": "2020-01-10", "end_date": "2020-08-01"}
    if chemo is not UNSET:
        first_line["chemotherapy"] = chemo
    event: dict[str, Any] = {"kind": "relapse", "date": "2021-06-01"}
    if extents is not UNSET:
        event["sites"] = [
            {"extent": e, **({"metastatic_site": "lung"} if e == "distant" else {})}
            for e in extents
        ]
    events = [event]
    for i in range(1, n_events):
        events.append(
            {"kind": "relapse", "date": (dt.date(2022, 1, 1) + dt.timedelta(i)).isoformat()}
        )
    return parse_case(
        {
            "patient": {"id": "syn-cog-relapse"},
            "diagnosis": dx,
            "first_line": first_line,
            "events": events,
        }
    )


# --- favourable row 1: botryoid, any stage/group/pattern, no prior cyclophosphamide --------


@pytest.mark.parametrize("extents", [("local",), ("regional",), ("distant",), ("local", "distant")])
@pytest.mark.parametrize(
    ("site", "size", "surgery"),
    [("paratesticular", 3.0, COMPLETE), ("bladder", 6.5, BIOPSY)],  # stage 1 gp I; stage 3 gp III
)
def test_botryoid_without_cyclophosphamide_is_favourable_whatever_the_stage_or_pattern(
    extents: tuple[str, ...], site: str, size: float, surgery: dict[str, Any]
) -> None:
    f = cog_relapse_group(
        case(histology="embryonal_botryoid", site=site, size=size, surgery=surgery, extents=extents)
    )
    assert f.value == FR
    assert "botryoid histology without prior cyclophosphamide" in f.reason


def test_botryoid_after_cyclophosphamide_is_unfavourable() -> None:
    f = cog_relapse_group(case(histology="embryonal_botryoid", chemo=VAC))
    assert f.value == UR
    assert "cyclophosphamide was given" in f.reason


# --- favourable row 2: embryonal, stage 1 or group I, local/regional, no cyclophosphamide ---


@pytest.mark.parametrize("histology", ["embryonal", "embryonal_spindle_cell"])
@pytest.mark.parametrize(
    ("site", "size", "surgery", "why"),
    [
        ("paratesticular", 3.0, COMPLETE, "stage 1, group I"),
        ("orbit", 3.0, BIOPSY, "stage 1, group III"),
        ("biliary", 3.0, BIOPSY, "stage 1 under the IRS-era site rule (biliary favourable)"),
        ("trunk", 6.0, COMPLETE, "stage 3, group I"),
    ],
)
@pytest.mark.parametrize("extents", [("local",), ("regional",), ("local", "regional")])
def test_embryonal_stage1_or_group1_local_or_regional_is_favourable(
    histology: str,
    site: str,
    size: float,
    surgery: dict[str, Any],
    why: str,
    extents: tuple[str, ...],
) -> None:
    f = cog_relapse_group(
        case(histology=histology, site=site, size=size, surgery=surgery, extents=extents)
    )
    assert f.value == FR, why


@pytest.mark.parametrize("extents", [("distant",), ("local", "distant"), ("regional", "distant")])
def test_embryonal_stage1_with_distant_recurrence_is_unfavourable(extents: tuple[str, ...]) -> None:
    f = cog_relapse_group(case(extents=extents))
    assert f.value == UR
    assert "distant site" in f.reason


def test_embryonal_stage1_after_cyclophosphamide_is_unfavourable() -> None:
    assert cog_relapse_group(case(chemo=VAC)).value == UR


@pytest.mark.parametrize(
    ("site", "size", "surgery", "metastases"),
    [
        ("trunk", 6.0, BIOPSY, None),  # stage 3, group III
        (
            "trunk",
            4.0,
            {"result": "microscopic_residual", "regional_nodes_involved_pathologically": False},
            None,
        ),  # stage 2, IIA
        ("paratesticular", 3.0, BIOPSY, ["lung"]),  # stage 4, group IV (favourable site)
    ],
)
def test_embryonal_neither_stage1_nor_group1_is_unfavourable(
    site: str, size: float, surgery: dict[str, Any], metastases: list[str] | None
) -> None:
    f = cog_relapse_group(case(site=site, size=size, surgery=surgery, metastases=metastases))
    assert f.value == UR
    assert "neither initial stage 1 nor group I" in f.reason


# --- other histologies --------------------------------------------------------------------


@pytest.mark.parametrize("histology", ["alveolar", "spindle_cell_sclerosing", "pleomorphic"])
def test_other_histology_is_unfavourable_even_when_every_other_condition_is_met(
    histology: str,
) -> None:
    f = cog_relapse_group(case(histology=histology))
    assert f.value == UR
    assert "neither botryoid nor embryonal" in f.reason


def test_every_histology_is_placed() -> None:
    for h in Histology:
        f = cog_relapse_group(case(histology=h.value))
        assert f.status in (FindingStatus.DETERMINED, FindingStatus.INDETERMINATE), h


# --- unknown is never a group ---------------------------------------------------------------


def test_rms_nos_is_an_unknown_subtype() -> None:
    f = cog_relapse_group(case(histology="rms_nos"))
    assert f.status is FindingStatus.INDETERMINATE
    assert f.candidates == [FR, UR]
    assert f.needs == ["diagnosis.histology"]


def test_rms_nos_after_cyclophosphamide_is_unfavourable() -> None:
    assert cog_relapse_group(case(histology="rms_nos", chemo=VAC)).value == UR


def test_unknown_histology_is_indeterminate() -> None:
    f = cog_relapse_group(case(histology=UNSET))
    assert f.candidates == [FR, UR]
    assert "diagnosis.histology" in f.needs


@pytest.mark.parametrize("chemo", [UNSET, []])
def test_unrecorded_first_line_chemotherapy_is_indeterminate(chemo: Any) -> None:
    f = cog_relapse_group(case(chemo=chemo))
    assert f.status is FindingStatus.INDETERMINATE
    assert f.candidates == [FR, UR]
    assert f.needs == ["first_line.chemotherapy"]


def test_unrecorded_relapse_sites_decide_only_for_embryonal_stage1() -> None:
    f = cog_relapse_group(case(extents=UNSET))
    assert f.candidates == [FR, UR]
    assert f.needs == ["events[0].sites"]
    botryoid = cog_relapse_group(case(histology="embryonal_botryoid", extents=UNSET))
    assert botryoid.value == FR


def test_unrecorded_surgery_decides_only_when_the_stage_is_not_1() -> None:
    f = cog_relapse_group(case(site="trunk", size=6.0, surgery=UNSET))
    assert f.candidates == [FR, UR]
    assert "diagnosis.initial_surgery" in f.needs
    stage1 = cog_relapse_group(case(site="orbit", surgery=UNSET))
    assert stage1.value == FR


# --- applicability --------------------------------------------------------------------------


def test_no_event_is_not_applicable() -> None:
    c = parse_case({"patient": {"id": "syn"}})
    assert cog_relapse_group(c).status is FindingStatus.NOT_APPLICABLE


def test_a_later_event_is_not_applicable_and_names_the_first_events_group() -> None:
    f = cog_relapse_group(case(n_events=2))
    assert f.status is FindingStatus.NOT_APPLICABLE
    assert f.details["first_event_group"] == FR
    assert "first relapse or progression" in f.reason


def test_progression_counts_as_a_first_event() -> None:
    c = case()
    doc = c.model_dump(mode="json", exclude_none=True)
    doc["events"][0]["kind"] = "progression"
    assert cog_relapse_group(parse_case(doc)).value == FR


def test_registered_in_the_core_findings_with_resolving_citations() -> None:
    f = core_findings(case())[FINDING_ID]
    assert f.value == FR
    assert "mascarenhas_2019_arst0121" in f.citations
    for key in f.citations:
        assert key in sources()
    assert f.details["definition"].startswith("Favourable: no prior cyclophosphamide")
