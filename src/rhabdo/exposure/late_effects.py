"""Late-effects advice that fits the patient: fertility by sex, cardiac surveillance.

Finding ids (stable):

* ``late_effects.fertility`` -- gonadotoxic exposure and the advice for this patient's sex:
  ovarian risk and premature-ovarian-insufficiency surveillance for a girl or woman
  (IGHG, van Dorp 2016), testicular risk for a boy or man (Green 2014 semen data), and
  fertility-preservation counselling before further gonadotoxic therapy for both (PanCareLIFE /
  IGHG, Mulder 2021).  A girl is never shown male semen data, nor a boy ovarian advice; an
  unknown sex is indeterminate and asks for ``patient.sex``.  The guidelines' dose thresholds
  could not be verified and are stated as an evidence gap.  The preservation *method* follows
  the pubertal (Tanner) stage, ``current.tanner_stage`` (``knowledge/data/dosing.yaml``, kind
  ``fertility_preservation``): pre-pubertal (1), in puberty (2-4) or post-pubertal (5); an
  unrecorded stage shows the pre- and the post-pubertal method and names the field that would
  decide, never assuming either.
* ``late_effects.cardiac_surveillance`` -- the echocardiography interval for the
  doxorubicin-equivalent anthracycline and chest radiotherapy received (PanCareFollowUp text
  stated to reflect IGHG 2023, Ehrhardt 2023: secondary for the guideline itself).

Gonadotoxic exposure: any alkylating agent (``ALKYLATORS``) and radiotherapy to the pelvis or
abdomen (ovaries) or pelvis (testes) -- a coarse body region, so "potentially exposing".
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Any

from rhabdo.case.model import Case
from rhabdo.case.vocab import BodyRegion, Sex
from rhabdo.exposure.cumulative import AgentTotal, line_paths
from rhabdo.knowledge.dosing import (
    DosingEntry,
    DosingKind,
    EvidenceStatus,
    PubertalStatus,
    dosing_rules,
)
from rhabdo.knowledge.treatment import DoseThresholdEntry, ThresholdKind, dose_thresholds
from rhabdo.results import Finding, FindingStatus, determined, indeterminate

RULE_FERTILITY = "late_effects.fertility.v1"
RULE_CARDIAC = "late_effects.cardiac_surveillance.v1"
F_FERTILITY = "late_effects.fertility"
F_CARDIAC = "late_effects.cardiac_surveillance"

OVARY_REGIONS = (BodyRegion.ABDOMEN, BodyRegion.PELVIS)
TESTIS_REGIONS = (BodyRegion.PELVIS,)

FEMALE_CITES = ["van_dorp_2016", "mulder_2021_female_fp"]
MALE_CITES = ["green_2014_ced_sperm", "mulder_2021_male_fp"]

FEMALE_ADVICE = (
    "Alkylating agents and radiotherapy potentially exposing the ovaries cause premature "
    "ovarian insufficiency (IGHG, level A evidence; POI: before age 40, no menses for 4 months "
    "or more and two FSH levels in the menopausal range). Surveillance at least annually in "
    "pre- and peri-pubertal girls; refer if there is no breast development (Tanner 2) by age 13 "
    "or no pubertal progression for 12 months or more. Counsel on fertility preservation "
    "before further gonadotoxic therapy (PanCareLIFE/IGHG female recommendations)."
)
MALE_COUNSELLING = (
    "Counsel on fertility preservation before further gonadotoxic therapy (PanCareLIFE/IGHG "
    "male recommendations)."
)
MALE_ADVICE = (
    "Alkylating agents and radiotherapy exposing the testes impair spermatogenesis. In male "
    "survivors treated with alkylators without radiotherapy, 89% of those with a "
    "cyclophosphamide-equivalent dose below 4,000 mg/m2 were normospermic, the odds of "
    "azoospermia rose 1.22-fold per 1,000 mg/m2 and no dose was uniformly safe. " + MALE_COUNSELLING
)
THRESHOLD_GAP = (
    "The CED and radiotherapy doses at which the IGHG/PanCareLIFE guidelines recommend "
    "fertility preservation could not be verified (evidence gap)."
)


def gonadotoxic_exposure(
    case: Case, totals: Mapping[str, AgentTotal], regions: tuple[BodyRegion, ...]
) -> tuple[list[str], list[str]]:
    """(exposures given, fields still unknown): alkylators and radiotherapy to ``regions``."""
    from rhabdo.exposure.findings import ALKYLATOR_CODES

    given = [a for a in ALKYLATOR_CODES if a in totals]
    unknown: list[str] = []
    for path, line in line_paths(case):
        if not line.radiotherapy and line.radiotherapy_given is not False:
            unknown.append(f"{path}.radiotherapy_given")
        for j, rt in enumerate(line.radiotherapy):
            if rt.body_region is None:
                unknown.append(f"{path}.radiotherapy[{j}].body_region")
            elif rt.body_region in regions:
                dose = f" {rt.total_dose_gy:g} Gy" if rt.total_dose_gy is not None else ""
                given.append(f"{rt.body_region.value} radiotherapy{dose}")
    return given, unknown


F_TANNER = "current.tanner_stage"


@cache
def _preservation_table() -> dict[tuple[Sex, PubertalStatus], DosingEntry]:
    return {
        (e.sex, e.pubertal_status): e
        for e in dosing_rules()
        if e.kind is DosingKind.FERTILITY_PRESERVATION
        and e.sex is not None
        and e.pubertal_status is not None
    }


def _option_text(entry: DosingEntry, *, inside: bool) -> str:
    """One method as a clause; ``inside`` a sentence it starts lower-case."""
    text = " ".join(entry.text.split()).rstrip(".")
    if inside:
        text = text[:1].lower() + text[1:]
    if entry.evidence_status is EvidenceStatus.SECONDARY:
        text += " (secondary source: requires confirmation)"
    return text


def preservation_options(
    sex: Sex, tanner_stage: int | None
) -> tuple[str, list[DosingEntry], list[str]]:
    """The fertility-preservation method for this sex at this pubertal stage: (sentence, the
    knowledge entries shown, fields that would decide).  An unknown stage shows the
    pre-pubertal and the post-pubertal method and names ``current.tanner_stage``; ``other``
    sex shows the ovarian and the testicular method."""
    sentence, shown, needs = _preservation(sex, tanner_stage)
    return sentence, list(shown), list(needs)


@cache
def _preservation(
    sex: Sex, tanner_stage: int | None
) -> tuple[str, tuple[DosingEntry, ...], tuple[str, ...]]:
    """``preservation_options`` from the immutable knowledge, worked out once per sex and stage."""
    table = _preservation_table()
    status = PubertalStatus.from_tanner(tanner_stage)
    sexes = [Sex.FEMALE, Sex.MALE] if sex is Sex.OTHER else [sex]
    statuses = (
        [status]
        if status is not None
        else [PubertalStatus.PRE_PUBERTAL, PubertalStatus.POST_PUBERTAL]
    )
    shown: list[DosingEntry] = []
    per_sex: list[str] = []
    for s in sexes:
        parts = []
        for st in statuses:
            entry = table[(s, st)]
            shown.append(entry)
            lead = f"if {st.words}, " if status is None else ""
            parts.append(lead + _option_text(entry, inside=bool(lead) or len(sexes) > 1))
        organ = {Sex.FEMALE: "ovarian", Sex.MALE: "testicular"}[s]
        per_sex.append(("; ".join(parts)) if len(sexes) == 1 else f"{organ}: " + "; ".join(parts))
    methods = "; ".join(per_sex)
    if status is None:
        return (
            "The fertility-preservation method depends on pubertal stage, which is not "
            f"recorded (record {F_TANNER}): {methods}.",
            tuple(shown),
            (F_TANNER,),
        )
    return (
        f"Fertility-preservation method at Tanner stage {tanner_stage} ({status.words}): "
        f"{methods}.",
        tuple(shown),
        (),
    )


def fertility_advice(sex: Sex) -> tuple[str, list[str]]:
    """The advice text and its citations for one sex (both for ``other``)."""
    if sex is Sex.FEMALE:
        return FEMALE_ADVICE, FEMALE_CITES
    if sex is Sex.MALE:
        return MALE_ADVICE, MALE_CITES
    return (
        "Ovarian: " + FEMALE_ADVICE + " Testicular: " + MALE_ADVICE,
        FEMALE_CITES + MALE_CITES,
    )


def fertility_finding(case: Case, totals: Mapping[str, AgentTotal]) -> Finding:
    """Gonadotoxic exposure and the fertility advice that fits the patient's sex."""
    sex = case.patient.sex
    if sex is None:
        return indeterminate(
            F_FERTILITY,
            candidates=["ovarian_risk", "testicular_risk"],
            needs=["patient.sex"],
            reason="Fertility advice depends on sex (ovarian or testicular risk): record "
            "patient.sex. Fertility-preservation counselling before further gonadotoxic "
            "therapy applies to both sexes.",
            rule=RULE_FERTILITY,
            citations=FEMALE_CITES[1:] + MALE_CITES[1:],
        )
    regions = {
        Sex.FEMALE: OVARY_REGIONS,
        Sex.MALE: TESTIS_REGIONS,
        Sex.OTHER: OVARY_REGIONS,
    }[sex]
    given, unknown = gonadotoxic_exposure(case, totals, regions)
    advice, cites = fertility_advice(sex)
    tanner = case.current.tanner_stage if case.current else None
    method, shown, method_needs = preservation_options(sex, tanner)
    advice = f"{advice} {method}"
    cites = list(dict.fromkeys(cites + [c for e in shown for c in e.citations]))
    organ = {Sex.FEMALE: "Ovarian", Sex.MALE: "Testicular", Sex.OTHER: "Gonadal"}[sex]
    exposure = (
        f"{organ} risk from prior {', '.join(given)}."
        if given
        else "No gonadotoxic exposure recorded so far."
    )
    status = PubertalStatus.from_tanner(tanner)
    details: dict[str, Any] = {
        "sex": sex.value,
        "exposures": given,
        "evidence_gap": THRESHOLD_GAP,
        "tanner_stage": tanner,
        "pubertal_status": status.value if status is not None else None,
        "preservation_options": [e.id for e in shown],
    }
    reason = f"{exposure} {advice} {THRESHOLD_GAP}"
    lines = line_paths(case)
    if not lines:
        return indeterminate(
            F_FERTILITY,
            candidates=["at_risk", "no_exposure_recorded"],
            needs=["first_line", *method_needs],
            reason=f"The treatment history is not recorded. {advice} {THRESHOLD_GAP}",
            rule=RULE_FERTILITY,
            citations=cites,
            details=details,
        )
    if unknown and not given:
        return indeterminate(
            F_FERTILITY,
            candidates=["at_risk", "no_exposure_recorded"],
            needs=unknown + method_needs,
            reason=f"Whether gonadotoxic radiotherapy was given is not recorded. {advice} "
            f"{THRESHOLD_GAP}",
            rule=RULE_FERTILITY,
            citations=cites,
            details=details,
        )
    return determined(
        F_FERTILITY,
        "at_risk" if given else "no_exposure_recorded",
        reason=reason,
        rule=RULE_FERTILITY,
        citations=cites,
        needs=unknown + method_needs,
        inputs_used=[
            "patient.sex",
            *([] if method_needs else [F_TANNER]),
            *(p for p, _ in lines),
        ],
        details=details,
    )


