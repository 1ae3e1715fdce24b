"""Local calendar time: dates shown and reasoned about in Asia/Ho_Chi_Minh (stored in UTC)."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")


def local_now() -> datetime:
    return datetime.now(LOCAL_TZ)


def local_today() -> date:
    """Today's date in Việt Nam (a certificate expiring "today" expires on the local day)."""
    return local_now().date()
