"""The master data of an export (`epcisHeader.epcisMasterData.vocabularyList`): products and
their lots as EPC classes, establishments as locations and parties, customers and suppliers
outside the system as parties."""

from __future__ import annotations

import uuid
from typing import Any

from services.products.domain.epcis.events import _Builder
from services.products.domain.epcis.formats import _number
from services.products.domain.epcis.identifiers import gtin14
from services.products.models import Lot, Product

VTYPE_EPC_CLASS = "urn:epcglobal:epcis:vtype:EPCClass"
VTYPE_LOCATION = "urn:epcglobal:epcis:vtype:Location"
VTYPE_PARTY = "urn:epcglobal:epcis:vtype:Party"


def _master_data(
    builder: _Builder, lot_ids: set[uuid.UUID], est_ids: set[uuid.UUID], party_ids: set[str]
) -> list[dict[str, Any]]:
    classes: list[dict[str, Any]] = []
    by_product: dict[uuid.UUID, list[Lot]] = {}
    for lot_id in lot_ids:
        lot = builder.lots[lot_id]
        by_product.setdefault(lot.product_id, []).append(lot)
    for product_id in sorted(by_product, key=str):
        product = builder.products[product_id]
        lots = sorted(by_product[product_id], key=lambda lot: (lot.code, str(lot.id)))
        classes.append(_product_element(builder, product, lots))
        classes.extend(_lot_element(builder, lot, product) for lot in lots)
    locations = []
    parties = []
    for est_id in sorted(est_ids, key=str):
        attributes = _establishment_attributes(builder, est_id)
        locations.append({"id": builder.ids.establishment(est_id), "attributes": attributes})
        parties.append({"id": builder.ids.establishment(est_id), "attributes": attributes})
    for party_id in sorted(party_ids):
        party = builder.outside[party_id]
        attributes = [_attr("cbvmda:name", party.name)]
        if party.address:
            attributes.append(_attr("cbvmda:streetAddressOne", party.address))
        if party.code:
            attributes.append(_attr("trace:partyCode", party.code))
        parties.append({"id": party.id, "attributes": attributes})
    vocabularies = []
    for kind, elements in (
        (VTYPE_EPC_CLASS, classes),
        (VTYPE_LOCATION, locations),
        (VTYPE_PARTY, parties),
    ):
        if elements:
            vocabularies.append({"type": kind, "vocabularyElementList": elements})
    return vocabularies


def _product_element(builder: _Builder, product: Product, lots: list[Lot]) -> dict[str, Any]:
    attributes = [_attr("gs1:productName", {"@value": product.name, "@language": "vi"})]
    gtin = gtin14(product.gtin)
    if gtin:
        attributes.append(_attr("gs1:gtin", gtin))
    attributes.append(_attr("trace:productCode", product.code))
    for key, value in (
        ("trace:category", product.category),
        ("trace:origin", product.origin),
        ("trace:packaging", product.packaging),
        ("trace:preservation", product.preservation),
    ):
        if value:
            attributes.append(_attr(key, value))
    if product.shelf_life_days is not None:
        attributes.append(_attr("trace:shelfLifeDays", product.shelf_life_days))
    if product.standards:
        attributes.append(_attr("trace:standards", "; ".join(product.standards)))
    if product.ocop_stars:
        attributes.append(_attr("trace:ocopStars", product.ocop_stars))
    owner = builder.establishments.get(product.establishment_id)
    if owner is not None:
        attributes.append(_attr("cbvmda:manufacturerOfTradeItemPartyName", owner.name))
    attributes.append(
        _attr("trace:establishment", builder.ids.establishment(product.establishment_id))
    )
    return {
        "id": builder.ids.product(product),
        "attributes": attributes,
        "children": [builder.ids.lot(lot, product) for lot in lots],
    }


def _lot_element(builder: _Builder, lot: Lot, product: Product) -> dict[str, Any]:
    attributes = [_attr("cbvmda:lotNumber", lot.code)]
    if lot.expiry_date:
        attributes.append(_attr("cbvmda:itemExpirationDate", lot.expiry_date.isoformat()))
    if lot.production_date:
        attributes.append(_attr("trace:productionDate", lot.production_date.isoformat()))
    if lot.quantity is not None:
        attributes.append(_attr("trace:quantity", _number(lot.quantity)))
    if lot.unit:
        attributes.append(_attr("trace:unit", lot.unit))
    attributes.append(_attr("trace:lotOrigin", lot.origin))
    attributes.append(_attr("trace:status", lot.status))
    attributes.append(_attr("trace:product", builder.ids.product(product)))
    attributes.append(_attr("trace:establishment", builder.ids.establishment(lot.establishment_id)))
    return {"id": builder.ids.lot(lot, product), "attributes": attributes}


def _establishment_attributes(builder: _Builder, est_id: uuid.UUID) -> list[dict[str, Any]]:
    est = builder.establishments.get(est_id)
    if est is None:
        return []
    attributes = [_attr("cbvmda:name", est.name)]
    if est.address:
        attributes.append(_attr("cbvmda:streetAddressOne", est.address))
    attributes.append(_attr("cbvmda:countryCode", "VN"))
    if est.business_registration_no:
        attributes.append(_attr("trace:businessRegistrationNo", est.business_registration_no))
    if est.certificate_no:
        attributes.append(_attr("trace:foodSafetyCertificateNo", est.certificate_no))
    return attributes


def _attr(key: str, value: Any) -> dict[str, Any]:
    return {"id": key, "attribute": value}
