"""Regional lymph-node status at diagnosis: the one derivation every rule reads.

Every rule that asks "were the regional nodes involved at diagnosis?" (IRS group, EpSSG risk,
the Chisholm 2011 nodal factor, the Wasti 2026 nodal factor, the IRS group I test of the relapse
models) reads :func:`regional_nodes_at_diagnosis`, so that no two rules can disagree about the
same patient.  The evidence is read from the most to the least specific record:

1. ``initial_surgery.most_distal_node_involved: true`` -- the most distal regional node is a
   regional node, so the nodes are involved (IRS group IIC is defined by it; PDQ 2025 after
   Crane 2022);
2. ``initial_surgery.regional_nodes_involved_pathologically`` -- pathology of resected nodes;
3. ``diagnosis.regional_nodes`` -- the clinical N category (N1 involved, N0 not involved);
4. otherwise (NX or not recorded) unknown, never "not involved".

The pretreatment TNM stage alone uses the clinical N category itself
(:func:`clinical_n_category`), because its definition is clinical: "N1 = regional nodes
clinically involved" (scoring-and-staging.md section 1).  It lives here too, so that both views
of the nodes come from one module.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from functools import cache

from rhabdo.case.memo import once_per_assessment
from rhabdo.case.model import Case
from rhabdo.case.vocab import NodalStatus, SurgicalResult
from rhabdo.classify._inputs import Input

SURGERY = "diagnosis.initial_surgery"
PATHOLOGY_FIELD = f"{SURGERY}.regional_nodes_involved_pathologically"
MOST_DISTAL_FIELD = f"{SURGERY}.most_distal_node_involved"
CLINICAL_FIELD = "diagnosis.regional_nodes"


class NodalBasis(StrEnum):
    """Which record decided the nodal status."""

    MOST_DISTAL_NODE = "most_distal_node"
    PATHOLOGY = "pathology"
    CLINICAL = "clinical"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class RegionalNodes:
    """Regional node involvement at diagnosis, the record that decided it, and what is missing."""

    involved: bool | None
    basis: NodalBasis
    note: str
    needs: tuple[str, ...] = ()

    def as_input(self) -> Input[bool]:
        """The status as a classification input (both values while unknown)."""
        if self.involved is None:
            return Input((False, True), self.needs, self.note)
        return Input((self.involved,), note=self.note)


@once_per_assessment
def regional_nodes_at_diagnosis(case: Case) -> RegionalNodes:
    """Regional nodal involvement at diagnosis from every record that bears on it (worked out
    once per assessment: the IRS group, EpSSG risk and relapse models all read it).

    An involved most distal node is nodal involvement whatever else is recorded; pathology of
    resected nodes is preferred to the clinical N category; NX or no record is unknown.
    """
    surgery = case.diagnosis.initial_surgery
    if surgery is not None and surgery.most_distal_node_involved:
        return RegionalNodes(
            True, NodalBasis.MOST_DISTAL_NODE, "most distal regional node involved"
        )
    if surgery is not None and surgery.regional_nodes_involved_pathologically is not None:
        involved = surgery.regional_nodes_involved_pathologically
        note = "nodes involved (pathology)" if involved else "nodes free (pathology)"
        return RegionalNodes(involved, NodalBasis.PATHOLOGY, note)
    clinical = case.diagnosis.regional_nodes
    if clinical is NodalStatus.N1:
        return RegionalNodes(True, NodalBasis.CLINICAL, "N1")
    if clinical is NodalStatus.N0:
        return RegionalNodes(False, NodalBasis.CLINICAL, "N0")
    what = "NX (not assessed)" if clinical is NodalStatus.NX else "regional nodes unknown"
    resected = surgery is not None and surgery.result is not SurgicalResult.BIOPSY_ONLY
    needs = (CLINICAL_FIELD, PATHOLOGY_FIELD) if resected else (CLINICAL_FIELD,)
    return RegionalNodes(None, NodalBasis.UNKNOWN, what, needs)


def clinical_n_category(case: Case) -> Input[NodalStatus]:
    """The clinical N category for the pretreatment stage (N0 or N1; unknown while unrecorded).

    NX is kept as recorded: the stage table places it with N0 (scoring-and-staging.md 1).
    """
    return _clinical_n_input(case.diagnosis.regional_nodes)


@cache
def _clinical_n_input(nodes: NodalStatus | None) -> Input[NodalStatus]:
    """The N-category input for one recorded category (cached: it depends on nothing else)."""
    if nodes is None:
        return Input((NodalStatus.N0, NodalStatus.N1), (CLINICAL_FIELD,), "regional nodes unknown")
    return Input((nodes,), note=nodes.value)
