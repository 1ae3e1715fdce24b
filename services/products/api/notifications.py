"""Notifications inside the system (thông báo): e.g. "a lot of yours is in a recall"."""

from __future__ import annotations

import uuid
from typing import Any

from flask_smorest import Blueprint

from services.products.domain import notifications
from services.products.models import Notification
from services.products.schemas.recalls import NotificationOut, NotificationQuery, ReadAllOut
from shared.auth import authenticated
from shared.db import request_session
from shared.pagination import paginate

PREFIX = "notifications"
blp = Blueprint("notifications", __name__, description="Notifications (thông báo)")


@blp.get("/")
@blp.arguments(NotificationQuery, location="query")
@blp.response(200, NotificationOut(many=True))
@blp.paginate()
def list_notifications(args: dict[str, Any], pagination_parameters: Any) -> list[Notification]:
    """Newest first: an establishment's own; an agency's those addressed to its unit and the
    units below it; the administrator's all. `unread=true` for the unread ones only."""
    principal = authenticated()
    session = request_session()
    return paginate(
        session, notifications.notification_query(session, principal, args), pagination_parameters
    )


@blp.post("/<uuid:notification_id>/read")
@blp.response(200, NotificationOut)
def mark_read(notification_id: uuid.UUID) -> Notification:
    """Mark one notification read (again is harmless)."""
    return notifications.mark_read(request_session(), authenticated(), notification_id)


@blp.post("/read-all")
@blp.response(200, ReadAllOut)
def mark_all_read() -> dict[str, int]:
    """Mark every notification you can see read."""
    return {"marked": notifications.mark_all_read(request_session(), authenticated())}
