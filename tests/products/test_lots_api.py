"""Lots, the production diary, outside supplies, shipments and the public card, through the API."""

from __future__ import annotations

import io
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from services.products.models import Lot, LotLink, StageEvent
from tests.products.conftest import PWorld
from tests.products.factories import ProductFactory
from tests.products.test_products_api import png_bytes

pytestmark = pytest.mark.smoke

NOW = datetime.now(UTC).replace(microsecond=0)


@pytest.fixture
def products(pworld: PWorld, psession: Any) -> dict[str, Any]:
    made = {
        "tea": ProductFactory(establishment_id=pworld.est_a.id, name="Chè búp tươi", code="T1"),
        "dry": ProductFactory(establishment_id=pworld.est_a.id, name="Chè khô", code="T2"),
        "shop": ProductFactory(establishment_id=pworld.est_a2.id, name="Chè đóng hộp", code="S1"),
        "b": ProductFactory(establishment_id=pworld.est_b.id, name="Miến dong", code="M1"),
    }
    psession.commit()
    return made


def new_lot(
    pclient: Any, world: PWorld, product: Any, code: str, who: str = "owner_a", **kw: Any
) -> Any:
    return pclient.post(
        "/api/v1/lots/",
        json={"product_id": str(product.id), "code": code, "quantity": 100, "unit": "kg", **kw},
        headers=world.headers(who),
    )


def test_lot_lifecycle(pclient: Any, pworld: PWorld, products: dict[str, Any]) -> None:
    headers = pworld.headers("owner_a")
    response = new_lot(
        pclient,
        pworld,
        products["tea"],
        "2024-06-A",
        production_date="2024-06-01",
        expiry_date="2024-06-20",
    )
    assert response.status_code == 201, response.json
    lot = response.json
    assert lot["product_name"] == "Chè búp tươi"
    assert lot["establishment_name"] == "HTX Chè Đường Hoa"
    assert lot["retain_until"] == "2025-06-20"  # 12 months past the printed expiry
    assert lot["origin"] == "produced"
    duplicate = new_lot(pclient, pworld, products["tea"], "2024-06-A")
    assert duplicate.status_code == 409
    assert duplicate.json["code"] == "duplicate_lot_code"
    url = f"/api/v1/lots/{lot['id']}"
    stale = pclient.patch(url, json={"quantity": 90}, headers={**headers, "If-Match": '"9"'})
    assert stale.status_code == 412
    edited = pclient.patch(url, json={"quantity": 90}, headers={**headers, "If-Match": '"1"'})
    assert edited.status_code == 200
    assert edited.json["quantity"] == 90
    hold = pclient.post(
        url + "/status",
        json={"status": "on_hold", "reason": "Chờ kết quả kiểm nghiệm"},
        headers=headers,
    )
    assert hold.json["status"] == "on_hold"
    no_reason = pclient.post(url + "/status", json={"status": "active"}, headers=headers)
    assert no_reason.status_code == 422
    recalled = pclient.post(
        url + "/status", json={"status": "recalled", "reason": "x"}, headers=headers
    )
    assert recalled.status_code == 422
    destroyed = pclient.post(
        url + "/status", json={"status": "destroyed", "reason": "Hỏng"}, headers=headers
    )
    assert destroyed.json["status"] == "destroyed"
    back = pclient.post(url + "/status", json={"status": "active", "reason": "x"}, headers=headers)
    assert back.status_code == 409


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"code": ""}, "code"),
        ({"code": "có dấu"}, "code"),
        ({"code": "x" * 65}, "code"),
        ({"quantity": -1}, "quantity"),
        ({"quantity": "nhiều"}, "quantity"),
        ({"production_date": "2024-06-10", "expiry_date": "2024-06-01"}, "expiry_date"),
        ({"inputs": [{"lot_id": "not-a-uuid"}]}, "inputs"),
        ({"sources": [{"supplier_address": "x"}]}, "sources"),
        (
            {"sources": [{"supplier_name": "A", "received_at": "2999-01-01T00:00:00+07:00"}]},
            "sources",
        ),
    ],
)
def test_bad_lot_input(
    pclient: Any,
    pworld: PWorld,
    products: dict[str, Any],
    psession: Any,
    body: dict[str, Any],
    field: str,
) -> None:
    payload = {"product_id": str(products["tea"].id), "code": "OK-1", **body}
    response = pclient.post("/api/v1/lots/", json=payload, headers=pworld.headers("owner_a"))
    assert response.status_code == 422, response.json
    assert any(name.startswith(field) for name in response.json["errors"]), response.json
    assert psession.query(Lot).count() == 0


