"""The reports service's copy of the accounts directory (shared/directory.py, D20): the unit
tree reports roll up over, and scope checks."""

from __future__ import annotations

from services.reports.models import DirectoryEstablishment, DirectoryState, DirectoryUnit
from shared.directory import Directory

COPY = Directory(DirectoryUnit, DirectoryEstablishment, DirectoryState, service="reports")
