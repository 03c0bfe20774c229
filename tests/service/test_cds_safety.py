"""CDS Hooks service safety (issue 15 §3, issue 16 §3 "Bad tokens" and §5).

CORS preflight; the patient in context must be the patient of the data; no RMS cards for a
chart without an RMS diagnosis; FHIR search paging followed to the end within a bound (and said
when cut short); paging links only to the server's exact origin; FHIR servers only as configured
per issuer; one deadline per call against a server that dribbles bytes; card text in words;
SMART launch links; feedback only for cards this service issued; an ``alg`` that does not fit
its key is a 401.

The FHIR server is an in-process stub (an ``httpx.MockTransport``) that pages, dribbles and
answers with another patient.  The dribbling stub advances a fake clock per chunk, so no test
depends on wall-clock time.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from service_helpers import BASE_URL, ISSUER, KID, make_jwt, synthetic_case

from rhabdo.errors import NotRhabdomyosarcoma
from rhabdo.interop.fhir_diagnosis import Verdict
from rhabdo.interop.fhir_import import DIAGNOSIS_UNKNOWN, case_from_bundle
from rhabdo.service import cds, store
from rhabdo.service.cds_schemas import problems
from rhabdo.service.settings import Settings, TrustedIssuer

PV_PATH = f"/cds-services/{cds.PATIENT_VIEW_ID}"
PV_URL = BASE_URL + PV_PATH
FEEDBACK_URL = PV_URL + "/feedback"
FHIR = "https://fhir.hospital.example/r4"
PID = "pat-1"
AUTH = {
    "access_token": "secret-access-token",
    "token_type": "Bearer",
    "expires_in": 300,
    "scope": "user/*.read",
    "subject": "rhabdo",
}


def _patient(pid: str = PID) -> dict[str, Any]:
    return {"resourceType": "Patient", "id": pid, "gender": "female", "birthDate": "2012-03-04"}


def _condition(text: str, cid: str = "c1", pid: str = PID, **extra: Any) -> dict[str, Any]:
    return {
        "resourceType": "Condition",
        "id": cid,
        "subject": {"reference": f"Patient/{pid}"},
        "code": {"text": text, **extra},
    }


RMS = _condition("Embryonal rhabdomyosarcoma")


def _searchset(resources: list[dict[str, Any]], nxt: str | None = None) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "resourceType": "Bundle",
        "type": "searchset",
        "entry": [{"resource": r} for r in resources],
    }
    if nxt:
        doc["link"] = [{"relation": "next", "url": nxt}]
    return doc


def _body(prefetch: dict[str, Any] | None = None, *, fetch: bool = False) -> dict[str, Any]:
    body: dict[str, Any] = {
        "hook": "patient-view",
        "hookInstance": "d1577c69-dfbe-44ad-ba6d-3e05e953b2ea",
        "context": {"userId": "Practitioner/example", "patientId": PID},
    }
    if prefetch is not None:
        body["prefetch"] = prefetch
    if fetch:
        body["fhirServer"] = FHIR
        body["fhirAuthorization"] = AUTH
    return body


def _full_prefetch(patient: dict[str, Any], conditions: list[dict[str, Any]]) -> dict[str, Any]:
    prefetch: dict[str, Any] = {key: None for key in cds.PREFETCH}
    prefetch["patient"] = patient
    prefetch["conditions"] = _searchset(conditions) if conditions else None
    return prefetch


@pytest.fixture
def cds_client(
    db_url: str, make_client: Callable[..., Any], client_jwks: dict[str, Any]
) -> Callable[..., Any]:
    """A service whose CDS client may read ``FHIR``; keyword arguments override settings."""

    def build(**overrides: Any) -> Any:
        issuer = TrustedIssuer(issuer=ISSUER, jwks=client_jwks, fhir_servers=(FHIR,))
        return make_client(db_url, cds_trusted_issuers=(issuer,), **overrides)

    return build


def _call(service: Any, key: Any, body: dict[str, Any]) -> Any:
    token = make_jwt(key, PV_URL)
    return service.http.post(PV_PATH, json=body, headers={"Authorization": f"Bearer {token}"})


# ---------------------------------------------------------------- CORS


@pytest.mark.parametrize("path", ["/cds-services", PV_PATH, PV_PATH + "/feedback"])
def test_a_cors_preflight_is_answered(service: Any, path: str) -> None:
    response = service.http.options(
        path,
        headers={
            "Origin": "https://ehr-app.example.org",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )
    assert response.status_code == 204
    assert response.headers["access-control-allow-origin"] == "*"
    assert "POST" in response.headers["access-control-allow-methods"]
    allowed = response.headers["access-control-allow-headers"].lower()
    assert "authorization" in allowed and "content-type" in allowed
    assert "access-control-allow-credentials" not in response.headers


def test_cds_responses_carry_cors_headers_even_when_refused(service: Any) -> None:
    assert service.http.get("/cds-services").headers["access-control-allow-origin"] == "*"
    refused = service.http.post(PV_PATH, json=_body())
    assert refused.status_code == 401
    assert refused.headers["access-control-allow-origin"] == "*"


# ---------------------------------------------------------------- patient identity


@pytest.mark.parametrize(
    "prefetch",
    [
        pytest.param(_full_prefetch(_patient("someone-else"), [RMS]), id="prefetched-patient"),
        pytest.param(
            _full_prefetch(_patient(), [_condition("Rhabdomyosarcoma", pid="someone-else")]),
            id="prefetched-condition-subject",
        ),
    ],
)
def test_a_prefetch_about_another_patient_gets_an_error_and_no_cards(
    service: Any, client_key: Any, prefetch: dict[str, Any]
) -> None:
    response = _call(service, client_key, _body(prefetch))
    assert response.status_code == 400
    assert "cards" not in response.json()
    assert "context.patientId" in response.json()["detail"]


def test_a_fetched_patient_that_is_not_the_patient_in_context_is_412(
    cds_client: Callable[..., Any], client_key: Any
) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith(f"/Patient/{PID}"):
            return httpx.Response(200, json=_patient("someone-else"))
        return httpx.Response(200, json=_searchset([]))

    service = cds_client()
    service.app.state.fhir_transport = httpx.MockTransport(handler)
    response = _call(service, client_key, _body(fetch=True))
    assert response.status_code == 412
    assert "cards" not in response.json()


# ---------------------------------------------------------------- non-RMS charts


@pytest.mark.parametrize(
    ("conditions", "named"),
    [
        (
            [
                _condition(
                    "Malignant neoplasm of breast",
                    coding=[{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "C50.9"}],
                )
            ],
            "Malignant neoplasm of breast",
        ),
        ([_condition("Acute lymphoblastic leukaemia")], "Acute lymphoblastic leukaemia"),
        ([], None),
        (
            [
                {
                    **RMS,
                    "verificationStatus": {
                        "coding": [
                            {
                                "system": "http://terminology.hl7.org/CodeSystem/"
                                "condition-ver-status",
                                "code": "refuted",
                            }
                        ]
                    },
                }
            ],
            None,
        ),
    ],
    ids=["breast-cancer", "leukaemia", "no-condition", "refuted-rms"],
)
def test_a_chart_without_rms_gets_one_card_saying_so_and_no_rms_card(
    service: Any, client_key: Any, conditions: list[dict[str, Any]], named: str | None
) -> None:
    response = _call(service, client_key, _body(_full_prefetch(_patient(), conditions)))
    assert response.status_code == 200, response.text
    doc = response.json()
    assert problems("response", doc) == []
    (card,) = doc["cards"]
    assert card["summary"].startswith("No rhabdomyosarcoma diagnosis")
    assert not card["summary"].startswith("RMS")
    if named:
        assert named in card["detail"]


@pytest.mark.parametrize(
    "condition",
    [
        _condition("Embryonal rhabdomyosarcoma of the bladder"),
        _condition(
            "Tumour",
            coding=[{"system": "http://terminology.hl7.org/CodeSystem/icd-o-3", "code": "89203"}],
        ),
    ],
    ids=["text", "icd-o-3-morphology"],
)
def test_an_rms_diagnosis_is_recognised(condition: dict[str, Any]) -> None:
    bundle = {"resourceType": "Bundle", "entry": [{"resource": condition}]}
    evidence = cds.rms_diagnosis(bundle)
    assert evidence is not None and evidence.verdict is Verdict.RMS


MCODE_EXAMPLES = (
    Path(__file__).resolve().parents[1]
    / "data"
    / "public"
    / "fhir-packages"
    / "hl7.fhir.us.mcode-4.0.0"
    / "example"
)
#: The IG's published primary cancer Conditions (hl7.fhir.us.mcode 4.0.0, CC0), and the
#: diagnosis each card must name.  Coded by SNOMED CT (breast: ICD-O-3 morphology as well).
IG_PRIMARIES = {
    "Condition-primary-cancer-condition-breast.json": "morphology",
    "Condition-primary-cancer-condition-brian-l.json": "B-cell acute lymphoblastic",
    "Condition-primary-cancer-condition-cll.json": "Chronic lymphoid leukemia",
    "Condition-primary-cancer-condition-nsclc.json": "Non-small cell lung cancer",
    "Condition-primary-cancer-condition-jenny-m.json": "breast",
    # coded 128462008 "Metastatic malignant neoplasm": read as a secondary cancer, so the
    # chart has no primary cancer at all (and imports with the diagnosis explicitly unknown)
    "Condition-primary-cancer-condition-nonspecific.json": "no primary cancer diagnosis",
}


def _ig_condition(name: str) -> dict[str, Any]:
    condition: dict[str, Any] = json.loads((MCODE_EXAMPLES / name).read_text(encoding="utf-8"))
    condition["subject"] = {"reference": f"Patient/{PID}"}
    return condition


@pytest.mark.parametrize("name", sorted(IG_PRIMARIES))
def test_the_cds_gate_and_the_importer_agree_on_the_igs_primaries(name: str) -> None:
    """One derivation: the CDS verdict on a chart is the importer's verdict on its bundle."""
    condition = _ig_condition(name)
    bundle = {"resourceType": "Bundle", "entry": [{"resource": condition}]}
    evidence = cds.rms_diagnosis(bundle)
    with_patient = {**bundle, "entry": [{"resource": _patient()}, *bundle["entry"]]}
    if evidence is None:
        assert DIAGNOSIS_UNKNOWN in case_from_bundle(with_patient).notes
        return
    assert evidence.verdict is not Verdict.RMS
    with pytest.raises(NotRhabdomyosarcoma) as refused:
        case_from_bundle(with_patient)
    assert refused.value.why == evidence.refusal()


