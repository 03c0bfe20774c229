"""JSON request bodies are decoded in a worker thread, never on the event loop (issue 16),
and a body nested too deep is a clear 400, not a RecursionError."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.routing import APIRoute
from service_helpers import BASE_URL, make_jwt, synthetic_case

from rhabdo.service.bodies import (
    MAX_BODY_NESTING,
    BodyTooDeep,
    OffLoopJsonRoute,
    decode_json_body,
)

PV_PATH = "/cds-services/rhabdo-patient-view"


def _nested(levels: int) -> bytes:
    return ("[" * levels + "]" * levels).encode()


def test_every_route_of_the_service_decodes_json_off_the_loop(service: Any) -> None:
    routes = [r for r in service.app.routes if isinstance(r, APIRoute)]
    assert routes
    plain = [r.path for r in routes if not isinstance(r, OffLoopJsonRoute)]
    # The one route defined on the app itself is a GET without a body.
    assert plain == ["/api/openapi.json"]


def _loop_running() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


@pytest.fixture
def decodes(monkeypatch: pytest.MonkeyPatch) -> list[tuple[bytes, bool]]:
    """Every ``json.loads`` of bytes, with whether an event loop was running in its thread."""
    seen: list[tuple[bytes, bool]] = []
    real = json.loads

    def spy(text: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(text, bytes):
            seen.append((text, _loop_running()))
        return real(text, *args, **kwargs)

    monkeypatch.setattr(json, "loads", spy)
    return seen


def _api(service: Any) -> dict[str, str]:
    service.add_user("ann")
    return {"Authorization": f"Bearer {service.token_for('ann')}"}


def _cds(service: Any, client_key: Any) -> dict[str, str]:
    return {"Authorization": f"Bearer {make_jwt(client_key, BASE_URL + PV_PATH)}"}


CALLS: dict[str, tuple[str, Callable[[Any, Any], dict[str, str]], dict[str, Any]]] = {
    "assess": ("/api/v1/assess", lambda s, _k: _api(s), {"case": synthetic_case()}),
    "create": ("/api/v1/cases", lambda s, _k: _api(s), {"case": synthetic_case()}),
    "fhir-import": (
        "/api/v1/import/fhir",
        lambda s, _k: _api(s),
        {"bundle": {"resourceType": "Bundle", "type": "collection", "entry": []}},
    ),
    "cds-patient-view": (
        PV_PATH,
        _cds,
        {
            "hook": "patient-view",
            "hookInstance": "d1577c69-dfbe-44ad-ba6d-3e05e953b2ea",
            "context": {"userId": "Practitioner/example", "patientId": "1288992"},
            "prefetch": {"patient": None},
        },
    ),
}


@pytest.mark.parametrize("call", sorted(CALLS))
def test_a_json_body_is_decoded_with_no_event_loop_in_the_thread(
    call: str, service: Any, client_key: Any, decodes: list[tuple[bytes, bool]]
) -> None:
    path, headers, document = CALLS[call]
    body = json.dumps(document).encode()
    response = service.http.post(
        path,
        content=body,
        headers={**headers(service, client_key), "Content-Type": "application/json"},
    )
    assert response.status_code < 500, response.text
    of_this_body = [on_loop for text, on_loop in decodes if text == body]
    assert of_this_body, "the body was never decoded"
    assert not any(of_this_body), "the body was decoded on the event loop"


@pytest.mark.parametrize("call", sorted(CALLS))
@pytest.mark.parametrize("levels", [MAX_BODY_NESTING + 1, 2000, 100_000])
def test_a_body_nested_too_deep_is_a_clear_400(
    call: str, levels: int, service: Any, client_key: Any
) -> None:
    path, headers, _ = CALLS[call]
    response = service.http.post(
        path,
        content=_nested(levels),
        headers={**headers(service, client_key), "Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert f"nested more than {MAX_BODY_NESTING} levels" in response.json()["detail"]


@pytest.mark.parametrize("call", sorted(CALLS))
def test_a_body_that_is_not_json_is_a_422_naming_json(
    call: str, service: Any, client_key: Any
) -> None:
    path, headers, _ = CALLS[call]
    response = service.http.post(
        path,
        content=b'{"case": ',
        headers={**headers(service, client_key), "Content-Type": "application/json"},
    )
    assert response.status_code == 422
    assert "JSON" in json.dumps(response.json()["detail"])


@pytest.mark.parametrize(
    ("levels", "refused"),
    [(1, False), (MAX_BODY_NESTING, False), (MAX_BODY_NESTING + 1, True), (5000, True)],
)
def test_decode_json_body_nesting_limit(levels: int, refused: bool) -> None:
    if refused:
        with pytest.raises(BodyTooDeep) as caught:
            decode_json_body(_nested(levels))
        assert caught.value.status_code == 400
    else:
        assert isinstance(decode_json_body(_nested(levels)), list)


def test_decode_json_body_keeps_the_document() -> None:
    document = {"case": {"patient": {"id": "SYN-1"}, "lines": [1, 2.5, None, True, "x"]}}
    assert decode_json_body(json.dumps(document).encode()) == document


@pytest.mark.parametrize(("name", "kind"), [("case.yaml", "case"), ("case.json", "case")])
def test_an_uploaded_case_file_is_parsed_with_no_event_loop_in_the_thread(
    name: str,
    kind: str,
    db_url: str,
    make_client: Callable[..., Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from rhabdo.case import io

    seen: list[bool] = []
    real = io.parse_case_text

    def spy(*args: Any, **kwargs: Any) -> Any:
        seen.append(_loop_running())
        return real(*args, **kwargs)

    monkeypatch.setattr(io, "parse_case_text", spy)
    service = make_client(db_url)  # the pages take the parser when the app is built
    service.add_user("ann")
    service.sign_in("ann")
    token = service.csrf("/cases/import")
    response = service.http.post(
        "/cases/import",
        data={"kind": kind, "csrf_token": token},
        files={"file": (name, json.dumps(synthetic_case()).encode(), "application/octet-stream")},
    )
    assert response.status_code == 303
    assert seen == [False]
