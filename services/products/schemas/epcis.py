"""Query arguments of the EPCIS 2.0 export."""

from __future__ import annotations

from marshmallow import Schema, fields


class LotExportQuery(Schema):
    trace = fields.Boolean(
        load_default=True,
        metadata={
            "description": "Include every lot the lot came from or went into, both ways, to any "
            "depth (default); `false` for the lot's own events only."
        },
    )


class PeriodQuery(Schema):
    from_ = fields.Date(
        required=True,
        data_key="from",
        metadata={
            "description": "First day (Asia/Ho_Chi_Minh), included.",
            "example": "2025-01-01",
        },
    )
    to = fields.Date(
        required=True,
        metadata={
            "description": "Last day (Asia/Ho_Chi_Minh), included; at most a year after `from`.",
            "example": "2025-03-31",
        },
    )


class EPCISDocumentOut(Schema):
    """An EPCIS 2.0 `EPCISDocument` in JSON-LD, valid against GS1's EPCIS 2.0 JSON schema
    (https://ref.gs1.org/standards/epcis/ — `epcis-json-schema.json`); documentation only."""

    context = fields.Raw(
        data_key="@context",
        metadata={
            "description": "The EPCIS 2.0 JSON-LD context, and the `trace:` prefix of this "
            "platform's extension terms."
        },
    )
    type = fields.String(metadata={"example": "EPCISDocument"})
    schemaVersion = fields.String(metadata={"example": "2.0"})
    creationDate = fields.DateTime()
    epcisHeader = fields.Dict(
        metadata={"description": "`epcisMasterData.vocabularyList`: EPCClass, Location, Party."}
    )
    epcisBody = fields.Dict(
        metadata={"description": "`eventList`: ObjectEvent and TransformationEvent."}
    )
