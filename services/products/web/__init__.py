"""The products service's pages (one blueprint, a module per subject), all under /products:

- `home` — the establishment's overview (lots, warnings, recalls, shipments to receive);
- `catalogue` — products and certifications (with their scans);
- `lots` — lots, the production diary (a phone-sized quick entry), status changes, shipping
  and receiving, the trace drawn as a tree both ways;
- `recalls` — recalls with their deadlines and the Circular's steps.

Every page calls the domain functions the JSON API uses, so scope and rules are the same.
"""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint

from shared.web import init_pages

blp = Blueprint(
    "products_web", __name__, template_folder=str(Path(__file__).parent.parent / "templates")
)
init_pages(blp)

# The page modules register their routes on `blp` when imported.
from services.products.web import catalogue, common, home, lot_edit, lots, recalls  # noqa: E402, F401
