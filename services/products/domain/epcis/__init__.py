"""GS1 EPCIS 2.0 export (JSON-LD): the way to share master data and events with the ministry
(TCVN 12850:2019 is the GS1 Global Traceability Standard; EPCIS 2.0 is its exchange format).

One `EPCISDocument` per export — for a lot (with its trace both ways), for an establishment
over a period, or for every establishment in a scope over a period — with the master data of
everything its events name in `epcisHeader.epcisMasterData.vocabularyList`.

Identifiers
- A lot is a class-level object (EPCIS `quantityList`, never serials). A product with a GTIN
  gets GS1 Digital Link URIs: `https://id.gs1.org/01/{GTIN-14}` for the product and
  `https://id.gs1.org/01/{GTIN-14}/10/{lot}` for its lots, when the lot code is a valid AI (10)
  value (at most 20 characters of GS1's character set 82). Anything else gets an HTTP URI under
  the service's own base (`PRODUCTS_URL`): `{base}/id/product/{uuid}`, `{base}/id/lot/{uuid}`.
  HTTP URIs (not `urn:uuid:`) because EPCIS 2.0 favours Web URIs for private identifiers and a
  future resolver can answer them; both pass the schema's `uri` format.
- An establishment (no GLN here) is `{base}/id/establishment/{uuid}`, used as the read point, the
  business location and the owning/possessing party; a customer or supplier outside the system
  is `{base}/id/party/{uuid5(owner, code or folded name)}` — the same for every shipment from one
  establishment to that customer.
- An event's `eventID` is `urn:uuid:` of a UUID5 of the row it comes from: the same event has the
  same ID in every export.

Events (times in UTC with `Z`, `eventTimeZoneOffset` +07:00, CBV 2.0 values as bare words, as
the JSON schema requires — `urn:epcglobal:cbv:…` forms are refused there)
- A diary entry (stage) → ObjectEvent at its establishment: `production` is `ADD` with bizStep
  `commissioning` and the lot's ILMD (lot number, expiry); the others `OBSERVE`: `packing` →
  packing, `storage` → storing, `shipping` → shipping, `receiving` → receiving, and
  `pre_processing`/`processing` → `other` (CBV 2.0 has no processing step; the kind is kept in
  the `trace:stageKind` extension). Voided entries are left out; shipping/receiving entries tied
  to a shipment are left to the shipment's own events.
- Lots made from other lots → TransformationEvent (bizStep `commissioning`): `input` and `merge`
  links grouped by the lot made, `split` links by the lot split.
- A shipment → ObjectEvent `shipping` (disposition `in_transit`) with owning and possessing
  party from the sender to the recipient and the shipment as a `desadv` business transaction;
  once received in the system, an ObjectEvent `receiving` at the recipient and a
  TransformationEvent from the shipped lot to the recipient's own lot. Cancelled shipments are
  left out.
- A delivery from a supplier outside the system (`lot_sources`, with its time) → ObjectEvent
  `receiving` with the supplier as source.
- Quantities: the UN/ECE Recommendation 20 code where the unit is one (kg → KGM, g → GRM,
  t/tấn → TNE, l → LTR, ml → MLT; yến and tạ as 10 and 100 KGM); otherwise no `uom`, which
  EPCIS reads as a count of items (hộp, túi, quả, …).

The package, by sub-domain: `identifiers` (URIs and event IDs), `formats` (times, quantities,
periods), `events` (diary entries, transformations, supplier deliveries, and the builder that
collects them), `shipping` (a shipment's events), `masterdata` (the vocabularies), `exports`
(what goes into each document, and its assembly).
"""

from services.products.domain.epcis.events import BIZ_STEPS, DISPOSITIONS
from services.products.domain.epcis.exports import (
    EPCIS_CONTEXT,
    SCHEMA_VERSION,
    Scope,
    Visible,
    for_establishment,
    for_lot,
    for_period,
)
from services.products.domain.epcis.formats import (
    EARLIEST,
    LATEST,
    LOCAL,
    MAX_PERIOD_DAYS,
    TIME_ZONE_OFFSET,
    UNITS,
    period,
    quantity_element,
    timestamp,
)
from services.products.domain.epcis.identifiers import (
    DEFAULT_BASE,
    EVENT_NAMESPACE,
    Ids,
    base_url,
    event_id,
    gtin14,
)
from services.products.domain.epcis.masterdata import VTYPE_EPC_CLASS, VTYPE_LOCATION, VTYPE_PARTY

__all__ = [
    "BIZ_STEPS",
    "DEFAULT_BASE",
    "DISPOSITIONS",
    "EARLIEST",
    "EPCIS_CONTEXT",
    "EVENT_NAMESPACE",
    "LATEST",
    "LOCAL",
    "MAX_PERIOD_DAYS",
    "SCHEMA_VERSION",
    "TIME_ZONE_OFFSET",
    "UNITS",
    "VTYPE_EPC_CLASS",
    "VTYPE_LOCATION",
    "VTYPE_PARTY",
    "Ids",
    "Scope",
    "Visible",
    "base_url",
    "event_id",
    "for_establishment",
    "for_lot",
    "for_period",
    "gtin14",
    "period",
    "quantity_element",
    "timestamp",
]
