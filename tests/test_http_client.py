"""Service-to-service calls: service token, request id, retries with backoff, clean failure."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from flask import Flask, jsonify, request

from shared.auth import Principal, TokenVerifier
from shared.config import Settings
from shared.http import ServiceCallFailed, ServiceClient
from shared.logs import bind_request_id, reset_request_id

pytestmark = pytest.mark.smoke


def _target(statuses: list[int]) -> tuple[Flask, list[dict[str, Any]]]:
    app = Flask("target")
    seen: list[dict[str, Any]] = []

    @app.route("/thing", methods=["GET", "POST"])
    def thing() -> Any:
        seen.append(dict(request.headers))
        status = statuses.pop(0) if statuses else 200
        return jsonify(ok=status == 200), status

    return app, seen


def _client(settings: Settings, app: Flask, **kwargs: Any) -> ServiceClient:
    return ServiceClient(
        "http://accounts.internal",
        service_secret=settings.service_secret or "",
        calling_service="reports",
        transport=httpx.WSGITransport(app=app),
        backoff=0.01,
        **kwargs,
    )


def test_sends_a_service_token_the_verifier_accepts(settings: Settings, store: Any) -> None:
    from pathlib import Path

    app, seen = _target([])
    response = _client(settings, app).get("/thing")
    assert response.status_code == 200
    verifier = TokenVerifier(
        public_key_pem=Path(settings.jwt_public_key_file or "").read_text(),
        service_secret=settings.service_secret or "",
        store=store,
    )
    token = seen[0]["Authorization"].removeprefix("Bearer ")
    principal = verifier.verify(token)
    assert principal == Principal(role="service", username="service:reports", service="reports")


def test_carries_the_request_id(settings: Settings) -> None:
    app, seen = _target([])
    token = bind_request_id("req-id-for-call-123")
    try:
        _client(settings, app).get("/thing")
    finally:
        reset_request_id(token)
    assert seen[0]["X-Request-Id"] == "req-id-for-call-123"


def test_retries_idempotent_calls_then_succeeds(settings: Settings) -> None:
    app, seen = _target([503, 502])
    response = _client(settings, app, retries=3).get("/thing")
    assert response.status_code == 200
    assert len(seen) == 3


def test_gives_up_with_a_503_problem(settings: Settings) -> None:
    app, seen = _target([503, 503, 503, 503])
    with pytest.raises(ServiceCallFailed) as caught:
        _client(settings, app, retries=2).get("/thing")
    assert caught.value.status == 503
    assert len(seen) == 3


def test_does_not_retry_a_post(settings: Settings) -> None:
    app, seen = _target([503])
    with pytest.raises(ServiceCallFailed):
        _client(settings, app, retries=3).post("/thing", json={})
    assert len(seen) == 1


def test_connection_refused_is_a_clean_failure(settings: Settings) -> None:
    client = ServiceClient(
        "http://127.0.0.1:9",
        service_secret="s" * 32,
        calling_service="t",
        retries=1,
        backoff=0.01,
        timeout=1,
    )
    with pytest.raises(ServiceCallFailed):
        client.get("/healthz")
