"""Recalls (Circular 17/2021 Art. 8, 10, 11, 13): the workflow end to end through the API, the
24-hour and 3-working-day deadlines, the recalled status on every downstream lot (as the lots
API and the public trace page show it), notifications, cancellation, and every role against
every recall endpoint in and out of its scope.

The chain (`chain` fixture), all built directly in the database:

    source (est_a) ─input─▶ origin (est_a) ─shipment─▶ received_a2 (est_a2) ─input─▶ processed_a2
                              │                         └─split─▶ held_a2 (on hold)
                              ├─shipment─▶ received_b (est_b)
                              ├─split─▶ destroyed_a (est_a, destroyed)
                              └─shipment in transit to est_b (not received yet)
    processed_a2 ─shipment─▶ Siêu thị Hạ Long (outside the system)
    unrelated (est_a), other_b (est_b), spare_a (est_a): not in the chain
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any, cast

import pytest
from sqlalchemy import func, select

from services.products.domain import recalls
from services.products.domain.workdays import LOCAL_TZ, add_working_days
from services.products.models import (
    AuditEvent,
    Holiday,
    Lot,
    Notification,
    Recall,
    RecallLot,
    RecallRecipient,
    RecallStep,
    Shipment,
)
from shared.auth import Principal
from shared.db import utcnow
from tests.products.factories import LinkFactory, LotFactory, ProductFactory

pytestmark = pytest.mark.smoke

ROLES = ("admin", "agency_a", "agency_b", "owner_a", "owner_a2", "owner_b", "anonymous")
URL = "/api/v1/recalls/"


@dataclass
class Chain:
    source: Lot
    origin: Lot
    received_a2: Lot
    processed_a2: Lot
    held_a2: Lot
    received_b: Lot
    destroyed_a: Lot
    unrelated: Lot
    other_b: Lot
    spare_a: Lot
    to_a2: Shipment
    to_b: Shipment
    in_transit: Shipment
    outside: Shipment

    @property
    def reached(self) -> list[Lot]:
        return [
            self.origin,
            self.received_a2,
            self.received_b,
            self.destroyed_a,
            self.processed_a2,
            self.held_a2,
        ]


def _shipment(session: Any, lot: Lot, **values: Any) -> Shipment:
    shipment = Shipment(
        id=uuid.uuid4(),
        lot_id=lot.id,
        establishment_id=lot.establishment_id,
        quantity=Decimal("10"),
        unit="kg",
        shipped_at=utcnow() - timedelta(days=2),
        place="Kho thôn 2",
        **values,
    )
    session.add(shipment)
    session.flush()
    return shipment


def _lot(product: Any, **values: Any) -> Lot:
    return cast(Lot, LotFactory(product=product, **values))


def build_chain(session: Any, world: Any) -> Chain:
    tea = ProductFactory(establishment_id=world.est_a.id, name="Chè xanh Đường Hoa")
    seafood = ProductFactory(establishment_id=world.est_a2.id, name="Chả mực Đầm Hà")
    noodles = ProductFactory(establishment_id=world.est_b.id, name="Miến dong Bình Liêu")
    source = _lot(tea, code="CHE-NGUYEN-LIEU")
    origin = _lot(tea, code="CHE-2026-01")
    LinkFactory(source_lot_id=source.id, target_lot_id=origin.id, kind="input")
    received_a2 = _lot(seafood, code="NHAN-A2-01", origin="received")
    to_a2 = _shipment(
        session,
        origin,
        recipient_establishment_id=world.est_a2.id,
        recipient_name=world.est_a2.name,
        status="received",
        received_lot_id=received_a2.id,
        received_at=utcnow() - timedelta(days=1),
    )
    LinkFactory(
        source_lot_id=origin.id, target_lot_id=received_a2.id, kind="shipment", shipment_id=to_a2.id
    )
    processed_a2 = _lot(seafood, code="CHA-MUC-07", origin="processed")
    LinkFactory(source_lot_id=received_a2.id, target_lot_id=processed_a2.id, kind="input")
    held_a2 = _lot(seafood, code="NHAN-A2-01-B", origin="split", status="on_hold")
    LinkFactory(source_lot_id=received_a2.id, target_lot_id=held_a2.id, kind="split")
    received_b = _lot(noodles, code="NHAN-B-01", origin="received")
    to_b = _shipment(
        session,
        origin,
        recipient_establishment_id=world.est_b.id,
        recipient_name=world.est_b.name,
        status="received",
        received_lot_id=received_b.id,
    )
    LinkFactory(
        source_lot_id=origin.id, target_lot_id=received_b.id, kind="shipment", shipment_id=to_b.id
    )
    destroyed_a = _lot(tea, code="CHE-2026-01-HONG", status="destroyed")
    LinkFactory(source_lot_id=origin.id, target_lot_id=destroyed_a.id, kind="split")
    in_transit = _shipment(
        session,
        origin,
        recipient_establishment_id=world.est_b.id,
        recipient_name=world.est_b.name,
        status="sent",
    )
    outside = _shipment(
        session,
        processed_a2,
        recipient_name="Siêu thị Hạ Long",
        recipient_address="Bãi Cháy, Hạ Long",
        recipient_code="KH-001",
    )
    _shipment(  # cancelled: nobody to chase
        session, processed_a2, recipient_name="Khách đã hủy", status="cancelled"
    )
    unrelated = _lot(tea, code="CHE-KHAC")
    other_b = _lot(noodles, code="MIEN-KHAC")
    spare_a = _lot(tea, code="CHE-DU-PHONG")
    session.commit()
    return Chain(
        source,
        origin,
        received_a2,
        processed_a2,
        held_a2,
        received_b,
        destroyed_a,
        unrelated,
        other_b,
        spare_a,
        to_a2,
        to_b,
        in_transit,
        outside,
    )


@pytest.fixture
def chain(psession: Any, pworld: Any) -> Chain:
    return build_chain(psession, pworld)


def status_of(session: Any, lot: Lot) -> str:
    session.expire_all()
    return str(session.scalar(select(Lot.status).where(Lot.id == lot.id)))


def open_recall(client: Any, world: Any, who: str, lot: Lot, **body: Any) -> Any:
    payload = {"lot_id": str(lot.id), "reason": "Dư lượng thuốc bảo vệ thực vật vượt ngưỡng"}
    payload.update(body)
    return client.post(URL, json=payload, headers=world.headers(who))


def step(client: Any, world: Any, who: str, recall_id: str, name: str, **body: Any) -> Any:
    extra_headers = body.pop("_headers", {})
    return client.post(
        f"{URL}{recall_id}/steps",
        json={"step": name, **body},
        headers=world.headers(who) | extra_headers,
    )


def iso(value: str) -> datetime:
    return datetime.fromisoformat(value)


def deadline(body: dict[str, Any], name: str) -> dict[str, Any]:
    return next(d for d in body["deadlines"] if d["name"] == name)


def lots_api_status(app: Any, client: Any, world: Any, who: str, lot: Lot) -> str | None:
    """The lot's status through the lots API, when that API is there."""
    rules = {rule.rule for rule in app.url_map.iter_rules()}
    if "/api/v1/lots/<uuid:lot_id>" not in rules:
        return None
    response = client.get(f"/api/v1/lots/{lot.id}", headers=world.headers(who))
    assert response.status_code == 200, response.json
    return str(response.json["status"])


