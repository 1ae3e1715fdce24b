"""The Circular's steps of a recall: their order and their names in Vietnamese and English,
who may record them (those running the recall; only an authority closes it), the checks before
one is recorded, and the record itself. Shared by the other modules of the package, as is the
chunking of long id lists."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from services.products.domain import scope
from services.products.models import RECALL_STEPS, Recall, RecallStep
from shared.auth import Principal
from shared.errors import Conflict, Forbidden, Message, PreconditionFailed

FINISHED = ("closed", "cancelled")
OPEN = tuple(s for s in RECALL_STEPS if s not in FINISHED)
CANCELLABLE = ("requested", "assessed", "plan_approved")
AUTHORITY_STEPS = ("closed",)
CHUNK = 5000

STEP_NAMES: dict[str, Message] = {
    "requested": Message("Tiếp nhận yêu cầu thu hồi", "Recall request received"),
    "assessed": Message("Đánh giá", "Assessed"),
    "plan_approved": Message("Phê duyệt kế hoạch thu hồi", "Recall plan approved"),
    "executed": Message("Thực hiện thu hồi", "Recall carried out"),
    "handled": Message("Xử lý thực phẩm bị thu hồi", "Recalled food handled"),
    "reported": Message("Báo cáo kết quả", "Result reported"),
    "closed": Message(
        "Cơ quan có thẩm quyền quyết định xử lý, kết thúc", "Authority decided; closed"
    ),
    "cancelled": Message("Hủy thu hồi", "Recall cancelled"),
}
HANDLING_NAMES: dict[str, Message] = {
    "fix": Message("Khắc phục lỗi ghi nhãn hoặc sản phẩm", "Fix the label or the product"),
    "change_use": Message("Chuyển đổi mục đích sử dụng", "Change of use"),
    "re_export": Message("Tái xuất", "Re-export"),
    "destroy": Message("Tiêu hủy", "Destroy"),
}
KIND_NAMES: dict[str, Message] = {
    "voluntary": Message("tự nguyện", "voluntary"),
    "compulsory": Message("bắt buộc", "compulsory"),
}
DEADLINE_NAMES: dict[str, Message] = {
    "decision": Message(
        "Ra quyết định thu hồi trong 24 giờ kể từ khi phát hiện",
        "Recall decision within 24 hours of the finding",
    ),
    "handling_decision": Message(
        "Quyết định xử lý trong 3 ngày làm việc kể từ khi nhận báo cáo kết quả",
        "Decision on handling within 3 working days of the result report",
    ),
}


def _chunks(ids: Sequence[uuid.UUID]) -> Iterator[Sequence[uuid.UUID]]:
    for i in range(0, len(ids), CHUNK):
        yield ids[i : i + CHUNK]


def runs(session: Session, principal: Principal, recall: Recall) -> bool:
    """Does the principal run this recall (sees all of it, may record its steps)? The origin
    establishment, the agencies managing it, the administrator."""
    return principal.is_admin or scope.manages(session, principal, recall.establishment_id)


def _require_runs(session: Session, principal: Principal, recall: Recall, step: str) -> None:
    if not runs(session, principal, recall):
        raise Forbidden(
            "Chỉ cơ sở có lô bị thu hồi và cơ quan quản lý cơ sở đó mới ghi nhận các bước "
            "của đợt thu hồi.",
            "Only the establishment whose lot is recalled and the agencies managing it record "
            "the steps of a recall.",
            code="recall_not_yours",
        )
    if step in AUTHORITY_STEPS and principal.role not in {"admin", "agency"}:
        raise Forbidden(
            "Chỉ cơ quan có thẩm quyền mới quyết định việc xử lý và kết thúc đợt thu hồi.",
            "Only an authority decides on the handling and closes a recall.",
            code="authority_step",
        )


def _check_version(recall: Recall, expected: int | None) -> None:
    if expected is not None and expected != recall.version:
        raise PreconditionFailed(extra={"current_version": recall.version})


def _require_open(recall: Recall) -> None:
    if recall.status in FINISHED:
        raise Conflict(
            f"Đợt thu hồi {recall.number} đã kết thúc hoặc đã bị hủy.",
            f"Recall {recall.number} is already closed or cancelled.",
            code="recall_finished",
        )


def next_step(recall: Recall) -> str | None:
    if recall.status in FINISHED:
        return None
    return RECALL_STEPS[RECALL_STEPS.index(recall.status) + 1]


def _step(
    actor: Principal, step: str, at: datetime, note: str | None, data: dict[str, Any] | None = None
) -> RecallStep:
    return RecallStep(
        step=step,
        at=at,
        by_id=actor.account_id,
        by_name=actor.username,
        by_role=actor.role,
        note=note,
        data=data or {},
    )
