"""The Oberlin score for RMS metastatic at diagnosis (Oberlin 2008, J Clin Oncol).

One point each for: age < 1 year or >= 10 years; unfavourable primary site; bone or bone-marrow
involvement (one point even if both); three or more metastatic sites.  The finding gives the
score, the factors present, the published 3-year EFS for that count (Oberlin 2008, 788
patients) and the outcomes of the two published cut-points: ARST0431 (0-1 vs >= 2 factors,
Weigel 2016) and MTS 2008 (<= 2 vs >= 3, Schoot 2022).

Two parts of the rule are contested and are never silently settled (scoring-gaps-resolved.md
Gap 3 and A5):

* **Unfavourable site.**  The Oberlin abstract defines it as "extremity and 'other' sites";
  PDQ paraphrases it as every site that is not orbit, non-parameningeal head and neck,
  genitourinary non-bladder/prostate or biliary.  The score follows the abstract (the primary
  source, and EpSSG's own practice); when PDQ's wording gives this patient a different
  answer (parameningeal, bladder, prostate), both answers are shown as ``source_views``.
* **Counting metastatic sites.**  Organ-level counting is supported (PDQ: "sites or
  tissues"), but whether bone and bone marrow are one site or two is not stated anywhere
  read.  Both counts are computed; when they differ the score is indeterminate with both
  candidates, and the team's own count (``diagnosis.distant_metastasis_site_count``)
  decides.  Each listed metastatic site counts once (a listed "other" site counts as one);
  when the team counted more organs than the list shows, its stated count is used.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rhabdo.case.age import age_at_least
from rhabdo.case.model import Case
from rhabdo.case.vocab import IRSGroup, MetastaticSite
from rhabdo.prognosis.knowledge import PrognosisEntry, SiteClass, entry, threshold
from rhabdo.results import Finding, SourceView, determined, indeterminate, not_applicable

FINDING_ID = "score.oberlin"
RULE = "score.oberlin.v1"
CITATIONS = ["oberlin_2008", "weigel_2016", "schoot_2022"]

SITE_RULE_ABSTRACT = "oberlin_2008.site_rule.abstract"
SITE_RULE_PDQ = "oberlin_2008.site_rule.pdq"
COUNT_SEPARATE = "bone_and_marrow_separate"
COUNT_COMBINED = "bone_and_marrow_as_one"
COUNT_STATED = "stated_by_team"

BONE_SITES = frozenset({MetastaticSite.BONE, MetastaticSite.BONE_MARROW})


@dataclass(frozen=True)
class Factor:
    """One Oberlin factor: present (True/False) or unknown (None), and what would decide it."""

    key: str
    present: bool | None
    needs: tuple[str, ...] = ()
    note: str | None = None


# --- applicability ---------------------------------------------------------------------------


def metastatic_at_diagnosis(case: Case) -> bool | None:
    """M1 at first diagnosis: from the metastasis list, else from a stated IRS group."""
    mets = case.diagnosis.distant_metastases
    if mets is not None:
        return bool(mets)
    group = case.diagnosis.irs_group_stated
    if group is not None:
        return group is IRSGroup.IV
    return None


# --- the four factors ------------------------------------------------------------------------


def age_factor(case: Case) -> Factor:
    """Age < 1 year or >= 10 years at diagnosis (exact calendar cut-offs; Oberlin 2008)."""
    young = int(threshold("oberlin_2008.threshold.age_infant_years"))
    old = int(threshold("oberlin_2008.threshold.age_older_years"))
    age_days = case.age_at_diagnosis_days
    born, on = case.patient.date_of_birth, case.diagnosis.date
    at_least_young = age_at_least(young, age_days=age_days, born=born, on=on)
    at_least_old = age_at_least(old, age_days=age_days, born=born, on=on)
    if at_least_young is False or at_least_old is True:
        return Factor("age", True)
    if at_least_young is True and at_least_old is False:
        return Factor("age", False)
    if case.age_at_diagnosis_days is None:
        return Factor("age", None, ("patient.age_at_diagnosis_days",))
    return Factor(
        "age",
        None,
        ("patient.date_of_birth", "diagnosis.date"),
        "the age in days falls on a leap-day-dependent birthday",
    )


def site_class(case: Case, rule_id: str) -> SiteClass | None:
    """How ``rule_id`` classes the primary site (None when the site is unknown)."""
    site = case.diagnosis.primary_site
    if site is None:
        return None
    rule = entry(rule_id)
    assert rule.sites is not None
    return rule.sites[site].site_class


def site_factor(case: Case, rule_id: str) -> Factor:
    cls = site_class(case, rule_id)
    if cls is None:
        return Factor("unfavourable_site", None, ("diagnosis.primary_site",))
    if cls is SiteClass.NOT_STATED:
        return Factor(
            "unfavourable_site", None, ("diagnosis.primary_site",), "rule does not class this site"
        )
    return Factor("unfavourable_site", cls is SiteClass.UNFAVOURABLE)


def bone_or_marrow_factor(case: Case) -> Factor:
    mets = case.diagnosis.distant_metastases
    if mets is None:
        return Factor("bone_or_marrow", None, ("diagnosis.distant_metastases",))
    return Factor("bone_or_marrow", any(m in BONE_SITES for m in mets))


def metastatic_site_counts(case: Case) -> dict[str, int] | None:
    """Number of metastatic sites under each counting convention (None when unknown).

    When the team stated its own count it is the only count; otherwise each listed site counts
    once, with bone and bone marrow counted as two sites or as one.
    """
    stated = case.diagnosis.distant_metastasis_site_count
    if stated is not None:
        return {COUNT_STATED: stated}
    mets = case.diagnosis.distant_metastases
    if mets is None:
        return None
    separate = len(mets)
    combined = separate - (1 if set(mets) >= BONE_SITES else 0)
    return {COUNT_SEPARATE: separate, COUNT_COMBINED: combined}


def site_count_factors(case: Case) -> dict[str, Factor]:
    """The >= 3-sites factor under each counting convention."""
    cut = threshold("oberlin_2008.threshold.metastatic_sites")
    counts = metastatic_site_counts(case)
    if counts is None:
        unknown = Factor(
            "three_or_more_sites",
            None,
            ("diagnosis.distant_metastases", "diagnosis.distant_metastasis_site_count"),
        )
        return {COUNT_SEPARATE: unknown, COUNT_COMBINED: unknown}
    return {
        k: Factor("three_or_more_sites", n >= cut, note=f"{n} site(s)") for k, n in counts.items()
    }


# --- combining -------------------------------------------------------------------------------


def possible_scores(factors: list[Factor]) -> list[int]:
    """Every score the factors allow: known factors fixed, unknown ones 0 or 1."""
    known = sum(1 for f in factors if f.present)
    unknown = sum(1 for f in factors if f.present is None)
    return list(range(known, known + unknown + 1))


def efs_entry(score: int) -> PrognosisEntry:
    """Oberlin 2008 3-year EFS for a number of factors (0-4)."""
    return entry(f"oberlin_2008.efs3.factors_{score}")


def cut_point_outcomes(scores: list[int]) -> dict[str, Any]:
    """ARST0431 and MTS 2008 groups for the possible scores; a group is given only if all agree."""
    out: dict[str, Any] = {}
    arst_cut = threshold("arst0431.threshold.oberlin_high")
    mts_cut = threshold("mts2008.threshold.oberlin_high")
    arst_groups = {"2_plus" if s >= arst_cut else "0_1" for s in scores}
    mts_groups = {"3_plus" if s >= mts_cut else "0_2" for s in scores}
    if len(arst_groups) == 1:
        g = arst_groups.pop()
        e = entry(f"arst0431.efs3.oberlin_{g}")
        out["arst0431"] = {
            "group": g.replace("_", "-").replace("-plus", "+"),
            "efs3": e.figure_text(),
            "entry": e.id,
            "population": e.population,
        }
    else:
        out["arst0431"] = {
            "group": None,
            "reason": "the possible scores fall on both sides of the cut-point",
        }
    if len(mts_groups) == 1:
        g = mts_groups.pop()
        efs = entry(f"mts2008.efs3.oberlin_{g}")
        os_ = entry(f"mts2008.os3.oberlin_{g}")
        out["mts2008"] = {
            "group": g.replace("_", "-").replace("-plus", "+"),
            "efs3": efs.figure_text(),
            "os3": os_.figure_text(),
            "entries": [efs.id, os_.id],
            "population": efs.population,
            "note": efs.evidence_gap,
        }
    else:
        out["mts2008"] = {
            "group": None,
            "reason": "the possible scores fall on both sides of the cut-point",
        }
    return out


def _factor_details(factors: list[Factor]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for f in factors:
        e = entry(f"oberlin_2008.factor.{f.key}")
        out[f.key] = {
            "present": f.present,
            "label": e.label,
            "relative_risk_efs": e.value,
            "note": f.note,
        }
    return out


_FACTOR_WORDS = {
    "age": "age <1 or >=10 years",
    "unfavourable_site": "unfavourable site",
    "bone_or_marrow": "bone/bone-marrow involvement",
    "three_or_more_sites": ">=3 metastatic sites",
}


def oberlin_score(case: Case) -> Finding:
    """Oberlin score (0-4) with its published 3-year EFS and the ARST0431 / MTS 2008 cut-points.

    Applies only to RMS metastatic at diagnosis (Oberlin 2008, J Clin Oncol 26:2384).  The
    site point follows the abstract's "extremity and other" definition; PDQ's broader wording
    is shown beside it when it differs.  See the module docstring for the site-count rule.
    """
    metastatic = metastatic_at_diagnosis(case)
    inputs = [
        "patient.date_of_birth",
        "patient.age_at_diagnosis_days",
        "diagnosis.date",
        "diagnosis.primary_site",
        "diagnosis.distant_metastases",
        "diagnosis.distant_metastasis_site_count",
    ]
    if metastatic is False:
        return not_applicable(
            FINDING_ID,
            reason=(
                "The Oberlin score applies only to RMS metastatic at diagnosis; this case was M0."
            ),
            rule=RULE,
            citations=["oberlin_2008"],
            inputs_used=["diagnosis.distant_metastases", "diagnosis.irs_group_stated"],
        )
    age = age_factor(case)
    bone = bone_or_marrow_factor(case)
    site_abstract = site_factor(case, SITE_RULE_ABSTRACT)
    site_pdq = site_factor(case, SITE_RULE_PDQ)
    counts = site_count_factors(case)
    count_values = {f.present for f in counts.values()}
    count_disagree = len(count_values) > 1
    count_factor = next(iter(counts.values()))
    if count_disagree:
        # the two counting conventions disagree: open until the team's own count is given
        count_factor = Factor(
            "three_or_more_sites",
            None,
            ("diagnosis.distant_metastasis_site_count",),
            "bone and bone marrow: one site or two is not settled by the sources",
        )

    factors = [age, site_abstract, bone, count_factor]
    scores = possible_scores(factors)
    details: dict[str, Any] = {
        "factors": _factor_details(factors),
        "site_rule": "Oberlin 2008 abstract: extremity and 'other' sites",
        "metastatic_site_counts": metastatic_site_counts(case),
        "os3_by_score": entry("oberlin_2008.os3.by_factors").evidence_gap,
        "cut_points": cut_point_outcomes(scores),
    }
    citations = list(CITATIONS)
    views: list[SourceView] = []
    site_disagree = (
        site_abstract.present is not None
        and site_pdq.present is not None
        and site_abstract.present != site_pdq.present
    )
    if site_disagree:
        pdq_scores = possible_scores([age, site_pdq, bone, count_factor])
        views += [
            SourceView(
                citation="oberlin_2008",
                value=scores[0] if len(scores) == 1 else scores,
                reason="Abstract: unfavourable site = extremity and 'other' sites only.",
            ),
            SourceView(
                citation="pdq_rms_hp_2025",
                value=pdq_scores[0] if len(pdq_scores) == 1 else pdq_scores,
                reason=(
                    "PDQ: every site except orbit, non-parameningeal head and neck, "
                    "GU non-bladder/prostate and biliary is unfavourable."
                ),
            ),
        ]
        citations.append("pdq_rms_hp_2025")
        details["site_rule_pdq_score"] = pdq_scores
    if count_disagree:
        cnt = metastatic_site_counts(case) or {}
        views += [
            SourceView(
                citation="pdq_rms_hp_2025",
                value=f"{cnt.get(COUNT_SEPARATE)} sites",
                reason="PDQ counts different metastatic 'sites or tissues': bone, marrow as two.",
            ),
            SourceView(
                citation="oberlin_2008",
                value=f"{cnt.get(COUNT_COMBINED)} sites",
                reason="Not stated in the abstract; counting bone and bone marrow as one site.",
            ),
        ]
        if "pdq_rms_hp_2025" not in citations:
            citations.append("pdq_rms_hp_2025")
    site_note = ""
    if site_disagree:
        site_note = (
            " The site point follows the Oberlin 2008 abstract (extremity/'other');"
            " by PDQ's wording this"
            f" {case.diagnosis.primary_site.label if case.diagnosis.primary_site else 'site'} would"
            f" {'score' if site_pdq.present else 'not score'} a site point."
        )
    site = case.diagnosis.primary_site
    rule = entry(SITE_RULE_ABSTRACT)
    if site is not None and rule.sites is not None and not rule.sites[site].stated_by_source:
        assignment = rule.sites[site]
        site_note += f" Site point for {site.label} is inferred, not stated: {assignment.note}"
        details["site_point_inferred"] = assignment.note

    if metastatic is None:
        return indeterminate(
            FINDING_ID,
            candidates=list(scores),
            needs=["diagnosis.distant_metastases"],
            reason="Applies only if the disease was metastatic at diagnosis (not recorded).",
            rule=RULE,
            citations=citations,
            inputs_used=inputs,
            details=details,
            source_views=views,
        )
    if len(scores) > 1:
        needs = sorted({n for f in factors if f.present is None for n in f.needs})
        open_words = ", ".join(_FACTOR_WORDS[f.key] for f in factors if f.present is None)
        return indeterminate(
            FINDING_ID,
            candidates=list(scores),
            needs=needs,
            reason=(
                f"Oberlin score {scores[0]}-{scores[-1]}: not decided for {open_words}.{site_note}"
            ),
            rule=RULE,
            citations=citations,
            inputs_used=inputs,
            details=details,
            source_views=views,
        )
    score = scores[0]
    efs = efs_entry(score)
    details["efs3"] = efs.figure_text()
    details["efs3_entry"] = efs.id
    details["population"] = efs.population
    present = [_FACTOR_WORDS[f.key] for f in factors if f.present]
    listed = ", ".join(present) if present else "no factor present"
    return determined(
        FINDING_ID,
        score,
        reason=(
            f"Oberlin score {score} of 4 ({listed}): published 3-year EFS {efs.figure_text()} "
            f"(Oberlin 2008, 788 patients).{site_note}"
        ),
        rule=RULE,
        citations=citations,
        inputs_used=inputs,
        details=details,
        source_views=views,
    )