def public_card(app: Any, client: Any, lot: Lot) -> dict[str, Any] | None:
    """The public trace page's data for a lot (no login), when that API is there."""
    rules = {rule.rule for rule in app.url_map.iter_rules()}
    if "/api/v1/public/lots/<uuid:lot_id>" not in rules:
        return None
    response = client.get(f"/api/v1/public/lots/{lot.id}")
    assert response.status_code == 200, response.json
    body: dict[str, Any] = response.json
    return body


def counts(session: Any) -> tuple[int, ...]:
    session.expire_all()
    return tuple(
        session.scalar(select(func.count()).select_from(model))
        for model in (Recall, RecallLot, RecallRecipient, RecallStep, Notification, AuditEvent)
    )


# --- the impact ------------------------------------------------------------------------------


def test_impact_reaches_every_downstream_lot_and_recipient(psession: Any, chain: Chain) -> None:
    found = recalls.impact(psession, chain.origin.id)
    depths = {lot.lot_id: lot.depth for lot in found.lots}
    assert found.lots[0].lot_id == chain.origin.id
    assert depths == {
        chain.origin.id: 0,
        chain.received_a2.id: 1,
        chain.received_b.id: 1,
        chain.destroyed_a.id: 1,
        chain.processed_a2.id: 2,
        chain.held_a2.id: 2,
    }
    assert chain.source.id not in depths  # upstream is not recalled
    origin_est = chain.origin.establishment_id
    assert found.establishments[0] == origin_est
    assert set(found.establishments) == {
        origin_est,
        chain.received_a2.establishment_id,
        chain.received_b.establishment_id,
    }
    assert {s.id for s in found.recipients} == {chain.outside.id, chain.in_transit.id}
    assert [s.id for s in found.outside_recipients] == [chain.outside.id]
    # a lot that reaches nothing reaches only itself
    alone = recalls.impact(psession, chain.unrelated.id)
    assert [lot.lot_id for lot in alone.lots] == [chain.unrelated.id]
    assert alone.recipients == []


# --- the workflow end to end -----------------------------------------------------------------


