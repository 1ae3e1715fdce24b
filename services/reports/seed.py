"""The demo province's reports data (`make run`): the unit tree copied from the accounts
service, the 2024 plan of accounts to grant (Appendix 02, imported from the published table
as an officer would) and the same monthly plan carried to this year, the published
Appendix 01 to compare with, and a few units' narratives for the current quarter. Run again,
it changes nothing it already holds."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.reports.domain import plans, published
from services.reports.domain.directory import COPY
from services.reports.domain.periods import current
from services.reports.models import Narrative, PlanEntry, PublishedTable
from shared.clock import local_today
from shared.config import PROJECT_ROOT
from shared.db import utcnow

APPENDIX_01 = PROJECT_ROOT / "data" / "appendix01_accounts_2023.csv"
APPENDIX_02 = PROJECT_ROOT / "data" / "appendix02_account_plan_2024.csv"
PUBLISHED_TITLE = "Phụ lục 01 — Kế hoạch duy trì hệ thống truy xuất năm 2024 (số liệu 2023)"

NARRATIVES = {
    "SNN-QLCL": {
        "done": "Cấp mới tài khoản cho các cơ sở sản xuất chè, miến dong; hướng dẫn ghi nhật "
        "ký sản xuất trên điện thoại.",
        "not_done": "Một số cơ sở ký cam kết chưa cập nhật lô hàng.",
        "reasons": "Cơ sở nhỏ lẻ, thiếu người phụ trách nhập liệu.",
        "proposals": "Tổ chức tập huấn tại xã trong quý tới.",
    },
    "DAM-HA": {
        "done": "Rà soát danh sách cơ sở, đề nghị cấp tài khoản cho 20 cơ sở.",
        "not_done": "Chưa hoàn thành chỉ tiêu tem QR cho sản phẩm OCOP.",
        "reasons": "Chủ thể OCOP chờ in lại bao bì.",
        "proposals": "",
    },
}


def seed_demo(session: Session, directory_payload: dict[str, Any]) -> dict[str, int]:
    counts = {"units": COPY.apply_units(session, directory_payload["units"])}
    if not session.scalar(select(PlanEntry.id).where(PlanEntry.year == 2024).limit(1)):
        result = plans.import_plan(
            session, APPENDIX_02.read_bytes(), APPENDIX_02.name, year=2024, actor=None
        )
        counts["plan_2024"] = result.stored
    this_year = local_today().year
    if this_year != 2024 and not session.scalar(
        select(PlanEntry.id).where(PlanEntry.year == this_year).limit(1)
    ):
        carried = list(session.scalars(select(PlanEntry).where(PlanEntry.year == 2024)))
        for entry in carried:
            session.add(
                PlanEntry(
                    unit_id=entry.unit_id,
                    year=this_year,
                    month=entry.month,
                    accounts=entry.accounts,
                )
            )
        counts[f"plan_{this_year}"] = len(carried)
    if not session.scalar(select(PublishedTable.id).where(PublishedTable.title == PUBLISHED_TITLE)):
        published.import_table(
            session,
            APPENDIX_01.read_bytes(),
            APPENDIX_01.name,
            title=PUBLISHED_TITLE,
            as_of=date(2023, 12, 31),
            actor=None,
        )
        counts["published_tables"] = 1
    period = current("quarterly", utcnow())
    by_code = {row.code: row for row in session.scalars(select(COPY.unit_model))}
    for code, texts in NARRATIVES.items():
        unit = by_code.get(code)
        if unit is None:
            continue
        exists = session.scalar(
            select(Narrative.id).where(
                Narrative.unit_id == unit.id,
                Narrative.kind == period.kind,
                Narrative.year == period.year,
                Narrative.quarter == period.quarter,
            )
        )
        if exists:
            continue
        submitted = code == "SNN-QLCL"
        session.add(
            Narrative(
                id=uuid.uuid4(),
                unit_id=unit.id,
                kind=period.kind,
                year=period.year,
                quarter=period.quarter,
                status="submitted" if submitted else "draft",
                submitted_at=utcnow() if submitted else None,
                **texts,
            )
        )
        counts["narratives"] = counts.get("narratives", 0) + 1
    session.flush()
    return counts
