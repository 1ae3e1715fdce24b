from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.smoke


def test_openapi_document_is_served(pclient: Any) -> None:
    response = pclient.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response.json["info"]["title"].startswith("Products service")


def test_world_tokens_are_accepted(pclient: Any, pworld: Any) -> None:
    response = pclient.get("/api/v1/openapi.json", headers=pworld.headers("owner_a"))
    assert response.status_code == 200
