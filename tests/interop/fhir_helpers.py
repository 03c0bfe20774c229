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
