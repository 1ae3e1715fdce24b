"""The trace endpoints: JSON, tree, XLSX and CSV exports; every role against own and other
scope; what an establishment sees of others; exported text that looks like a formula."""

from __future__ import annotations

import codecs
import csv
import io
import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest
from openpyxl import load_workbook

from services.products.domain.trace import LOT_HEADERS, MOVEMENT_HEADERS
from tests.products.test_trace import T0, Builder

pytestmark = pytest.mark.smoke

ROLES = ("admin", "agency_a", "agency_b", "owner_a", "owner_a2", "owner_b", "anonymous")


def url(lot_id: uuid.UUID, tail: str = "") -> str:
    return f"/api/v1/lots/{lot_id}/trace{tail}"


def download(client: Any, path: str, headers: dict[str, str], **params: Any) -> Any:
    """GET a file; the response is closed before returning (warnings are errors)."""
    response = client.get(path, headers=headers, query_string=params)
    response.get_data()
    response.close()
    return response


@pytest.fixture
def chain(psession: Any, pworld: Any) -> Builder:
    """est_a's tea (from an outside farm) → shipped to est_b → packed → sold outside, and
    part of the tea → est_a2. A lone lot of each establishment for scope checks."""
    g = Builder(psession, pworld)
    g.lot("TEA", "a", quantity=Decimal("100"))
    g.lot("B-IN", "b", origin="received")
    g.lot("B-PACK", "b", origin="processed")
    g.lot("A2-IN", "a2", origin="received")
    for owner in ("a", "a2", "b"):
        g.lot(f"ONLY-{owner.upper()}", owner)
    g.supplier("TEA", "Hộ ông Lý Văn Sáng", code="NCC-07", lot_code="VU-03")
    to_b = g.ship("TEA", "Cơ sở Miến dong Bình Liêu", to="b", status="received")
    to_a2 = g.ship("TEA", "Công ty Chế biến Hải sản Đầm Hà", to="a2", status="received")
    to_b.received_lot_id, to_a2.received_lot_id = g.id("B-IN"), g.id("A2-IN")
    g.link("TEA", "B-IN", "shipment", shipment_id=to_b.id, quantity=Decimal("60"), place="Kho A")
    g.link("TEA", "A2-IN", "shipment", shipment_id=to_a2.id, quantity=Decimal("40"))
    g.link("B-IN", "B-PACK", "input", quantity=Decimal("59.5"), place="Xưởng B")
    g.ship("B-PACK", "Cửa hàng Minh Anh", code="0101234567", shipped_at=T0)
    psession.flush()
    return g


# --- JSON ---------------------------------------------------------------------------------------


def test_trace_json_has_lots_movements_and_outside_parties(
    pclient: Any, pworld: Any, chain: Builder
) -> None:
    response = pclient.get(url(chain.id("B-PACK")), headers=pworld.headers("admin"))
    assert response.status_code == 200, response.json
    body = response.json
    assert body["start_lot_id"] == str(chain.id("B-PACK"))
    assert body["direction"] == "both"
    assert body["redacted"] is False
    assert body["counts"] == {
        "lots": 3,
        "movements": 2,
        "suppliers": 1,
        "recipients": 1,
        "establishments": 2,
    }
    nodes = {n["code"]: n for n in body["nodes"]}
    assert [n["code"] for n in body["nodes"]] == ["B-PACK", "B-IN", "TEA"]
    assert nodes["TEA"]["depth"] == 2
    assert nodes["TEA"]["direction"] == "backward"
    assert nodes["TEA"]["quantity"] == 100.0
    assert nodes["TEA"]["establishment_name"] == "HTX Chè Đường Hoa"
    edge = next(e for e in body["edges"] if e["kind"] == "shipment")
    assert edge["quantity"] == 60.0
    assert edge["place"] == "Kho A"
    assert edge["occurred_at"].endswith("+00:00")
    supplier = body["external"]["suppliers"][0]
    assert (supplier["name"], supplier["code"], supplier["lot_code"]) == (
        "Hộ ông Lý Văn Sáng",
        "NCC-07",
        "VU-03",
    )
    assert supplier["depth"] == 3
    assert [r["name"] for r in body["external"]["recipients"]] == ["Cửa hàng Minh Anh"]

    forward = pclient.get(
        url(chain.id("TEA")), headers=pworld.headers("admin"), query_string={"direction": "forward"}
    ).json
    assert {n["code"] for n in forward["nodes"]} == {"TEA", "B-IN", "B-PACK", "A2-IN"}
    assert forward["external"]["suppliers"] == []


