"""Stand-in finding rules with the engine's ids, used until (and beside) the real engine.

They are deliberately simple and are NOT clinical rules: they exist so the cohort pipeline
(batching, caching, errors, survival) can be tested independently of the rule engine.
"""

from __future__ import annotations

from rhabdo.case.model import Case
from rhabdo.case.vocab import MetastaticSite, PrimarySite
from rhabdo.results import Finding, determined, indeterminate, not_applicable

_FAVOURABLE_FOR_STANDIN = {
    PrimarySite.ORBIT,
    PrimarySite.PARATESTICULAR,
    PrimarySite.VULVA_VAGINA_UTERUS,
}


def standin_metastatic(case: Case) -> Finding:
    """Stand-in: 'metastatic' from the site list (distant_metastases [] -> no)."""
    mets = case.diagnosis.distant_metastases
    if mets is None:
        return indeterminate(
            "standin.metastatic",
            candidates=[True, False],
            needs=["diagnosis.distant_metastases"],
            reason="metastases unknown",
            rule="standin.metastatic",
            citations=[],
        )
    return determined(
        "standin.metastatic",
        bool(mets),
        reason="from site list",
        rule="standin.metastatic",
        citations=[],
    )


def standin_oberlin(case: Case) -> Finding:
    """Stand-in for score.oberlin: count of four factors, indeterminate when one is unknown."""
    fid = "score.oberlin"
    mets = case.diagnosis.distant_metastases
    if mets is not None and not mets:
        return not_applicable(fid, reason="not metastatic", rule=fid)
    needs: list[str] = []
    days = case.age_at_diagnosis_days
    if days is None:
        needs.append("patient.age_at_diagnosis_days")
    if case.diagnosis.primary_site is None:
        needs.append("diagnosis.primary_site")
    if mets is None:
        needs.append("diagnosis.distant_metastases")
    if needs:
        return indeterminate(
            fid,
            candidates=[0, 1, 2, 3, 4],
            needs=needs,
            reason="inputs missing",
            rule=fid,
            citations=[],
        )
    assert days is not None and mets is not None
    score = int(days < 365 or days >= 3653)
    score += int(case.diagnosis.primary_site not in _FAVOURABLE_FOR_STANDIN)
    score += int(MetastaticSite.BONE in mets or MetastaticSite.BONE_MARROW in mets)
    score += int(len(mets) >= 3)
    return determined(fid, score, reason="stand-in count", rule=fid, citations=[])


STANDIN_RULES = (standin_metastatic, standin_oberlin)
