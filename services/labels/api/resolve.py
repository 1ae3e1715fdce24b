"""The trace page's JSON twin, for apps: what a scanned code is, with its public card.

No login. The same flow as the page (services/labels/web.py): the per-address budget, the
resolution, the cached card, the scan recorded (with the optional `lat`/`lon`, kept only as a
~11 km cell). Unknown, forged and void codes answer 200 with that `outcome` and no product;
a spent budget 429, the products service down with no stored card 503.
"""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint

from services.labels.schemas.public import ResolveOut, ResolveQuery, TracePlaceQuery

PREFIX = "resolve"
blp = Blueprint(
    "resolve", __name__, description="Resolve a scanned code (the trace page as JSON; no login)"
)


def _resolve(path: str) -> dict[str, Any]:
    from services.labels.web import trace

    return trace(path).answer


@blp.get("")
@blp.arguments(ResolveQuery, location="query")
@blp.response(200, ResolveOut)
@blp.doc(security=[])
def resolve_any(args: dict[str, Any]) -> dict[str, Any]:
    """Resolve the path of a scanned QR code (`?path=/q/…` or `?path=/01/…`)."""
    return _resolve(args["path"])


@blp.get("/q/<path:code>")
@blp.arguments(TracePlaceQuery, location="query")
@blp.response(200, ResolveOut)
@blp.doc(security=[])
def resolve_short(args: dict[str, Any], code: str) -> dict[str, Any]:
    """Resolve `/q/{code}`: an item serial code or a product/lot short code."""
    return _resolve(f"/q/{code}")


@blp.get("/01/<path:rest>")
@blp.arguments(TracePlaceQuery, location="query")
@blp.response(200, ResolveOut)
@blp.doc(security=[])
def resolve_digital_link(args: dict[str, Any], rest: str) -> dict[str, Any]:
    """Resolve a GS1 Digital Link path `/01/{gtin}[/10/{lot}][/21/{serial}]`."""
    return _resolve(f"/01/{rest}")
