"""CDS Hooks 2.0: schemas checked against the specification's own JSON examples; discovery;
patient-view (prefetch, fetch with fhirAuthorization, 412); cards; feedback.

Specification: tests/data/public/cds-hooks-2.0/specification.md and hook-patient-view.md
(unchanged copies; see PROVENANCE.md there).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from service_helpers import BASE_URL, make_jwt, require_modules, synthetic_case

from rhabdo.service import cds, store
from rhabdo.service.cds_schemas import problems

SPEC_DIR = Path(__file__).resolve().parents[1] / "data" / "public" / "cds-hooks-2.0"
PV_URL = f"{BASE_URL}/cds-services/{cds.PATIENT_VIEW_ID}"
FEEDBACK_URL = PV_URL + "/feedback"


def _documents(body: str) -> list[Any]:
    """Every JSON value in a block (the JWT example holds several; hook pages hold fragments)."""
    decoder = json.JSONDecoder()
    text = re.sub(r"^(POST|GET) \S+\s*", "", body.strip())  # the HTTP request line
    if text.startswith('"'):
        text = "{" + text + "}"  # a fragment such as "context": {...}
    docs, i = [], 0
    while i < len(text):
        doc, i = decoder.raw_decode(text, i)
        docs.append(doc)
        while i < len(text) and text[i].isspace():
            i += 1
    return docs


def _json_blocks(filename: str) -> list[tuple[str, Any]]:
    """(nearest heading, parsed JSON) for each ```json block; // comments removed."""
    text = (SPEC_DIR / filename).read_text("utf-8")
    out = []
    heading = ""
    for part in re.split(r"(```json\n.*?```)", text, flags=re.S):
        if part.startswith("```json"):
            body = part[len("```json\n") : -3]
            body = re.sub(r"(?m)^\s*//[^\n]*$", "", body)
            body = re.sub(r"(?<=[,{\[\"\d])\s*//[^\n]*", "", body)
            for doc in _documents(body):
                out.append((heading, doc))
        else:
            heads = re.findall(r"(?m)^#+ (.+)$", part)
            if heads:
                heading = heads[-1].strip()
    return out


SPEC = _json_blocks("specification.md")


def _examples(heading_contains: str, key: str) -> list[Any]:
    return [doc for head, doc in SPEC if heading_contains in head and key in doc]


def test_the_specification_examples_were_found() -> None:
    assert len(_examples("Discovery Example", "services")) == 1
    assert len(_examples("Example", "hookInstance")) == 1
    assert len([d for _, d in SPEC if "cards" in d]) >= 3
    assert len([d for _, d in SPEC if "feedback" in d]) == 3


@pytest.mark.parametrize(
    ("schema", "key"),
    [
        ("discovery-response", "services"),
        ("request", "hookInstance"),
        ("response", "cards"),
        ("feedback", "feedback"),
    ],
)
def test_every_specification_example_is_valid(schema: str, key: str) -> None:
    docs = [d for _, d in SPEC if key in d]
    assert docs, f"no specification example carries {key!r}"
    for doc in docs:
        found = problems(schema, doc)
        if _is_autolaunch_example(doc):
            # Upstream defect: the card table makes `indicator` REQUIRED, but the spec's
            # "Example response using autolaunchable" card omits it.  The schema keeps the table.
            assert found == ["cards/0: 'indicator' is a required property"]
        else:
            assert found == [], doc


def _is_autolaunch_example(doc: Any) -> bool:
    cards = doc.get("cards") or []
    return any(link.get("autolaunchable") for c in cards for link in c.get("links", []))


def test_patient_view_context_examples_are_valid() -> None:
    contexts = [d["context"] for _, d in _json_blocks("hook-patient-view.md")]
    contexts += [d["context"] for d in _examples("Example", "hookInstance")]
    assert len(contexts) == 3
    for ctx in contexts:
        assert problems("patient-view-context", ctx) == []


VALID_CARD = {"summary": "s", "indicator": "info", "source": {"label": "rhabdo"}}


