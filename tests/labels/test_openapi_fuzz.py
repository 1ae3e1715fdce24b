"""Schemathesis over the labels service's OpenAPI document [RELIABILITY 23]: generated
requests (valid and invalid) to every operation never get a 5xx, and every response matches
its documented schema. Runs as an establishment, an agency officer, a service and anonymously,
over the matrix's world (codes, a printed batch, scans, alerts and reports)."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import given

from services.labels.domain import printing
from tests.labels.test_authz_matrix import MWorld, fresh_caches, mworld  # noqa: F401 - fixtures
from tests.products.test_openapi_fuzz import CHECKS, SETTINGS

pytestmark = pytest.mark.postgres_only


# schemathesis' own pytest plugin does not run under pytest 9 yet; its Python API does.
@pytest.mark.parametrize("who", ["owner_a", "agency_a", "service", "anonymous"])
def test_no_server_errors_and_responses_match_the_schema(
    labels_app: Any,
    mworld: MWorld,  # noqa: F811 - the fixture imported above
    who: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Generated requests come from one address: the page budget must not end the run, and an
    # order that happens to be valid is not printed here (tests/labels/test_printing.py).
    monkeypatch.setitem(labels_app.config, "TRACE_VIEWS_PER_MINUTE", 100_000)
    monkeypatch.setattr(printing, "send_chunks", lambda chunks: None)
    headers = mworld.headers(who)
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", labels_app)
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
    else:
        assert 422 in statuses
    assert 200 in statuses