def test_bad_parameters_are_field_problems(pclient: Any, pworld: Any, chain: Builder) -> None:
    headers = pworld.headers("admin")
    lot = chain.id("TEA")
    for path, params, field in (
        (url(lot), {"direction": "sideways"}, "direction"),
        (url(lot, "/tree"), {"direction": "both"}, "direction"),
        (url(lot, "/tree"), {"max_depth": "0"}, "max_depth"),
        (url(lot, "/tree"), {"max_depth": "100000"}, "max_depth"),
        (url(lot, "/export"), {"format": "pdf"}, "format"),
    ):
        response = pclient.get(path, headers=headers, query_string=params)
        assert response.status_code == 422, (path, params)
        assert response.mimetype == "application/problem+json"
        assert field in response.json["errors"]
        message = response.json["errors"][field][0]
        assert message["vi"]
        assert message["en"]
    assert pclient.get(f"/api/v1/lots/{lot}x/trace", headers=headers).status_code == 404


# --- tree ---------------------------------------------------------------------------------------


def test_tree_draws_a_diamond_with_a_reference(pclient: Any, pworld: Any, psession: Any) -> None:
    g = Builder(psession, pworld)
    for name in "ABCD":
        g.lot(name)
    g.link("A", "B", "split")
    g.link("A", "C", "split")
    g.link("B", "D", "merge")
    g.link("C", "D", "merge")
    g.ship("D", "Khách lẻ")
    response = pclient.get(
        url(g.id("A"), "/tree"),
        headers=pworld.headers("owner_a"),
        query_string={"direction": "forward"},
    )
    assert response.status_code == 200, response.json
    body = response.json
    assert (body["direction"], body["max_depth"], body["redacted"]) == ("forward", 50, False)
    root = body["root"]
    assert root["lot"]["code"] == "A"
    assert root["link"] is None
    b, c = root["children"]
    assert [b["lot"]["code"], c["lot"]["code"]] == ["B", "C"]
    assert b["link"]["kind"] == "split"
    d = b["children"][0]
    assert d["lot"]["code"] == "D"
    assert d["children"] == [{"recipient": d["children"][0]["recipient"]}]
    assert d["children"][0]["recipient"]["name"] == "Khách lẻ"
    assert c["children"] == [{"ref": str(g.id("D")), "link": c["children"][0]["link"]}]
    assert c["children"][0]["link"]["source_lot_id"] == str(g.id("C"))


def test_tree_of_a_deep_chain_is_cut_at_max_depth(pclient: Any, pworld: Any, psession: Any) -> None:
    g = Builder(psession, pworld)
    names = [f"C{i:03d}" for i in range(260)]
    for name in names:
        g.lot(name)
    g.chain(*names)
    headers = pworld.headers("admin")
    for max_depth in (None, 200):
        params = {"direction": "backward"} | ({"max_depth": max_depth} if max_depth else {})
        response = pclient.get(url(g.id("C259"), "/tree"), headers=headers, query_string=params)
        assert response.status_code == 200
        node, level = response.json["root"], 0
        while node["children"]:
            node, level = node["children"][0], level + 1
        assert level == (max_depth or 50)
        assert node["truncated"] is True
        assert node["lot"]["code"] == names[259 - level]
    # The JSON trace itself has no depth limit.
    body = pclient.get(url(g.id("C259")), headers=headers).json
    assert body["counts"]["lots"] == 260


# --- exports ------------------------------------------------------------------------------------


def _xlsx(data: bytes) -> dict[str, tuple[list[Any], list[list[Any]]]]:
    book = load_workbook(io.BytesIO(data))
    sheets = {}
    for sheet in book.worksheets:
        rows = list(sheet.iter_rows())
        sheets[sheet.title] = ([c.value for c in rows[1]], [list(r) for r in rows[2:]])
    book.close()
    return sheets


def _csv(data: bytes) -> tuple[list[str], list[list[str]]]:
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    return rows[0], rows[1:]


