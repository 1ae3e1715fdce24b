"""The labels app's wiring of its settings: TRACE_VIEWS_PER_MINUTE reaches the trace pages."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from services.labels.app import create_app
from services.labels.domain import cards
from shared.config import ConfigError, load_settings
from shared.db import get_database
from tests.conftest import bound_database, clear_store

pytestmark = pytest.mark.smoke

UNKNOWN = "/q/ZZZZZZZZZZ"


def test_the_page_budget_is_a_setting() -> None:
    assert load_settings({}).trace_views_per_minute == 120
    assert load_settings({"TRACE_VIEWS_PER_MINUTE": "7"}).trace_views_per_minute == 7
    with pytest.raises(ConfigError, match="TRACE_VIEWS_PER_MINUTE"):
        load_settings({"TRACE_VIEWS_PER_MINUTE": "0"})


@pytest.fixture
def strict_app(labels_app: Any, store: Any) -> Iterator[Any]:
    """A labels app built with a budget of three views a minute, its database rolled back."""
    app = create_app(labels_app.config["SETTINGS"].with_(trace_views_per_minute=3))
    app.config["TESTING"] = True
    clear_store(store)
    cards.clear_memory()
    bound = bound_database(app)
    next(bound)
    try:
        yield app
    finally:
        next(bound, None)
        get_database(app).dispose()
        cards.clear_memory()


def test_a_lowered_budget_makes_the_page_answer_429(strict_app: Any) -> None:
    assert strict_app.config["TRACE_VIEWS_PER_MINUTE"] == 3
    client = strict_app.test_client()
    assert [client.get(UNKNOWN).status_code for _ in range(3)] == [404] * 3
    limited = client.get(UNKNOWN)
    assert limited.status_code == 429
    assert limited.headers["Retry-After"] == "60"
    # The page and its JSON twin share the budget; another address has its own.
    assert client.get(f"/api/v1/resolve?path={UNKNOWN}").status_code == 429
    other = client.get(UNKNOWN, environ_base={"REMOTE_ADDR": "10.1.2.3"})
    assert other.status_code == 404
