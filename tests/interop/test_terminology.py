"""Every standard code rhabdo exports is verified, and every concept without one is listed as
uncoded with its reason (issue 15: "SNOMED CT for sites, T/N/M values and relapse extents, RxNorm
for every agent", never a guessed code).

The provenance lives in ``knowledge/data/terminology/codes.yaml``; these tests hold it and
``rhabdo.interop.codes`` to each other, and check codes credited to the vendored HL7 artefacts
(mCODE 4.0.0 package, mCODE STU4 data dictionary) against those artefacts themselves.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from rhabdo.case.vocab import ChemotherapyAgent, Extent, Invasiveness, NodalStatus, PrimarySite
from rhabdo.interop import codes as c

CODES_YAML = (
    Path(c.__file__).resolve().parents[1] / "knowledge" / "data" / "terminology" / "codes.yaml"
)
PUBLIC = Path(__file__).resolve().parents[1] / "data" / "public"


@cache
def _register() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(CODES_YAML.read_text(encoding="utf-8"))
    return data


@cache
def _artefact_codings(source: str) -> frozenset[tuple[str, str]]:
    """(code, display) pairs of one vendored artefact."""
    where = PUBLIC.parents[2] / _register()["sources"][source]["where"]
    pairs: set[tuple[str, str]] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if "code" in node and isinstance(node.get("display"), str):
                pairs.add((str(node["code"]), node["display"]))
            if "Code" in node and isinstance(node.get("Code description"), str):
                pairs.add((str(node["Code"]), node["Code description"]))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    files = sorted(where.glob("*.json")) if where.is_dir() else [where]
    for path in files:
        walk(json.loads(path.read_text(encoding="utf-8")))
    return frozenset(pairs)


def _check_entry(entry: dict[str, Any], code: c.Code) -> None:
    assert (entry["code"], entry["display"]) == (code.code, code.display)
    sources = entry["sources"]
    registry = _register()["sources"]
    assert set(sources) <= set(registry), "every source key is described"
    vendored = [s for s in sources if registry[s].get("vendored")]
    assert vendored or len(set(sources)) >= 2, "a published HL7 artefact, or two sources agree"
    for source in vendored:
        assert (code.code, code.display) in _artefact_codings(source), (
            f"{code.code} {code.display!r} does not occur in {source}"
        )


def test_every_source_names_where_it_was_read_and_its_licence() -> None:
    for key, source in _register()["sources"].items():
        assert source["what"] and source["where"] and source["licence"], key
        if not source.get("vendored"):
            assert " @ " in source["where"], f"{key}: repository @ commit"


@pytest.mark.parametrize("agent", list(ChemotherapyAgent), ids=str)
def test_every_agent_has_a_verified_rxnorm_code_or_is_listed_as_uncoded(
    agent: ChemotherapyAgent,
) -> None:
    register = _register()
    if agent is ChemotherapyAgent.OTHER:
        assert agent not in c.AGENT_TO_RXNORM
        return
    if agent in c.AGENT_TO_RXNORM:
        code = c.AGENT_TO_RXNORM[agent]
        assert code.system == c.RXNORM
        _check_entry(register["rxnorm"][agent.value], code)
        assert agent.value not in register["uncoded"]["rxnorm"]
        assert c.AGENT_FROM_RXNORM[code.code] is agent
    else:
        assert agent in c.UNCODED_AGENTS
        assert register["uncoded"]["rxnorm"][agent.value].strip()
        assert agent.value not in register["rxnorm"]


def test_the_rxnorm_register_lists_nothing_the_code_table_lacks() -> None:
    assert set(_register()["rxnorm"]) == {a.value for a in c.AGENT_TO_RXNORM}
    assert len({code.code for code in c.AGENT_TO_RXNORM.values()}) == len(c.AGENT_TO_RXNORM)


@pytest.mark.parametrize("site", list(PrimarySite), ids=str)
def test_every_primary_site_has_a_verified_snomed_code_or_is_listed_as_uncoded(
    site: PrimarySite,
) -> None:
    register = _register()
    if site in c.PRIMARY_SITE_TO_SNOMED:
        code = c.PRIMARY_SITE_TO_SNOMED[site]
        _check_entry(register["snomed_primary_site"][site.value], code)
        assert c.PRIMARY_SITE_FROM_SNOMED[code.code] is site, "read back as the same site"
    else:
        assert register["uncoded"]["snomed_primary_site"][site.value].strip()


def test_every_snomed_body_site_read_on_import_is_in_the_mcode_value_set() -> None:
    """The import maps (mCODE 'Radiotherapy Treatment Location' body structures) are codes of
    the vendored data dictionary, not hand-typed ones."""
    codes = {code for code, _ in _artefact_codings("mcode_stu4_dd")}
    read = set(c.PRIMARY_SITE_FROM_SNOMED) | set(c.METASTATIC_SITE_FROM_SNOMED_BODY_SITE)
    assert read <= codes, sorted(read - codes)


@pytest.mark.parametrize(
    ("category", "code"),
    [
        ("N0", c.AJCC_CN0),
        ("M0", c.AJCC_CM0),
        *[(member.value, None) for member in (Invasiveness.T1, Invasiveness.T2)],
        *[(member.value, None) for member in (NodalStatus.N1, NodalStatus.NX)],
        ("M1", None),
    ],
)
def test_every_tnm_value_is_coded_from_the_ig_or_listed_as_uncoded(
    category: str, code: c.Code | None
) -> None:
    register = _register()
    if code is None:
        assert register["uncoded"]["snomed_tnm"][category].strip()
        assert category not in register["snomed_tnm"]
    else:
        _check_entry(register["snomed_tnm"][category], code)


def test_the_tnm_table_covers_every_category_value() -> None:
    covered = set(_register()["snomed_tnm"]) | set(_register()["uncoded"]["snomed_tnm"])
    values = {m.value for m in Invasiveness} | {m.value for m in NodalStatus} | {"M0", "M1"}
    assert covered == values


@pytest.mark.parametrize("extent", list(Extent), ids=str)
def test_every_relapse_extent_is_listed_as_uncoded(extent: Extent) -> None:
    assert _register()["uncoded"]["snomed_relapse_extent"][extent.value].strip()


# --- what the exporter writes --------------------------------------------------------------


def _verified_codes() -> set[tuple[str, str]]:
    """Every (system, code) of rhabdo.interop.codes: the only standard codes export may use."""
    found: set[tuple[str, str]] = set()
    for value in vars(c).values():
        items = value.values() if isinstance(value, dict) else [value]
        for item in items:
            if isinstance(item, c.Code):
                found.add((item.system, item.code))
    return found


def _codings(node: Any) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    if isinstance(node, dict):
        if isinstance(node.get("system"), str) and "code" in node:
            out.append(node)
        for value in node.values():
            out.extend(_codings(value))
    elif isinstance(node, list):
        for value in node:
            out.extend(_codings(value))
    return out


def _exported_examples() -> list[dict[str, Any]]:
    from rhabdo.case.io import load_case
    from rhabdo.engine import assess
    from rhabdo.interop.fhir_export import assessment_to_bundle

    examples = sorted((Path(__file__).resolve().parents[2] / "examples").glob("*.yaml"))
    bundles = []
    for path in examples:
        case = load_case(path)
        bundles.append(assessment_to_bundle(case, assess(case)))
    return bundles


def test_every_snomed_and_rxnorm_code_exported_is_a_verified_one() -> None:
    verified = _verified_codes()
    seen = {
        (cd["system"], str(cd["code"]))
        for bundle in _exported_examples()
        for cd in _codings(bundle)
        if cd["system"] in (c.SNOMED, c.RXNORM)
    }
    assert seen, "the examples export standard codes"
    assert seen <= verified, sorted(seen - verified)


@pytest.mark.parametrize(
    "agent", [a for a in ChemotherapyAgent if a is not ChemotherapyAgent.OTHER]
)
def test_an_exported_agent_carries_its_rxnorm_code_or_only_its_text(
    agent: ChemotherapyAgent,
) -> None:
    from rhabdo.case.io import load_case
    from rhabdo.interop.fhir_export import case_to_bundle
    from rhabdo.interop.fhir_import import case_from_bundle

    examples = Path(__file__).resolve().parents[2] / "examples"
    case = load_case(sorted(examples.glob("*.yaml"))[0])
    data = case.model_dump(mode="json", exclude_none=True)
    line = data.get("first_line") or {}
    exposures = line.get("chemotherapy") or []
    if not exposures:
        pytest.skip("the first example has no chemotherapy to re-code")
    for exposure in exposures:
        exposure["agent"] = agent.value
    from rhabdo.case.io import parse_case

    bundle = case_to_bundle(parse_case(data))
    requests = [
        e["resource"]
        for e in bundle["entry"]
        if e["resource"]["resourceType"] == "MedicationRequest"
    ]
    assert requests
    for request in requests:
        rx = [
            cd for cd in request["medicationCodeableConcept"]["coding"] if cd["system"] == c.RXNORM
        ]
        if agent in c.AGENT_TO_RXNORM:
            assert rx == [c.AGENT_TO_RXNORM[agent].coding()]
        else:
            assert rx == []
            assert request["medicationCodeableConcept"]["text"]
    # and the RxNorm code alone (our own coding removed) is read back as the same agent
    if agent in c.AGENT_TO_RXNORM:
        for request in requests:
            concept = request["medicationCodeableConcept"]
            concept["coding"] = [cd for cd in concept["coding"] if cd["system"] == c.RXNORM]
        imported = case_from_bundle(bundle).case
        agents = (
            {x.agent for x in imported.first_line.chemotherapy} if imported.first_line else set()
        )
        assert agents == {agent}
