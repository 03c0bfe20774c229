"""Property-based fuzzing of the JSON API from its OpenAPI document (schemathesis): no 500s.

Bounded and deterministic: at most 20 generated requests per operation, derandomised
(hypothesis' fixed seed), no example database, no deadline.
"""

from __future__ import annotations

from typing import Any

import pytest

schemathesis = pytest.importorskip("schemathesis")

MAX_EXAMPLES = 20
TRANSPORT_KEYS = ("method", "url", "headers", "params", "json", "content", "data", "files")


def test_no_operation_answers_500(service: Any) -> None:
    from hypothesis import HealthCheck, given, settings

    service.add_user("fuzz", "clinician")
    headers = {"Authorization": f"Bearer {service.token_for('fuzz')}"}
    document = service.http.get("/api/openapi.json", headers=headers).json()
    schema = schemathesis.openapi.from_dict(document)
    failures: list[str] = []
    tested: list[str] = []
    calls = 0

    for result in schema.get_all_operations():
        operation = result.ok()
        tested.append(f"{operation.method.upper()} {operation.path}")

        @settings(
            max_examples=MAX_EXAMPLES,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(operation.as_strategy())
        def check(case: Any) -> None:
            nonlocal calls
            kwargs = case.as_transport_kwargs(base_url="http://testserver", headers=headers)
            request = {k: v for k, v in kwargs.items() if k in TRANSPORT_KEYS}
            request["headers"] = {**(request.get("headers") or {}), **headers}
            response = service.http.request(**request)
            calls += 1
            if response.status_code >= 500:
                failures.append(f"{case.method} {case.formatted_path} -> {response.status_code}")

        check()
    assert len(tested) >= 10, tested
    assert calls >= len(tested)
    assert failures == []
