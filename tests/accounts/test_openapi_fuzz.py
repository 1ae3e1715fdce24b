"""Schemathesis over the accounts service's OpenAPI document [RELIABILITY 23]: generated
requests (valid and invalid) never get a 5xx, and every response matches its documented
schema. Runs as an administrator, an agency officer and anonymously."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

pytestmark = pytest.mark.postgres_only


SETTINGS = settings(
    max_examples=12,
    deadline=None,
    database=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.data_too_large,
    ],
)
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


# schemathesis' own pytest plugin does not run under pytest 9 yet; its Python API does.
@pytest.mark.parametrize("who", ["admin", "agency_a", "anonymous"])
def test_no_server_errors_and_responses_match_the_schema(
    accounts_app: Any, world: Any, who: str
) -> None:
    token = None if who == "anonymous" else world.token(who)
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", accounts_app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 25
    statuses: list[int] = []
    for operation in operations:

        @given(case=operation.as_strategy())
        @SETTINGS
        def run(case: Any) -> None:
            headers = dict(case.headers or {})
            if token:
                headers["Authorization"] = f"Bearer {token}"
            case.headers = headers
            response = case.call()
            statuses.append(response.status_code)
            case.validate_response(response, checks=CHECKS)

        run()
    assert len(statuses) > 100
    assert 422 in statuses or who == "anonymous"
    assert 200 in statuses
    assert (401 in statuses) or who != "anonymous"
