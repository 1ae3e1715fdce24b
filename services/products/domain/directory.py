"""The products service's copy of the accounts directory (shared/directory.py, D20)."""

from __future__ import annotations

from services.products.models import DirectoryEstablishment, DirectoryState, DirectoryUnit
from shared.directory import Directory

COPY = Directory(DirectoryUnit, DirectoryEstablishment, DirectoryState, service="products")

apply_units = COPY.apply_units
apply_establishments = COPY.apply_establishments
sync = COPY.sync
fetch_establishments = COPY.fetch_establishments
get_establishment = COPY.get_establishment
unit_path = COPY.unit_path
