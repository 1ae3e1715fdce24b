"""Management units (đơn vị quản lý): a tree that administrators edit, with history kept.

Units are data, never code: districts were abolished on 1 July 2025, so the tree is created,
renamed, moved and retired at run time. A retired unit stays (reports of past years show it);
every change leaves an audit row with the before and after.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from services.accounts.domain import audit, names
from services.accounts.domain.scope import require_admin
from services.accounts.models import UNIT_LEVELS, Account, Establishment, Unit
from shared.auth import Principal
from shared.db import utcnow
from shared.errors import Conflict, InvalidInput, NotFound, PreconditionFailed
from shared.text import fold, nfc


def snapshot(unit: Unit) -> dict[str, Any]:
    return {
        "code": unit.code,
        "name": unit.name,
        "level": unit.level,
        "parent_id": unit.parent_id,
        "status": unit.status,
        "login_prefix": unit.login_prefix,
    }


def _check_version(unit: Unit, expected: int | None) -> None:
    if expected is not None and expected != unit.version:
        raise PreconditionFailed(extra={"current_version": unit.version})


def _code(raw: str) -> str:
    code = nfc(raw).upper()
    if (
        not code
        or len(code) > 32
        or not all(c.isalnum() or c in "-_" for c in code)
        or not code.isascii()
    ):
        raise InvalidInput.field(
            "code",
            "Mã đơn vị gồm 1–32 chữ cái không dấu, số, gạch ngang hoặc gạch dưới.",
            "A unit code has 1–32 ASCII letters, digits, hyphens or underscores.",
        )
    return code


def _level(level: str) -> str:
    if level not in UNIT_LEVELS:
        raise InvalidInput.field("level", "Cấp đơn vị không hợp lệ.", "Unknown unit level.")
    return level


def _active_parent(session: Session, parent_id: uuid.UUID | None) -> Unit | None:
    if parent_id is None:
        return None
    parent = session.get(Unit, parent_id)
    if parent is None:
        raise InvalidInput.field(
            "parent_id", "Không tìm thấy đơn vị cấp trên.", "The parent unit does not exist."
        )
    if parent.status != "active":
        raise InvalidInput.field(
            "parent_id", "Đơn vị cấp trên đã ngừng hoạt động.", "The parent unit is retired."
        )
    return parent


def create_unit(
    session: Session,
    *,
    actor: Principal,
    code: str,
    name: str,
    level: str,
    parent_id: uuid.UUID | None = None,
    login_prefix: str | None = None,
    unit_id: uuid.UUID | None = None,
) -> Unit:
    require_admin(actor)
    code = _code(code)
    name = nfc(name)
    if not name:
        raise InvalidInput.field(
            "name", "Tên đơn vị không được để trống.", "The unit name is required."
        )
    parent = _active_parent(session, parent_id)
    if session.scalar(select(Unit.id).where(Unit.code == code)) is not None:
        raise Conflict(
            f"Mã đơn vị {code} đã tồn tại.",
            f"Unit code {code} already exists.",
            code="duplicate_code",
        )
    prefix = names.check_prefix(login_prefix) if login_prefix else names.default_prefix(code)
    if session.scalar(select(Unit.id).where(Unit.login_prefix == prefix)) is not None:
        raise Conflict(
            f"Tiền tố tên đăng nhập {prefix} đã được dùng.",
            f"Login prefix {prefix} is already used.",
            code="duplicate_prefix",
        )
    unit = Unit(
        id=unit_id or uuid.uuid4(),
        code=code,
        name=name,
        name_folded=fold(name),
        level=_level(level),
        parent_id=parent.id if parent else None,
        login_prefix=prefix,
    )
    unit.path = (parent.path if parent else "/") + f"{unit.id}/"
    session.add(unit)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="unit.create",
        target_type="unit",
        target_id=unit.id,
        unit_id=unit.id,
        after=snapshot(unit),
    )
    return unit


def update_unit(
    session: Session,
    *,
    actor: Principal,
    unit: Unit,
    changes: dict[str, Any],
    expected_version: int | None = None,
    reason: str | None = None,
) -> Unit:
    """Rename, re-code, change level or login prefix, or move under another parent."""
    require_admin(actor)
    _check_version(unit, expected_version)
    if unit.status != "active":
        raise Conflict("Đơn vị đã ngừng hoạt động.", "The unit is retired.", code="unit_retired")
    before = snapshot(unit)
    if "name" in changes:
        name = nfc(changes["name"] or "")
        if not name:
            raise InvalidInput.field(
                "name", "Tên đơn vị không được để trống.", "The unit name is required."
            )
        unit.name, unit.name_folded = name, fold(name)
    if "code" in changes and _code(changes["code"]) != unit.code:
        code = _code(changes["code"])
        if session.scalar(select(Unit.id).where(Unit.code == code)) is not None:
            raise Conflict(
                f"Mã đơn vị {code} đã tồn tại.",
                f"Unit code {code} already exists.",
                code="duplicate_code",
            )
        unit.code = code
    if "level" in changes:
        unit.level = _level(changes["level"])
    if changes.get("login_prefix"):
        prefix = names.check_prefix(changes["login_prefix"])
        clash = session.scalar(
            select(Unit.id).where(Unit.login_prefix == prefix, Unit.id != unit.id)
        )
        if clash is not None:
            raise Conflict(
                f"Tiền tố tên đăng nhập {prefix} đã được dùng.",
                f"Login prefix {prefix} is already used.",
                code="duplicate_prefix",
            )
        unit.login_prefix = prefix
    action = "unit.update"
    if "parent_id" in changes and changes["parent_id"] != unit.parent_id:
        _move(session, unit, changes["parent_id"])
        action = "unit.move"
    after = snapshot(unit)
    if after != before:
        session.flush()
        audit.record(
            session,
            actor=actor,
            action=action,
            target_type="unit",
            target_id=unit.id,
            unit_id=unit.id,
            reason=reason,
            before=before,
            after=after,
        )
    return unit


def _move(session: Session, unit: Unit, new_parent_id: uuid.UUID | None) -> None:
    parent = _active_parent(session, new_parent_id)
    if parent is not None and parent.path.startswith(unit.path):
        raise InvalidInput.field(
            "parent_id",
            "Không thể chuyển đơn vị vào chính nó hoặc đơn vị cấp dưới của nó.",
            "A unit cannot be moved under itself or one of its sub-units.",
            code="unit_cycle",
        )
    old_path = unit.path
    new_path = (parent.path if parent else "/") + f"{unit.id}/"
    unit.parent_id = parent.id if parent else None
    unit.path = new_path
    session.flush()
    # Re-root the whole subtree in one statement.
    session.execute(
        update(Unit)
        .where(Unit.path.startswith(old_path, autoescape=True), Unit.id != unit.id)
        .values(path=func.replace(Unit.path, old_path, new_path), version=Unit.version + 1)
        .execution_options(synchronize_session="fetch")
    )


def retire_unit(
    session: Session,
    *,
    actor: Principal,
    unit: Unit,
    reason: str,
    expected_version: int | None = None,
) -> Unit:
    """Retire a unit that no longer manages anything (move its establishments first)."""
    require_admin(actor)
    _check_version(unit, expected_version)
    if unit.status == "retired":
        raise Conflict(
            "Đơn vị đã ngừng hoạt động.", "The unit is already retired.", code="unit_retired"
        )
    why = audit.reason_text(reason)
    blockers = {
        "active_children": session.scalar(
            select(func.count())
            .select_from(Unit)
            .where(Unit.parent_id == unit.id, Unit.status == "active")
        ),
        "establishments": session.scalar(
            select(func.count()).select_from(Establishment).where(Establishment.unit_id == unit.id)
        ),
        "active_accounts": session.scalar(
            select(func.count())
            .select_from(Account)
            .where(Account.unit_id == unit.id, Account.status != "revoked")
        ),
    }
    blockers = {k: v for k, v in blockers.items() if v}
    if blockers:
        raise Conflict(
            "Đơn vị còn đơn vị cấp dưới, cơ sở hoặc tài khoản đang hoạt động; hãy chuyển chúng "
            "sang đơn vị khác trước.",
            "The unit still has active sub-units, establishments or accounts; move them to "
            "another unit first.",
            code="unit_in_use",
            extra={"blockers": blockers},
        )
    before = snapshot(unit)
    unit.status = "retired"
    unit.retired_at = utcnow()
    unit.retired_reason = why
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="unit.retire",
        target_type="unit",
        target_id=unit.id,
        unit_id=unit.id,
        reason=unit.retired_reason,
        before=before,
        after=snapshot(unit),
    )
    return unit


def get_unit(session: Session, unit_id: uuid.UUID) -> Unit:
    unit = session.get(Unit, unit_id)
    if unit is None:
        raise NotFound("Không tìm thấy đơn vị.", "Unit not found.")
    return unit