@pytest.mark.parametrize("name", sorted(IG_PRIMARIES))
def test_a_snomed_coded_non_rms_chart_gets_a_card_naming_its_diagnosis(
    service: Any, client_key: Any, name: str
) -> None:
    response = _call(service, client_key, _body(_full_prefetch(_patient(), [_ig_condition(name)])))
    assert response.status_code == 200, response.text
    (card,) = response.json()["cards"]
    assert card["summary"].startswith("No rhabdomyosarcoma diagnosis")
    assert card["indicator"] == "info"
    assert IG_PRIMARIES[name] in card["detail"]
    assert "rhabdo assesses rhabdomyosarcoma only" in card["detail"]
    assert "invalid" not in card["detail"].lower()


# ---------------------------------------------------------------- FHIR server access


def _settings(**values: Any) -> Settings:
    return Settings(**values)


def _issuer(*servers: str) -> TrustedIssuer:
    return TrustedIssuer(issuer=ISSUER, jwks={"keys": []}, fhir_servers=servers)


@pytest.mark.parametrize(
    ("server", "configured", "allow_http", "reason"),
    [
        (FHIR, (), False, "not configured"),
        (FHIR, ("https://fhir.other.example/r4",), False, "not configured"),
        (FHIR, ("https://fhir.hospital.example/r4/extra",), False, "not configured"),
        ("http://fhir.hospital.example/r4", ("http://fhir.hospital.example/r4",), False, "https"),
        ("https://x@fhir.hospital.example/r4", (FHIR,), False, "plain http(s) URL"),
        ("ftp://fhir.hospital.example/r4", (FHIR,), False, "plain http(s) URL"),
    ],
)
def test_fhir_servers_are_read_only_as_configured_for_the_issuer(
    server: str, configured: tuple[str, ...], allow_http: bool, reason: str
) -> None:
    with pytest.raises(cds.PreconditionFailed, match=re.escape(reason)):
        cds.allowed_fhir_server(_settings(fhir_allow_http=allow_http), _issuer(*configured), server)


