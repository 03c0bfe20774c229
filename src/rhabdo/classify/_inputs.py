"""Reading the inputs a classification rule needs, without ever filling in an unknown.

Each input is a small set of values still possible (one value when it is known) and the case
fields that would decide it.  ``explore`` runs a rule over every combination of the values
still possible: the outcomes it returns are the candidates, and only the inputs whose value
changes the outcome are reported as needed.  So an unfavourable-site tumour with unknown size
and N0 yields stages {2, 3} and needs ``diagnosis.max_diameter_cm`` -- and nothing else.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any, Generic, NamedTuple, TypeVar

from rhabdo.case.age import age_at_least
from rhabdo.case.memo import once_per_assessment
from rhabdo.case.model import Case
from rhabdo.case.vocab import FusionStatus, Histology, IRSGroup, MutationStatus, PrimarySite
from rhabdo.classify.sites import site_ruling
from rhabdo.classify.tables import Threshold, histology_classes, threshold
from rhabdo.errors import KnowledgeBaseError

T = TypeVar("T", bound=Hashable)
V = TypeVar("V", bound=Hashable)


@dataclass(frozen=True)
class Input(Generic[T]):
    """The values one input may still take, the fields that would decide it, and why."""

    values: tuple[T, ...]
    needs: tuple[str, ...] = ()
    note: str = ""

    @property
    def is_known(self) -> bool:
        return len(self.values) == 1

    @property
    def value(self) -> T:
        if not self.is_known:
            raise ValueError("input is not known")
        return self.values[0]


@dataclass(frozen=True)
class Exploration(Generic[V]):
    """Distinct outcomes over every possible combination, and the fields that matter."""

    outcomes: tuple[V, ...]
    needs: tuple[str, ...]
    mattering_inputs: tuple[str, ...]


def explore(
    inputs: Mapping[str, Input[Any]], decide: Callable[[Mapping[str, Any]], V]
) -> Exploration[V]:
    """Apply ``decide`` to every combination of the inputs' possible values."""
    names = tuple(inputs)
    outcomes, mattering = _explored(decide, names, tuple([i.values for i in inputs.values()]))
    needs = tuple(dict.fromkeys(f for n in mattering for f in inputs[n].needs)) if mattering else ()
    return Exploration(outcomes=outcomes, needs=needs, mattering_inputs=mattering)


@lru_cache(maxsize=4096)
def _explored(
    decide: Callable[[Mapping[str, Any]], Any],
    names: tuple[str, ...],
    choices: tuple[tuple[Any, ...], ...],
) -> tuple[tuple[Any, ...], tuple[str, ...]]:
    """The distinct outcomes over every combination of ``choices``, and the inputs whose value
    changes the outcome.

    Remembered per process: a rule's ``decide`` reads only its inputs and the (immutable)
    knowledge, so the same values still possible always give the same answer.
    """
    if all(len(c) == 1 for c in choices):  # everything known: one outcome, nothing needed
        known = {n: c[0] for n, c in zip(names, choices, strict=True)}
        return (decide(known),), ()
    results: dict[tuple[Any, ...], Any] = {}
    for combo in itertools.product(*choices):
        results[combo] = decide(dict(zip(names, combo, strict=True)))
    outcomes = tuple(dict.fromkeys(results.values()))
    mattering: list[str] = []
    if len(outcomes) > 1:
        for i, name in enumerate(names):
            if len(choices[i]) == 1:
                continue
            seen: dict[tuple[Any, ...], Any] = {}
            for combo, outcome in results.items():
                rest = combo[:i] + combo[i + 1 :]
                if rest in seen and seen[rest] != outcome:
                    mattering.append(name)
                    break
                seen.setdefault(rest, outcome)
    return outcomes, tuple(mattering)


# --------------------------------------------------------------------------- site


class SiteClass(NamedTuple):
    """What the site rules need to know about a primary site under one scheme."""

    favourable: bool
    orbit: bool


_ALL_SITE_CLASSES = (SiteClass(True, True), SiteClass(True, False), SiteClass(False, False))


def site_class_input(case: Case, scheme: str) -> Input[SiteClass]:
    return _site_class_input(case.diagnosis.primary_site, scheme)


@cache
def _site_class_input(site: PrimarySite | None, scheme: str) -> Input[SiteClass]:
    """The site input for one recorded site (cached: it reads only the knowledge)."""
    if site is None:
        return Input(_ALL_SITE_CLASSES, ("diagnosis.primary_site",), "primary site unknown")
    ruling = site_ruling(site, scheme)
    kind = "favourable" if ruling.favourable else "unfavourable"
    return Input((SiteClass(ruling.favourable, ruling.orbit),), note=f"{site.label} ({kind} site)")


# ------------------------------------------------------------------ size, nodes, metastases


def _compare(value: float, rule: Threshold) -> bool:
    """True when ``value`` falls on the first (named) side of the threshold."""
    if rule.boundary == "at_most":
        return value <= rule.value
    if rule.boundary == "below":
        return value < rule.value
    if rule.boundary == "at_least":
        return value >= rule.value
    return value > rule.value


