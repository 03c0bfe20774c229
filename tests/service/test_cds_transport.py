"""CDS Hooks transport under load (issue 16): the client's JWT signature is verified once per
call (before the body is read, in a worker thread), and the audit events of CDS answers are
written in batches without losing one: at shutdown, when the queue is full, after a failure."""

from __future__ import annotations

from typing import Any

import pytest
from service_helpers import BASE_URL, make_jwt, require_modules, synthetic_case
from sqlalchemy import func, select

from rhabdo.service import auditqueue, cds, store
from rhabdo.service.auditqueue import AuditQueue
from rhabdo.service.db import AuditEvent

PV_PATH = f"/cds-services/{cds.PATIENT_VIEW_ID}"


def _rms_body() -> dict[str, Any]:
    from test_cds import _prefetch_from_case, _request

    require_modules("rhabdo.engine", "rhabdo.interop.fhir_import", "rhabdo.interop.fhir_export")
    prefetch = _prefetch_from_case(synthetic_case("CDS-T1"))
    body = _request(prefetch)
    body["context"]["patientId"] = prefetch["patient"]["id"]
    return body


def _call(http: Any, key: Any, body: dict[str, Any], **claims: Any) -> Any:
    token = make_jwt(key, BASE_URL + PV_PATH, **claims)
    return http.post(PV_PATH, json=body, headers={"Authorization": f"Bearer {token}"})


def _cds_events(sessionmaker: Any) -> list[AuditEvent]:
    with sessionmaker() as db:
        return list(
            db.scalars(
                select(AuditEvent)
                .where(AuditEvent.action == store.AuditAction.CDS_CALL.value)
                .order_by(AuditEvent.id)
            ).all()
        )


def test_the_jwt_signature_is_verified_once_per_call(
    service: Any, client_key: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    verified: list[str] = []
    real = cds.verify_client_jwt_signature

    def spy(token: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
        verified.append(token)
        return real(token, *args, **kwargs)

    monkeypatch.setattr(cds, "verify_client_jwt_signature", spy)
    body = {**_rms_body(), "prefetch": {"patient": None}}
    token = make_jwt(client_key, BASE_URL + PV_PATH)
    headers = {"Authorization": f"Bearer {token}"}
    first = service.http.post(PV_PATH, json=body, headers=headers)
    assert first.status_code == 412  # authenticated; no patient data to assess
    assert verified == [token]
    replayed = service.http.post(PV_PATH, json=body, headers=headers)
    assert replayed.status_code == 401 and "replay" in replayed.json()["detail"]


def test_queued_cds_audit_events_are_written_at_shutdown(
    db_url: str, settings_for: Any, client_key: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from fastapi.testclient import TestClient

    from rhabdo.service.app import create_app

    monkeypatch.setattr(auditqueue, "FLUSH_INTERVAL_S", 3600.0)  # only shutdown writes them
    app = create_app(settings_for(db_url))
    body = _rms_body()
    calls = 5
    with TestClient(app, base_url=BASE_URL) as http:  # runs the lifespan: a server's life
        for n in range(calls):
            answer = _call(http, client_key, body, fhirUser=f"Practitioner/dr-{n}")
            assert answer.status_code == 200, answer.text
        assert len(app.state.audit_queue) == calls
        assert _cds_events(app.state.sessionmaker) == []
    events = _cds_events(app.state.sessionmaker)
    assert [(e.username, (e.detail or "").split(";")[0]) for e in events] == [
        ("Practitioner/dr-0", "assessed")
    ] + [(f"Practitioner/dr-{n}", "cached") for n in range(1, calls)]
    assert len(app.state.audit_queue) == 0
    app.state.engine.dispose()


def _count(sessionmaker: Any) -> int:
    with sessionmaker() as db:
        return int(db.scalar(select(func.count()).select_from(AuditEvent)) or 0)


@pytest.fixture
def sessionmaker(service: Any) -> Any:
    return service.app.state.sessionmaker


def test_a_queue_nobody_flushes_writes_each_event_at_once(sessionmaker: Any) -> None:
    queue = AuditQueue(sessionmaker)
    queue.record("dr", store.AuditAction.CDS_CALL, "cds_assessment", "x", "cached")
    assert len(queue) == 0 and _count(sessionmaker) == 1


def test_a_full_queue_is_written_by_the_request_that_fills_it(sessionmaker: Any) -> None:
    queue = AuditQueue(sessionmaker, max_pending=3)
    queue.deferred = True
    for n in range(2):
        queue.record(f"dr-{n}", store.AuditAction.CDS_CALL)
    assert len(queue) == 2 and _count(sessionmaker) == 0
    queue.record("dr-2", store.AuditAction.CDS_CALL)
    assert len(queue) == 0 and _count(sessionmaker) == 3


def test_a_failed_write_keeps_the_events_in_order(sessionmaker: Any) -> None:
    class Down:
        kw = sessionmaker.kw

        def __call__(self) -> Any:
            raise ConnectionError("database unreachable")

    queue = AuditQueue(Down())
    queue.deferred = True
    for n in range(3):
        queue.record(f"dr-{n}", store.AuditAction.CDS_CALL, detail=f"n={n}")
    with pytest.raises(ConnectionError):
        queue.flush()
    assert len(queue) == 3
    queue.sessionmaker = sessionmaker
    assert queue.flush() == 3
    with sessionmaker() as db:
        written = db.scalars(select(AuditEvent.detail).order_by(AuditEvent.id)).all()
    assert written == ["n=0", "n=1", "n=2"]


def test_writers_of_one_sqlite_database_share_one_lock(db_url: str) -> None:
    import threading

    from rhabdo.service.db import make_engine, write_lock

    engine, other = make_engine(db_url), make_engine(db_url)
    try:
        if db_url.startswith("sqlite"):
            assert write_lock(engine) is write_lock(engine)
            assert isinstance(write_lock(engine), type(threading.Lock()))
            assert write_lock(other) is not write_lock(engine)  # one lock per engine
        else:  # PostgreSQL locks rows itself: no lock of the process is taken
            assert not isinstance(write_lock(engine), type(threading.Lock()))
    finally:
        engine.dispose()
        other.dispose()


def test_discovery_is_answered_without_a_worker_thread(
    service: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The discovery probe must not queue behind worker threads busy with reports and
    assessments (the load benchmark's probe waited 6 s there): after the first call it is
    answered on the event loop from the document built once."""
    import anyio.to_thread

    first = service.http.get("/cds-services")
    assert first.status_code == 200
    threads: list[Any] = []
    real = anyio.to_thread.run_sync

    async def spy(func: Any, *args: Any, **kwargs: Any) -> Any:
        threads.append(func)
        return await real(func, *args, **kwargs)

    monkeypatch.setattr(anyio.to_thread, "run_sync", spy)
    again = service.http.get("/cds-services")
    assert again.status_code == 200 and again.json() == first.json()
    assert again.json()["services"][0]["id"] == cds.PATIENT_VIEW_ID
    assert threads == []