@pytest.mark.parametrize(
    ("server", "configured", "allow_http"),
    [
        (FHIR, (FHIR,), False),
        ("https://FHIR.hospital.example:443/r4/", (FHIR,), False),
        ("http://localhost:8080/fhir", ("http://localhost:8080/fhir",), True),
    ],
)
def test_a_configured_fhir_server_is_read(
    server: str, configured: tuple[str, ...], allow_http: bool
) -> None:
    found = cds.allowed_fhir_server(
        _settings(fhir_allow_http=allow_http), _issuer(*configured), server
    )
    assert found == server.rstrip("/")


def test_an_unauthenticated_callers_fhir_server_is_never_read() -> None:
    with pytest.raises(cds.PreconditionFailed, match="unauthenticated"):
        cds.allowed_fhir_server(_settings(), None, FHIR)


def test_plain_http_fhir_is_refused_in_production() -> None:
    from rhabdo.service.settings import Environment, StartupRefused, check_startup

    with pytest.raises(StartupRefused, match="RHABDO_FHIR_ALLOW_HTTP"):
        check_startup(
            _settings(environment=Environment.PRODUCTION, secret_key="k" * 40, fhir_allow_http=True)
        )


@pytest.mark.parametrize(
    ("link", "same"),
    [
        ("https://fhir.hospital.example/r4?page=2", True),
        ("https://FHIR.Hospital.Example:443/r4/Observation?page=2", True),
        ("https://fhir.hospital.example/other-path?page=2", True),
        ("https://fhir.hospital.example.attacker.example/r4?page=2", False),
        ("https://fhir.hospital.example@attacker.example/r4?page=2", False),
        ("https://fhir.hospital.example:443@attacker.example:8443/r4", False),
        ("https://user:pw@fhir.hospital.example/r4?page=2", False),
        ("https://fhir.hospital.example:8443/r4?page=2", False),
        ("http://fhir.hospital.example/r4?page=2", False),
        ("https://attacker.example/?u=https://fhir.hospital.example/r4", False),
        ("//fhir.hospital.example/r4?page=2", False),
        ("https://fhir.hospital.example:99999/r4", False),
        ("javascript:alert(1)", False),
    ],
)
def test_a_paging_link_must_have_exactly_the_servers_origin(link: str, same: bool) -> None:
    assert (cds.origin(link) == cds.origin(FHIR)) is same