@cache
def _size_cutoff(threshold_id: str) -> tuple[Threshold, str]:
    """A size cut-off and its words (cached: knowledge only)."""
    _, rule = threshold(threshold_id)
    if rule.boundary != "at_most":
        raise KnowledgeBaseError(
            "classification.yaml", "size cut-offs must be 'at_most'", entry=threshold_id
        )
    return rule, f"{rule.value:g} {rule.unit}"


def size_over_cutoff_input(case: Case, threshold_id: str) -> Input[bool]:
    """Whether the tumour exceeds the size cut-off (``threshold_id`` names the side <= value)."""
    rule, cutoff = _size_cutoff(threshold_id)
    size = case.diagnosis.max_diameter_cm
    if size is None:
        return Input((False, True), ("diagnosis.max_diameter_cm",), "size unknown")
    over = not _compare(size, rule)
    return Input((over,), note=f"{size:g} cm ({'>' if over else '<='}{cutoff})")


@once_per_assessment
def metastatic_input(case: Case) -> Input[bool]:
    """Distant metastases at diagnosis, from the site list, the site count or the stated group."""
    dx = case.diagnosis
    if dx.distant_metastases is not None:
        if dx.distant_metastases:
            sites = ", ".join(m.label for m in dx.distant_metastases)
            return Input((True,), note=f"M1 ({sites})")
        return Input((False,), note="M0")
    if dx.distant_metastasis_site_count is not None:
        m1 = dx.distant_metastasis_site_count > 0
        return Input((m1,), note="M1 (site count)" if m1 else "M0 (site count 0)")
    if dx.irs_group_stated is not None:
        m1 = dx.irs_group_stated is IRSGroup.IV
        return Input(
            (m1,),
            note=f"{'M1' if m1 else 'M0'} (from the stated IRS group {dx.irs_group_stated.value})",
        )
    return Input((False, True), ("diagnosis.distant_metastases",), "metastases unknown")


# --------------------------------------------------------------------------- age, biology


@once_per_assessment
def age_at_least_input(case: Case, years: int) -> Input[bool]:
    """Whether the patient was at least ``years`` old at diagnosis (exact; unknown stays open)."""
    reached = age_at_least(
        years,
        age_days=case.age_at_diagnosis_days,
        born=case.patient.date_of_birth,
        on=case.diagnosis.date,
    )
    if reached is None:
        if case.age_at_diagnosis_days is None:
            needs: tuple[str, ...] = ("patient.age_at_diagnosis_days",)
            note = "age unknown"
        else:
            needs = ("patient.date_of_birth", "diagnosis.date")
            note = f"age in days too close to {years} years to decide without the dates"
        return Input((False, True), needs, note)
    return Input((reached,), note=f"age {'>=' if reached else '<'}{years} years")


def fusion_positive_input(case: Case) -> Input[bool]:
    fusion = case.diagnosis.foxo1_fusion
    if fusion is None or fusion is FusionStatus.NOT_TESTED:
        what = (
            "FOXO1 fusion not tested"
            if fusion is FusionStatus.NOT_TESTED
            else "FOXO1 fusion unknown"
        )
        return Input((False, True), ("diagnosis.foxo1_fusion",), what)
    positive = bool(fusion.is_fusion_positive)
    return Input((positive,), note=fusion.label)


def myod1_tp53_wild_type_input(case: Case) -> Input[bool]:
    """Both MYOD1 and TP53 wild-type?  A mutation in either (tumour or germline TP53) is 'no'."""
    dx = case.diagnosis
    tp53_mutated = MutationStatus.MUTATED in (dx.tp53, dx.tp53_germline)
    if dx.myod1 is MutationStatus.MUTATED or tp53_mutated:
        which = "MYOD1" if dx.myod1 is MutationStatus.MUTATED else "TP53"
        return Input((False,), note=f"{which} mutated")
    needs = []
    if dx.myod1 is not MutationStatus.WILD_TYPE:
        needs.append("diagnosis.myod1")
    if dx.tp53 is not MutationStatus.WILD_TYPE:
        needs.append("diagnosis.tp53")
    if needs:
        return Input((True, False), tuple(needs), "MYOD1/TP53 status not known")
    return Input((True,), note="MYOD1 and TP53 wild-type")


NOT_CLASSIFIED = "not_classified"


def histology_class_input(case: Case, scheme: str) -> Input[str]:
    """The scheme's histology class, ``NOT_CLASSIFIED`` for histologies it does not cover."""
    return _histology_class_input(case.diagnosis.histology, scheme)


@cache
def _histology_class_input(histology: Histology | None, scheme: str) -> Input[str]:
    """The histology input for one recorded histology (cached: it reads only the knowledge)."""
    _, rule = histology_classes(scheme)
    classes = tuple(rule.classes)
    if histology is None:
        # An unrecorded histology may also be one the scheme does not cover.
        uncovered = (NOT_CLASSIFIED,) if rule.not_classified else ()
        return Input((*classes, *uncovered), ("diagnosis.histology",), "histology unknown")
    if histology in rule.unknown:
        return Input(classes, ("diagnosis.histology",), f"{histology.label} (class not stated)")
    if histology in rule.not_classified:
        return Input((NOT_CLASSIFIED,), note=histology.label)
    for name, members in rule.classes.items():
        if histology in members:
            return Input((name,), note=histology.label)
    raise KnowledgeBaseError(
        "classification.yaml", f"histology {histology.value} not placed", entry=scheme
    )
