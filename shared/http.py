"""The client for service-to-service calls: timeouts, retries, service token, request id.

    client = ServiceClient.for_service("accounts", settings, calling_service="reports")
    units = client.get("/api/v1/units").json()

Idempotent calls (GET, HEAD, PUT, DELETE) are retried with exponential backoff on connection
errors and 502/503/504; anything else fails at once with `ServiceCallFailed`, which the error
handler answers as 503 so that a caller never sees a 500 for another service's outage.
In tests and in the embedded runner a WSGI transport can stand in for the network.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import httpx

from shared.auth import mint_service_token
from shared.config import ConfigError, Settings
from shared.errors import ServiceUnavailable
from shared.logs import REQUEST_ID_HEADER, current_request_id

log = logging.getLogger(__name__)

RETRY_STATUSES = {502, 503, 504}
IDEMPOTENT = {"GET", "HEAD", "PUT", "DELETE", "OPTIONS"}


class ServiceCallFailed(ServiceUnavailable):
    code = "dependency_unavailable"
    vi = "Một dịch vụ khác của hệ thống tạm thời không trả lời; hãy thử lại sau."
    en = "Another service of the platform is not answering; try again later."


class ServiceClient:
    def __init__(
        self,
        base_url: str,
        *,
        service_secret: str,
        calling_service: str,
        timeout: float = 5.0,
        retries: int = 3,
        backoff: float = 0.2,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._secret = service_secret
        self._caller = calling_service
        self._retries = retries
        self._backoff = backoff
        self._client = httpx.Client(timeout=timeout, transport=transport)

    @classmethod
    def for_service(
        cls,
        target: str,
        settings: Settings,
        *,
        calling_service: str,
        transport: httpx.BaseTransport | None = None,
    ) -> ServiceClient:
        if not settings.service_secret:
            raise ConfigError("SERVICE_SECRET is required for service-to-service calls")
        return cls(
            settings.service_url(target),
            service_secret=settings.service_secret,
            calling_service=calling_service,
            timeout=settings.http_timeout_seconds,
            retries=settings.http_retries,
            transport=transport or settings.extra.get("http_transport"),
        )

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        method = method.upper()
        headers = dict(kwargs.pop("headers", None) or {})
        token = mint_service_token(self._secret, self._caller)
        headers.setdefault("Authorization", f"Bearer {token}")
        request_id = current_request_id()
        if request_id:
            headers.setdefault(REQUEST_ID_HEADER, request_id)
        url = f"{self.base_url}/{path.lstrip('/')}"
        attempts = 1 + (self._retries if method in IDEMPOTENT else 0)
        last_error: Exception | None = None
        for attempt in range(attempts):
            if attempt:
                time.sleep(self._backoff * 2 ** (attempt - 1))
            try:
                response = self._client.request(method, url, headers=headers, **kwargs)
            except httpx.TransportError as exc:
                last_error = exc
                log.warning("call %s %s failed (attempt %d): %s", method, url, attempt + 1, exc)
                continue
            if response.status_code in RETRY_STATUSES and attempt + 1 < attempts:
                log.warning(
                    "call %s %s answered %d (attempt %d)",
                    method,
                    url,
                    response.status_code,
                    attempt + 1,
                )
                continue
            if response.status_code in RETRY_STATUSES:
                raise ServiceCallFailed(extra={"dependency": self.base_url})
            return response
        raise ServiceCallFailed(extra={"dependency": self.base_url}) from last_error

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", path, **kwargs)

    def close(self) -> None:
        self._client.close()
