"""Schemathesis over the reports service's OpenAPI document [RELIABILITY 23]: generated
requests (valid and invalid) never get a 5xx, and every response matches its documented
schema. Runs as the administrator, a district officer, an establishment and anonymously."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import given

from tests.products.test_openapi_fuzz import CHECKS, SETTINGS

pytestmark = pytest.mark.postgres_only


@pytest.mark.parametrize("who", ["admin", "agency_a", "owner_a", "anonymous"])
def test_no_server_errors_and_responses_match_the_schema(
    reports_app: Any, rworld: Any, who: str
) -> None:
    headers = rworld.headers(who)
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", reports_app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 20
    statuses: list[int] = []
    for operation in operations:

        @given(case=operation.as_strategy())
        @SETTINGS
        def run(case: Any) -> None:
            case.headers = {**(case.headers or {}), **headers}
            response = case.call()
            statuses.append(response.status_code)
            case.validate_response(response, checks=CHECKS)

        run()
    assert len(statuses) > 100
    if who == "anonymous":
        assert 401 in statuses
    elif who == "owner_a":
        assert 403 in statuses
    else:
        assert 422 in statuses
        assert 200 in statuses