@pytest.mark.parametrize(
    ("schema", "document", "where"),
    [
        ("response", {}, "cards"),
        ("response", {"cards": [{**VALID_CARD, "indicator": "urgent"}]}, "indicator"),
        ("response", {"cards": [{**VALID_CARD, "summary": "x" * 141}]}, "summary"),
        ("response", {"cards": [{k: v for k, v in VALID_CARD.items() if k != "source"}]}, "source"),
        (
            "response",
            {"cards": [{**VALID_CARD, "suggestions": [{"label": "a"}]}]},
            "selectionBehavior",
        ),
        (
            "response",
            {"cards": [{**VALID_CARD, "links": [{"label": "a", "url": "u", "type": "web"}]}]},
            "type",
        ),
        (
            "response",
            {"cards": [{**VALID_CARD, "overrideReasons": [{"code": "c", "system": "s"}]}]},
            "display",
        ),
        ("request", {"hook": "patient-view", "context": {}}, "hookInstance"),
        (
            "request",
            {
                "hook": "patient-view",
                "hookInstance": "x",
                "context": {},
                "fhirAuthorization": {
                    "access_token": "t",
                    "token_type": "Bearer",
                    "expires_in": 1,
                    "scope": "s",
                    "subject": "c",
                },
            },
            "fhirServer",
        ),
        ("patient-view-context", {"userId": "Device/1", "patientId": "1"}, "userId"),
        ("patient-view-context", {"userId": "Practitioner/1"}, "patientId"),
        (
            "feedback",
            {
                "feedback": [
                    {"card": "c", "outcome": "accepted", "outcomeTimestamp": "2021-12-11T10:05:31Z"}
                ]
            },
            "acceptedSuggestions",
        ),
        (
            "feedback",
            {
                "feedback": [
                    {"card": "c", "outcome": "ignored", "outcomeTimestamp": "2021-12-11T10:05:31Z"}
                ]
            },
            "outcome",
        ),
        ("discovery-response", {"services": [{"hook": "patient-view", "id": "x"}]}, "description"),
    ],
)
def test_documents_breaking_the_specification_are_refused(
    schema: str, document: Any, where: str
) -> None:
    found = problems(schema, document)
    assert found and any(where in p for p in found), found


def test_discovery_is_public_and_valid(service: Any) -> None:
    response = service.http.get("/cds-services")
    assert response.status_code == 200
    doc = response.json()
    assert problems("discovery-response", doc) == []
    (svc,) = doc["services"]
    assert svc["hook"] == "patient-view" and svc["id"] == cds.PATIENT_VIEW_ID
    assert svc["prefetch"]["patient"] == "Patient/{{context.patientId}}"
    for template in svc["prefetch"].values():
        assert "{{context.patientId}}" in template


def _request(prefetch: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "hook": "patient-view",
        "hookInstance": "d1577c69-dfbe-44ad-ba6d-3e05e953b2ea",
        "context": {"userId": "Practitioner/example", "patientId": "1288992"},
        **extra,
    }
    if prefetch is not None:
        body["prefetch"] = prefetch
    return body


def _call(service: Any, key: Any, body: dict[str, Any]) -> Any:
    return service.http.post(
        f"/cds-services/{cds.PATIENT_VIEW_ID}",
        json=body,
        headers={"Authorization": f"Bearer {make_jwt(key, PV_URL)}"},
    )


def test_no_patient_and_no_fhir_access_is_412(service: Any, client_key: Any) -> None:
    response = _call(service, client_key, _request({"patient": None}))
    assert response.status_code == 412
    assert _call(service, client_key, _request()).status_code == 412


def test_an_invalid_request_is_400_naming_the_field(service: Any, client_key: Any) -> None:
    body = _request()
    body["context"] = {"userId": "Practitioner/example"}
    response = _call(service, client_key, body)
    assert response.status_code == 400
    assert any("patientId" in p["problem"] for p in response.json()["detail"])
    other_hook = _call(service, client_key, {**_request(), "hook": "order-sign"})
    assert other_hook.status_code == 400


def _fake_request(transport: httpx.MockTransport) -> Any:
    from rhabdo.service.settings import Settings

    state = SimpleNamespace(settings=Settings(), fhir_transport=transport)
    return SimpleNamespace(app=SimpleNamespace(state=state))


def _client(*servers: str) -> Any:
    from rhabdo.service.settings import TrustedIssuer

    return TrustedIssuer(issuer="https://ehr.example.org/", jwks={"keys": []}, fhir_servers=servers)


