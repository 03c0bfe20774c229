"""Small builders for FHIR test bundles (synthetic; no real patient)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

FHIR_DIR = Path(__file__).resolve().parents[1] / "data" / "fhir"
FIXTURES = sorted(FHIR_DIR.glob("*.json"))
SYNTHETIC = sorted(FHIR_DIR.glob("synthetic-*.json"))
EXAMPLES_DIR = Path(__file__).resolve().parents[2] / "examples"


def load_fixture(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FHIR_DIR / name).read_text(encoding="utf-8"))
    return data


def bundle(*resources: dict[str, Any]) -> dict[str, Any]:
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [
            {
                "fullUrl": f"http://test.example/fhir/{r['resourceType']}/{r['id']}",
                "resource": copy.deepcopy(r),
            }
            for r in resources
        ],
    }


PATIENT: dict[str, Any] = {
    "resourceType": "Patient",
    "id": "p1",
    "gender": "female",
    "birthDate": "2015-06-01",
}
SUBJECT = {"reference": "Patient/p1"}


def observation(rid: str, code: dict[str, Any], **rest: Any) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "id": rid,
        "status": "final",
        "code": code,
        "subject": SUBJECT,
        **rest,
    }


def coding(system: str, code: str) -> dict[str, Any]:
    return {"coding": [{"system": system, "code": code}]}


#: An ICD-O-3 rhabdomyosarcoma morphology, to make a borrowed non-RMS example an RMS case.
RMS_MORPHOLOGY = {
    "coding": [
        {
            "system": "http://terminology.hl7.org/CodeSystem/icd-o-3",
            "code": "8900/3",
            "display": "Rhabdomyosarcoma, NOS",
        }
    ]
}
HISTOLOGY_EXT = (
    "http://hl7.org/fhir/us/mcode/StructureDefinition/mcode-histology-morphology-behavior"
)


def as_rms(data: dict[str, Any]) -> dict[str, Any]:
    """A copy of a bundle whose primary cancer Condition is recoded as rhabdomyosarcoma.

    The hand-translated mCODE fixtures are of breast cancer, NSCLC and ALL patients: the import
    refuses them as they are (see the diagnosis-gate tests), so tests of the other readers run
    on a copy whose primary cancer says RMS.
    """
    out = copy.deepcopy(data)
    for entry in out["entry"]:
        res = entry["resource"]
        if res["resourceType"] == "Condition" and "primary-cancer" in res.get("id", ""):
            res["code"] = copy.deepcopy(RMS_MORPHOLOGY)
            res["extension"] = [
                e for e in res.get("extension", []) if e.get("url") != HISTOLOGY_EXT
            ]
    return out
