"""The products service's copy of the accounts directory (shared/directory.py, D20)."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.products.models import DirectoryEstablishment, DirectoryState, DirectoryUnit
from shared.directory import Directory
from shared.errors import InvalidInput

COPY = Directory(DirectoryUnit, DirectoryEstablishment, DirectoryState, service="products")

apply_units = COPY.apply_units
apply_establishments = COPY.apply_establishments
sync = COPY.sync
fetch_establishments = COPY.fetch_establishments
get_establishment = COPY.get_establishment
unit_path = COPY.unit_path


def recipient_by_registration_no(session: Session, number: str) -> uuid.UUID:
    """An active establishment in the system by its exact business registration number — how
    a shipper names a recipient it knows (a page cannot list 30,000 establishments). Answers
    only the id, nothing else of the recipient."""
    found = session.scalar(
        select(DirectoryEstablishment.id)
        .where(
            DirectoryEstablishment.business_registration_no == number.strip(),
            DirectoryEstablishment.status == "active",
        )
        .limit(1)
    )
    if found is None:
        raise InvalidInput.field(
            "recipient_registration_no",
            "Không có cơ sở nào trong hệ thống với mã số này.",
            "No establishment in the system has this number.",
        )
    return found
