"""Published against computed: the accounts service is seeded, establishment by establishment,
with the per-unit figures of the published Appendix 01 (28,826 establishments in the 2024 unit
tree). A report compiled through the real services then matches every consistent cell of the
published table and reports exactly the inconsistent ones (DOMAIN.md): the province
subtotal's certificate-subject and commitment-subject columns, which are not the sums of its
children, and the grand total's same two columns, which add the wrong subtotal; and it tells
which of the two formulas each published rate used."""

from __future__ import annotations

import csv
import io
import uuid
from typing import Any

import pytest
from sqlalchemy import insert

from services.accounts.models import Account, Establishment
from services.reports.models import Report
from tests.accounts.factories import UnitFactory, bind_factories
from tests.reports.conftest import APPENDIX01

pytestmark = pytest.mark.smoke

INCONSISTENT = {
    ("PROV", "certificate_subject"),
    ("PROV", "commitment_subject"),
    ("TOTAL", "certificate_subject"),
    ("TOTAL", "commitment_subject"),
}


def _seed_accounts(session: Any) -> dict[str, Any]:
    """The appendix's unit tree in the accounts service, and for every unit that has no
    sub-units its establishments: certificate-subject first, then commitment-subject; the
    first `ocop_in_system` of them OCOP; the first `with_account` with an operating account."""
    bind_factories(session)
    with APPENDIX01.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    root = UnitFactory(code="QN", name="Tỉnh Quảng Ninh", level="province")
    units: dict[str, Any] = {"": root}
    for row in rows:
        if row["level"] == "total":
            continue
        units[row["code"]] = UnitFactory(
            code=row["code"],
            name=row["name"],
            level=row["level"],
            parent=units[row["parent_code"]],
        )
    session.flush()
    parents = {row["parent_code"] for row in rows}
    establishments: list[dict[str, Any]] = []
    accounts: list[dict[str, Any]] = []
    for row in rows:
        if row["level"] == "total" or row["code"] in parents:
            continue
        unit = units[row["code"]]
        cert = int(row["certificate_subject"] or 0)
        commit = int(row["commitment_subject"] or 0)
        assert cert + commit == int(row["total_establishments"])
        ocop, with_account = int(row["ocop_in_system"]), int(row["with_account"])
        for index in range(cert + commit):
            est_id = uuid.uuid4()
            establishments.append(
                {
                    "id": est_id,
                    "name": f"Cơ sở {row['code']} {index}",
                    "name_folded": f"co so {row['code'].lower()} {index}",
                    "unit_id": unit.id,
                    "food_safety_status": "certificate" if index < cert else "commitment",
                    "ocop": index < ocop,
                }
            )
            if index < with_account:
                accounts.append(
                    {
                        "id": uuid.uuid4(),
                        "username": f"{row['code'].lower()}.{index}",
                        "display_name": f"Cơ sở {index}",
                        "role": "establishment",
                        "establishment_id": est_id,
                        "password_hash": "x",
                    }
                )
    session.execute(insert(Establishment), establishments)
    session.execute(insert(Account), accounts)
    session.commit()
    return units


def test_the_published_appendix01_against_the_computed_one(
    client: Any,
    session: Any,
    rclient: Any,
    rsession: Any,
    reports_app: Any,
    products_db: Any,
    labels_db: Any,
) -> None:
    from tests.products.factories import auth, mint_token

    units = _seed_accounts(session)
    headers = auth(mint_token(reports_app.config["SETTINGS"], role="admin", unit_id=units[""].id))
    # A report of the year (as of today: the establishments were all created today).
    compiled = rclient.post(
        "/api/v1/reports/", json={"kind": "annual", "year": _this_year()}, headers=headers
    )
    assert compiled.status_code == 202, compiled.json
    job = rclient.get(f"/api/v1/reports/jobs/{compiled.json['id']}", headers=headers).json
    assert job["status"] == "done", job
    report_id = job["result"]["report_id"]
    figures = rclient.get(f"/api/v1/reports/{report_id}", headers=headers).json["figures"]
    by_code = {u["code"]: u for u in figures["units"]}
    # Roll-ups are sums of their children: the province group's columns are computed.
    assert by_code["PROV"]["total"]["certificate_subject"] == 1249
    assert by_code["PROV"]["total"]["commitment_subject"] == 1422
    assert by_code["QN"]["total"]["establishments"] == 28826
    assert by_code["QN"]["total"]["with_account"] == 196
    # Rates are named by their formula, and each is its own numerator over denominator.
    assert by_code["SYT"]["rates"]["with_account/establishments"] == 0.26
    assert by_code["SNN"]["rates"]["with_account/certificate_subject"] == 23.86

    table = rclient.post(
        "/api/v1/published/",
        data={
            "file": (io.BytesIO(APPENDIX01.read_bytes()), "appendix01.csv"),
            "title": "Phụ lục 01 (kế hoạch 2024)",
            "as_of": "2023-12-31",
        },
        headers=headers,
        content_type="multipart/form-data",
    )
    assert table.status_code == 201, table.json
    comparison = rclient.get(
        f"/api/v1/published/{table.json['id']}/comparison",
        query_string={"report_id": report_id},
        headers=headers,
    ).json
    counts = [c for c in comparison["cells"] if c["column"] != "rate"]
    assert len(counts) == 23 * 5
    wrong = {(c["code"], c["column"]) for c in counts if c["matches_computed"] is False}
    assert wrong == INCONSISTENT
    assert comparison["differences"] == 4
    # The table contradicts itself in the province subtotal (its total adds that subtotal,
    # so it agrees with the table and not with the children).
    inconsistent = {(c["code"], c["column"]) for c in counts if not c["consistent"]}
    assert inconsistent == {("PROV", "certificate_subject"), ("PROV", "commitment_subject")}
    for cell in counts:
        if (cell["code"], cell["column"]) not in INCONSISTENT:
            assert int(cell["published"] or 0) == cell["computed"], cell
    rates = {
        c["code"]: c["published_formula"] for c in comparison["cells"] if c["column"] == "rate"
    }
    assert rates["SNN"] == "with_account/certificate_subject"
    assert rates["SYT"] == "with_account/establishments"
    assert rates["CAM-PHA"] == "with_account/establishments"
    # The province subtotal's rate is over its (published, inconsistent) certificate column.
    assert rates["PROV"] == "with_account/certificate_subject"
    assert rsession.query(Report).count() == 1


def _this_year() -> int:
    from shared.clock import local_today

    return local_today().year