# ---------------------------------------------------------------- paging and the deadline


class FhirStub:
    """A FHIR server: Patient PID; MedicationAdministration in ``pages`` pages of one entry;
    other searches empty.  Records every URL requested and the bearer tokens sent."""

    def __init__(self, pages: int, next_link: Callable[[int], str] | None = None) -> None:
        self.pages = pages
        self.next_link = next_link or (lambda n: f"{FHIR}/MedicationAdministration?page={n}")
        self.seen: list[str] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(str(request.url))
        assert request.headers["authorization"] == "Bearer secret-access-token"
        path = request.url.path
        if path.endswith(f"/Patient/{PID}"):
            return httpx.Response(200, json=_patient())
        if path.endswith("/Condition"):
            return httpx.Response(200, json=_searchset([RMS]))
        if path.endswith("/MedicationAdministration"):
            page = int(request.url.params.get("page", "1"))
            item = {
                "resourceType": "MedicationAdministration",
                "id": f"ma{page}",
                "status": "completed",
                "medicationCodeableConcept": {"text": "vincristine"},
                "effectiveDateTime": f"2021-01-{page:02d}",
                "subject": {"reference": f"Patient/{PID}"},
            }
            nxt = self.next_link(page + 1) if page < self.pages else None
            return httpx.Response(200, json=_searchset([item], nxt))
        return httpx.Response(200, json=_searchset([]))


def _fake_request(transport: httpx.MockTransport, **settings: Any) -> Any:
    state = SimpleNamespace(settings=Settings(**settings), fhir_transport=transport)
    return SimpleNamespace(app=SimpleNamespace(state=state))


def _administrations(gathered: cds.Gathered) -> list[str]:
    return [
        e["resource"]["id"]
        for e in gathered.bundle["entry"]
        if e["resource"]["resourceType"] == "MedicationAdministration"
    ]


def test_search_paging_is_followed_to_the_end() -> None:
    stub = FhirStub(pages=12)
    gathered = cds.gather_bundle(
        _fake_request(httpx.MockTransport(stub)), _body(fetch=True), _issuer(FHIR)
    )
    assert _administrations(gathered) == [f"ma{n}" for n in range(1, 13)]
    assert gathered.incomplete == []


