"""The accounts service's pages (one blueprint, a module per subject):

- `register` — the public registration form (Mẫu 03) and its status page;
- `auth` — log in / out, the first-login password change, forgotten password;
- the agency and administrator pages (units, establishments, imports, registrations,
  accounts) and the establishment's own profile.
"""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint

from shared.web import init_pages

blp = Blueprint(
    "accounts_web", __name__, template_folder=str(Path(__file__).parent.parent / "templates")
)
init_pages(blp)

# The page modules register their routes on `blp` when imported.
from services.accounts.web import (  # noqa: E402, F401
    accounts,
    auth,
    establishments,
    imports,
    profile,
    register,
    registrations,
    units,
)