def test_recall_workflow_end_to_end(
    products_app: Any, pclient: Any, pworld: Any, psession: Any, chain: Chain
) -> None:
    found_at = utcnow() - timedelta(hours=3)
    opened = open_recall(
        pclient,
        pworld,
        "owner_a",
        chain.origin,
        hazard="Chlorpyrifos 0,5 mg/kg (giới hạn 0,1)",
        found_at=found_at.isoformat(),
    )
    assert opened.status_code == 201, opened.json
    body = opened.json
    recall_id = body["id"]
    year = datetime.now(LOCAL_TZ).year
    assert body["number"] == f"TH-{year}-00001"
    assert opened.headers["ETag"] == f'"{body["version"]}"'
    assert opened.headers["Location"].endswith(f"/api/v1/recalls/{recall_id}")
    assert body["version"] == 1
    assert body["kind"] == "voluntary"
    assert body["status"] == "requested"
    assert body["next_step"] == "assessed"
    assert body["is_open"] is True
    assert body["lot_code"] == "CHE-2026-01"
    assert body["product_name"] == "Chè xanh Đường Hoa"
    assert body["establishment_name"] == pworld.est_a.name
    assert body["unit_id"] == str(pworld.unit_a1.id)
    assert body["affected_lots"] == 6
    assert body["affected_establishments"] == 3
    assert body["sees_everything"] is True
    assert body["lots_total"] == 6
    by_code = {lot["lot_code"]: lot for lot in body["lots"]}
    assert by_code["CHE-2026-01"]["depth"] == 0
    assert by_code["CHA-MUC-07"]["depth"] == 2
    assert by_code["CHA-MUC-07"]["establishment_name"] == pworld.est_a2.name
    assert by_code["NHAN-A2-01-B"]["status_before"] == "on_hold"
    assert by_code["NHAN-A2-01-B"]["status"] == "recalled"
    assert by_code["CHE-2026-01-HONG"]["status"] == "destroyed"  # a destroyed lot stays so
    recipients = {r["name"]: r for r in body["recipients"]}
    assert set(recipients) == {"Siêu thị Hạ Long", pworld.est_b.name}
    assert recipients["Siêu thị Hạ Long"]["in_system_establishment_id"] is None
    assert recipients["Siêu thị Hạ Long"]["lot_code"] == "CHA-MUC-07"
    assert recipients["Siêu thị Hạ Long"]["address"] == "Bãi Cháy, Hạ Long"
    assert recipients[pworld.est_b.name]["in_system_establishment_id"] == str(pworld.est_b.id)
    assert [s["step"] for s in body["steps"]] == ["requested"]
    assert body["steps"][0]["by_role"] == "establishment"
    assert body["steps"][0]["label"]["vi"]
    decision = deadline(body, "decision")
    assert iso(decision["due_at"]) == iso(body["found_at"]) + timedelta(hours=24)
    assert decision["state"] == "pending"  # voluntary: decided by its assessment
    assert deadline(body, "handling_decision")["state"] == "not_started"

    # Every lot the trace reaches shows as recalled — in the database, through the lots API
    # (to its owner), and on the public trace page; the upstream and unrelated lots do not.
    for lot in (chain.origin, chain.received_a2, chain.processed_a2, chain.held_a2):
        assert status_of(psession, lot) == "recalled"
    assert status_of(psession, chain.received_b) == "recalled"
    assert status_of(psession, chain.destroyed_a) == "destroyed"
    assert status_of(psession, chain.source) == "active"
    assert status_of(psession, chain.unrelated) == "active"
    owners = {
        chain.origin.id: "owner_a",
        chain.received_a2.id: "owner_a2",
        chain.processed_a2.id: "owner_a2",
        chain.received_b.id: "owner_b",
    }
    for lot in (chain.origin, chain.received_a2, chain.processed_a2, chain.received_b):
        seen = lots_api_status(products_app, pclient, pworld, owners[lot.id], lot)
        assert seen in {None, "recalled"}
        card = public_card(products_app, pclient, lot)
        if card is not None:
            assert card["lot"]["status"] == "recalled"
            assert card["recall"]["number"] == body["number"]
    assert lots_api_status(products_app, pclient, pworld, "owner_a", chain.source) in {
        None,
        "active",
    }

    # The Circular's steps, in order, each with who and when.
    version = body["version"]
    assessed = step(
        pclient,
        pworld,
        "owner_a",
        recall_id,
        "assessed",
        note="Mẫu lưu xác nhận vượt ngưỡng",
        _headers={"If-Match": f'"{version}"'},
    )
    assert assessed.status_code == 200, assessed.json
    assert assessed.json["version"] == version + 1
    assert deadline(assessed.json, "decision")["state"] == "met"
    assert step(pclient, pworld, "owner_a", recall_id, "plan_approved").status_code == 200
    assert step(pclient, pworld, "agency_a", recall_id, "executed").status_code == 200
    handled = step(pclient, pworld, "owner_a", recall_id, "handled", handling="destroy")
    assert handled.status_code == 200, handled.json
    assert handled.json["handling"] == "destroy"
    assert handled.json["handling_label"]["vi"] == "Tiêu hủy"
    for lot in chain.reached:  # destroyed food: every lot of the recall is destroyed
        assert status_of(psession, lot) == "destroyed"
    reported = step(pclient, pworld, "owner_a", recall_id, "reported", note="Đã tiêu hủy 100 kg")
    assert reported.status_code == 200, reported.json
    report = reported.json
    reported_at = iso(report["reported_at"])
    due = iso(report["handling_decision_due_at"])
    assert due == add_working_days(psession, reported_at, 3)
    assert deadline(report, "handling_decision")["state"] == "pending"
    assert deadline(report, "handling_decision")["starts_at"] == report["reported_at"]

    # The decision on handling is the authority's.
    refused = step(pclient, pworld, "owner_a", recall_id, "closed", note="Tự đóng")
    assert refused.status_code == 403
    assert refused.json["code"] == "authority_step"
    assert refused.json["message"]["vi"]
    assert refused.json["message"]["en"]
    assert step(pclient, pworld, "agency_b", recall_id, "closed", note="x").status_code == 403
    closed = step(pclient, pworld, "agency_a", recall_id, "closed", note="Đồng ý kết quả tiêu hủy")
    assert closed.status_code == 200, closed.json
    final = closed.json
    assert final["status"] == "closed"
    assert final["is_open"] is False
    assert final["next_step"] is None
    assert final["closed_at"]
    assert deadline(final, "handling_decision")["state"] == "met"
    assert deadline(final, "handling_decision")["done_at"] == final["closed_at"]
    steps = final["steps"]
    assert [s["step"] for s in steps] == [
        "requested",
        "assessed",
        "plan_approved",
        "executed",
        "handled",
        "reported",
        "closed",
    ]
    assert [s["by_role"] for s in steps] == [
        "establishment",
        "establishment",
        "establishment",
        "agency",
        "establishment",
        "establishment",
        "agency",
    ]
    assert steps[4]["handling"] == "destroy"
    assert steps[1]["note"] == "Mẫu lưu xác nhận vượt ngưỡng"
    assert all(s["at"] and s["by_name"] for s in steps)
    assert [iso(s["at"]) for s in steps] == sorted(iso(s["at"]) for s in steps)
    after = step(pclient, pworld, "agency_a", recall_id, "closed", note="lần hai")
    assert after.status_code == 409
    assert after.json["code"] == "recall_finished"

    # Affected establishments and their units were told, in the system.
    def titles(who: str) -> list[dict[str, Any]]:
        response = pclient.get("/api/v1/notifications/", headers=pworld.headers(who))
        assert response.status_code == 200
        return [n for n in response.json if n["recall_id"] == recall_id]

    for who in ("owner_a", "owner_a2", "owner_b"):
        kinds = sorted(n["kind"] for n in titles(who))
        assert kinds == ["recall_closed", "recall_opened"], who
    opened_a2 = next(n for n in titles("owner_a2") if n["kind"] == "recall_opened")
    assert body["number"] in opened_a2["title_vi"]
    assert body["number"] in opened_a2["title_en"]
    assert opened_a2["lot_id"] == str(chain.received_a2.id)
    unit_a = titles("agency_a")  # unit A1 is below district A: est_a and est_a2
    assert {n["establishment_id"] for n in unit_a} == {str(pworld.est_a.id), str(pworld.est_a2.id)}
    assert all(n["unit_id"] == str(pworld.unit_a1.id) for n in unit_a)
    assert {n["establishment_id"] for n in titles("agency_b")} == {str(pworld.est_b.id)}

    # The audit log has every change.
    psession.expire_all()
    actions = set(
        psession.scalars(
            select(AuditEvent.action).where(AuditEvent.entity_id == uuid.UUID(recall_id))
        )
    )
    assert actions == {
        "recall.open",
        "recall.assessed",
        "recall.plan_approved",
        "recall.executed",
        "recall.handled",
        "recall.reported",
        "recall.closed",
    }
    lot_changes = psession.scalars(
        select(AuditEvent)
        .where(
            AuditEvent.entity_id == chain.processed_a2.id,
            AuditEvent.action.startswith("lot.status."),
        )
        .order_by(AuditEvent.id)
    ).all()
    assert [(e.action, e.data["from"], e.data["to"]) for e in lot_changes] == [
        ("lot.status.recalled", "active", "recalled"),
        ("lot.status.destroyed", "recalled", "destroyed"),
    ]
    assert lot_changes[0].reason == body["number"]
    assert lot_changes[0].establishment_id == pworld.est_a2.id

    # Once closed, the lot may be recalled again.
    again = open_recall(pclient, pworld, "owner_a", chain.origin)
    assert again.status_code == 201
    assert again.json["number"] == f"TH-{year}-00002"