def test_paging_stops_at_the_bound_and_says_so() -> None:
    stub = FhirStub(pages=12)
    gathered = cds.gather_bundle(
        _fake_request(httpx.MockTransport(stub), fhir_max_pages=5),
        _body(fetch=True),
        _issuer(FHIR),
    )
    assert _administrations(gathered) == [f"ma{n}" for n in range(1, 6)]
    (note,) = gathered.incomplete
    assert "medicationAdministrations" in note and "5 pages" in note


@pytest.mark.parametrize(
    "evil",
    [
        "https://fhir.hospital.example.attacker.example/r4/MedicationAdministration?page={n}",
        "https://fhir.hospital.example@attacker.example/r4/MedicationAdministration?page={n}",
        "https://fhir.hospital.example:8443/r4/MedicationAdministration?page={n}",
    ],
)
def test_a_paging_link_to_another_origin_is_not_followed(evil: str) -> None:
    stub = FhirStub(pages=3, next_link=lambda n: evil.format(n=n))
    gathered = cds.gather_bundle(
        _fake_request(httpx.MockTransport(stub)), _body(fetch=True), _issuer(FHIR)
    )
    assert all(url.startswith(FHIR + "/") for url in stub.seen)  # the token went nowhere else
    assert _administrations(gathered) == ["ma1"]
    (note,) = gathered.incomplete
    assert "leaves the FHIR server" in note


def test_the_record_read_incompletely_is_said_on_the_cards(
    cds_client: Callable[..., Any], client_key: Any
) -> None:
    service = cds_client(fhir_max_pages=2)
    service.app.state.fhir_transport = httpx.MockTransport(FhirStub(pages=4))
    response = _call(service, client_key, _body(fetch=True))
    assert response.status_code == 200, response.text
    doc = response.json()
    assert problems("response", doc) == []
    summary, warning = doc["cards"][:2]
    assert summary["summary"].startswith("RMS")
    assert "read incompletely" in summary["detail"]
    assert warning["indicator"] == "warning"
    assert warning["summary"].startswith("Record read incompletely")


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class _Dribble(httpx.SyncByteStream):
    """A body sent one byte at a time, each byte one (fake) second after the last."""

    def __init__(self, body: bytes, clock: _Clock) -> None:
        self.body = body
        self.clock = clock
        self.sent = 0

    def __iter__(self) -> Iterator[bytes]:
        for i in range(len(self.body)):
            self.clock.now += 1.0
            self.sent += 1
            yield self.body[i : i + 1]


def test_a_server_that_dribbles_bytes_cannot_hold_the_call_past_its_deadline() -> None:
    clock = _Clock()
    streams: list[_Dribble] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith(f"/Patient/{PID}"):
            return httpx.Response(200, json=_patient())
        stream = _Dribble(json.dumps(_searchset([RMS])).encode(), clock)
        streams.append(stream)
        return httpx.Response(200, stream=stream)

    reader = cds.FhirReader(
        base=FHIR,
        token="secret-access-token",
        transport=httpx.MockTransport(handler),
        deadline=30.0,
        max_pages=10,
        max_bytes=10_000_000,
        read_timeout_s=5.0,
        clock=clock,
    )
    gathered = cds.gather_bundle(
        _fake_request(httpx.MockTransport(handler)), _body(fetch=True), _issuer(FHIR), reader
    )
    assert clock.now <= 30.0 + 1.0  # at most one (dribbled) chunk beyond the deadline
    assert len(streams) == 1  # once the deadline passed, nothing more was requested
    assert streams[0].sent < len(streams[0].body)
    assert [e["resource"]["resourceType"] for e in gathered.bundle["entry"]] == ["Patient"]
    assert any("not read before the deadline" in n for n in gathered.incomplete)
    assert len(gathered.incomplete) == len(cds.PREFETCH) - 1  # every search but the patient


def test_a_response_larger_than_the_limit_is_not_read() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith(f"/Patient/{PID}"):
            return httpx.Response(200, json=_patient())
        return httpx.Response(200, json=_searchset([RMS] * 50))

    gathered = cds.gather_bundle(
        _fake_request(httpx.MockTransport(handler), fhir_max_response_bytes=2048),
        _body(fetch=True),
        _issuer(FHIR),
    )
    assert [e["resource"]["resourceType"] for e in gathered.bundle["entry"]] == ["Patient"]


# ---------------------------------------------------------------- cards in words, links


SNAKE_CASE = re.compile(r"\b[a-z0-9]+_[a-z0-9_]+\b")


