"""Build the synthetic RMS relapse Bundles in this folder (run once; outputs are checked in).

These Bundles are written the way an EHR would send them, not with rhabdo's exporter: standard
codes wherever a confirmed one exists (SNOMED CT body sites, ICD-O-3 morphology, ICD-10-CM
secondary neoplasms, AJCC cM0, HGNC genes with LOINC Present/Absent, RxNorm, UCUM units in mm
and cGy), one MedicationAdministration per dose, and rhabdo's own code systems only where no
standard code could be confirmed (T/N categories, relapse vs progression, extent of a
recurrence site, agents without a confirmed RxNorm code).  Each imports into the example case
named in its file name, field by field, for every field the mapping covers.

    .venv/bin/python tests/data/fhir/build_synthetic.py
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
SCT = "http://snomed.info/sct"
LNC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
ICDO3 = "http://terminology.hl7.org/CodeSystem/icd-o-3"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
RXN = "http://www.nlm.nih.gov/research/umls/rxnorm"
HGNC = "http://www.genenames.org/geneId"
DAR = "http://terminology.hl7.org/CodeSystem/data-absent-reason"
MCODE = "http://hl7.org/fhir/us/mcode/StructureDefinition/"
OWN = "https://rhabdo.org/fhir/CodeSystem/"
LINE_SYSTEM = OWN + "treatment-line"
LINE_NUMBER = "https://rhabdo.org/fhir/StructureDefinition/treatment-line-number"
CUMULATIVE = "https://rhabdo.org/fhir/StructureDefinition/cumulative-dose"

RXNORM = {
    "vincristine": ("11202", "vincristine"),
    "cyclophosphamide": ("3002", "cyclophosphamide"),
    "doxorubicin": ("3639", "DOXOrubicin"),
}


def cc(
    system: str, code: str, display: str | None = None, text: str | None = None
) -> dict[str, Any]:
    coding: dict[str, Any] = {"system": system, "code": code}
    if display:
        coding["display"] = display
    out: dict[str, Any] = {"coding": [coding]}
    if text:
        out["text"] = text
    return out


def own(vocab: str, code: str, text: str | None = None) -> dict[str, Any]:
    return cc(OWN + vocab, code, text=text)


class Bundle:
    def __init__(self, patient_id: str) -> None:
        self.pid = patient_id
        self.entries: list[dict[str, Any]] = []
        self.subject = {"reference": f"Patient/{patient_id}"}

    def add(self, resource: dict[str, Any]) -> dict[str, str]:
        self.entries.append(
            {
                "fullUrl": f"http://ehr.example.org/fhir/{resource['resourceType']}/{resource['id']}",
                "resource": resource,
            }
        )
        return {"reference": f"{resource['resourceType']}/{resource['id']}"}

    def write(self, name: str, note: str) -> None:
        bundle = {
            "resourceType": "Bundle",
            "id": name,
            "meta": {
                "tag": [
                    {"system": "https://rhabdo.org/fhir/tag", "code": "synthetic", "display": note}
                ]
            },
            "type": "collection",
            "entry": self.entries,
        }
        (HERE / f"{name}.json").write_text(json.dumps(bundle, indent=2) + "\n", encoding="utf-8")

    # -- resources --

    def patient(self, gender: str, birth: str | None) -> None:
        res: dict[str, Any] = {
            "resourceType": "Patient",
            "id": self.pid,
            "meta": {"profile": [MCODE + "mcode-cancer-patient"]},
            "gender": gender,
        }
        if birth:
            res["birthDate"] = birth
        self.add(res)

    def primary(
        self, onset: str, body_site: dict[str, Any], histology: dict[str, Any]
    ) -> dict[str, str]:
        return self.add(
            {
                "resourceType": "Condition",
                "id": "primary",
                "meta": {"profile": [MCODE + "mcode-primary-cancer-condition"]},
                "extension": [
                    {
                        "url": MCODE + "mcode-histology-morphology-behavior",
                        "valueCodeableConcept": histology,
                    }
                ],
                "clinicalStatus": cc(
                    "http://terminology.hl7.org/CodeSystem/condition-clinical", "recurrence"
                ),
                "category": [
                    cc(
                        "http://terminology.hl7.org/CodeSystem/condition-category",
                        "problem-list-item",
                    )
                ],
                "code": {"text": "Rhabdomyosarcoma"},
                "bodySite": [body_site],
                "subject": self.subject,
                "onsetDateTime": onset,
            }
        )

    def obs(
        self, rid: str, profile: str, code: dict[str, Any], date: str, **rest: Any
    ) -> dict[str, str]:
        return self.add(
            {
                "resourceType": "Observation",
                "id": rid,
                "meta": {"profile": [MCODE + profile]},
                "status": "final",
                "code": code,
                "subject": self.subject,
                "effectiveDateTime": date,
                **rest,
            }
        )

    def staging(self, date: str, t: str, n: str, m0: bool) -> None:
        self.obs(
            "tnm-t",
            "mcode-tnm-primary-tumor-category",
            cc(LNC, "21905-5"),
            date,
            valueCodeableConcept=own("invasiveness", t),
        )
        self.obs(
            "tnm-n",
            "mcode-tnm-regional-nodes-category",
            cc(LNC, "21906-3"),
            date,
            valueCodeableConcept=own("nodal-status", n),
        )
        if m0:
            self.obs(
                "tnm-m",
                "mcode-tnm-distant-metastases-category",
                cc(LNC, "21907-1"),
                date,
                valueCodeableConcept=cc(
                    SCT, "1229901006", "American Joint Committee on Cancer cM0 (qualifier value)"
                ),
            )

    def size(self, rid: str, date: str, mm: float, focus: dict[str, str] | None = None) -> None:
        extra: dict[str, Any] = {"focus": [focus]} if focus else {}
        self.obs(
            rid,
            "mcode-tumor-size",
            cc(LNC, "21889-1", "Size Tumor"),
            date,
            method=cc(SCT, "113091000", "Magnetic resonance imaging (procedure)"),
            component=[
                {
                    "code": cc(LNC, "33728-7", "Size.maximum dimension in Tumor"),
                    "valueQuantity": {"value": mm, "unit": "mm", "system": UCUM, "code": "mm"},
                }
            ],
            **extra,
        )

    def variant(
        self,
        rid: str,
        date: str,
        genes: list[tuple[str, str]],
        present: bool | None,
        source: str = "LA6684-0",
    ) -> None:
        comps = [
            {
                "code": cc(LNC, "48018-6", "Gene studied [ID]"),
                "valueCodeableConcept": cc(HGNC, g, s),
            }
            for g, s in genes
        ]
        comps.append(
            {
                "code": cc(LNC, "48002-0", "Genomic source class [Type]"),
                "valueCodeableConcept": cc(
                    LNC, source, "Somatic" if source == "LA6684-0" else "Germline"
                ),
            }
        )
        extra: dict[str, Any]
        if present is None:
            extra = {"dataAbsentReason": cc(DAR, "not-performed", "Not Performed")}
        else:
            extra = {
                "valueCodeableConcept": cc(LNC, "LA9633-4", "Present")
                if present
                else cc(LNC, "LA9634-2", "Absent")
            }
        self.obs(
            rid,
            "mcode-genomic-variant",
            cc(LNC, "69548-6", "Genetic variant assessment"),
            date,
            component=comps,
            **extra,
        )

    def line(
        self, number: int, title: str, start: str, end: str, radiotherapy_given: bool | None = None
    ) -> dict[str, str]:
        return self.add(
            {
                "resourceType": "CarePlan",
                "id": f"line-{number}",
                "extension": [{"url": LINE_NUMBER, "valuePositiveInt": number}],
                # the examples leave `ongoing` unstated, so the plan status is "unknown"
                "status": "unknown",
                "intent": "plan",
                "category": [cc(LINE_SYSTEM, "first-line" if number == 1 else "later-line")],
                "title": title,
                **(
                    {}
                    if radiotherapy_given is None
                    else {
                        "activity": [
                            {
                                "detail": {
                                    "code": cc(
                                        SCT,
                                        "1217123003",
                                        "Radiotherapy course of treatment (regime/therapy)",
                                    ),
                                    "status": "completed" if radiotherapy_given else "not-started",
                                    "doNotPerform": not radiotherapy_given,
                                }
                            }
                        ]
                    }
                ),
                "subject": self.subject,
                "period": {"start": start, "end": end},
            }
        )

    def body_measurements(
        self, line: dict[str, str], date: str, bsa_m2: float, weight_kg: float
    ) -> None:
        for rid, code, display, value, unit in (
            ("bsa", "8277-6", "Body surface area", bsa_m2, "m2"),
            ("weight", "29463-7", "Body weight", weight_kg, "kg"),
        ):
            res: dict[str, Any] = {
                "resourceType": "Observation",
                "id": rid,
                "basedOn": [line],
                "status": "final",
                "category": [
                    cc("http://terminology.hl7.org/CodeSystem/observation-category", "vital-signs")
                ],
                "code": cc(LNC, code, display),
                "subject": self.subject,
                "effectiveDateTime": date,
                "valueQuantity": {"value": value, "unit": unit, "system": UCUM, "code": unit},
            }
            if rid == "bsa":
                res["meta"] = {"profile": [MCODE + "mcode-body-surface-area"]}
            self.add(res)

    def performance(self, scale: str, score: int, date: str) -> None:
        if scale == "karnofsky":
            profile = "mcode-karnofsky-performance-status"
            code = cc(LNC, "89243-0", "Karnofsky Performance Status score")
        else:
            profile = "mcode-lansky-play-performance-status"
            code = cc(
                "http://ncicb.nci.nih.gov/xml/owl/EVS/Thesaurus.owl",
                "C38144",
                "Lansky Play-Performance Status",
            )
        self.obs("performance", profile, code, date, valueInteger=score)

    def medication(self, agent: str) -> dict[str, Any]:
        if agent in RXNORM:
            code, display = RXNORM[agent]
            return cc(RXN, code, display, text=display)
        return own("chemotherapy-agent", agent, text=agent)

    def administrations(
        self, agent: str, dose: float, unit: str, count: int, start: str, every_days: int
    ) -> None:
        first = dt.date.fromisoformat(start)
        for k in range(count):
            when = first + dt.timedelta(days=k * every_days)
            ext = []
            if unit.endswith("/m2"):
                ext = [
                    {
                        "url": MCODE + "mcode-normalization-basis",
                        "valueCodeableConcept": cc(
                            SCT, "301898006", "Body surface area (observable entity)"
                        ),
                    }
                ]
            res: dict[str, Any] = {
                "resourceType": "MedicationAdministration",
                "id": f"{agent}-{k + 1}",
                "meta": {"profile": [MCODE + "mcode-cancer-related-medication-administration"]},
                "status": "completed",
                "medicationCodeableConcept": self.medication(agent),
                "subject": self.subject,
                "effectiveDateTime": when.isoformat(),
                "dosage": {"dose": {"value": dose, "unit": unit, "system": UCUM, "code": unit}},
            }
            if ext:
                res["extension"] = ext
            self.add(res)

    def cumulative(self, agent: str, dose: float, unit: str, line: dict[str, str]) -> None:
        self.add(
            {
                "resourceType": "MedicationRequest",
                "id": f"{agent}-cumulative",
                "meta": {"profile": [MCODE + "mcode-cancer-related-medication-request"]},
                "extension": [
                    {
                        "url": CUMULATIVE,
                        "valueQuantity": {
                            "value": dose,
                            "unit": unit,
                            "system": UCUM,
                            "code": unit,
                        },
                    }
                ],
                "status": "completed",
                "intent": "order",
                "medicationCodeableConcept": self.medication(agent),
                "subject": self.subject,
                "basedOn": [line],
            }
        )

    def radiotherapy(
        self,
        rid: str,
        target: str,
        site: str,
        region: str,
        cgy: float,
        fractions: int,
        start: str,
        end: str,
        line: dict[str, str],
    ) -> None:
        self.add(
            {
                "resourceType": "Procedure",
                "id": rid,
                "meta": {"profile": [MCODE + "mcode-radiotherapy-course-summary"]},
                "extension": [
                    {"url": MCODE + "mcode-radiotherapy-sessions", "valueUnsignedInt": fractions},
                    {
                        "url": MCODE + "mcode-radiotherapy-dose-delivered-to-volume",
                        "extension": [
                            {
                                "url": "totalDoseDelivered",
                                "valueQuantity": {
                                    "value": cgy,
                                    "unit": "cGy",
                                    "system": UCUM,
                                    "code": "cGy",
                                },
                            },
                            {"url": "fractionsDelivered", "valueUnsignedInt": fractions},
                        ],
                    },
                ],
                "basedOn": [line],
                "status": "completed",
                "code": cc(SCT, "1217123003", "Radiotherapy course of treatment (regime/therapy)"),
                "subject": self.subject,
                "performedPeriod": {"start": start, "end": end},
                "bodySite": [own("body-region", region, text=site)],
                "reasonCode": [own("radiotherapy-target", target)],
            }
        )

    def surgery(self, rid: str, date: str, site: str, margin: str, line: dict[str, str]) -> None:
        self.add(
            {
                "resourceType": "Procedure",
                "id": rid,
                "meta": {"profile": [MCODE + "mcode-cancer-related-surgical-procedure"]},
                "basedOn": [line],
                "status": "completed",
                "category": cc(SCT, "387713003", "Surgical procedure (procedure)"),
                "code": {"text": site},
                "subject": self.subject,
                "performedDateTime": date,
                "bodySite": [{"text": site}],
                "outcome": own("margin", margin),
            }
        )

    def relapse(self, rid: str, date: str, sites: list[dict[str, Any]]) -> dict[str, str]:
        return self.obs(
            rid,
            "mcode-cancer-disease-status",
            cc(LNC, "97509-4", "Cancer disease progression"),
            date,
            extension=[
                {
                    "url": MCODE + "mcode-cancer-disease-status-evidence-type",
                    "valueCodeableConcept": cc(SCT, "363679005", "Imaging (procedure)"),
                }
            ],
            valueCodeableConcept={
                "coding": [
                    {
                        "system": SCT,
                        "code": "271299001",
                        "display": "Patient's condition worsened (finding)",
                    },
                    {"system": OWN + "event-kind", "code": "relapse"},
                ]
            },
            component=sites,
        )


def site(
    extent: str, location: str, region: str | None = None, icd10: str | None = None
) -> dict[str, Any]:
    value: dict[str, Any] = {"coding": [], "text": location}
    if icd10:
        value["coding"].append({"system": ICD10CM, "code": icd10})
    if region:
        value["coding"].append({"system": OWN + "body-region", "code": region})
    if not value["coding"]:
        del value["coding"]
    return {"code": own("extent", extent), "valueCodeableConcept": value}


def local_relapse_paratesticular() -> None:
    b = Bundle("EX-LOCAL-01")
    b.patient("male", "2013-03-14")
    b.primary(
        "2021-05-10",
        own("primary-site", "paratesticular"),
        cc(ICDO3, "8910/3", "Embryonal rhabdomyosarcoma"),
    )
    b.staging("2021-05-10", "T1", "N0", m0=True)
    b.size("size-dx", "2021-05-10", 40)
    b.variant("foxo1", "2021-05-14", [("HGNC:3819", "FOXO1")], present=False)
    b.variant("myod1", "2021-05-14", [("HGNC:7611", "MYOD1")], present=None)
    b.variant("tp53", "2021-05-14", [("HGNC:11998", "TP53")], present=None)
    line = b.line(
        1, "VA (low-risk, ARST0331-like)", "2021-05-24", "2021-11-15", radiotherapy_given=False
    )
    b.body_measurements(line, "2021-05-24", 1.0, 27)
    b.performance("lansky", 90, "2023-12-01")
    b.administrations("vincristine", 1.5, "mg/m2", 16, "2021-05-24", 7)
    b.administrations("dactinomycin", 0.045, "mg/kg", 8, "2021-05-24", 21)
    b.surgery("orchiectomy", "2021-05-10", "radical inguinal orchiectomy", "R0", line)
    rel = b.relapse(
        "relapse-1", "2023-11-20", [site("local", "left hemiscrotum / spermatic cord", "pelvis")]
    )
    b.size("size-relapse", "2023-11-20", 25, focus=rel)
    b.write(
        "synthetic-local-relapse-paratesticular",
        "imports as examples/local-relapse-paratesticular.yaml",
    )


def metastatic_relapse_bladder_prostate() -> None:
    b = Bundle("EX-METREL-03")
    b.patient("male", "2018-07-02")
    b.primary(
        "2022-09-15",
        cc(
            SCT,
            "89837001",
            "Urinary bladder structure (body structure)",
            text="bladder neck / prostate",
        ),
        {
            "coding": [
                {"system": ICDO3, "code": "8910/3"},
                {"system": OWN + "histology", "code": "embryonal_botryoid"},
            ]
        },
    )
    b.staging("2022-09-15", "T2", "N0", m0=True)
    b.size("size-dx", "2022-09-15", 65)
    b.variant("foxo1", "2022-09-20", [("HGNC:3819", "FOXO1")], present=False)
    line = b.line(1, "VAC/VI (intermediate risk)", "2022-09-26", "2023-07-31")
    b.body_measurements(line, "2022-09-26", 0.75, 19)
    b.performance("lansky", 80, "2024-05-15")
    b.administrations("vincristine", 1.5, "mg/m2", 30, "2022-09-26", 7)
    b.administrations("dactinomycin", 0.045, "mg/kg", 7, "2022-09-26", 21)
    b.administrations("cyclophosphamide", 1.2, "g/m2", 7, "2022-09-26", 21)
    b.administrations("irinotecan", 50, "mg/m2", 30, "2022-10-03", 7)
    b.radiotherapy(
        "rt-1",
        "primary_tumour",
        "bladder/prostate",
        "pelvis",
        5040,
        28,
        "2022-12-12",
        "2023-01-20",
        line,
    )
    rel = b.relapse(
        "relapse-1",
        "2024-05-06",
        [
            site("distant", "right lower lobe nodules", "thorax", icd10="C78.0"),
            site("distant", "left upper lobe nodule", "thorax", icd10="C78.0"),
        ],
    )
    b.size("size-relapse", "2024-05-06", 18, focus=rel)
    b.write(
        "synthetic-metastatic-relapse-bladder-prostate",
        "imports as examples/metastatic-relapse-bladder-prostate.yaml",
    )


def regional_relapse_alveolar_extremity() -> None:
    b = Bundle("EX-REGIONAL-02")
    b.patient("female", None)
    b.primary(
        "2022-02-01",
        own("primary-site", "extremity", text="left forearm, flexor compartment"),
        cc(ICDO3, "8920/3", "Alveolar rhabdomyosarcoma"),
    )
    b.staging("2022-02-01", "T2", "N0", m0=True)
    b.size("size-dx", "2022-02-01", 45)
    b.variant("foxo1", "2022-02-04", [("HGNC:8617", "PAX3"), ("HGNC:3819", "FOXO1")], present=True)
    line = b.line(
        1, "EpSSG RMS 2005 high-risk arm (IVA x9) with maintenance", "2022-02-10", "2023-01-20"
    )
    b.body_measurements(line, "2022-02-10", 1.3, 40)
    b.performance("karnofsky", 90, "2023-04-10")
    b.administrations("ifosfamide", 6, "g/m2", 9, "2022-02-10", 21)
    b.administrations("vincristine", 1.5, "mg/m2", 15, "2022-02-10", 7)
    b.administrations("dactinomycin", 1.5, "mg/m2", 9, "2022-02-10", 21)
    b.administrations("vinorelbine", 25, "mg/m2", 18, "2022-08-01", 7)
    b.cumulative("cyclophosphamide", 4200, "mg/m2", line)
    b.radiotherapy(
        "rt-1",
        "primary_tumour",
        "left forearm primary",
        "upper_limb",
        5040,
        28,
        "2022-05-02",
        "2022-06-09",
        line,
    )
    rel = b.relapse(
        "relapse-1", "2023-04-03", [site("regional", "left axillary lymph nodes", "thorax")]
    )
    b.size("size-relapse", "2023-04-03", 30, focus=rel)
    b.write(
        "synthetic-regional-relapse-alveolar-extremity",
        "imports as examples/regional-relapse-alveolar-extremity.yaml",
    )


def relapse_after_metastatic_alveolar() -> None:
    b = Bundle("EX-METDX-REL-05")
    b.patient("male", "2008-10-11")
    primary = b.primary(
        "2023-01-16",
        own("primary-site", "extremity", text="right thigh"),
        cc(ICDO3, "8920/3", "Alveolar rhabdomyosarcoma"),
    )
    b.staging("2023-01-16", "T2", "N1", m0=False)
    for rid, code in (("met-lung", "C78.0"), ("met-bone", "C79.51"), ("met-marrow", "C79.52")):
        b.add(
            {
                "resourceType": "Condition",
                "id": rid,
                "meta": {"profile": [MCODE + "mcode-secondary-cancer-condition"]},
                "extension": [
                    {"url": MCODE + "mcode-related-condition", "valueReference": primary}
                ],
                "category": [
                    cc(
                        "http://terminology.hl7.org/CodeSystem/condition-category",
                        "problem-list-item",
                    )
                ],
                "code": cc(ICD10CM, code),
                "subject": b.subject,
                "onsetDateTime": "2023-01-16",
            }
        )
    b.size("size-dx", "2023-01-16", 90)
    b.variant("foxo1", "2023-01-20", [("HGNC:8617", "PAX3"), ("HGNC:3819", "FOXO1")], present=True)
    line = b.line(
        1,
        "ARST0431-like interval-compressed multi-agent therapy with maintenance",
        "2023-01-23",
        "2024-02-12",
    )
    b.body_measurements(line, "2023-01-23", 1.7, 55)
    b.performance("karnofsky", 60, "2024-06-10")
    b.administrations("vincristine", 1.5, "mg/m2", 30, "2023-01-23", 7)
    b.administrations("irinotecan", 50, "mg/m2", 30, "2023-01-23", 7)
    b.administrations("doxorubicin", 75, "mg/m2", 4, "2023-02-06", 42)
    b.administrations("cyclophosphamide", 1.2, "g/m2", 8, "2023-02-06", 21)
    b.administrations("ifosfamide", 9, "g/m2", 4, "2023-02-27", 42)
    b.administrations("etoposide", 500, "mg/m2", 4, "2023-02-27", 42)
    b.administrations("dactinomycin", 0.045, "mg/kg", 4, "2023-08-07", 21)
    b.radiotherapy(
        "rt-1",
        "primary_tumour",
        "right thigh primary and inguinal nodes",
        "lower_limb",
        5040,
        28,
        "2023-05-08",
        "2023-06-15",
        line,
    )
    b.radiotherapy(
        "rt-2", "whole_lung", "both lungs", "thorax", 1500, 10, "2023-06-19", "2023-06-30", line
    )
    b.radiotherapy(
        "rt-3",
        "metastasis",
        "left iliac bone metastasis",
        "pelvis",
        4500,
        25,
        "2023-06-19",
        "2023-07-21",
        line,
    )
    b.relapse(
        "relapse-1",
        "2024-06-03",
        [
            site("distant", "multiple lung nodules", "thorax", icd10="C78.0"),
            site("distant", "thoracic spine T8", "spine", icd10="C79.51"),
            site("distant", "bone marrow (bilateral aspirates)", icd10="C79.52"),
        ],
    )
    b.write(
        "synthetic-relapse-after-metastatic-alveolar",
        "imports as examples/relapse-after-metastatic-alveolar.yaml",
    )


if __name__ == "__main__":
    local_relapse_paratesticular()
    metastatic_relapse_bladder_prostate()
    regional_relapse_alveolar_extremity()
    relapse_after_metastatic_alveolar()