def test_compulsory_recall_by_an_agency(
    pclient: Any, pworld: Any, psession: Any, chain: Chain
) -> None:
    response = open_recall(pclient, pworld, "agency_a", chain.received_a2)
    assert response.status_code == 201, response.json
    body = response.json
    assert body["kind"] == "compulsory"
    assert body["opened_by_role"] == "agency"
    assert body["establishment_id"] == str(pworld.est_a2.id)
    assert body["affected_lots"] == 3  # itself, processed, held
    assert body["affected_establishments"] == 1
    assert [r["name"] for r in body["recipients"]] == ["Siêu thị Hạ Long"]
    assert status_of(psession, chain.origin) == "active"  # upstream untouched
    # the administrator may open one anywhere, and may record a voluntary one on behalf
    admin = open_recall(pclient, pworld, "admin", chain.other_b, kind="voluntary")
    assert admin.status_code == 201
    assert admin.json["kind"] == "voluntary"
    # an establishment cannot impose a compulsory recall
    refused = open_recall(pclient, pworld, "owner_a", chain.unrelated, kind="compulsory")
    assert refused.status_code == 403
    assert refused.json["code"] == "compulsory_needs_authority"
    assert refused.json["message"]["vi"]
    assert refused.json["message"]["en"]
    assert status_of(psession, chain.unrelated) == "active"


# --- deadlines --------------------------------------------------------------------------------


def test_decision_deadline_is_24_hours_from_the_finding(
    pclient: Any, pworld: Any, psession: Any, chain: Chain
) -> None:
    now = utcnow()
    late = open_recall(
        pclient, pworld, "agency_a", chain.origin, found_at=(now - timedelta(hours=30)).isoformat()
    )
    assert late.status_code == 201
    decision = deadline(late.json, "decision")
    assert iso(decision["due_at"]) == iso(late.json["found_at"]) + timedelta(hours=24)
    assert decision["done_at"] == late.json["opened_at"]
    assert decision["state"] == "overdue"  # the authority decided 30 hours after the finding

    in_time = open_recall(
        pclient, pworld, "agency_b", chain.other_b, found_at=(now - timedelta(hours=2)).isoformat()
    )
    assert deadline(in_time.json, "decision")["state"] == "met"

    # voluntary: pending until assessed, overdue when the assessment is late
    waiting = open_recall(
        pclient,
        pworld,
        "owner_a",
        chain.unrelated,
        found_at=(now - timedelta(hours=25)).isoformat(),
    )
    assert deadline(waiting.json, "decision")["state"] == "overdue"
    assert deadline(waiting.json, "decision")["done_at"] is None
    fresh = open_recall(pclient, pworld, "owner_a", chain.spare_a)
    assert deadline(fresh.json, "decision")["state"] == "pending"
    listed = pclient.get(f"{URL}?kind=voluntary", headers=pworld.headers("owner_a")).json
    states = {r["lot_code"]: deadline(r, "decision")["state"] for r in listed}
    assert states == {"CHE-KHAC": "overdue", "CHE-DU-PHONG": "pending"}
    assessed = step(pclient, pworld, "owner_a", fresh.json["id"], "assessed")
    assert deadline(assessed.json, "decision")["state"] == "met"
    assert deadline(assessed.json, "decision")["done_at"] == assessed.json["steps"][-1]["at"]


def test_found_at_rules(pclient: Any, pworld: Any, psession: Any, chain: Chain) -> None:
    before = counts(psession)
    future = open_recall(
        pclient,
        pworld,
        "owner_a",
        chain.origin,
        found_at=(utcnow() + timedelta(hours=1)).isoformat(),
    )
    assert future.status_code == 422
    assert future.json["errors"]["found_at"][0]["vi"]
    assert counts(psession) == before
    # without a zone the time is Vietnam's
    naive = open_recall(pclient, pworld, "owner_a", chain.origin, found_at="2026-01-05T10:00:00")
    assert naive.status_code == 201, naive.json
    assert iso(naive.json["found_at"]) == datetime(2026, 1, 5, 3, 0, tzinfo=UTC)


def _principal(role: str, **ids: Any) -> Principal:
    return Principal(role=role, username=f"{role}.test", account_id=uuid.uuid4(), **ids)


def test_handling_deadline_runs_three_working_days_over_a_weekend_and_a_holiday(
    products_app: Any, psession: Any, pworld: Any, chain: Chain
) -> None:
    """Domain level, on a fixed calendar: a report on Friday 4 Dec 2026 with Monday 7 Dec a
    holiday is due at the end of Thursday 10 Dec (Vietnam time)."""
    settings = products_app.config["SETTINGS"]
    owner = _principal("establishment", establishment_id=pworld.est_a.id)
    agency = _principal("agency", unit_id=pworld.unit_a.id)
    psession.add(Holiday(day=date(2026, 12, 7), name="Nghỉ bù thử"))
    friday = datetime(2026, 12, 4, 9, 0, tzinfo=LOCAL_TZ)
    recall = recalls.open_recall(
        psession,
        actor=owner,
        lot=chain.origin,
        kind=None,
        reason="Nhiễm vi sinh",
        hazard=None,
        found_at=friday - timedelta(hours=1),
        settings=settings,
        now=friday,
    )
    assert recall.decision_due_at == friday + timedelta(hours=23)
    for name, hours in (("assessed", 1), ("plan_approved", 2), ("executed", 3)):
        recalls.advance(
            psession,
            actor=owner,
            recall=recall,
            step=name,
            settings=settings,
            now=friday + timedelta(hours=hours),
        )
    recalls.advance(
        psession,
        actor=owner,
        recall=recall,
        step="handled",
        handling="fix",
        settings=settings,
        now=friday + timedelta(hours=4),
    )
    assert status_of(psession, chain.origin) == "recalled"  # fixed, not destroyed
    recalls.advance(
        psession,
        actor=owner,
        recall=recall,
        step="reported",
        settings=settings,
        now=friday + timedelta(hours=5),
    )
    thursday_end = datetime(2026, 12, 10, 23, 59, 59, tzinfo=LOCAL_TZ)
    assert recall.handling_decision_due_at == thursday_end
    states = {
        when: {d["name"]: d["state"] for d in recalls.deadlines(recall, when)}
        for when in (
            datetime(2026, 12, 8, 12, 0, tzinfo=LOCAL_TZ),
            datetime(2026, 12, 10, 23, 0, tzinfo=LOCAL_TZ),
            datetime(2026, 12, 11, 0, 1, tzinfo=LOCAL_TZ),
        )
    }
    assert [s["handling_decision"] for s in states.values()] == ["pending", "pending", "overdue"]
    assert all(s["decision"] == "met" for s in states.values())
    recalls.advance(
        psession,
        actor=agency,
        recall=recall,
        step="closed",
        note="Cho phép dán nhãn lại",
        settings=settings,
        now=datetime(2026, 12, 10, 16, 0, tzinfo=LOCAL_TZ),
    )
    final = {d["name"]: d for d in recalls.deadlines(recall, datetime(2027, 1, 1, tzinfo=UTC))}
    assert final["handling_decision"]["state"] == "met"
    late = recalls.deadlines(recall, None)
    assert {d["state"] for d in late} == {"met"}


