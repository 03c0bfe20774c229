"""``assess(case) -> Assessment``: the one function every edge calls (CLI, web, CDS Hooks,
cohort), so that all of them say the same thing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from rhabdo import __version__
from rhabdo.case.memo import assessment_scope
from rhabdo.case.model import Case
from rhabdo.classify.extent import relapse_extent
from rhabdo.classify.group import clinical_group
from rhabdo.classify.relapse import relapse_refractory, relapse_timing, relapse_type
from rhabdo.classify.relapse_group import cog_relapse_group
from rhabdo.classify.risk_cog import cog_histology_risk, cog_risk
from rhabdo.classify.risk_epssg import epssg_risk
from rhabdo.classify.stage import pretreatment_stage
from rhabdo.errors import CaseValidationError
from rhabdo.exposure import exposure_findings
from rhabdo.exposure.cumulative import agent_totals
from rhabdo.exposure.plausibility import implausible_doses, input_warnings
from rhabdo.knowledge import knowledge_version
from rhabdo.prognosis.oberlin import oberlin_score
from rhabdo.prognosis.relapse_models import relapse_prognosis
from rhabdo.recommend import recommend
from rhabdo.recommend.histology import histology_warnings
from rhabdo.recommend.palliative import emergency_warnings
from rhabdo.results import Assessment, EvidenceGap, Finding, MissingInput, Provenance, trusted

FindingRule = Callable[[Case], Finding]

#: A ``needs`` entry with this prefix names missing knowledge, not a case field.
KNOWLEDGE_NEED = "knowledge."

#: The core findings, in the order a tumour board reads them.
CORE_FINDING_RULES: tuple[FindingRule, ...] = (
    pretreatment_stage,
    clinical_group,
    cog_risk,
    cog_histology_risk,
    epssg_risk,
    relapse_timing,
    relapse_type,
    relapse_extent,
    relapse_refractory,
    cog_relapse_group,
    oberlin_score,
    relapse_prognosis,
)


def core_findings(case: Case) -> dict[str, Finding]:
    """The classification and prognosis findings (no exposure, no recommendations)."""
    findings: dict[str, Finding] = {}
    for rule in CORE_FINDING_RULES:
        f = rule(case)
        findings[f.id] = f
    return findings


def missing_inputs(findings: dict[str, Finding]) -> list[MissingInput]:
    """Each case field that would decide an indeterminate finding, with the findings it decides."""
    decides: dict[str, list[str]] = {}
    for f in findings.values():
        for field in f.needs:
            if field.startswith(KNOWLEDGE_NEED):
                continue  # missing knowledge (an evidence gap), not a case field to collect
            decides.setdefault(field, []).append(f.id)
    return [trusted(MissingInput, field=k, would_decide=v) for k, v in sorted(decides.items())]


def assess(case: Case, *, assessed_on: date | None = None) -> Assessment:
    """Classify, score and recommend for one case; the result carries its whole basis.

    A case with an implausible dose (a unit error) is refused with ``CaseValidationError``
    naming the field; very unlikely but possible records become ``warnings``.
    """
    with assessment_scope():
        return _assess(case, assessed_on)


def _assess(case: Case, assessed_on: date | None) -> Assessment:
    problems = implausible_doses(case)
    if problems:
        raise CaseValidationError(problems)
    on = assessed_on or date.today()
    findings = core_findings(case)
    totals = agent_totals(case)
    for f in exposure_findings(case, totals):
        findings[f.id] = f
    recommendations = recommend(case, findings)
    gaps: dict[str, EvidenceGap] = {}
    for r in recommendations:
        for g in r.evidence_gaps:
            gaps.setdefault(g.id, g)
    rules = [f.rule for f in findings.values()] + [r.rule for r in recommendations]
    # Every part is a typed result already: assembled without validating it all again.
    return trusted(
        Assessment,
        patient_id=case.patient.id,
        warnings=emergency_warnings(case)
        + histology_warnings(case)
        + input_warnings(case, totals, on),
        findings=findings,
        recommendations=recommendations,
        missing_inputs=missing_inputs(findings),
        evidence_gaps=list(gaps.values()),
        provenance=trusted(
            Provenance,
            engine_version=__version__,
            knowledge_version=knowledge_version(),
            assessed_on=on.isoformat(),
            rules=list(dict.fromkeys(rules)),
        ),
    )