def test_xlsx_export_has_a_row_per_movement(pclient: Any, pworld: Any, chain: Builder) -> None:
    response = download(pclient, url(chain.id("B-IN"), "/export"), pworld.headers("admin"))
    assert response.status_code == 200
    assert response.mimetype == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    disposition = response.headers["Content-Disposition"]
    assert "attachment" in disposition
    assert "truy-xuat-B-IN-" in disposition
    sheets = _xlsx(response.data)
    header, rows = sheets["Dịch chuyển"]
    assert header == list(MOVEMENT_HEADERS)
    table = [{h: c.value for h, c in zip(header, row, strict=True)} for row in rows]
    # Supplier (3 steps back… here 2), TEA → B-IN, then forward: B-IN → B-PACK, shop.
    assert [(r["Chiều truy xuất"], r["Bậc"], r["Loại dịch chuyển"]) for r in table] == [
        ("Truy ngược (nguồn gốc)", 1, "Giao nhận giữa cơ sở"),
        ("Truy ngược (nguồn gốc)", 2, "Nhận từ nhà cung cấp ngoài hệ thống"),
        ("Truy xuôi (nơi nhận)", 1, "Nguyên liệu đầu vào"),
        ("Truy xuôi (nơi nhận)", 2, "Giao cho khách hàng ngoài hệ thống"),
    ]
    assert [r["STT"] for r in table] == [1, 2, 3, 4]
    shipment = table[0]
    assert shipment["Bên giao"] == "HTX Chè Đường Hoa"
    assert shipment["Địa chỉ bên giao"] == pworld.est_a.address
    assert shipment["Mã bên giao"] == pworld.est_a.business_registration_no
    assert shipment["Mã lô giao"] == "TEA"
    assert shipment["Bên nhận"] == "Cơ sở Miến dong Bình Liêu"
    assert shipment["Mã lô nhận"] == "B-IN"
    assert shipment["Sản phẩm nhận"] == chain.products["b"].name
    assert (shipment["Số lượng / khối lượng"], shipment["Đơn vị"]) == (60, "kg")
    assert shipment["Địa điểm"] == "Kho A"
    # Times are real date-times in Việt Nam time (sortable), not text.
    assert isinstance(shipment["Thời gian (giờ Việt Nam)"], datetime)
    supplier = table[1]
    assert (supplier["Bên giao"], supplier["Mã bên giao"], supplier["Mã lô giao"]) == (
        "Hộ ông Lý Văn Sáng",
        "NCC-07",
        "VU-03",
    )
    assert supplier["Mã lô nhận"] == "TEA"
    shop = table[3]
    assert (shop["Bên nhận"], shop["Mã bên nhận"], shop["Mã lô giao"]) == (
        "Cửa hàng Minh Anh",
        "0101234567",
        "B-PACK",
    )
    # 01:30 UTC is 08:30 in Việt Nam; Excel has no time zones, so the cell is naive local time.
    assert shop["Thời gian (giờ Việt Nam)"] == datetime(2026, 3, 1, 8, 30)  # noqa: DTZ001
    lot_header, lot_rows = sheets["Lô hàng"]
    assert lot_header == list(LOT_HEADERS)
    assert [r[lot_header.index("Mã lô")].value for r in lot_rows] == ["B-IN", "TEA", "B-PACK"]


def test_csv_export_uses_vietnam_time_and_a_bom(pclient: Any, pworld: Any, chain: Builder) -> None:
    response = download(
        pclient, url(chain.id("B-PACK"), "/export"), pworld.headers("owner_b"), format="csv"
    )
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.data.startswith(codecs.BOM_UTF8)
    assert ".csv" in response.headers["Content-Disposition"]
    header, rows = _csv(response.data)
    assert header == list(MOVEMENT_HEADERS)
    shop = {h: v for h, v in zip(header, rows[-1], strict=True)}
    assert shop["Thời gian (giờ Việt Nam)"] == "01/03/2026 08:30"
    assert shop["Bên nhận"] == "Cửa hàng Minh Anh"


FORMULAS = ['=HYPERLINK("http://evil.example","x")', "+84 912", "-2+3", "@SUM(A1:A9)"]


def test_exported_text_never_becomes_a_formula(pclient: Any, pworld: Any, psession: Any) -> None:
    """RELIABILITY 12: names, addresses, codes and places typed by users stay text."""
    g = Builder(psession, pworld)
    pworld.est_b.name = FORMULAS[0]
    pworld.est_b.address = FORMULAS[1]
    g.products["b"] = g.product("b")
    g.products["b"].name = FORMULAS[3]
    g.lot("=1+1", "b")
    g.lot("-LOT", "b")
    g.supplier("=1+1", FORMULAS[2], address=FORMULAS[3], code="=CODE", lot_code="+L")
    g.link("=1+1", "-LOT", place="@kho")
    g.ship("-LOT", "=cmd|' /C calc'!A0", address="-x", code="+1")
    psession.flush()

    xlsx = download(pclient, url(g.id("-LOT"), "/export"), pworld.headers("admin"))
    for _title, (_header, rows) in _xlsx(xlsx.data).items():
        for row in rows:
            for cell in row:
                if isinstance(cell.value, str):
                    assert cell.data_type == "s", cell.value
    _, rows = _xlsx(xlsx.data)["Dịch chuyển"]
    texts = {c.value for row in rows for c in row if isinstance(c.value, str)}
    assert {*FORMULAS, "=1+1", "-LOT", "=CODE", "+L", "@kho", "=cmd|' /C calc'!A0"} <= texts

    exported = download(
        pclient, url(g.id("-LOT"), "/export"), pworld.headers("admin"), format="csv"
    )
    _, rows = _csv(exported.data)
    cells = {v for row in rows for v in row}
    for text in (*FORMULAS, "=1+1", "-LOT", "=CODE", "+L", "@kho", "=cmd|' /C calc'!A0", "-x"):
        assert "'" + text in cells, text
        assert text not in cells, text


