"""Scans and counterfeit signals: every resolution recorded (no personal data), the flush into
`scans`, thresholds flagged on the page and listed as alerts, forged / void / unknown codes
listed, bots and reloads not counted, the queue safe against a crash mid-flush."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from services.labels.domain import cards, scans
from services.labels.domain.resolve import Resolution
from services.labels.models import CounterfeitAlert, Scan
from shared.kv import RedisStore
from tests.labels.test_trace_page import (
    Goods,
    add_batch,
    add_code,
    item_path,
    make_goods,
    signing_key,
    warnings,
)

pytestmark = pytest.mark.smoke

PHONE = "Mozilla/5.0 (Linux; Android 14; SM-A546E) AppleWebKit/537.36 Mobile Safari/537.36"


@pytest.fixture(autouse=True)
def fresh_caches() -> Iterator[None]:
    cards.clear_memory()
    yield
    cards.clear_memory()


@pytest.fixture
def goods(lworld: Any, psession: Any, lsession: Any) -> Goods:
    return make_goods(lworld, psession, lsession)


def flush(labels_app: Any) -> None:
    from services.labels.tasks import flush_scans

    flush_scans.delay().get()


def all_scans(lsession: Any) -> list[Scan]:
    return list(lsession.scalars(select(Scan).order_by(Scan.id)))


def alerts(lsession: Any) -> dict[tuple[str, str], CounterfeitAlert]:
    lsession.expire_all()
    return {(a.code, a.reason): a for a in lsession.scalars(select(CounterfeitAlert))}


def scan(lclient: Any, path: str, address: str = "203.0.113.1", **headers: str) -> Any:
    return lclient.get(
        path, environ_base={"REMOTE_ADDR": address}, headers={"User-Agent": PHONE, **headers}
    )


@pytest.fixture
def thresholds(labels_app: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    settings = labels_app.config["SETTINGS"]
    changed = settings.with_(counterfeit_max_scans=3, counterfeit_max_places=2)
    monkeypatch.setitem(labels_app.config, "SETTINGS", changed)
    return changed


# --- what the client tells -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("agent", "expected"),
    [
        (PHONE, "mobile"),
        ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Safari/604.1", "mobile"),
        ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/120.0 Safari/537.36", "desktop"),
        ("Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) Safari/605.1.15", "desktop"),
        ("TraceApp/1.2 (Android 14)", "app"),
        ("Dart/3.2 (dart:io)", "app"),
        ("Googlebot/2.1 (+http://www.google.com/bot.html)", "bot"),
        ("facebookexternalhit/1.1", "bot"),
        ("curl/8.4.0", "bot"),
        ("python-httpx/0.28", "bot"),
        ("Mozilla/5.0 HeadlessChrome/120", "bot"),
        ("", "other"),
        (None, "other"),
        ("Something/1.0", "other"),
    ],
)
def test_ua_class(agent: str | None, expected: str) -> None:
    assert scans.ua_class(agent) == expected


def test_place_cells_are_coarse() -> None:
    assert scans.place_cell("20.9512", "107.0812") == "20.9,107.0"
    assert scans.place_cell(-33.87, 151.21) == "-33.9,151.2"
    assert scans.place_cell("20.99", "107.09") == scans.place_cell("20.91", "107.01")
    for lat, lon in (("x", "1"), (None, None), ("91", "0"), ("0", "181"), ("nan", "1"), ("inf", 0)):
        assert scans.place_cell(lat, lon) is None


def test_the_client_mark_is_not_the_address() -> None:
    mark = scans.client_mark("secret", "203.0.113.1")
    assert "203" not in mark
    assert mark == scans.client_mark("secret", "203.0.113.1")
    assert mark != scans.client_mark("other", "203.0.113.1")


# --- recording ------------------------------------------------------------------------------


def test_every_resolution_is_recorded_without_personal_data(
    lclient: Any, labels_app: Any, goods: Goods, lsession: Any
) -> None:
    path = item_path(labels_app, goods.batch, 2)
    scan(lclient, path + "?lat=20.9512&lon=107.0812")
    scan(lclient, "/q/ZZZZZZZZZZ", "203.0.113.2", **{"User-Agent": "Googlebot/2.1"})
    product_code = add_code(lsession, goods.product)
    lclient.get(f"/q/{product_code.code}", headers={"User-Agent": "TraceApp/1.0"})
    lclient.get("/api/v1/resolve/01/08936081120011/10/CX-2612")
    flush(labels_app)
    rows = all_scans(lsession)
    assert [(r.level, r.outcome, r.ua_class) for r in rows] == [
        ("item", "ok", "mobile"),
        ("code", "unknown", "bot"),
        ("product", "ok", "app"),
        ("lot", "ok", "other"),
    ]
    first = rows[0]
    key = signing_key(labels_app)
    from services.labels.domain import codes

    assert first.code == codes.serial_code(key, goods.batch.serial_start + 2)
    assert first.serial == goods.batch.serial_start + 2
    assert first.batch_id == goods.batch.id
    assert first.product_id == goods.product.id
    assert first.lot_id == goods.lot.id
    assert first.establishment_id == goods.world.est_a.id
    assert first.place == "20.9,107.0"  # never the raw position
    assert rows[3].lot_id == goods.lot.id  # a GS1 lot without a code row, found by its code
    columns = set(Scan.__table__.columns.keys())
    assert not columns & {"ip", "address", "user_agent", "lat", "lon", "session"}


def test_counterfeit_flags_appear_at_the_scan_threshold(
    lclient: Any, labels_app: Any, goods: Goods, lsession: Any, thresholds: Any
) -> None:
    path = item_path(labels_app, goods.batch)
    for i in range(3):
        response = scan(lclient, path, f"198.51.100.{i}")
        assert warnings(response.get_data(as_text=True)) == [], i
    flagged = scan(lclient, path, "198.51.100.9")
    html = flagged.get_data(as_text=True)
    assert flagged.status_code == 200
    assert warnings(html) == ["too_many_scans"]
    assert "4 lần" in html
    assert "Mã truy xuất hợp lệ" not in html
    body = lclient.get(
        "/api/v1/resolve?path=" + path, environ_base={"REMOTE_ADDR": "198.51.100.10"}
    )
    assert body.json["outcome"] == "suspicious"
    assert body.json["scans"] == 5
    flush(labels_app)
    assert [r.outcome for r in all_scans(lsession)] == ["ok"] * 3 + ["suspicious"] * 2
    found = alerts(lsession)
    alert = found[(path.removeprefix("/q/"), "too_many_scans")]
    assert alert.scans == 5
    assert alert.establishment_id == goods.world.est_a.id
    assert alert.unit_path == goods.world.est_a.unit_path
    assert alert.batch_id == goods.batch.id
    assert alert.status == "open"
    # Another serial of the same batch is not affected.
    assert (
        warnings(scan(lclient, item_path(labels_app, goods.batch, 1)).get_data(as_text=True)) == []
    )


def test_counterfeit_flags_appear_at_the_place_threshold(
    lclient: Any, labels_app: Any, goods: Goods, lsession: Any, thresholds: Any
) -> None:
    path = item_path(labels_app, goods.batch, 5)
    places = [("20.95", "107.08"), ("21.02", "105.85"), ("20.71", "106.55")]
    for i, (lat, lon) in enumerate(places[:2]):
        response = scan(lclient, f"{path}?lat={lat}&lon={lon}", f"192.0.2.{i}")
        assert warnings(response.get_data(as_text=True)) == []
    # Same cell again: not a new place.
    same = scan(lclient, f"{path}?lat=20.99&lon=107.05", "192.0.2.7")
    assert warnings(same.get_data(as_text=True)) == []
    lat, lon = places[2]
    flagged = scan(lclient, f"{path}?lat={lat}&lon={lon}", "192.0.2.8")
    assert warnings(flagged.get_data(as_text=True)) == ["too_many_scans", "too_many_places"]
    flush(labels_app)
    found = {reason: a for (_, reason), a in alerts(lsession).items()}
    assert set(found["too_many_places"].places) == {"20.9,107.0", "21.0,105.8", "20.7,106.5"}
    assert found["too_many_scans"].scans == 4


def test_reloads_and_bots_do_not_count(
    lclient: Any, labels_app: Any, goods: Goods, thresholds: Any
) -> None:
    path = item_path(labels_app, goods.batch, 7)
    for _ in range(6):  # one shopper reloading and switching language
        assert warnings(scan(lclient, path + "?lang=en").get_data(as_text=True)) == []
    for i in range(6):
        response = scan(lclient, path, f"192.0.2.{i + 50}", **{"User-Agent": "TelegramBot"})
        assert warnings(response.get_data(as_text=True)) == []


def test_forged_void_and_unknown_codes_are_listed(
    lclient: Any, labels_app: Any, goods: Goods, lsession: Any
) -> None:
    key = signing_key(labels_app)
    from services.labels.domain import codes

    genuine = codes.serial_code(key, goods.batch.serial_start)
    forged = genuine[:-4] + ("0000" if not genuine.endswith("0000") else "1111")
    voided = add_batch(lsession, goods.product, goods.lot, voided=True)
    void_path = item_path(labels_app, voided)
    scan(lclient, f"/q/{forged}")
    scan(lclient, f"/q/{forged.lower()}", "203.0.113.9")
    scan(lclient, void_path)
    scan(lclient, "/q/ABCDEFGHJK")
    scan(lclient, f"/01/08936081120011/21/{forged}")
    scan(lclient, "/q/not-a-code-at-all")  # noise: recorded, never an alert
    flush(labels_app)
    found = alerts(lsession)
    # Twice as /q/…, once under the GTIN: one alert, attributed to the GTIN's owner.
    assert found[(forged, "forged")].scans == 3
    assert found[(forged, "forged")].establishment_id == goods.world.est_a.id
    void_code = void_path.removeprefix("/q/")
    assert found[(void_code, "void")].establishment_id == goods.world.est_a.id
    assert found[(void_code, "void")].unit_path == goods.world.est_a.unit_path
    assert found[("ABCDEFGHJK", "unknown")].scans == 1
    assert ("NOT-A-CODE-AT-ALL", "unknown") not in found
    assert ("not-a-code-at-all", "unknown") not in found
    outcomes = [r.outcome for r in all_scans(lsession)]
    assert outcomes == ["forged", "forged", "void", "unknown", "forged", "unknown"]


def test_forged_gs1_serials_are_attributed_to_the_gtins_owner(
    lclient: Any, labels_app: Any, goods: Goods, lsession: Any
) -> None:
    from services.labels.domain import codes

    genuine = codes.serial_code(signing_key(labels_app), goods.batch.serial_start)
    forged = genuine[:-4] + ("0000" if not genuine.endswith("0000") else "1111")
    scan(lclient, f"/01/08936081120011/10/CX-2612/21/{forged}")
    flush(labels_app)
    alert = alerts(lsession)[(forged, "forged")]
    assert alert.establishment_id == goods.world.est_a.id
    assert alert.product_id == goods.product.id


def test_new_alerts_for_invented_codes_are_capped(
    lclient: Any, labels_app: Any, goods: Goods, lsession: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(scans, "NEW_ANONYMOUS_ALERTS_PER_DAY", 2)
    for code in ("ABCDEFGHJ1", "ABCDEFGHJ2", "ABCDEFGHJ3", "ABCDEFGHJ4"):
        scan(lclient, f"/q/{code}")
    scan(lclient, "/q/ABCDEFGHJ1", "203.0.113.77")
    flush(labels_app)
    found = alerts(lsession)
    assert sorted(code for code, _ in found) == ["ABCDEFGHJ1", "ABCDEFGHJ2"]
    assert found[("ABCDEFGHJ1", "unknown")].scans == 2
    assert len(all_scans(lsession)) == 5  # every scan is still recorded


def test_a_store_failure_does_not_fail_the_page(
    lclient: Any, labels_app: Any, goods: Goods, monkeypatch: pytest.MonkeyPatch
) -> None:
    recorder = labels_app.extensions["labels_scans"]

    def broken(*_: Any, **__: Any) -> Any:
        raise ConnectionError("store down")

    monkeypatch.setattr(recorder, "_record_redis", broken)
    monkeypatch.setattr(recorder, "_record_db", broken)
    response = scan(lclient, item_path(labels_app, goods.batch))
    assert response.status_code == 200


# --- the queue (Redis) ------------------------------------------------------------------------


def _redis(labels_app: Any) -> RedisStore:
    store = labels_app.extensions["trace_kv"]
    if not isinstance(store, RedisStore):
        pytest.skip("the scan queue is Redis; the embedded default writes scans at once")
    return store


def test_a_crash_mid_flush_loses_nothing(
    lclient: Any, labels_app: Any, goods: Goods, lsession: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = _redis(labels_app)
    for i in range(5):
        scan(lclient, item_path(labels_app, goods.batch, i))
    assert scans.pending(store) == 5

    def crash(*_: Any, **__: Any) -> Any:
        raise RuntimeError("worker killed")

    monkeypatch.setattr(scans, "apply", crash)
    with pytest.raises(RuntimeError):
        flush(labels_app)
    monkeypatch.undo()
    scan(lclient, item_path(labels_app, goods.batch, 9))  # arrives meanwhile
    assert scans.pending(store) == 6
    flush(labels_app)  # the in-flight list first
    flush(labels_app)  # then the new queue
    assert scans.pending(store) == 0
    assert len(all_scans(lsession)) == 6


def test_the_queue_is_capped(
    lclient: Any, labels_app: Any, goods: Goods, lsession: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = _redis(labels_app)
    monkeypatch.setattr(scans, "MAX_QUEUE", 3)
    for i in range(5):
        assert scan(lclient, item_path(labels_app, goods.batch, i)).status_code == 200
    assert scans.pending(store) == 3
    assert store.client.get(store.prefix + scans.DROPPED) == "2"


def test_flush_chunks(
    labels_app: Any, goods: Goods, lsession: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = _redis(labels_app)
    monkeypatch.setattr(scans, "FLUSH_CHUNK", 3)
    recorder = labels_app.extensions["labels_scans"]
    settings = labels_app.config["SETTINGS"]
    resolution = Resolution(outcome="unknown", level=None, code="ZZZZZZZZZ1", detail="not_issued")
    with labels_app.app_context():
        for _ in range(8):
            recorder.record(
                resolution,
                base_outcome="unknown",
                place=None,
                ua="other",
                mark=None,
                settings=settings,
            )
    assert scans.pending(store) == 8
    flush(labels_app)
    assert scans.pending(store) == 0
    assert len(all_scans(lsession)) == 8
    assert alerts(lsession)[("ZZZZZZZZZ1", "unknown")].scans == 8