def test_handling_deadline_through_the_api_skips_a_holiday(
    pclient: Any, pworld: Any, psession: Any, chain: Chain
) -> None:
    """The holiday is set through the holidays API on the next working day after today."""
    today = datetime.now(LOCAL_TZ).date()
    next_working = today + timedelta(days=1)
    while next_working.weekday() >= 5:
        next_working += timedelta(days=1)
    put = pclient.put(
        f"/api/v1/holidays/{next_working.isoformat()}",
        json={"name": "Ngày lễ thử"},
        headers=pworld.headers("admin"),
    )
    assert put.status_code == 201
    recall_id = open_recall(pclient, pworld, "owner_a", chain.unrelated).json["id"]
    for name in ("assessed", "plan_approved", "executed"):
        assert step(pclient, pworld, "owner_a", recall_id, name).status_code == 200
    step(pclient, pworld, "owner_a", recall_id, "handled", handling="change_use")
    report = step(pclient, pworld, "owner_a", recall_id, "reported").json
    reported_day = iso(report["reported_at"]).astimezone(LOCAL_TZ).date()
    expected, left = reported_day, 3
    while left:
        expected += timedelta(days=1)
        if expected.weekday() < 5 and expected != next_working:
            left -= 1
    due = iso(report["handling_decision_due_at"]).astimezone(LOCAL_TZ)
    assert due.date() == expected
    assert (due.hour, due.minute, due.second) == (23, 59, 59)
    assert deadline(report, "handling_decision")["due_at"] == report["handling_decision_due_at"]


# --- cancellation -----------------------------------------------------------------------------


def test_cancel_restores_every_lot_and_tells_everyone(
    products_app: Any, pclient: Any, pworld: Any, psession: Any, chain: Chain
) -> None:
    recall_id = open_recall(pclient, pworld, "owner_a", chain.origin).json["id"]
    assert step(pclient, pworld, "owner_a", recall_id, "assessed").status_code == 200
    missing = pclient.post(f"{URL}{recall_id}/cancel", json={}, headers=pworld.headers("owner_a"))
    assert missing.status_code == 422
    assert "reason" in missing.json["errors"]
    blank = pclient.post(
        f"{URL}{recall_id}/cancel", json={"reason": "   "}, headers=pworld.headers("owner_a")
    )
    assert blank.status_code == 422
    assert "reason" in blank.json["errors"]
    cancelled = pclient.post(
        f"{URL}{recall_id}/cancel",
        json={"reason": "Kết quả kiểm nghiệm lại đạt"},
        headers=pworld.headers("owner_a"),
    )
    assert cancelled.status_code == 200, cancelled.json
    body = cancelled.json
    assert body["status"] == "cancelled"
    assert body["is_open"] is False
    assert body["steps"][-1]["step"] == "cancelled"
    assert body["steps"][-1]["note"] == "Kết quả kiểm nghiệm lại đạt"
    assert deadline(body, "handling_decision")["state"] == "cancelled"
    assert deadline(body, "decision")["state"] == "met"  # it was assessed in time
    for lot in (chain.origin, chain.received_a2, chain.processed_a2, chain.received_b):
        assert status_of(psession, lot) == "active"
    assert status_of(psession, chain.held_a2) == "on_hold"
    assert status_of(psession, chain.destroyed_a) == "destroyed"
    assert lots_api_status(products_app, pclient, pworld, "owner_b", chain.received_b) in {
        None,
        "active",
    }
    card = public_card(products_app, pclient, chain.received_b)
    if card is not None:
        assert card["lot"]["status"] == "active"
        assert card["recall"] is None
    notes = pclient.get(
        "/api/v1/notifications/?kind=recall_cancelled", headers=pworld.headers("owner_b")
    )
    assert [n["recall_id"] for n in notes.json] == [recall_id]
    assert "Kết quả kiểm nghiệm lại đạt" in notes.json[0]["title_vi"]
    # cancelled twice: refused
    again = pclient.post(
        f"{URL}{recall_id}/cancel", json={"reason": "lại"}, headers=pworld.headers("owner_a")
    )
    assert again.status_code == 409
    # and the lot may be recalled anew
    assert open_recall(pclient, pworld, "owner_a", chain.origin).status_code == 201


def test_cancel_keeps_lots_another_open_recall_holds(
    pclient: Any, pworld: Any, psession: Any, chain: Chain
) -> None:
    first = open_recall(pclient, pworld, "owner_a", chain.origin).json
    # est_a2 recalls its own received lot too (a hazard of its own); allowed: that lot is not
    # the origin of an open recall.
    second = open_recall(pclient, pworld, "owner_a2", chain.received_a2)
    assert second.status_code == 201, second.json
    second_lots = {lot["lot_code"]: lot for lot in second.json["lots"]}
    assert second_lots["NHAN-A2-01"]["status_before"] == "active"  # its real former status
    assert second_lots["NHAN-A2-01-B"]["status_before"] == "on_hold"

    pclient.post(
        f"{URL}{first['id']}/cancel",
        json={"reason": "Không cần"},
        headers=pworld.headers("owner_a"),
    )
    assert status_of(psession, chain.origin) == "active"
    assert status_of(psession, chain.received_b) == "active"
    for lot in (chain.received_a2, chain.processed_a2, chain.held_a2):
        assert status_of(psession, lot) == "recalled"  # the second recall still holds them
    pclient.post(
        f"{URL}{second.json['id']}/cancel",
        json={"reason": "Không cần"},
        headers=pworld.headers("owner_a2"),
    )
    assert status_of(psession, chain.received_a2) == "active"
    assert status_of(psession, chain.processed_a2) == "active"
    assert status_of(psession, chain.held_a2) == "on_hold"