@cache
def _tiers(kind: ThresholdKind) -> tuple[DoseThresholdEntry, ...]:
    """Surveillance tiers of one kind, highest first (the knowledge is immutable once loaded)."""
    rows = [t for t in dose_thresholds() if t.kind is kind and t.at_least is not None]
    return tuple(sorted(rows, key=lambda t: t.at_least or 0.0, reverse=True))


@cache
def _cardiac_citations() -> tuple[str, ...]:
    return tuple(
        sorted(
            {
                c
                for k in (
                    ThresholdKind.CARDIAC_SURVEILLANCE_ANTHRACYCLINE,
                    ThresholdKind.CARDIAC_SURVEILLANCE_CHEST_RT,
                )
                for t in _tiers(k)
                for c in t.citations
            }
        )
    )


def _tier_for(kind: ThresholdKind, value: float) -> DoseThresholdEntry | None:
    return next((t for t in _tiers(kind) if t.reached_by(value)), None)


def _interval(t: DoseThresholdEntry | None) -> float:
    """The echocardiography interval of a tier (years); lower is closer surveillance."""
    return t.interval_years if t is not None and t.interval_years is not None else float("inf")


def cardiac_surveillance_finding(findings: Mapping[str, Finding]) -> Finding:
    """Echocardiography interval from doxorubicin-equivalent anthracycline and chest RT."""
    anth = findings.get("exposure.anthracycline_doxorubicin_equivalent")
    chest = findings.get("exposure.chest_radiation")
    cites = list(_cardiac_citations())
    parts: list[str] = []
    tiers: list[DoseThresholdEntry | None] = []
    needs: list[str] = []
    open_ = False
    for f, kind, unit, key in (
        (anth, ThresholdKind.CARDIAC_SURVEILLANCE_ANTHRACYCLINE, "mg/m2", "at_least_mg_m2"),
        (chest, ThresholdKind.CARDIAC_SURVEILLANCE_CHEST_RT, "Gy", "at_least_gy"),
    ):
        if f is None:
            open_ = True
            continue
        if f.status is FindingStatus.DETERMINED:
            value = float(f.value)
            bound = "at least " if f.details.get("lower_bound") else ""
        else:
            cands = [c[key] for c in f.candidates if isinstance(c, dict) and key in c]
            needs += f.needs
            if not cands:
                # nothing known yet: never read as "at least 0"
                parts.append("not known")
                tiers.append(None)
                open_ = True
                continue
            value = float(cands[0])
            bound = "at least "
        tier = _tier_for(kind, value)
        tiers.append(tier)
        parts.append(f"{bound}{value:g} {unit}")
        if bound and tier is None:
            open_ = True
        if bound and tier is not None and tier is not _tiers(kind)[0]:
            open_ = True
    best = min(tiers, key=_interval, default=None)
    exposure = "Doxorubicin-equivalent anthracycline " + " and chest radiotherapy ".join(parts)
    if best is None:
        advice = (
            "below the surveillance thresholds (anthracycline 100 mg/m2, chest radiotherapy 15 Gy)"
        )
    else:
        advice = " ".join(best.meaning.split())
    if open_ and needs:
        if best is None:
            return indeterminate(
                F_CARDIAC,
                candidates=[],
                needs=needs,
                reason=f"{exposure} so far: whether and how often echocardiography is needed "
                "cannot be decided yet; some exposure is unknown or could not be converted.",
                rule=RULE_CARDIAC,
                citations=cites,
            )
        return indeterminate(
            F_CARDIAC,
            candidates=[advice],
            needs=needs,
            reason=f"{exposure} so far: at least {advice}; some exposure is unknown or could "
            "not be converted.",
            rule=RULE_CARDIAC,
            citations=cites,
        )
    interval = _interval(best)
    return determined(
        F_CARDIAC,
        f"every {interval:g} years" if best is not None else "no routine surveillance interval",
        reason=f"{exposure}: {advice}.",
        rule=RULE_CARDIAC,
        citations=cites,
        needs=needs,
        details={"interval_years": None if best is None else interval},
    )