def test_lot_of_another_establishments_product_is_refused(
    pclient: Any, pworld: PWorld, products: dict[str, Any]
) -> None:
    response = new_lot(pclient, pworld, products["b"], "X1")
    assert response.status_code == 422
    assert response.json["code"] == "product_not_in_scope"
    by_agency = new_lot(pclient, pworld, products["b"], "X1", who="agency_a")
    assert by_agency.status_code == 422
    assert new_lot(pclient, pworld, products["b"], "X1", who="agency_b").status_code == 201


def test_inputs_merge_and_split(
    pclient: Any, pworld: PWorld, products: dict[str, Any], psession: Any
) -> None:
    fresh1 = new_lot(pclient, pworld, products["tea"], "F1").json
    fresh2 = new_lot(pclient, pworld, products["tea"], "F2").json
    merged = new_lot(
        pclient,
        pworld,
        products["tea"],
        "F12",
        inputs=[{"lot_id": fresh1["id"], "quantity": 50}, {"lot_id": fresh2["id"], "quantity": 50}],
    ).json
    assert merged["origin"] == "merged"
    dried = new_lot(
        pclient, pworld, products["dry"], "D1", inputs=[{"lot_id": merged["id"], "quantity": 100}]
    ).json
    assert dried["origin"] == "processed"
    kinds = {(str(link.source_lot_id), link.kind) for link in psession.query(LotLink)}
    assert kinds == {(fresh1["id"], "merge"), (fresh2["id"], "merge"), (merged["id"], "input")}
    other = new_lot(pclient, pworld, products["shop"], "S1", who="owner_a2").json
    foreign = new_lot(pclient, pworld, products["dry"], "D2", inputs=[{"lot_id": other["id"]}])
    assert foreign.status_code == 422
    assert foreign.json["code"] == "input_not_own"
    url = f"/api/v1/lots/{dried['id']}/split"
    headers = pworld.headers("owner_a")
    too_much = pclient.post(
        url,
        json={"parts": [{"code": "D1-a", "quantity": 80}, {"code": "D1-b", "quantity": 30}]},
        headers=headers,
    )
    assert too_much.status_code == 422
    assert too_much.json["code"] == "split_exceeds_lot"
    parts = pclient.post(
        url,
        json={"parts": [{"code": "D1-a", "quantity": 60}, {"code": "D1-b", "quantity": 40}]},
        headers=headers,
    )
    assert parts.status_code == 201, parts.json
    assert [p["origin"] for p in parts.json] == ["split", "split"]
    again = pclient.post(url, json={"parts": [{"code": "D1-a"}, {"code": "D1-c"}]}, headers=headers)
    assert again.status_code == 409


