"""Vendor the pieces of the official FHIR packages that the conformance tests need.

Run from the repository's top folder (needs ``npm`` and the npm registry)::

    python scripts/vendor_fhir_packages.py

It runs ``npm pack`` for the packages below into a temporary folder and copies into
``tests/data/public/fhir-packages/<package>-<version>/``:

* every StructureDefinition, ValueSet and CodeSystem of mCODE, and all of its examples;
* from the R4 core examples package: the StructureDefinitions of the resource types rhabdo
  writes or reads, of every data type, and of the core extensions mCODE uses; the R4
  examples that touch oncology;
* the ValueSets of every *required* binding in those StructureDefinitions, and the
  CodeSystems those ValueSets draw on, from whichever package holds them.

StructureDefinitions and CodeSystems are pruned of narrative only (``text``, element
``definition``/``comment``/``requirements``/``mapping``, concept ``definition``/
``designation``) to keep the copy small; every rule a validator reads is kept unchanged.
``PROVENANCE.md`` beside the files records what was fetched.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path
from typing import Any

PACKAGES = {
    "hl7.fhir.us.mcode": "4.0.0",
    "hl7.fhir.r4.examples": "4.0.1",
}
TARGET = Path("tests/data/public/fhir-packages")

CORE_RESOURCES = [
    "Resource",
    "DomainResource",
    "Bundle",
    "Patient",
    "Condition",
    "Observation",
    "CarePlan",
    "MedicationRequest",
    "MedicationAdministration",
    "MedicationStatement",
    "Medication",
    "Procedure",
    "RiskAssessment",
    "RequestGroup",
    "GuidanceResponse",
    "BodyStructure",
    "DiagnosticReport",
    "FamilyMemberHistory",
    "Specimen",
    "QuestionnaireResponse",
    "Basic",
    "Task",
]
CORE_EXTENSIONS = [
    "condition-related",
    "condition-assertedDate",
    "bodySite",
    "observation-secondaryFinding",
    "workflow-supportingInfo",
    "data-absent-reason",
]
ONCOLOGY_WORDS = (
    "cancer",
    "neoplasm",
    "tumor",
    "tumour",
    "carcinoma",
    "sarcoma",
    "oncolog",
    "leukemia",
    "lymphoma",
    "chemotherapy",
    "metasta",
)
PRUNE_ELEMENT = (
    "definition",
    "comment",
    "requirements",
    "mapping",
    "alias",
    "isModifierReason",
    "meaningWhenMissing",
    "example",
)


def _pack(name: str, version: str, into: Path) -> Path:
    subprocess.run(
        ["npm", "pack", f"{name}@{version}", "--silent"],
        cwd=into,
        check=True,
        timeout=600,
        stdout=subprocess.DEVNULL,
    )
    tgz = into / f"{name}-{version}.tgz"
    out = into / f"{name}-{version}"
    with tarfile.open(tgz) as tar:
        tar.extractall(out, filter="data")
    return out / "package"


def _load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def _prune_sd(sd: dict[str, Any]) -> dict[str, Any]:
    sd = {k: v for k, v in sd.items() if k not in ("text", "differential", "mapping")}
    for element in sd.get("snapshot", {}).get("element", []):
        for key in PRUNE_ELEMENT:
            element.pop(key, None)
    return sd


def _prune_cs(cs: dict[str, Any]) -> dict[str, Any]:
    cs = {k: v for k, v in cs.items() if k != "text"}

    def walk(concepts: list[dict[str, Any]]) -> None:
        for concept in concepts:
            concept.pop("definition", None)
            concept.pop("designation", None)
            walk(concept.get("concept", []))

    walk(cs.get("concept", []))
    return cs


def _write(dest: Path, name: str, data: dict[str, Any]) -> None:
    dest.mkdir(parents=True, exist_ok=True)
    (dest / name).write_text(
        json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8"
    )


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        roots = {n: _pack(n, v, Path(tmp)) for n, v in PACKAGES.items()}
        mcode, core = (roots[n] for n in PACKAGES)
        if TARGET.exists():
            shutil.rmtree(TARGET)
        folder = {n: TARGET / f"{n}-{v}" for n, v in PACKAGES.items()}

        sds: dict[Path, dict[str, Any]] = {}
        for path in sorted(mcode.glob("StructureDefinition-*.json")):
            sds[folder["hl7.fhir.us.mcode"] / path.name] = _load(path)
        for path in sorted(core.glob("StructureDefinition-*.json")):
            sd = _load(path)
            kind, sd_id = sd.get("kind"), sd.get("id")
            wanted = (
                (
                    kind == "resource"
                    and sd_id in CORE_RESOURCES
                    and sd.get("derivation") != "constraint"
                )
                or (
                    kind in ("complex-type", "primitive-type")
                    and sd.get("derivation") != "constraint"
                )
                or sd_id in CORE_EXTENSIONS
                or sd_id in ("SimpleQuantity", "MoneyQuantity")
            )
            if wanted:
                sds[folder["hl7.fhir.r4.examples"] / path.name] = sd
        for dest, sd in sds.items():
            _write(dest.parent, dest.name, _prune_sd(sd))

        # every terminology resource, by canonical url, from all three packages
        terms: dict[str, tuple[str, Path]] = {}
        for name in ("hl7.fhir.r4.examples", "hl7.fhir.us.mcode"):
            for pattern in ("ValueSet-*.json", "CodeSystem-*.json"):
                for path in roots[name].glob(pattern):
                    try:
                        url = _load(path).get("url")
                    except (ValueError, UnicodeDecodeError):
                        continue
                    if url:
                        terms[url] = (name, path)
        wanted_vs = {
            element["binding"]["valueSet"].split("|")[0]
            for sd in sds.values()
            for element in sd.get("snapshot", {}).get("element", [])
            if element.get("binding", {}).get("strength") == "required"
            and element["binding"].get("valueSet")
        }
        for path in mcode.glob("ValueSet-*.json"):
            wanted_vs.add(_load(path)["url"])
        seen: set[str] = set()
        todo = sorted(wanted_vs)
        while todo:
            url = todo.pop()
            if url in seen or url not in terms:
                continue
            seen.add(url)
            name, path = terms[url]
            resource = _load(path)
            if resource["resourceType"] == "ValueSet":
                for part in ("include", "exclude"):
                    for inc in resource.get("compose", {}).get(part, []):
                        todo.extend(v.split("|")[0] for v in inc.get("valueSet", []))
                        if inc.get("system") and "concept" not in inc:
                            todo.append(inc["system"])
                _write(folder[name], path.name, {k: v for k, v in resource.items() if k != "text"})
            elif resource.get("content") == "complete":
                _write(folder[name], path.name, _prune_cs(resource))

        for path in sorted((mcode / "example").glob("*.json")):
            _write(folder["hl7.fhir.us.mcode"] / "example", path.name, _load(path))
        for path in sorted(core.glob("*.json")):
            prefix = path.name.split("-")[0]
            if prefix in (
                "StructureDefinition",
                "ValueSet",
                "CodeSystem",
                "SearchParameter",
                "CapabilityStatement",
                "OperationDefinition",
                "ConceptMap",
                "ImplementationGuide",
                "CompartmentDefinition",
                "NamingSystem",
                "StructureMap",
                "package.json",
            ):
                continue
            if path.stat().st_size > 200_000:  # the spec's definition bundles, not records
                continue
            text = path.read_text(encoding="utf-8", errors="replace").lower()
            if prefix in (
                "Bundle",
                "Condition",
                "Observation",
                "Procedure",
                "MedicationRequest",
                "MedicationAdministration",
                "MedicationStatement",
                "DiagnosticReport",
                "CarePlan",
                "RiskAssessment",
            ) and any(w in text for w in ONCOLOGY_WORDS):
                _write(folder["hl7.fhir.r4.examples"] / "example", path.name, _load(path))
        for name, root in roots.items():
            folder[name].mkdir(parents=True, exist_ok=True)
            shutil.copy(root / "package.json", folder[name] / "package.json")
    print(f"vendored into {TARGET}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