# --- who may trace what -------------------------------------------------------------------------

# For each start lot: the roles that may read it (everyone else: 404; anonymous: 401).
ALLOWED = {
    "ONLY-A": {"admin", "agency_a", "owner_a"},
    "ONLY-A2": {"admin", "agency_a", "owner_a2"},
    "ONLY-B": {"admin", "agency_b", "owner_b"},
    # Shipped to est_b and est_a2: one step back is theirs to see.
    "TEA": {"admin", "agency_a", "owner_a", "owner_a2", "owner_b"},
    "B-PACK": {"admin", "agency_b", "owner_b"},
}


@pytest.mark.parametrize("who", ROLES)
def test_every_role_against_every_scope(
    pclient: Any, pworld: Any, chain: Builder, who: str
) -> None:
    headers = pworld.headers(who)
    for lot, allowed in ALLOWED.items():
        for tail, params in (
            ("", {}),
            ("/tree", {"direction": "forward"}),
            ("/export", {}),
            ("/export", {"format": "csv"}),
        ):
            response = download(pclient, url(chain.id(lot), tail), headers, **params)
            expected = 401 if who == "anonymous" else 200 if who in allowed else 404
            assert response.status_code == expected, (who, lot, tail, params)
            if expected == 404:
                # The same answer as for a lot that does not exist: existence is not revealed.
                missing = pclient.get(url(uuid.uuid4(), tail), headers=headers)
                assert response.json == missing.json | {
                    "instance": response.json["instance"],
                    "request_id": response.json["request_id"],
                }
                assert response.json["message"] == {
                    "vi": "Không tìm thấy lô.",
                    "en": "Lot not found.",
                }
            if expected == 401:
                assert response.json["code"] == "unauthenticated"


def test_an_establishment_sees_the_public_card_of_others(
    pclient: Any, pworld: Any, chain: Builder
) -> None:
    body = pclient.get(url(chain.id("B-PACK")), headers=pworld.headers("owner_b")).json
    assert body["redacted"] is True
    assert body["withheld"] == 1  # est_a's farm
    assert body["external"]["suppliers"] == []
    assert [r["name"] for r in body["external"]["recipients"]] == ["Cửa hàng Minh Anh"]
    tea = next(n for n in body["nodes"] if n["code"] == "TEA")
    assert tea["redacted"] is True
    assert tea["establishment_name"] == "HTX Chè Đường Hoa"
    assert tea["product_name"] == chain.products["a"].name
    assert (tea["quantity"], tea["unit"], tea["product_code"], tea["establishment_code"]) == (
        None,
        None,
        None,
        None,
    )
    # TEA → B-IN is est_b's own receipt: in full.
    receipt = next(e for e in body["edges"] if e["kind"] == "shipment")
    assert (receipt["quantity"], receipt["place"], receipt["redacted"]) == (60.0, "Kho A", False)

    # est_a2 received part of TEA: it may trace it, and sees est_b's side only as a card.
    body = pclient.get(url(chain.id("TEA")), headers=pworld.headers("owner_a2")).json
    nodes = {n["code"]: n for n in body["nodes"]}
    assert nodes["A2-IN"]["redacted"] is False
    assert nodes["TEA"]["redacted"] is True
    assert nodes["B-PACK"]["redacted"] is True
    inner_b = next(e for e in body["edges"] if e["kind"] == "input")
    assert (inner_b["quantity"], inner_b["place"], inner_b["redacted"]) == (None, None, True)
    assert body["external"] == {"suppliers": [], "recipients": []}
    assert body["withheld"] == 2

    # The exports carry the same redaction.
    exported = download(
        pclient, url(chain.id("TEA"), "/export"), pworld.headers("owner_a2"), format="csv"
    )
    header, rows = _csv(exported.data)
    assert len(rows) == 3  # the supplier row and the shop row are withheld
    inner = next(r for r in rows if r[header.index("Loại dịch chuyển")] == "Nguyên liệu đầu vào")
    assert inner[header.index("Số lượng / khối lượng")] == ""
    assert inner[header.index("Mã bên giao")] == ""


def test_the_openapi_document_describes_the_trace(pclient: Any) -> None:
    spec = pclient.get("/api/v1/openapi.json").json
    paths = spec["paths"]
    for tail in ("", "/tree", "/export"):
        operation = paths[f"/api/v1/lots/{{lot_id}}/trace{tail}"]["get"]
        assert operation["description"]
    schemas = spec["components"]["schemas"]
    children = schemas["TreeNodeOut"]["properties"]["children"]
    assert children["items"] == {"$ref": "#/components/schemas/TreeNodeOut"}
    tree = paths["/api/v1/lots/{lot_id}/trace/tree"]["get"]["responses"]["200"]
    assert tree["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/TraceTreeOut"
    }