def _example_prefetches() -> list[Any]:
    from pathlib import Path

    from test_cds import _prefetch_from_case

    from rhabdo.case.io import load_case

    examples = sorted((Path(__file__).resolve().parents[2] / "examples").glob("*.yaml"))
    out = []
    for path in examples:
        case = load_case(path)
        doc = json.loads(case.model_dump_json(exclude_none=True))
        out.append(pytest.param(_prefetch_from_case(doc), id=path.stem))
    return out


@pytest.mark.parametrize("prefetch", _example_prefetches())
def test_card_text_is_in_words_without_internal_ids(
    prefetch: dict[str, Any], make_client: Callable[..., Any], client_key: Any, tmp_path: Any
) -> None:
    from rhabdo.service.migrate import upgrade

    url = f"sqlite:///{tmp_path / 'r.sqlite3'}"
    upgrade(url)
    service = make_client(url)
    body = _body(prefetch)
    body["context"]["patientId"] = prefetch["patient"]["id"]
    response = _call(service, client_key, body)
    assert response.status_code == 200, response.text
    doc = response.json()
    assert problems("response", doc) == []
    for card in doc["cards"]:
        assert not SNAKE_CASE.search(card["summary"]), card["summary"]
        headings = re.findall(r"\*\*(.+?)\*\*", card.get("detail", ""))
        assert not any(SNAKE_CASE.search(h) for h in headings), headings
        assert "`" not in card.get("detail", "")


@pytest.mark.parametrize(
    ("finding_id", "value", "words"),
    [
        (
            "relapse.timing",
            "within_18_months_of_treatment_start",
            "off therapy, within 18 months of the start of treatment",
        ),
        ("relapse.timing", "on_first_line_therapy", "during first-line therapy"),
        (
            "risk.cog",
            "not_classified_mutated",
            "not classified (MYOD1 or TP53 mutated; no COG risk group)",
        ),
        ("group.clinical", "IIIB", "group IIIB"),
        ("relapse.refractory", False, "no"),
    ],
)
def test_finding_values_are_shown_in_words(finding_id: str, value: Any, words: str) -> None:
    assert cds.value_label(finding_id, value) == words


def test_the_link_is_a_smart_launch_into_the_web_app_where_configured(
    db_url: str, make_client: Callable[..., Any], client_key: Any
) -> None:
    from test_cds import _prefetch_from_case

    launch = "https://rhabdo.hospital.example/smart/launch"
    service = make_client(db_url, cds_smart_launch_url=launch)
    prefetch = _prefetch_from_case(synthetic_case("CDS-SMART"))
    body = _body(prefetch)
    body["context"]["patientId"] = prefetch["patient"]["id"]
    doc = _call(service, client_key, body).json()
    assert problems("response", doc) == []
    link = doc["cards"][0]["links"][0]
    assert link["type"] == "smart" and link["url"] == launch
    assert json.loads(link["appContext"])["assessment"]


# ---------------------------------------------------------------- feedback


def _feedback(service: Any, key: Any, card: str) -> Any:
    doc = {
        "feedback": [
            {"card": card, "outcome": "overridden", "outcomeTimestamp": "2026-12-07T10:05:31Z"}
        ]
    }
    token = make_jwt(key, FEEDBACK_URL)
    return service.http.post(
        FEEDBACK_URL.removeprefix(BASE_URL), json=doc, headers={"Authorization": f"Bearer {token}"}
    )


def test_feedback_is_accepted_for_issued_cards_only_and_recorded(
    service: Any, client_key: Any
) -> None:
    answer = _call(service, client_key, _body(_full_prefetch(_patient(), [])))
    issued = answer.json()["cards"][0]["uuid"]
    secret = service.app.state.settings.secret_key
    for refused in (
        "4e0a3a1e-3283-4575-ab82-028d55fe2719",  # the specification's example card uuid
        "not-a-uuid",
        cds.issue_card_uuid(secret, "https://another-ehr.example/"),
        cds.issue_card_uuid("another secret", ISSUER),
    ):
        response = _feedback(service, client_key, refused)
        assert response.status_code == 400
        assert response.json()["detail"][0]["field"].startswith("feedback/0")
    assert _feedback(service, client_key, issued).status_code == 200
    with service.app.state.sessionmaker() as db:
        rows = store.feedback_rows(db)
    assert [(r.card_uuid, r.outcome, r.issuer) for r in rows] == [(issued, "overridden", ISSUER)]