def test_production_diary(pclient: Any, pworld: PWorld, products: dict[str, Any]) -> None:
    lot = new_lot(pclient, pworld, products["tea"], "DI-1").json
    url = f"/api/v1/lots/{lot['id']}/stages"
    headers = pworld.headers("owner_a")
    entry = {
        "kind": "production",
        "occurred_at": (NOW - timedelta(days=2)).isoformat(),
        "place": "Đồi chè thôn 2",
        "actor": "Tổ sản xuất số 1",
        "description": "Hái chè <b>búp</b>",
    }
    first = pclient.post(url, json=entry, headers=headers)
    assert first.status_code == 201, first.json
    second = pclient.post(
        url,
        json={**entry, "kind": "pre_processing", "occurred_at": NOW.isoformat()},
        headers=headers,
    )
    assert second.status_code == 201
    future = pclient.post(
        url, json={**entry, "occurred_at": (NOW + timedelta(days=1)).isoformat()}, headers=headers
    )
    assert future.status_code == 422
    shipping = pclient.post(url, json={**entry, "kind": "shipping"}, headers=headers)
    assert shipping.status_code == 422
    photo = pclient.post(
        f"{url}/{first.json['id']}/attachments",
        data={"file": (io.BytesIO(png_bytes()), "doi-che.png")},
        headers=headers,
    )
    assert photo.status_code == 201, photo.json
    attachment = photo.json["attachments"][0]
    download = pclient.get(attachment["url"], headers=headers)
    assert download.status_code == 200
    assert download.data == png_bytes()
    download.close()
    assert pclient.get(attachment["url"], headers=pworld.headers("owner_b")).status_code == 404
    void = pclient.post(
        f"{url}/{second.json['id']}/void", json={"reason": "Ghi nhầm"}, headers=headers
    )
    assert void.status_code == 200
    listed = pclient.get(url, headers=headers).json
    assert [e["kind"] for e in listed] == ["production", "pre_processing"]
    assert listed[1]["voided_reason"] == "Ghi nhầm"
    assert listed[0]["description"] == "Hái chè <b>búp</b>"  # stored as text, escaped by pages
    others = pclient.post(url, json=entry, headers=pworld.headers("owner_a2"))
    assert others.status_code == 404


def test_outside_supplier(pclient: Any, pworld: PWorld, products: dict[str, Any]) -> None:
    lot = new_lot(
        pclient,
        pworld,
        products["tea"],
        "SRC-1",
        sources=[
            {
                "supplier_name": "Hộ ông Lý Văn B",
                "supplier_lot_code": "LB-7",
                "quantity": 30,
                "unit": "kg",
            }
        ],
    ).json
    url = f"/api/v1/lots/{lot['id']}/sources"
    headers = pworld.headers("owner_a")
    more = pclient.post(
        url,
        json={"supplier_name": "Hộ bà Trần Thị C", "received_at": NOW.isoformat()},
        headers=headers,
    )
    assert more.status_code == 201
    names = [s["supplier_name"] for s in pclient.get(url, headers=headers).json]
    assert names == ["Hộ ông Lý Văn B", "Hộ bà Trần Thị C"]


