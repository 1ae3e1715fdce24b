"""Scans retention: scans older than SCAN_RETENTION_DAYS go, in chunks; newer ones, and the
counterfeit alerts, stay; the nightly task is on beat's schedule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from services.labels.domain import retention
from services.labels.models import CounterfeitAlert, Scan
from shared.config import load_settings

pytestmark = pytest.mark.smoke

NOW = datetime(2026, 12, 4, 5, 0, tzinfo=UTC)


def _scan(at: datetime, serial: int) -> Scan:
    return Scan(at=at, level="item", code=f"{serial:07d}-TEST", serial=serial, outcome="ok")


def _serials(lsession: Any) -> list[int]:
    lsession.expire_all()
    return sorted(s for s in lsession.scalars(select(Scan.serial)) if s is not None)


def test_the_cutoff_is_the_setting_in_days() -> None:
    assert load_settings({}).scan_retention_days == 730
    settings = load_settings({"SCAN_RETENTION_DAYS": "30"})
    assert retention.scans_cutoff(settings, NOW) == NOW - timedelta(days=30)


def test_old_scans_are_deleted_in_chunks(labels_db: Any, lsession: Any) -> None:
    # Alerts other tests left committed (the embedded runner's smoke test scans a forged code
    # on SQLite, whose scans are written at once) stay too: count, don't assume none.
    alerts_before = lsession.scalar(select(func.count()).select_from(CounterfeitAlert))
    cutoff = NOW - timedelta(days=730)
    old = [_scan(cutoff - timedelta(days=d, seconds=1), d) for d in range(7)]
    kept = [_scan(cutoff, 100), _scan(cutoff + timedelta(days=1), 101), _scan(NOW, 102)]
    lsession.add_all([*old, *kept])
    lsession.add(
        CounterfeitAlert(
            code="0000000-TEST",
            reason="too_many_scans",
            serial=0,
            scans=30,
            places=[],
            first_seen=cutoff - timedelta(days=10),
            last_seen=cutoff - timedelta(days=9),
        )
    )
    lsession.commit()
    assert retention.purge_scans(labels_db, before=cutoff, chunk=3) == 7
    assert _serials(lsession) == [100, 101, 102]
    alerts = lsession.scalars(select(CounterfeitAlert.code)).all()
    assert len(alerts) == alerts_before + 1
    assert "0000000-TEST" in alerts
    assert retention.purge_scans(labels_db, before=cutoff, chunk=3) == 0


def test_the_task_keeps_the_configured_days(labels_app: Any, labels_db: Any, lsession: Any) -> None:
    from services.labels.tasks import BEAT_SCHEDULE, purge_scans

    days = labels_app.config["SETTINGS"].scan_retention_days
    now = datetime.now(UTC)
    lsession.add_all(
        [_scan(now - timedelta(days=days + 1), 1), _scan(now - timedelta(days=days - 1), 2)]
    )
    lsession.commit()
    assert purge_scans.delay().get() == 1
    assert _serials(lsession) == [2]
    assert BEAT_SCHEDULE["labels.purge-scans"]["task"] == purge_scans.name
