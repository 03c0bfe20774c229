"""The diagnosis: the primary cancer Condition (with the diagnosis gate), staging and
genomic-variant Observations."""

from __future__ import annotations

from typing import Any

from rhabdo.case.vocab import (
    FusionStatus,
    Histology,
    Invasiveness,
    IRSGroup,
    MetastaticSite,
    MutationStatus,
    NodalStatus,
    PrimarySite,
)
from rhabdo.errors import NotRhabdomyosarcoma
from rhabdo.interop import codes as c
from rhabdo.interop.fhir_diagnosis import Verdict, is_primary, is_secondary, judge
from rhabdo.interop.fhir_read.common import (
    _codings,
    _codings_all,
    _ext,
    _has_code,
    _Importer,
    _label,
    _own,
    _profiles,
)

# --- primary cancer --------------------------------------------------------------------


def _is_primary(res: Any) -> bool:
    """An mCODE primary cancer Condition, or one recognised by its code (the shared gate)."""
    return is_primary(res.dict())


def _secondary_site(res: Any) -> tuple[MetastaticSite | None, list[Any]]:
    """The metastatic site of a secondary cancer Condition and the codings considered."""
    considered = _codings(res.code) + _codings_all(res.bodySite)
    own = _own(MetastaticSite, [res.code, *(res.bodySite or [])])
    if own is not None:
        return own, considered
    for cd in _codings(res.code):
        if cd.system == c.ICD10CM and cd.code in c.METASTATIC_SITE_FROM_ICD10CM:
            return c.METASTATIC_SITE_FROM_ICD10CM[cd.code], considered
        if cd.system == c.SNOMED and cd.code in c.METASTATIC_SITE_FROM_SNOMED_DISORDER:
            return c.METASTATIC_SITE_FROM_SNOMED_DISORDER[cd.code], considered
    for cd in _codings_all(res.bodySite):
        if cd.system == c.SNOMED and cd.code in c.METASTATIC_SITE_FROM_SNOMED_BODY_SITE:
            return c.METASTATIC_SITE_FROM_SNOMED_BODY_SITE[cd.code], considered
    return None, considered


def _is_secondary(res: Any) -> bool:
    return is_secondary(res.dict())


def _primary_condition(imp: _Importer, dx: dict[str, Any], used: set[int]) -> Any:
    primaries = [r for r in imp.of_type("Condition") if _is_primary(r)]
    if not primaries:
        return None
    res = primaries[0]
    for other in primaries[1:]:
        used.add(id(other))
        imp.skip(other, "a second primary cancer Condition; only the first is read")
    used.add(id(res))
    evidence = judge(res.dict())
    if evidence.verdict is not Verdict.RMS:
        raise NotRhabdomyosarcoma(f"{_label(res)}.code", evidence.refusal())
    imp.prov("diagnosis", res, f"rhabdomyosarcoma: {evidence.found}")
    onset = imp.date(res, "onsetDateTime", res.onsetDateTime)
    if onset is not None:
        dx["date"] = onset.isoformat()
        imp.prov("diagnosis.date", res)
    site = _own(PrimarySite, res.bodySite or [])
    if site is None:
        for cd in _codings_all(res.bodySite):
            if cd.system == c.SNOMED and cd.code in c.PRIMARY_SITE_FROM_SNOMED:
                site = c.PRIMARY_SITE_FROM_SNOMED[cd.code]
                break
    if site is not None:
        dx["primary_site"] = site.value
        imp.prov("diagnosis.primary_site", res)
    elif res.bodySite:
        imp.note_unmapped(
            res, "bodySite", _codings_all(res.bodySite), "body site has no primary-site mapping"
        )
    detail = next((bs.text for bs in (res.bodySite or []) if bs.text), None)
    if detail:
        dx["primary_site_detail"] = detail[:200]
        imp.prov("diagnosis.primary_site_detail", res)
    for ext in _ext(res, c.EXT_HISTOLOGY):
        concept = ext.valueCodeableConcept
        histology = _own(Histology, [concept])
        if histology is None:
            for cd in _codings(concept):
                if (
                    cd.system == c.ICDO3
                    and cd.code
                    and c.normalise_icdo3(cd.code) in c.HISTOLOGY_FROM_ICDO3
                ):
                    histology = c.HISTOLOGY_FROM_ICDO3[c.normalise_icdo3(cd.code)]
                    break
        if histology is not None:
            dx["histology"] = histology.value
            imp.prov("diagnosis.histology", res)
        else:
            imp.note_unmapped(
                res,
                "extension[histologyMorphologyBehavior]",
                _codings(concept),
                "morphology has no histology mapping",
            )
    return res


# --- staging ---------------------------------------------------------------------------


def _obs_code_in(res: Any, code_set: frozenset[str]) -> bool:
    return any(cd.code in code_set for cd in _codings(res.code))


def _store_category(
    imp: _Importer, dx: dict[str, Any], res: Any, code: Any, field: str, what: str
) -> None:
    """Keep a staging category read from ``res`` under ``diagnosis.<field>``, or note that its
    value could not be mapped."""
    if code is None:
        imp.note_unmapped(
            res,
            "valueCodeableConcept",
            _codings(res.valueCodeableConcept),
            f"{what} value not mapped",
        )
    else:
        dx[field] = code.value
        imp.prov(f"diagnosis.{field}", res)