def test_shipment_between_establishments(
    pclient: Any, pworld: PWorld, products: dict[str, Any], psession: Any
) -> None:
    lot = new_lot(pclient, pworld, products["dry"], "SH-1").json
    sender, receiver = pworld.headers("owner_a"), pworld.headers("owner_a2")
    sent = pclient.post(
        "/api/v1/shipments/",
        json={
            "lot_id": lot["id"],
            "recipient_establishment_id": str(pworld.est_a2.id),
            "quantity": 40,
            "shipped_at": NOW.isoformat(),
            "place": "Kho HTX",
        },
        headers=sender,
    )
    assert sent.status_code == 201, sent.json
    shipment = sent.json
    assert shipment["recipient_name"] == pworld.est_a2.name
    assert shipment["unit"] == "kg"
    incoming = pclient.get("/api/v1/shipments/?direction=incoming", headers=receiver).json
    assert [s["id"] for s in incoming] == [shipment["id"]]
    assert pclient.get("/api/v1/shipments/?direction=incoming", headers=sender).json == []
    # One step back: the recipient may read the shipped lot; a stranger may not.
    assert pclient.get(f"/api/v1/lots/{lot['id']}", headers=receiver).status_code == 200
    assert (
        pclient.get(f"/api/v1/lots/{lot['id']}", headers=pworld.headers("owner_b")).status_code
        == 404
    )
    assert (
        pclient.post(
            f"/api/v1/lots/{lot['id']}/stages",
            json={"kind": "storage", "occurred_at": NOW.isoformat()},
            headers=receiver,
        ).status_code
        == 404
    )
    url = f"/api/v1/shipments/{shipment['id']}/receive"
    by_sender = pclient.post(
        url,
        json={
            "received_at": NOW.isoformat(),
            "product_id": str(products["shop"].id),
            "lot_code": "R1",
        },
        headers=sender,
    )
    assert by_sender.status_code == 404
    wrong_product = pclient.post(
        url,
        json={
            "received_at": NOW.isoformat(),
            "product_id": str(products["dry"].id),
            "lot_code": "R1",
        },
        headers=receiver,
    )
    assert wrong_product.status_code == 422
    missing = pclient.post(url, json={"received_at": NOW.isoformat()}, headers=receiver)
    assert missing.status_code == 422
    assert set(missing.json["errors"]) == {"product_id", "lot_code"}
    received = pclient.post(
        url,
        json={
            "received_at": NOW.isoformat(),
            "product_id": str(products["shop"].id),
            "lot_code": "R1",
            "quantity": 39.5,
        },
        headers=receiver,
    )
    assert received.status_code == 201, received.json
    new_lot_id = received.json["id"]
    assert received.json["origin"] == "received"
    assert received.json["establishment_id"] == str(pworld.est_a2.id)
    link = psession.query(LotLink).filter_by(kind="shipment").one()
    assert (str(link.source_lot_id), str(link.target_lot_id)) == (lot["id"], new_lot_id)
    assert float(link.quantity) == 39.5
    kinds = sorted(e.kind for e in psession.query(StageEvent))
    assert kinds == ["receiving", "shipping"]
    twice = pclient.post(
        url, json={"received_at": NOW.isoformat(), "lot_id": new_lot_id}, headers=receiver
    )
    assert twice.status_code == 409
    cancel = pclient.post(
        f"/api/v1/shipments/{shipment['id']}/cancel", json={"reason": "x"}, headers=sender
    )
    assert cancel.status_code == 409


def test_shipment_to_outside_customer_and_cancel(
    pclient: Any, pworld: PWorld, products: dict[str, Any]
) -> None:
    lot = new_lot(pclient, pworld, products["dry"], "SH-2").json
    headers = pworld.headers("owner_a")
    nameless = pclient.post(
        "/api/v1/shipments/",
        json={"lot_id": lot["id"], "shipped_at": NOW.isoformat()},
        headers=headers,
    )
    assert nameless.status_code == 422
    assert "recipient_name" in nameless.json["errors"]
    sent = pclient.post(
        "/api/v1/shipments/",
        json={
            "lot_id": lot["id"],
            "recipient_name": "Siêu thị Hạ Long",
            "recipient_address": "Hạ Long",
            "shipped_at": NOW.isoformat(),
        },
        headers=headers,
    )
    assert sent.status_code == 201
    url = f"/api/v1/shipments/{sent.json['id']}/cancel"
    assert pclient.post(url, json={}, headers=headers).status_code == 422
    cancelled = pclient.post(url, json={"reason": "Khách huỷ đơn"}, headers=headers)
    assert cancelled.json["status"] == "cancelled"
    stages = pclient.get(f"/api/v1/lots/{lot['id']}/stages", headers=headers).json
    assert stages[0]["kind"] == "shipping"
    assert stages[0]["voided_at"]


def test_held_lot_cannot_ship(pclient: Any, pworld: PWorld, products: dict[str, Any]) -> None:
    lot = new_lot(pclient, pworld, products["dry"], "SH-3").json
    headers = pworld.headers("owner_a")
    pclient.post(
        f"/api/v1/lots/{lot['id']}/status",
        json={"status": "on_hold", "reason": "Kiểm nghiệm"},
        headers=headers,
    )
    response = pclient.post(
        "/api/v1/shipments/",
        json={"lot_id": lot["id"], "recipient_name": "A", "shipped_at": NOW.isoformat()},
        headers=headers,
    )
    assert response.status_code == 409
    assert response.json["code"] == "lot_not_active"


