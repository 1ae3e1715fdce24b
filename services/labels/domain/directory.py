"""The labels service's copy of the accounts directory (shared/directory.py, D20)."""

from __future__ import annotations

from services.labels.models import DirectoryEstablishment, DirectoryState, DirectoryUnit
from shared.directory import Directory

COPY = Directory(DirectoryUnit, DirectoryEstablishment, DirectoryState, service="labels")
