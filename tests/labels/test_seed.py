"""The demo province's labels data, after the accounts and products demo seeds: the demo
cooperative's codes resolve, its scans show in the statistics, the forged label is an alert,
the consumer's report is listed, the label batch waits for the workers; running it twice adds
nothing."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import select

from services.accounts.domain import directory as accounts_directory
from services.accounts.seed import seed_demo as seed_accounts
from services.labels.domain import codes
from services.labels.models import DirectoryEstablishment, Job, JobChunk, LabelBatch, QrCode
from services.labels.seed import DEMO_BRN, seed_demo
from services.products.seed import seed_demo as seed_products
from shared.cli import labels_seed_payload
from tests.products.factories import auth, mint_token

pytestmark = pytest.mark.smoke


def test_the_demo_labels_data(
    session: Any, psession: Any, lsession: Any, lclient: Any, labels_app: Any
) -> None:
    seed_accounts(session, admin_username="admin", admin_password="Mật khẩu demo kiểm thử")
    session.commit()
    seed_products(
        psession,
        {
            "units": accounts_directory.units(session),
            "establishments": accounts_directory.establishments(session, limit=1_000_000),
        },
    )
    psession.commit()
    payload = labels_seed_payload(session, psession)
    assert len(payload["lots"]) == 6
    assert all(lot["code"].startswith("CM-") for lot in payload["lots"])
    settings = labels_app.config["SETTINGS"]

    first = seed_demo(lsession, payload, settings)
    lsession.commit()
    assert first["codes"] == 7  # the product's and each of its six lots'
    assert first["scans"] == 65
    assert first["forged_scans"] == 5
    assert first["alerts"] == 1
    assert first["problem_reports"] == 1
    assert first["batches"] == 1
    batch = lsession.scalars(select(LabelBatch)).one()
    assert batch.quantity == 40
    job = lsession.get(Job, batch.job_id)
    assert job is not None
    assert job.status == "queued"  # left to the `labels` workers
    assert lsession.scalars(select(JobChunk).where(JobChunk.job_id == job.id)).all()

    again = seed_demo(lsession, payload, settings)
    lsession.commit()
    assert set(again) == {"units", "establishments"}
    assert lsession.query(QrCode).count() == 7
    assert lsession.query(LabelBatch).count() == 1

    coop = lsession.scalar(
        select(DirectoryEstablishment).where(
            DirectoryEstablishment.business_registration_no == DEMO_BRN
        )
    )
    owner = auth(
        mint_token(settings, role="establishment", establishment_id=coop.id, username="htx.halong")
    )
    agency = auth(mint_token(settings, role="agency", unit_id=coop.unit_id))

    alerts = lclient.get("/api/v1/alerts/", headers=agency)
    assert alerts.status_code == 200, alerts.json
    assert [(a["reason"], a["scans"]) for a in alerts.json] == [("forged", 5)]
    assert alerts.json[0]["establishment_name"] == coop.name
    reports = lclient.get("/api/v1/problem-reports/", headers=agency)
    assert [r["kind"] for r in reports.json] == ["suspected_fake"]

    stats = lclient.get(f"/api/v1/scans/establishments/{coop.id}", headers=owner)
    assert stats.status_code == 200, stats.json
    assert stats.json["total"] == 65
    assert stats.json["by_outcome"] == {"ok": 60, "forged": 5}
    assert stats.json["open_alerts"] == 1
    assert set(stats.json["by_level"]) == {"product", "lot", "item"}
    assert len(stats.json["by_day"]) > 10
    assert len(stats.json["top_places"]) >= 4
    assert {"mobile", "app", "desktop"} <= set(stats.json["by_ua_class"])

    batches = lclient.get("/api/v1/batches/", headers=owner)
    assert [b["quantity"] for b in batches.json] == [40]

    lot = payload["lots"][-1]
    code = lsession.scalar(select(QrCode).where(QrCode.lot_id == uuid.UUID(lot["id"])))
    path = codes.code_path(code)
    assert path.endswith(f"/10/{lot['code']}")
    resolved = lclient.get("/api/v1/resolve", query_string={"path": path})
    assert resolved.status_code == 200, resolved.json
    assert resolved.json["outcome"] == "ok"
    assert resolved.json["level"] == "lot"
    assert resolved.json["lot"]["code"] == lot["code"]
    page = lclient.get(path)
    assert page.status_code == 200
    assert "Chả mực Hạ Long" in page.get_data(as_text=True)