def test_public_card_shows_only_public_fields(
    pclient: Any, pworld: PWorld, products: dict[str, Any]
) -> None:
    headers = pworld.headers("owner_a")
    raw = new_lot(pclient, pworld, products["tea"], "PUB-1").json
    pclient.post(
        f"/api/v1/lots/{raw['id']}/stages",
        json={
            "kind": "production",
            "occurred_at": NOW.isoformat(),
            "place": "Đồi chè",
            "actor": "Tổ 1",
        },
        headers=headers,
    )
    made = new_lot(pclient, pworld, products["dry"], "PUB-2", inputs=[{"lot_id": raw["id"]}]).json
    pclient.post(
        f"/api/v1/lots/{made['id']}/stages",
        json={"kind": "processing", "occurred_at": NOW.isoformat(), "place": "Xưởng sao chè"},
        headers=headers,
    )
    pclient.post(
        "/api/v1/certifications/",
        json={
            "kind": "vietgap",
            "number": "VG-1",
            "issuer": "TT VietGAP",
            "valid_to": "2030-01-01",
        },
        headers=headers,
    )
    card = pclient.get(f"/api/v1/public/lots/{made['id']}")
    assert card.status_code == 200, card.json
    body = card.json
    assert body["product"]["name"] == "Chè khô"
    assert body["product"]["establishment"]["name"] == "HTX Chè Đường Hoa"
    assert body["product"]["certifications"][0]["state"] == "valid"
    assert [s["kind"] for s in body["chain"]] == ["production", "processing"]
    assert body["chain"][0]["lot_code"] == "PUB-1"
    assert body["recall"] is None
    text = card.get_data(as_text=True)
    for private in ("business_registration_no", "recorded_by", "status_note", "audit", "tokens"):
        assert private not in text
    by_code = pclient.get(f"/api/v1/public/products/{products['dry'].id}/lots?code=PUB-2")
    assert by_code.json["lot"]["id"] == made["id"]
    assert (
        pclient.get(f"/api/v1/public/products/{products['dry'].id}/lots?code=NOPE").status_code
        == 404
    )
    assert (
        pclient.get("/api/v1/public/lots/00000000-0000-0000-0000-000000000000").status_code == 404
    )


def test_receiving_from_a_recalled_lot_joins_the_recall(
    pclient: Any, pworld: PWorld, products: dict[str, Any], psession: Any
) -> None:
    from services.products.models import Notification, Recall

    lot = new_lot(pclient, pworld, products["dry"], "RC-1").json
    sender, receiver = pworld.headers("owner_a"), pworld.headers("owner_a2")
    shipment = pclient.post(
        "/api/v1/shipments/",
        json={
            "lot_id": lot["id"],
            "recipient_establishment_id": str(pworld.est_a2.id),
            "shipped_at": NOW.isoformat(),
        },
        headers=sender,
    ).json
    opened = pclient.post(
        "/api/v1/recalls/", json={"lot_id": lot["id"], "reason": "Nhiễm vi sinh"}, headers=sender
    )
    assert opened.status_code == 201, opened.json
    received = pclient.post(
        f"/api/v1/shipments/{shipment['id']}/receive",
        json={
            "received_at": NOW.isoformat(),
            "product_id": str(products["shop"].id),
            "lot_code": "RC-R1",
        },
        headers=receiver,
    )
    assert received.status_code == 201, received.json
    assert received.json["status"] == "recalled"
    recall = psession.get(Recall, uuid.UUID(opened.json["id"]))
    psession.refresh(recall)
    assert recall.affected_lots == 2
    told = psession.query(Notification).filter_by(establishment_id=pworld.est_a2.id).all()
    assert told
    card = pclient.get(f"/api/v1/public/lots/{received.json['id']}").json
    assert card["recall"]["number"] == opened.json["number"]
