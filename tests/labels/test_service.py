from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.smoke


def test_openapi_document_is_served(lclient: Any) -> None:
    response = lclient.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response.json["info"]["title"].startswith("Labels service")


def test_world(lclient: Any, lworld: Any) -> None:
    assert lclient.get("/api/v1/openapi.json", headers=lworld.headers("owner_a")).status_code == 200