def test_issued_card_uuids_are_valid_and_distinct() -> None:
    import uuid

    made = {cds.issue_card_uuid("s" * 40, ISSUER) for _ in range(200)}
    assert len(made) == 200
    for card in made:
        assert uuid.UUID(card).version == 4
        assert cds.card_was_issued("s" * 40, ISSUER, card)


# ---------------------------------------------------------------- bad tokens


@pytest.fixture(scope="module")
def rsa_key() -> Any:
    from cryptography.hazmat.primitives.asymmetric import rsa

    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def test_an_algorithm_that_does_not_fit_the_key_is_401(
    service: Any, client_key: Any, rsa_key: Any
) -> None:
    """The configured key is EC P-384 (ES384); a token claiming RS256 is refused, never a 500."""
    token = make_jwt(rsa_key, PV_URL, alg="RS256")
    response = service.http.post(
        PV_PATH, json=_body(), headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 401
    assert "does not fit the key" in response.json()["detail"]


@pytest.mark.parametrize(
    ("jwk", "algorithms"),
    [
        ({"kty": "EC", "crv": "P-256"}, {"ES256"}),
        ({"kty": "EC", "crv": "P-384"}, {"ES384"}),
        ({"kty": "EC", "crv": "P-521"}, {"ES512"}),
        ({"kty": "EC", "crv": "P-384", "alg": "ES256"}, set()),
        ({"kty": "EC", "crv": "secp256k1"}, set()),
        ({"kty": "RSA"}, {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512"}),
        ({"kty": "RSA", "alg": "PS384"}, {"PS384"}),
        ({"kty": "RSA", "alg": "ES256"}, set()),
        ({"kty": "oct", "alg": "HS256"}, set()),
        ({"kty": "OKP", "crv": "Ed25519"}, set()),
    ],
)
def test_each_key_is_pinned_to_its_algorithm(jwk: dict[str, Any], algorithms: set[str]) -> None:
    assert cds.key_algorithms(jwk) == algorithms


def test_a_token_for_a_key_pinned_to_another_algorithm_is_401(
    db_url: str, make_client: Callable[..., Any], rsa_key: Any
) -> None:
    import jwt

    public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(rsa_key.public_key()))
    public.update(kid=KID, alg="PS256")
    issuer = TrustedIssuer(issuer=ISSUER, jwks={"keys": [public]})
    service = make_client(db_url, cds_trusted_issuers=(issuer,))
    token = make_jwt(rsa_key, PV_URL, alg="RS256")
    response = service.http.post(
        PV_PATH, json=_body(), headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 401
    ok = make_jwt(rsa_key, PV_URL, alg="PS256")
    accepted = service.http.post(PV_PATH, json=_body(), headers={"Authorization": f"Bearer {ok}"})
    assert accepted.status_code == 412  # authenticated; no data for the patient


def test_a_loopback_server_that_dribbles_bytes_is_cut_at_the_deadline() -> None:
    """A real socket: the stub sends its headers, then one byte every 50 ms (6 s in all).
    With a 0.5 s deadline for the call, the read stops and the query is marked incomplete."""
    import socket
    import threading
    import time

    body = json.dumps(_searchset([RMS])).encode()[:120]
    stop = threading.Event()
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)
    listener.settimeout(0.2)
    port = listener.getsockname()[1]

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                continue
            with conn:
                conn.recv(65536)
                head = f"HTTP/1.1 200 OK\r\nContent-Length: {len(body)}\r\n\r\n".encode()
                try:
                    conn.sendall(head)
                    for i in range(len(body)):
                        if stop.is_set():
                            break
                        conn.sendall(body[i : i + 1])
                        time.sleep(0.05)
                except OSError:
                    pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        base = f"http://127.0.0.1:{port}/r4"
        reader = cds.FhirReader(
            base=base,
            token="secret-access-token",
            transport=None,
            deadline=time.monotonic() + 0.5,
            max_pages=10,
            max_bytes=10_000_000,
            read_timeout_s=5.0,
        )
        with httpx.Client() as client:
            got = reader.read(client, "Condition?patient=pat-1", "conditions")
        assert got is None
        assert reader.incomplete == ["conditions: not read before the deadline"]
    finally:
        stop.set()
        thread.join(timeout=10)
        listener.close()
