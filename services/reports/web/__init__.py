"""The reports service's pages for agency officers and the administrator (one blueprint, a
module per subject):

- `dashboard` — `/`: the unit's five targets, the month's and the year's plan against the
  accounts granted (inline SVG), the sub-units' roll-up, labels, scans and recalls;
- `reports` — `/reports`: compiled reports, deadlines and late units, compile on demand with
  a live job page, a report with its XLSX and PDF;
- `narratives` — `/narratives`: the unit's narrative for a period, draft or submit;
- `planning` — `/targets`, `/plans` (with the Excel import) and `/published` (a published
  Appendix 01 against the computed figures, cell by cell).

Every page calls the domain functions the API uses (services/reports/domain), so scope holds:
establishments get 403 on every page, a unit outside an officer's scope is 404.
"""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint

from shared.web import init_pages

blp = Blueprint(
    "reports_web", __name__, template_folder=str(Path(__file__).parent.parent / "templates")
)
init_pages(blp)

# The page modules register their routes on `blp` when imported.
from services.reports.web import dashboard, narratives, planning, reports  # noqa: E402, F401