PATIENT = {"resourceType": "Patient", "id": "1288992", "gender": "male"}
CONDITION = {"resourceType": "Condition", "id": "c1", "subject": {"reference": "Patient/1288992"}}


def test_missing_prefetch_is_fetched_with_the_given_authorization() -> None:
    seen: list[tuple[str, str]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append((str(request.url), request.headers["authorization"]))
        if request.url.path.endswith("/Patient/1288992"):
            return httpx.Response(200, json=PATIENT)
        if request.url.path.endswith("/Condition"):
            return httpx.Response(
                200,
                json={
                    "resourceType": "Bundle",
                    "type": "searchset",
                    "entry": [{"resource": CONDITION}],
                },
            )
        return httpx.Response(200, json={"resourceType": "Bundle", "type": "searchset"})

    body = _request(
        {"observations": None},
        fhirServer="https://fhir.example.org/r4",
        fhirAuthorization={
            "access_token": "opaque",
            "token_type": "Bearer",
            "expires_in": 300,
            "scope": "user/Patient.read",
            "subject": "rhabdo",
        },
    )
    bundle = cds.gather_bundle(
        _fake_request(httpx.MockTransport(handler)), body, _client("https://fhir.example.org/r4")
    ).bundle
    urls = [u for u, _ in seen]
    assert "https://fhir.example.org/r4/Patient/1288992" in urls
    assert not any("Observation" in u for u in urls)  # prefetched as null: known to be empty
    assert {a for _, a in seen} == {"Bearer opaque"}
    assert [e["resource"]["resourceType"] for e in bundle["entry"]] == ["Patient", "Condition"]
    assert bundle["entry"][0]["fullUrl"] == "https://fhir.example.org/r4/Patient/1288992"


def test_prefetch_is_used_without_fetching_and_operation_outcomes_are_dropped() -> None:
    def handler(request: httpx.Request) -> httpx.Response:  # pragma: no cover - must not be called
        raise AssertionError("fetched although prefetched")

    outcome = {"resourceType": "OperationOutcome", "issue": []}
    body = _request(
        {
            "patient": PATIENT,
            "conditions": {
                "resourceType": "Bundle",
                "type": "searchset",
                "entry": [{"resource": CONDITION}],
            },
            "observations": outcome,
        }
    )
    bundle = cds.gather_bundle(_fake_request(httpx.MockTransport(handler)), body).bundle
    assert [e["resource"]["id"] for e in bundle["entry"]] == ["1288992", "c1"]


def test_a_failing_fhir_server_gives_412() -> None:
    transport = httpx.MockTransport(lambda request: httpx.Response(500))
    body = _request(
        fhirServer="https://fhir.example.org",
        fhirAuthorization={
            "access_token": "t",
            "token_type": "Bearer",
            "expires_in": 1,
            "scope": "s",
            "subject": "c",
        },
    )
    with pytest.raises(cds.PreconditionFailed):
        cds.gather_bundle(_fake_request(transport), body, _client("https://fhir.example.org"))


def test_feedback_is_stored(service: Any, client_key: Any) -> None:
    """The specification's feedback examples, about cards this service issued to the caller."""
    secret = service.app.state.settings.secret_key
    examples = [d for _, d in SPEC if "feedback" in d]
    assert examples
    for doc in examples:
        for item in doc["feedback"]:
            item["card"] = cds.issue_card_uuid(secret, "https://ehr.example.org/")
        token = make_jwt(client_key, FEEDBACK_URL)
        response = service.http.post(
            FEEDBACK_URL.removeprefix(BASE_URL),
            json=doc,
            headers={"Authorization": f"Bearer {token}"},
        )
        assert response.status_code == 200, response.text
        assert response.json() == {"stored": len(doc["feedback"])}
    with service.app.state.sessionmaker() as db:
        rows = store.feedback_rows(db)
    assert len(rows) == sum(len(d["feedback"]) for d in examples)
    assert {r.outcome for r in rows} <= {"accepted", "overridden"}
    assert all(r.issuer == "https://ehr.example.org/" for r in rows)


def test_invalid_feedback_is_400(service: Any, client_key: Any) -> None:
    token = make_jwt(client_key, FEEDBACK_URL)
    response = service.http.post(
        FEEDBACK_URL.removeprefix(BASE_URL),
        headers={"Authorization": f"Bearer {token}"},
        json={"feedback": [{"card": "x", "outcome": "accepted", "outcomeTimestamp": "yesterday"}]},
    )
    assert response.status_code == 400


# ---------------------------------------------------------------- cards from a real assessment


def _prefetch_from_case(case_doc: dict[str, Any]) -> dict[str, Any]:
    """Split the FHIR export of a case into the service's prefetch keys, as an EHR would."""
    from rhabdo.case.io import parse_case
    from rhabdo.interop.fhir_export import case_to_bundle

    bundle = case_to_bundle(parse_case(case_doc))
    # A FHIR server answers with relative references (Patient/123), not the bundle's urn:uuid.
    local = {
        e["fullUrl"]: f"{e['resource']['resourceType']}/{e['resource']['id']}"
        for e in bundle.get("entry", [])
        if e.get("fullUrl")
    }

    def relative(node: Any) -> Any:
        if isinstance(node, dict):
            return {
                k: (local.get(v, v) if k == "reference" and isinstance(v, str) else relative(v))
                for k, v in node.items()
            }
        if isinstance(node, list):
            return [relative(v) for v in node]
        return node

    by_type: dict[str, list[dict[str, Any]]] = {}
    for entry in bundle.get("entry", []):
        res = relative(entry["resource"])
        by_type.setdefault(res["resourceType"], []).append(res)
    prefetch: dict[str, Any] = {"patient": by_type.pop("Patient")[0]}
    keys = {
        "Condition": "conditions",
        "Observation": "observations",
        "Procedure": "procedures",
        "MedicationAdministration": "medicationAdministrations",
        "MedicationRequest": "medicationRequests",
        "CarePlan": "carePlans",
    }
    for rtype, key in keys.items():
        items = by_type.get(rtype, [])
        prefetch[key] = (
            {
                "resourceType": "Bundle",
                "type": "searchset",
                "entry": [{"resource": r} for r in items],
            }
            if items
            else None
        )
    return prefetch


def test_patient_view_returns_valid_cards_and_a_link_to_the_assessment(
    service: Any, client_key: Any
) -> None:
    require_modules("rhabdo.engine", "rhabdo.interop.fhir_import", "rhabdo.interop.fhir_export")
    prefetch = _prefetch_from_case(synthetic_case("CDS-1"))
    body = _request(prefetch)
    body["context"]["patientId"] = prefetch["patient"]["id"]
    response = _call(service, client_key, body)
    assert response.status_code == 200, response.text
    doc = response.json()
    assert problems("response", doc) == []
    summary = doc["cards"][0]
    assert summary["indicator"] == "info" and summary["summary"].startswith("RMS:")
    assert "Stage" in summary["summary"] and "Relapse" in summary["summary"]
    link = summary["links"][0]["url"]
    assert link.startswith(f"{BASE_URL}/cds/assessments/")
    service.add_user("onc")
    service.sign_in("onc")
    page = service.http.get(link.removeprefix(BASE_URL))
    assert page.status_code == 200 and "Assessment from the clinical record" in page.text


class _F(SimpleNamespace):
    pass


def _finding(fid: str, status: str = "determined", value: Any = None, **kw: Any) -> Any:
    base = {
        "id": fid,
        "status": status,
        "value": value,
        "candidates": [],
        "needs": [],
        "reason": f"reason for {fid}",
        "citations": ["src"],
        "details": {},
    }
    base.update(kw)
    return _F(**base)


def _assessment(
    findings: list[Any], recs: list[Any] | None = None, warnings: list[Any] | None = None
) -> Any:
    return SimpleNamespace(
        findings={f.id: f for f in findings},
        recommendations=recs or [],
        missing_inputs=[SimpleNamespace(field="diagnosis.max_diameter_cm")],
        warnings=warnings or [],
    )


def _rec(category: str, strength: str, based_on: list[str] | None = None) -> Any:
    return SimpleNamespace(
        category=category,
        strength=strength,
        statement=f"{category} {strength}",
        reason="because",
        citations=["src"],
        based_on_findings=based_on or [],
    )


SOURCE = {"label": "rhabdo"}


def test_summary_card_states_stage_group_risk_and_relapse_timing() -> None:
    a = _assessment(
        [
            _finding("stage.pretreatment", value="2"),
            _finding("group.clinical", value="III"),
            _finding(
                "risk.cog",
                status="indeterminate",
                candidates=["intermediate", "high"],
                needs=["diagnosis.distant_metastases"],
            ),
            _finding("relapse.timing", value={"label": "late (≥18 months)"}),
        ]
    )
    (card,) = cds.build_cards(a, source=SOURCE, assessment_url="https://x/a", unmapped_count=2)
    assert (
        card["summary"]
        == "RMS: Stage 2; Group III; COG risk intermediate or high?; Relapse late (≥18 months)"
    )
    assert "needs Distant metastases at diagnosis" in card["detail"]
    assert "Tumour size at diagnosis (largest diameter, cm)" in card["detail"]
    assert "2 coded item(s)" in card["detail"]
    assert problems("response", {"cards": [card]}) == []


@pytest.mark.parametrize(
    ("recs", "findings", "indicators"),
    [
        ([_rec("biopsy", "recommended")], [], ["info", "warning"]),
        ([_rec("biopsy", "consider")], [], ["info"]),
        (
            [
                _rec(
                    "systemic_therapy", "caution", ["exposure.anthracycline_doxorubicin_equivalent"]
                )
            ],
            [],
            ["info", "warning"],
        ),
        ([_rec("systemic_therapy", "avoid", ["exposure.ifosfamide"])], [], ["info", "critical"]),
        ([_rec("systemic_therapy", "avoid", ["stage.pretreatment"])], [], ["info"]),
        (
            [],
            [
                _finding(
                    "exposure.anthracycline_doxorubicin_equivalent",
                    value=300,
                    details={"threshold_reached": True},
                )
            ],
            ["info", "warning"],
        ),
        (
            [],
            [_finding("exposure.ifosfamide", value=30, details={"threshold_reached": False})],
            ["info"],
        ),
    ],
)
def test_urgent_cards_and_their_indicators(
    recs: list[Any], findings: list[Any], indicators: list[str]
) -> None:
    cards = cds.build_cards(
        _assessment(findings, recs), source=SOURCE, assessment_url="https://x/a", unmapped_count=0
    )
    assert [c["indicator"] for c in cards] == indicators
    assert problems("response", {"cards": cards}) == []
    for card in cards[1:]:
        assert card["overrideReasons"] and card["links"][0]["url"] == "https://x/a"


@pytest.mark.parametrize(
    ("severity", "indicators"),
    [("emergency", ["critical", "info"]), ("attention", ["info"]), ("caution", ["info"])],
)
def test_an_emergency_warning_leads_with_a_critical_card(
    severity: str, indicators: list[str]
) -> None:
    warning = SimpleNamespace(
        id="w",
        severity=severity,
        message="Spinal cord compression recorded (bone (T10)): an emergency, act now.",
        citations=["tantawy_2013"],
        fields=["events[0].sites[0].symptoms"],
    )
    cards = cds.build_cards(
        _assessment([], warnings=[warning]),
        source=SOURCE,
        assessment_url="https://x/a",
        unmapped_count=0,
    )
    assert [c["indicator"] for c in cards] == indicators
    assert problems("response", {"cards": cards}) == []
    if severity == "emergency":
        assert cards[0]["summary"] == "Emergency: Spinal cord compression recorded (bone (T10))"
        assert "an emergency, act now." in cards[0]["detail"]
        assert "tantawy_2013" in cards[0]["detail"]


def test_summaries_are_cut_to_the_specification_limit() -> None:
    a = _assessment([_finding("stage.pretreatment", value="x" * 300)])
    (card,) = cds.build_cards(a, source=SOURCE, assessment_url="https://x/a", unmapped_count=0)
    assert len(card["summary"]) < 140 and card["summary"].endswith("…")


def test_cases_saved_for_cds_do_not_leak_across_centres(service: Any) -> None:
    with service.app.state.sessionmaker() as db:
        sid = store.save_cds_snapshot(
            db,
            hook_instance="h",
            issuer="i",
            centre="north",
            document=synthetic_case(),
            card_uuids=[],
        )
    service.add_user("s1", centre="south")
    service.sign_in("s1")
    assert service.http.get(f"/cds/assessments/{sid}").status_code == 404