def test_cancel_rules(pclient: Any, pworld: Any, psession: Any, chain: Chain) -> None:
    # once carried out, a recall can no longer be cancelled
    recall_id = open_recall(pclient, pworld, "owner_a", chain.origin).json["id"]
    for name in ("assessed", "plan_approved", "executed"):
        step(pclient, pworld, "owner_a", recall_id, name)
    late = pclient.post(
        f"{URL}{recall_id}/cancel", json={"reason": "x"}, headers=pworld.headers("agency_a")
    )
    assert late.status_code == 409
    assert late.json["code"] == "recall_not_cancellable"
    assert late.json["message"]["vi"]
    assert late.json["message"]["en"]
    assert status_of(psession, chain.received_b) == "recalled"
    # a compulsory recall is cancelled by an authority only
    imposed = open_recall(pclient, pworld, "agency_b", chain.other_b).json["id"]
    by_owner = pclient.post(
        f"{URL}{imposed}/cancel", json={"reason": "x"}, headers=pworld.headers("owner_b")
    )
    assert by_owner.status_code == 403
    assert status_of(psession, chain.other_b) == "recalled"
    by_agency = pclient.post(
        f"{URL}{imposed}/cancel", json={"reason": "x"}, headers=pworld.headers("agency_b")
    )
    assert by_agency.status_code == 200
    assert status_of(psession, chain.other_b) == "active"


# --- refusals and order -----------------------------------------------------------------------


def test_a_second_open_recall_on_the_same_lot_is_refused(
    pclient: Any, pworld: Any, psession: Any, chain: Chain
) -> None:
    first = open_recall(pclient, pworld, "owner_a", chain.origin)
    assert first.status_code == 201
    before = counts(psession)
    for who in ("owner_a", "agency_a", "admin"):
        second = open_recall(pclient, pworld, who, chain.origin)
        assert second.status_code == 409, who
        problem = second.json
        assert problem["code"] == "recall_already_open"
        assert first.json["number"] in problem["message"]["vi"]
        assert first.json["number"] in problem["message"]["en"]
        assert problem["recall_id"] == first.json["id"]
    assert counts(psession) == before


def test_steps_go_in_the_circulars_order(
    pclient: Any, pworld: Any, psession: Any, chain: Chain
) -> None:
    recall = open_recall(pclient, pworld, "owner_a", chain.origin).json
    recall_id = recall["id"]
    before = counts(psession)
    skipped = step(pclient, pworld, "owner_a", recall_id, "executed")
    assert skipped.status_code == 409
    assert skipped.json["code"] == "recall_step_order"
    assert skipped.json["expected_step"] == "assessed"
    assert "Đánh giá" in skipped.json["message"]["vi"]
    assert "Assessed" in skipped.json["message"]["en"]
    backwards = step(pclient, pworld, "owner_a", recall_id, "requested")
    assert backwards.status_code == 422
    assert "step" in backwards.json["errors"]
    stale = step(pclient, pworld, "owner_a", recall_id, "assessed", _headers={"If-Match": '"99"'})
    assert stale.status_code == 412
    assert stale.json["current_version"] == recall["version"]
    garbled = step(pclient, pworld, "owner_a", recall_id, "assessed", _headers={"If-Match": "abc"})
    assert garbled.status_code == 412
    assert counts(psession) == before
    for name in ("assessed", "plan_approved", "executed"):
        assert step(pclient, pworld, "owner_a", recall_id, name).status_code == 200
    early_report = step(pclient, pworld, "owner_a", recall_id, "reported")
    assert early_report.json["expected_step"] == "handled"
    # handling is required at `handled`, and only there
    no_handling = step(pclient, pworld, "owner_a", recall_id, "handled")
    assert no_handling.status_code == 422
    assert no_handling.json["code"] == "handling_required"
    assert no_handling.json["errors"]["handling"][0]["vi"]
    wrong_handling = step(pclient, pworld, "owner_a", recall_id, "handled", handling="bury")
    assert wrong_handling.status_code == 422
    assert "handling" in wrong_handling.json["errors"]
    assert status_of(psession, chain.origin) == "recalled"
    assert (
        step(pclient, pworld, "owner_a", recall_id, "handled", handling="re_export").status_code
        == 200
    )
    extra = step(pclient, pworld, "owner_a", recall_id, "reported", handling="destroy")
    assert extra.status_code == 422
    assert "handling" in extra.json["errors"]
    assert step(pclient, pworld, "owner_a", recall_id, "reported").status_code == 200
    # the authority's decision must be written down
    no_decision = step(pclient, pworld, "agency_a", recall_id, "closed")
    assert no_decision.status_code == 422
    assert "note" in no_decision.json["errors"]
    assert status_of(psession, chain.origin) == "recalled"  # re-exported, not destroyed


# --- refresh ----------------------------------------------------------------------------------


def test_refresh_adds_lots_made_from_recalled_lots_since(
    pclient: Any, pworld: Any, psession: Any, chain: Chain
) -> None:
    recall_id = open_recall(pclient, pworld, "owner_a", chain.origin).json["id"]
    unchanged = pclient.post(f"{URL}{recall_id}/refresh", headers=pworld.headers("owner_a"))
    assert unchanged.status_code == 200
    assert unchanged.json["added_lots"] == 0
    version = unchanged.json["recall"]["version"]
    # est_a2 made a new lot from the recalled one (recorded directly, as a late entry would be)
    product = psession.get(Lot, chain.processed_a2.id).product
    late = _lot(product, code="CHA-MUC-08", origin="processed")
    LinkFactory(source_lot_id=chain.processed_a2.id, target_lot_id=late.id, kind="input")
    new_customer = _shipment(psession, late, recipient_name="Nhà hàng Cô Tô")
    psession.commit()
    refreshed = pclient.post(f"{URL}{recall_id}/refresh", headers=pworld.headers("agency_a"))
    assert refreshed.status_code == 200, refreshed.json
    assert refreshed.json["added_lots"] == 1
    assert refreshed.json["added_recipients"] == 1
    assert refreshed.json["notified_establishments"] == 1
    assert refreshed.json["recall"]["affected_lots"] == 7
    assert refreshed.json["recall"]["version"] > version
    assert status_of(psession, late) == "recalled"
    detail = pclient.get(f"{URL}{recall_id}", headers=pworld.headers("owner_a")).json
    assert {lot["lot_code"]: lot["depth"] for lot in detail["lots"]}["CHA-MUC-08"] == 3
    assert str(new_customer.id) in {r["shipment_id"] for r in detail["recipients"]}
    extended = pclient.get(
        "/api/v1/notifications/?kind=recall_extended", headers=pworld.headers("owner_a2")
    ).json
    assert [n["lot_id"] for n in extended] == [str(late.id)]
    assert (
        pclient.post(f"{URL}{recall_id}/refresh", headers=pworld.headers("owner_a")).json[
            "added_lots"
        ]
        == 0
    )


