"""The dashboards' shared snapshot of the sources (domain/live.py): read once and stored, used
while young, renewed by a worker when old (the page still answers from the old one), and
renewed by beat's `reports.refresh_live`."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from services.reports.api.common import as_of_for
from services.reports.domain import live
from services.reports.domain.periods import Period
from services.reports.tasks import beat_schedule, refresh_live
from shared.clock import local_today
from shared.db import utcnow

pytestmark = pytest.mark.smoke


def _key() -> str:
    period = Period("annual", local_today().year)
    return live.key(period, as_of_for(period, None))


def _stored(store: Any) -> dict[str, Any] | None:
    text = store.get_many([_key()])[0]
    return json.loads(text) if text else None


def test_the_first_view_reads_and_stores_the_later_ones_reuse(
    rclient: Any, rworld: Any, store: Any
) -> None:
    rclient.set_cookie("trace_access", rworld.tokens["admin"])
    assert _stored(store) is None
    assert rclient.get("/").status_code == 200
    first = _stored(store)
    assert first is not None
    assert str(rworld.unit_a1.id) in first["establishments"]
    assert rclient.get("/").status_code == 200
    assert _stored(store) == first  # not read again


def test_an_old_snapshot_is_shown_and_renewed_by_a_worker(
    rclient: Any, rworld: Any, store: Any, reports_app: Any
) -> None:
    rclient.set_cookie("trace_access", rworld.tokens["agency_a"])
    rclient.get("/")
    old = _stored(store)
    assert old is not None
    seconds = reports_app.config["SETTINGS"].report_live_seconds
    old["read_at"] = (utcnow() - timedelta(seconds=seconds + 60)).isoformat()
    old["establishments"] = {}  # what the page shows comes from this snapshot
    store.set(_key(), json.dumps(old), 600)
    assert rclient.get("/").status_code == 200
    renewed = _stored(store)
    assert renewed is not None  # the worker (eager here) read the sources again
    assert renewed["read_at"] > old["read_at"]
    assert str(rworld.unit_a1.id) in renewed["establishments"]


def test_beat_renews_the_current_year(reports_app: Any, rworld: Any, store: Any) -> None:
    entry = beat_schedule(reports_app.config["SETTINGS"])["reports.live-figures"]
    assert entry["task"] == "reports.refresh_live"
    assert entry["schedule"] == timedelta(seconds=300)
    with reports_app.app_context():
        result = refresh_live.apply().get()
    assert result["as_of"] == local_today().isoformat()
    assert _stored(store) is not None


def test_a_snapshot_round_trips() -> None:
    from services.reports.domain.sources import Snapshot

    today = local_today()
    snapshot = Snapshot(
        as_of=today,
        start=today.replace(month=1, day=1),
        end=today,
        establishments={"u": {"establishments": 3}},
        grants={"u": {"2024-01": 2}},
        ocop_or_key_products={"u": 1},
    )
    moment = utcnow()
    assert live.decode(live.encode(snapshot, moment)) == (snapshot, moment)


def test_a_broker_outage_does_not_take_the_dashboard_down(
    reports_app: Any, rworld: Any, store: Any
) -> None:
    """An old snapshot and no way to reach a worker: the page still answers from it."""
    settings = reports_app.config["SETTINGS"]
    period = Period("annual", local_today().year)
    as_of = as_of_for(period, None)
    with reports_app.app_context():
        live.refresh(settings, store, period, as_of)
    old = _stored(store)
    assert old is not None
    old["read_at"] = (utcnow() - timedelta(seconds=settings.report_live_seconds + 1)).isoformat()
    store.set(_key(), json.dumps(old), 600)

    def broker_down() -> None:
        raise ConnectionRefusedError("broker down")

    with reports_app.app_context():
        snapshot, read_at = live.snapshot_for(
            settings, store, period, as_of, ask_refresh=broker_down
        )
    assert read_at.isoformat() == old["read_at"]
    assert str(rworld.unit_a1.id) in snapshot.establishments
