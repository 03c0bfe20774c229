"""Subgroup tests shared by the relapse models and the population checks.

Pappo 1999 sorts first relapses by histology and initial stage/group; these tests read the
case the same way wherever a Pappo subgroup is used (a model's figure or a population check).
"""

from __future__ import annotations

from rhabdo.case.memo import once_per_assessment
from rhabdo.case.model import Case
from rhabdo.case.vocab import EMBRYONAL_HISTOLOGIES, Histology, SurgicalResult
from rhabdo.classify.nodes import regional_nodes_at_diagnosis
from rhabdo.classify.sites import HISTORICAL_IRS_SCHEME, site_ruling
from rhabdo.prognosis.oberlin import metastatic_at_diagnosis


def irs_group_i(case: Case) -> bool | None:
    """Whether the initial IRS clinical group was I (stated, or complete resection, nodes free
    by the shared nodal derivation, M0)."""
    stated = case.diagnosis.irs_group_stated
    if stated is not None:
        return stated.group == "I"
    if metastatic_at_diagnosis(case):
        return False
    surgery = case.diagnosis.initial_surgery
    if surgery is None:
        return None
    if surgery.result is not SurgicalResult.COMPLETE:
        return False
    nodes = regional_nodes_at_diagnosis(case)
    if nodes.involved:
        return False
    if metastatic_at_diagnosis(case) is False and nodes.involved is False:
        return True
    return None


@once_per_assessment
def pappo_category(case: Case) -> tuple[str | None, tuple[str, ...]]:
    """Pappo 1999 lookup key (an entry suffix) or None, and the fields that would decide it.

    None without fields: the histology is not one of Pappo's groups (botryoid, embryonal,
    alveolar/undifferentiated), e.g. RMS NOS, whose subtype is not known.  Worked out once
    per assessment (the relapse model and several population checks ask).
    """
    h = case.diagnosis.histology
    if h is None:
        return None, ("diagnosis.histology",)
    if h is Histology.EMBRYONAL_BOTRYOID:
        return "botryoid", ()
    if h in EMBRYONAL_HISTOLOGIES:
        m1 = metastatic_at_diagnosis(case)
        if m1 is True:
            return "embryonal_group4", ()
        if m1 is None:
            return None, ("diagnosis.distant_metastases",)
        site = case.diagnosis.primary_site
        stage1 = None if site is None else site_ruling(site, HISTORICAL_IRS_SCHEME).favourable
        group1 = irs_group_i(case)
        if stage1 or group1:
            return "embryonal_stage1_or_group1", ()
        if stage1 is False and group1 is False:
            return "embryonal_stage23_or_group23", ()
        needs = (("diagnosis.primary_site",) if stage1 is None else ()) + (
            ("diagnosis.irs_group_stated",) if group1 is None else ()
        )
        return None, needs
    if h is Histology.ALVEOLAR:
        group1 = irs_group_i(case)
        if group1 is None:
            return None, ("diagnosis.irs_group_stated",)
        return ("alveolar_group1" if group1 else "alveolar_group2_4"), ()
    return None, ()
