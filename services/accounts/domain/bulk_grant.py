"""Granting accounts to many establishments in one job (cấp tài khoản hàng loạt).

Establishments are named by the caller; those outside the caller's scope, already holding an
account, or closed are skipped with the reason. The one-time passwords go into an XLSX result
file that only the officer who started the job may download; it is written before the
accounts commit, so a worker lost between the two leaves a file that matches what exists.
"""

from __future__ import annotations

import io
import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy import select

from services.accounts.domain import accounts as account_ops
from services.accounts.domain.imports import principal_of
from services.accounts.domain.scope import covers_unit
from services.accounts.models import Account, Establishment
from shared.excel import SheetSpec, write_xlsx
from shared.jobs import JobContext

PROGRESS_EVERY = 25


def run(
    context: JobContext,
    *,
    save_file: Callable[[str, bytes], None],
    file_exists: Callable[[str], bool],
) -> dict[str, Any]:
    ids = [uuid.UUID(v) for v in context.params["establishment_ids"]]
    key = f"accounts/bulk-grants/{context.job_id}.xlsx"
    granted: list[list[Any]] = []
    skipped: list[list[Any]] = []
    context.progress(0, len(ids))
    with context.db.transaction() as session:
        actor = principal_of(session, context.created_by)
        live = set(
            session.scalars(
                select(Account.establishment_id).where(
                    Account.establishment_id.in_(ids), Account.status != "revoked"
                )
            )
        )
        establishments = {
            e.id: e for e in session.scalars(select(Establishment).where(Establishment.id.in_(ids)))
        }
        for done, establishment_id in enumerate(ids, start=1):
            establishment = establishments.get(establishment_id)
            if establishment is not None and not covers_unit(session, actor, establishment.unit):
                establishment = None  # out of scope: not even its name goes into the file
            reason = None
            if establishment is None:
                reason = "Không tìm thấy trong phạm vi quản lý / not found in your scope"
            elif establishment_id in live:
                reason = "Đã có tài khoản / already has an account"
            elif establishment.status != "active":
                reason = "Cơ sở đã ngừng hoạt động / establishment closed"
            if reason:
                skipped.append(
                    [str(establishment_id), establishment.name if establishment else "", reason]
                )
            elif establishment is not None:
                result = account_ops.grant(
                    session,
                    actor=actor,
                    role="establishment",
                    display_name=establishment.name,
                    establishment_id=establishment.id,
                    reason=f"Cấp tài khoản hàng loạt (job {context.job_id})",
                )
                live.add(establishment.id)
                granted.append(
                    [
                        establishment.name,
                        establishment.business_registration_no,
                        result.account.username,
                        result.one_time_password,
                    ]
                )
            # SQLite has one writer: this transaction holds it, so progress waits for the end.
            if done % PROGRESS_EVERY == 0 and not context.db.url.startswith("sqlite"):
                context.progress(done, len(ids))
        if granted or not file_exists(key):
            buffer = io.BytesIO()
            write_xlsx(
                buffer,
                [
                    SheetSpec(
                        "Tài khoản đã cấp",
                        ["Tên cơ sở", "Số GCN ĐKKD", "Tên đăng nhập", "Mật khẩu dùng một lần"],
                        granted,
                        column_widths=[40, 16, 22, 18],
                    ),
                    SheetSpec(
                        "Bỏ qua",
                        ["Mã cơ sở", "Tên cơ sở", "Lý do"],
                        skipped,
                        column_widths=[38, 40, 50],
                    ),
                ],
            )
            save_file(key, buffer.getvalue())
    return {"granted": len(granted), "skipped": len(skipped), "file": key}