# --- lists, filters, pages --------------------------------------------------------------------


def test_list_filters_and_impact_pages(pclient: Any, pworld: Any, chain: Chain) -> None:
    voluntary = open_recall(pclient, pworld, "owner_a", chain.origin).json
    compulsory = open_recall(pclient, pworld, "agency_b", chain.other_b).json
    pclient.post(
        f"{URL}{compulsory['id']}/cancel", json={"reason": "x"}, headers=pworld.headers("agency_b")
    )
    admin = pworld.headers("admin")

    def ids(query: str) -> list[str]:
        response = pclient.get(f"{URL}{query}", headers=admin)
        assert response.status_code == 200, response.json
        return [r["id"] for r in response.json]

    assert ids("") == [compulsory["id"], voluntary["id"]]  # newest first
    assert ids("?kind=voluntary") == [voluntary["id"]]
    assert ids("?status=cancelled") == [compulsory["id"]]
    assert ids("?open=true") == [voluntary["id"]]
    assert ids("?open=false") == [compulsory["id"]]
    assert ids(f"?lot_id={chain.processed_a2.id}") == [voluntary["id"]]
    assert ids(f"?establishment_id={pworld.est_b.id}") == [compulsory["id"]]
    paged = pclient.get(f"{URL}?page=1&page_size=1", headers=admin)
    assert len(paged.json) == 1
    assert '"total": 2' in paged.headers["X-Pagination"]

    impact = pclient.get(
        f"{URL}{voluntary['id']}/impact?page=1&page_size=2", headers=pworld.headers("owner_a")
    )
    assert impact.status_code == 200
    assert [lot["depth"] for lot in impact.json] == [0, 1]
    assert '"total": 6' in impact.headers["X-Pagination"]
    last = pclient.get(
        f"{URL}{voluntary['id']}/impact?page=3&page_size=2", headers=pworld.headers("owner_a")
    )
    assert [lot["depth"] for lot in last.json] == [2, 2]


# --- every role against every recall endpoint ---------------------------------------------------

# A voluntary recall of est_a's origin lot reaches est_a2 and est_b ("touching"); one of an
# est_a lot that reaches nobody else ("own"). An agency or establishment it does not touch gets
# 404; one it touches sees it (only its own part) but may not run it: 403.
SEE_TOUCHING = {r: 200 for r in ROLES} | {"anonymous": 401}
SEE_OWN = {
    "admin": 200,
    "agency_a": 200,
    "agency_b": 404,
    "owner_a": 200,
    "owner_a2": 404,
    "owner_b": 404,
    "anonymous": 401,
}
RUN_TOUCHING = {
    "admin": 200,
    "agency_a": 200,
    "agency_b": 403,
    "owner_a": 200,
    "owner_a2": 403,
    "owner_b": 403,
    "anonymous": 401,
}
RUN_OWN = SEE_OWN
LISTED = {"admin": 2, "agency_a": 2, "agency_b": 1, "owner_a": 2, "owner_a2": 1, "owner_b": 1}
# Opening a recall on a lot: its owner and its agencies may; one who may read it (the
# recipient of a shipment of it) may not (403); the others are told there is no such lot (422).
OPEN_SPARE = {
    "admin": 201,
    "agency_a": 201,
    "agency_b": 422,
    "owner_a": 201,
    "owner_a2": 422,
    "owner_b": 422,
    "anonymous": 401,
}


@pytest.mark.parametrize("who", ROLES)
def test_every_role_on_every_recall_endpoint(
    who: str, pclient: Any, pworld: Any, psession: Any, chain: Chain
) -> None:
    touching = open_recall(pclient, pworld, "owner_a", chain.origin).json["id"]
    own = open_recall(pclient, pworld, "owner_a", chain.unrelated).json["id"]
    headers = pworld.headers(who)

    listed = pclient.get(URL, headers=headers)
    if who == "anonymous":
        assert listed.status_code == 401
    else:
        assert listed.status_code == 200
        assert len(listed.json) == LISTED[who], listed.json

    for recall_id, see, run in ((touching, SEE_TOUCHING, RUN_TOUCHING), (own, SEE_OWN, RUN_OWN)):
        detail = pclient.get(f"{URL}{recall_id}", headers=headers)
        assert detail.status_code == see[who], (who, recall_id, detail.json)
        impact = pclient.get(f"{URL}{recall_id}/impact", headers=headers)
        assert impact.status_code == see[who]
        before = counts(psession)
        refresh = pclient.post(f"{URL}{recall_id}/refresh", headers=headers)
        assert refresh.status_code == run[who], (who, refresh.json)
        advanced = step(pclient, pworld, who, recall_id, "assessed")
        assert advanced.status_code == run[who], (who, advanced.json)
        if run[who] != 200:
            assert counts(psession) == before
        cancelled = pclient.post(f"{URL}{recall_id}/cancel", json={"reason": "x"}, headers=headers)
        assert cancelled.status_code == run[who]
        for response in (detail, refresh, advanced, cancelled):
            if response.status_code >= 400:
                assert response.mimetype == "application/problem+json"
                assert response.json["message"]["vi"]
                assert response.json["message"]["en"]

    opened = open_recall(pclient, pworld, who, chain.spare_a)
    assert opened.status_code == OPEN_SPARE[who], (who, opened.json)
    if opened.status_code == 422:
        assert "lot_id" in opened.json["errors"]
    # est_b received part of the origin lot: it may read that lot, not recall it
    other = open_recall(pclient, pworld, who, chain.origin)
    if who == "owner_b":
        assert other.status_code == 403
        assert other.json["code"] == "recall_not_allowed"