def _staging(imp: _Importer, dx: dict[str, Any], used: set[int]) -> None:
    for res in imp.of_type("Observation"):
        value = res.valueCodeableConcept
        if _has_code(res.code, c.SNOMED, c.IRS_GROUP_OBSERVABLE.code):
            used.add(id(res))
            group = _own(IRSGroup, [value])
            if group is None:
                group = next(
                    (
                        g
                        for g, code in c.IRS_GROUP_SNOMED.items()
                        if _has_code(value, code.system, code.code)
                    ),
                    None,
                )
            _store_category(imp, dx, res, group, "irs_group_stated", "IRS clinical group")
        elif _obs_code_in(res, c.TNM_T_CODES):
            used.add(id(res))
            t = _own(Invasiveness, [value])
            _store_category(imp, dx, res, t, "invasiveness", "T category")
        elif _obs_code_in(res, c.TNM_N_CODES):
            used.add(id(res))
            n = _own(NodalStatus, [value])
            if n is None and _has_code(value, c.AJCC_CN0.system, c.AJCC_CN0.code):
                n = NodalStatus.N0
            _store_category(imp, dx, res, n, "regional_nodes", "N category")
        elif _obs_code_in(res, c.TNM_M_CODES):
            used.add(id(res))
            m = next((cd.code for cd in _codings(value) if cd.system == c.M_CATEGORY_SYSTEM), None)
            if m is None and _has_code(value, c.AJCC_CM0.system, c.AJCC_CM0.code):
                m = "M0"
            if m in ("M0", "M1"):
                dx.setdefault("_m_category", (m, res))
            else:
                imp.note_unmapped(
                    res, "valueCodeableConcept", _codings(value), "M category value not mapped"
                )


# --- genomics --------------------------------------------------------------------------


def _is_genomic(res: Any) -> bool:
    return c.PROFILE_GENOMIC_VARIANT in _profiles(res) or _has_code(
        res.code, c.GENETIC_VARIANT_ASSESSMENT.system, c.GENETIC_VARIANT_ASSESSMENT.code
    )


def _genomics(imp: _Importer, dx: dict[str, Any], used: set[int]) -> None:
    fusions: list[tuple[FusionStatus, Any]] = []
    _variants(imp, dx, used, fusions)
    distinct = {fusion for fusion, _ in fusions}
    if len(distinct) == 1:
        dx["foxo1_fusion"] = fusions[0][0].value
        for _, res in fusions:
            imp.prov("diagnosis.foxo1_fusion", res)
    elif len(distinct) > 1:
        # conflicting results are reported, never resolved by order or by preference
        shown = "; ".join(f"{fusion.label} ({_label(res)})" for fusion, res in fusions)
        for _, res in fusions:
            imp.note_unmapped(
                res,
                "valueCodeableConcept",
                [],
                f"conflicting FOXO1 results: {shown}; the fusion status is left indeterminate",
            )


def _variants(
    imp: _Importer,
    dx: dict[str, Any],
    used: set[int],
    fusions: list[tuple[FusionStatus, Any]],
) -> None:
    for res in imp.of_type("Observation"):
        if not _is_genomic(res):
            continue
        used.add(id(res))
        genes: set[str] = set()
        source: str | None = None
        for comp in res.component or []:
            for cd in _codings(comp.valueCodeableConcept):
                if cd.system in c.HGNC_SYSTEMS and cd.code:
                    genes.add(cd.code)
                if cd.system == c.LOINC and cd.code in (c.SOMATIC.code, c.GERMLINE.code):
                    source = cd.code
        value = res.valueCodeableConcept
        present: bool | None = None
        if _has_code(value, c.PRESENT.system, c.PRESENT.code):
            present = True
        elif _has_code(value, c.ABSENT.system, c.ABSENT.code):
            present = False
        not_done = _has_code(res.dataAbsentReason, c.DATA_ABSENT_REASON, "not-performed")

        if c.HGNC_FOXO1.code in genes:
            fusion = _own(FusionStatus, [value])
            if fusion is None and not_done:
                fusion = FusionStatus.NOT_TESTED
            if fusion is None and present is False:
                fusion = FusionStatus.NEGATIVE
            if fusion is None and present:
                partners = genes - {c.HGNC_FOXO1.code}
                if partners == {c.HGNC_PAX3.code}:
                    fusion = FusionStatus.PAX3_FOXO1
                elif partners == {c.HGNC_PAX7.code}:
                    fusion = FusionStatus.PAX7_FOXO1
                elif partners and not partners & {c.HGNC_PAX3.code, c.HGNC_PAX7.code}:
                    fusion = FusionStatus.OTHER_FOXO1
            if fusion is None:
                imp.note_unmapped(
                    res,
                    "valueCodeableConcept",
                    _codings(value),
                    "FOXO1 result without a stated partner gene or presence value",
                )
            else:
                fusions.append((fusion, res))
            continue

        field_name: str | None = None
        if genes == {c.HGNC_MYOD1.code}:
            field_name = "myod1"
        elif genes == {c.HGNC_TP53.code}:
            if source == c.GERMLINE.code:
                field_name = "tp53_germline"
            elif source == c.SOMATIC.code:
                field_name = "tp53"
            else:
                imp.note_unmapped(
                    res,
                    "component[genomic-source-class]",
                    [],
                    "TP53 result without somatic/germline source",
                )
                continue
        if field_name is None:
            imp.note_unmapped(
                res,
                "component[gene-studied]",
                [
                    cd
                    for comp in res.component or []
                    for cd in _codings(comp.valueCodeableConcept)
                    if cd.system in c.HGNC_SYSTEMS
                ],
                "gene(s) not part of the case model",
            )
            continue
        status = _own(MutationStatus, [value])
        if status is None and not_done:
            status = MutationStatus.NOT_TESTED
        if status is None and present is not None:
            status = MutationStatus.MUTATED if present else MutationStatus.WILD_TYPE
        if status is None:
            imp.note_unmapped(
                res, "valueCodeableConcept", _codings(value), "variant result value not mapped"
            )
        else:
            dx[field_name] = status.value
            imp.prov(f"diagnosis.{field_name}", res)
