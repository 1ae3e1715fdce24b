"""How the export names things: GS1 Digital Link URIs for products and lots with a GTIN, HTTP
URIs under the service's own base for everything else, and event IDs that stay the same in
every export (the rules are in the package docstring)."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from urllib.parse import quote

from flask import current_app, has_app_context

from services.products.models import Lot, Product
from shared.text import fold

DEFAULT_BASE = "http://127.0.0.1:8000/products"
# Fixed namespace of this platform's event IDs (UUID5); never change it: IDs must stay stable.
EVENT_NAMESPACE = uuid.UUID("5d0b8a4e-3f1c-5b7e-9a2d-6c4e1f8b7a30")
# GS1 AI (10) batch/lot: up to 20 characters of character set 82.
_AI10 = re.compile(r"[!\"%&'()*+,\-./0-9:;<=>?A-Z_a-z]{1,20}")
_GTIN = re.compile(r"\d{8}|\d{12,14}")


def base_url() -> str:
    settings = current_app.config.get("SETTINGS") if has_app_context() else None
    if settings is None:
        return DEFAULT_BASE
    return f"{settings.public_url}/products"


def gtin14(gtin: str | None) -> str | None:
    if not gtin or not _GTIN.fullmatch(gtin.strip()):
        return None
    return gtin.strip().zfill(14)


@dataclass(frozen=True)
class Ids:
    base: str

    def product(self, product: Product) -> str:
        gtin = gtin14(product.gtin)
        if gtin:
            return f"https://id.gs1.org/01/{gtin}"
        return f"{self.base}/id/product/{product.id}"

    def lot(self, lot: Lot, product: Product | None) -> str:
        gtin = gtin14(product.gtin) if product is not None else None
        if gtin and _AI10.fullmatch(lot.code):
            return f"https://id.gs1.org/01/{gtin}/10/{quote(lot.code, safe='')}"
        return f"{self.base}/id/lot/{lot.id}"

    def establishment(self, establishment_id: uuid.UUID) -> str:
        return f"{self.base}/id/establishment/{establishment_id}"

    def party(self, owner: uuid.UUID, name: str, code: str | None) -> str:
        key = f"{owner}|code:{code.strip()}" if code and code.strip() else f"{owner}|{fold(name)}"
        return f"{self.base}/id/party/{uuid.uuid5(EVENT_NAMESPACE, key)}"

    def shipment(self, shipment_id: uuid.UUID) -> str:
        return f"{self.base}/id/shipment/{shipment_id}"

    def vocabulary(self) -> str:
        return f"{self.base}/voc/"


def event_id(kind: str, key: uuid.UUID) -> str:
    return f"urn:uuid:{uuid.uuid5(EVENT_NAMESPACE, f'{kind}:{key}')}"