def test_a_downstream_establishment_sees_only_its_part(
    pclient: Any, pworld: Any, chain: Chain
) -> None:
    recall_id = open_recall(pclient, pworld, "owner_a", chain.origin).json["id"]
    as_b = pclient.get(f"{URL}{recall_id}", headers=pworld.headers("owner_b")).json
    assert as_b["sees_everything"] is False
    assert as_b["affected_lots"] == 6  # the counts are the recall's
    assert [lot["lot_code"] for lot in as_b["lots"]] == ["NHAN-B-01"]
    assert as_b["lots_total"] == 1
    assert [r["name"] for r in as_b["recipients"]] == [pworld.est_b.name]  # goods on their way
    as_agency_b = pclient.get(f"{URL}{recall_id}", headers=pworld.headers("agency_b")).json
    assert [lot["lot_code"] for lot in as_agency_b["lots"]] == ["NHAN-B-01"]
    as_a2 = pclient.get(f"{URL}{recall_id}/impact", headers=pworld.headers("owner_a2")).json
    assert sorted(lot["lot_code"] for lot in as_a2) == ["CHA-MUC-07", "NHAN-A2-01", "NHAN-A2-01-B"]
    a2_detail = pclient.get(f"{URL}{recall_id}", headers=pworld.headers("owner_a2")).json
    assert [r["name"] for r in a2_detail["recipients"]] == ["Siêu thị Hạ Long"]


def test_unknown_recall_is_404(pclient: Any, pworld: Any) -> None:
    missing = uuid.uuid4()
    for path, method in (("", "get"), ("/impact", "get"), ("/refresh", "post")):
        response = getattr(pclient, method)(
            f"{URL}{missing}{path}", headers=pworld.headers("admin")
        )
        assert response.status_code == 404
        assert response.json["code"] == "recall_not_found"


# --- bad input --------------------------------------------------------------------------------

LONG = "x" * 2001


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({}, {"lot_id", "reason"}),
        ({"lot_id": "not-a-uuid", "reason": "x"}, {"lot_id"}),
        ({"lot_id": 12, "reason": ["x"]}, {"lot_id", "reason"}),
        ({"reason": ""}, {"reason"}),
        ({"reason": LONG}, {"reason"}),
        ({"reason": "Lý do\x00"}, {"reason"}),
        ({"hazard": LONG}, {"hazard"}),
        ({"hazard": "\x1b[31m"}, {"hazard"}),
        ({"kind": "urgent"}, {"kind"}),
        ({"kind": 3}, {"kind"}),
        ({"found_at": "yesterday"}, {"found_at"}),
        ({"found_at": 12345}, {"found_at"}),
        ({"found_at": "0001-01-01T00:00:00"}, {"found_at"}),
        ({"found_at": "1999-12-31T23:00:00+00:00"}, {"found_at"}),
        ({"lot_id": str(uuid.uuid4())}, {"lot_id"}),  # no such lot
        ({"status": "closed"}, {"status"}),  # not the caller's to set
    ],
)
def test_open_bad_input(
    body: dict[str, Any], fields: set[str], pclient: Any, pworld: Any, psession: Any, chain: Chain
) -> None:
    payload = {"lot_id": str(chain.origin.id), "reason": "Lý do thử"} | body
    payload = {k: v for k, v in payload.items() if not (k in fields and k not in body)}
    before = counts(psession)
    response = pclient.post(URL, json=payload, headers=pworld.headers("owner_a"))
    assert response.status_code == 422, response.json
    assert response.mimetype == "application/problem+json"
    assert response.json["message"]["vi"]
    assert response.json["message"]["en"]
    errors = response.json["errors"]
    assert fields <= set(errors), errors
    for messages in errors.values():
        assert all(m["vi"] and m["en"] for m in messages)
    assert counts(psession) == before
    assert status_of(psession, chain.origin) == "active"


@pytest.mark.parametrize(
    ("path", "body", "fields"),
    [
        ("steps", {}, {"step"}),
        ("steps", {"step": 1}, {"step"}),
        ("steps", {"step": "done"}, {"step"}),
        ("steps", {"step": "assessed", "note": LONG}, {"note"}),
        ("steps", {"step": "assessed", "note": "a\x08b"}, {"note"}),
        ("steps", {"step": "handled", "handling": ["destroy"]}, {"handling"}),
        ("steps", {"step": "assessed", "by_name": "Ai đó"}, {"by_name"}),
        ("cancel", {}, {"reason"}),
        ("cancel", {"reason": None}, {"reason"}),
        ("cancel", {"reason": LONG}, {"reason"}),
        ("cancel", {"reason": "\x7f"}, {"reason"}),
    ],
)
def test_step_and_cancel_bad_input(
    path: str,
    body: dict[str, Any],
    fields: set[str],
    pclient: Any,
    pworld: Any,
    psession: Any,
    chain: Chain,
) -> None:
    recall_id = open_recall(pclient, pworld, "owner_a", chain.origin).json["id"]
    before = counts(psession)
    response = pclient.post(
        f"{URL}{recall_id}/{path}", json=body, headers=pworld.headers("owner_a")
    )
    assert response.status_code == 422, response.json
    errors = response.json["errors"]
    assert fields <= set(errors), errors
    for messages in errors.values():
        assert all(m["vi"] and m["en"] for m in messages)
    assert counts(psession) == before
    detail = pclient.get(f"{URL}{recall_id}", headers=pworld.headers("owner_a")).json
    assert detail["status"] == "requested"


@pytest.mark.parametrize(
    "query", ["?status=lost", "?kind=1", "?open=maybe", "?lot_id=abc", "?page_size=0"]
)
def test_list_bad_query(query: str, pclient: Any, pworld: Any) -> None:
    response = pclient.get(f"{URL}{query}", headers=pworld.headers("admin"))
    assert response.status_code == 422, response.json
    assert response.json["errors"]


def test_a_recall_rings_the_public_cards_doorbell_for_every_lot_it_marks(
    products_app: Any, psession: Any, chain: Chain
) -> None:
    """Lots are marked recalled with a bulk UPDATE, which the ORM's flush watch does not see:
    the recall names them itself, so the trace page shows the recall at once (the browser
    scenario sees it through a real worker)."""
    from services.products.domain import events

    admin = Principal(role="admin", username="admin.test", account_id=uuid.uuid4())
    recall = recalls.open_recall(
        psession,
        actor=admin,
        lot=chain.origin,
        kind="compulsory",
        reason="Vượt ngưỡng vi sinh",
        hazard=None,
        found_at=None,
        settings=products_app.config["SETTINGS"],
    )
    marked = set(psession.scalars(select(RecallLot.lot_id).where(RecallLot.recall_id == recall.id)))
    assert chain.received_b.id in marked
    assert marked <= psession.info[events._KEY]["lot"]
