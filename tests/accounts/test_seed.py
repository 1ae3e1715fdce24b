"""The demo province's accounts side: the three logins, and what waits in Hạ Long's inboxes —
two applications (one sent back for changes) and a forgotten-password request — once, however
often the seed runs."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from services.accounts.models import Account, PasswordHelpRequest, Registration
from services.accounts.seed import seed_demo

pytestmark = pytest.mark.smoke


def test_the_demo_seeds_logins_and_inboxes_once(session: Any) -> None:
    for _ in range(2):
        logins = seed_demo(session, admin_username="admin", admin_password="Mật khẩu demo 2024")
        session.commit()
    assert [login.username for login in logins] == ["admin", "halong.canbo", "htx.halong"]
    assert session.scalar(select(func.count()).select_from(Account)) == 3
    statuses = sorted(session.scalars(select(Registration.status)))
    assert statuses == ["changes_requested", "submitted"]
    help_request = session.scalars(select(PasswordHelpRequest)).one()
    assert help_request.username == "htx.halong"
    assert help_request.unit_id is not None  # it reaches Hạ Long's officers
