"""Building blocks of the products API contract."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate

from shared.schema import Text


def text(max_len: int, **kwargs: Any) -> Text:
    """A required-or-optional single-line text of 1..max_len characters."""
    return Text(validate=validate.Length(min=1, max=max_len), **kwargs)


def optional_text(max_len: int, *, multiline: bool = False) -> Text:
    return Text(
        multiline=multiline,
        allow_none=True,
        validate=validate.Length(max=max_len),
    )


Reason = Text(
    multiline=True,
    required=True,
    validate=validate.Length(min=1, max=2000),
    metadata={"description": "Why (lý do); recorded in the audit log"},
)


def decimal_range(low: int, high: int) -> Any:
    """A Range check that apispec leaves alone (it would print Decimal bounds as strings,
    which is not valid OpenAPI); the bounds are documented as numbers in the field's metadata."""

    def check(value: Any) -> None:
        validate.Range(min=low, max=high)(value)

    return check


def decimal(places: int, low: int, high: int, **kwargs: Any) -> fields.Decimal:
    return fields.Decimal(
        places=places,
        allow_nan=False,
        validate=decimal_range(low, high),
        metadata={"minimum": low, "maximum": high, **kwargs.pop("metadata", {})},
        **kwargs,
    )


Quantity = decimal(3, 0, 10**14, allow_none=True)

QuantityUnit = Text(
    allow_none=True,
    validate=validate.Length(min=1, max=16),
    metadata={"description": "kg, tấn, lít, hộp, con… (free text, shown as entered)"},
)


class DecimalNumber(fields.Decimal):
    """A decimal sent to clients as a JSON number."""

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        if value is None:
            return None
        return float(value)


def one_of(values: tuple[str, ...]) -> validate.OneOf:
    return validate.OneOf(values, error="Must be one of: {choices}.")


def not_in_future(value: Any) -> None:
    from datetime import timedelta

    from shared.db import utcnow

    if value is not None and value > utcnow() + timedelta(minutes=5):
        raise ValidationError(
            {"vi": "Thời điểm không được ở tương lai.", "en": "The time cannot be in the future."}
        )


class FileRef(Schema):
    key = fields.String()
    name = fields.String(allow_none=True)
    content_type = fields.String(allow_none=True)
    size = fields.Integer(allow_none=True)
    url = fields.String()
