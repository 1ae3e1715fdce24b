"""Products of establishments: list, create, read, edit, delete (unused only), image."""

from __future__ import annotations

import uuid
from typing import Any

from flask import request, url_for
from flask_smorest import Blueprint
from marshmallow import Schema
from sqlalchemy import select

from services.products.api.common import etag, expected_version, file_ref, files, max_upload_bytes
from services.products.domain import products as product_ops
from services.products.models import DirectoryEstablishment, Product
from services.products.schemas.common import Reason
from services.products.schemas.products import ProductIn, ProductOut, ProductPatch, ProductQuery
from shared.auth import authenticated
from shared.db import on_commit, request_session
from shared.pagination import paginate
from shared.uploads import IMAGE_KINDS, accept_upload

PREFIX = "products"
blp = Blueprint("products", __name__, description="Products (sản phẩm)")


class DeleteIn(Schema):
    reason = Reason


def present(product: Product) -> Product:
    """Attach what the output schema shows beyond the row."""
    session = request_session()
    product.establishment_name = session.scalar(  # type: ignore[attr-defined]
        select(DirectoryEstablishment.name).where(
            DirectoryEstablishment.id == product.establishment_id
        )
    )
    product.ocop_status = (  # type: ignore[attr-defined]
        product_ops.validity_state(product.ocop_expires_on) if product.ocop_stars else None
    )
    product.image = file_ref(  # type: ignore[attr-defined]
        product.image_key,
        url_for("public.product_image", product_id=product.id),
        content_type=product.image_type,
    )
    return product


@blp.get("/")
@blp.arguments(ProductQuery, location="query")
@blp.response(200, ProductOut(many=True))
@blp.paginate()
def list_products(args: dict[str, Any], pagination_parameters: Any) -> list[Product]:
    """Products in the caller's scope (an establishment: its own), filtered; `q` searches
    names without regard to diacritics."""
    principal = authenticated()
    session = request_session()
    rows = paginate(
        session, product_ops.product_query(session, principal, args), pagination_parameters
    )
    return [present(p) for p in rows]


@blp.post("/")
@blp.arguments(ProductIn)
@blp.response(201, ProductOut)
def create_product(body: dict[str, Any]) -> Any:
    """Add a product. An establishment adds its own; an agency or the administrator names the
    establishment (`establishment_id`, in scope). GTINs are checked (GS1 check digit)."""
    principal = authenticated()
    product = product_ops.create(request_session(), actor=principal, data=body)
    return etag(present(product), 201)


@blp.get("/<uuid:product_id>")
@blp.response(200, ProductOut)
def get_product(product_id: uuid.UUID) -> Any:
    """One product (its `ETag` is the version to send back in `If-Match` when editing)."""
    principal = authenticated()
    return etag(present(product_ops.get_product_for(request_session(), principal, product_id)))


@blp.patch("/<uuid:product_id>")
@blp.arguments(ProductPatch(partial=True))
@blp.response(200, ProductOut)
def update_product(body: dict[str, Any], product_id: uuid.UUID) -> Any:
    """Edit a product; only the fields sent change. `If-Match` is required: 412 when someone
    else saved first. `parties`, when sent, replaces the whole list."""
    principal = authenticated()
    session = request_session()
    product = product_ops.get_product_for(session, principal, product_id)
    product_ops.update(
        session, actor=principal, product=product, data=body, expected_version=expected_version()
    )
    return etag(present(product))


@blp.delete("/<uuid:product_id>")
@blp.arguments(DeleteIn, location="query")
@blp.response(204)
def delete_product(args: dict[str, Any], product_id: uuid.UUID) -> None:
    """Delete a product entered by mistake (`reason` required). A product with lots cannot be
    deleted (409): mark it `discontinued` instead, its records are kept."""
    principal = authenticated()
    session = request_session()
    product = product_ops.get_product_for(session, principal, product_id)
    image = product.image_key
    product_ops.delete(session, actor=principal, product=product, reason=args["reason"])
    if image:
        on_commit(session, lambda: files().delete(image))


@blp.put("/<uuid:product_id>/image")
@blp.response(200, ProductOut)
def put_image(product_id: uuid.UUID) -> Any:
    """Upload the product's photo (multipart field `file`; PNG, JPEG or WebP, checked by
    content, size-limited by `UPLOAD_MAX_MB`). The photo is public: the trace page shows it."""
    principal = authenticated()
    session = request_session()
    product = product_ops.get_product_for(session, principal, product_id)
    upload = accept_upload(
        request.files.get("file"), kinds=IMAGE_KINDS, max_bytes=max_upload_bytes()
    )
    key = upload.key("products", "images")
    old = product_ops.set_image(
        session, actor=principal, product=product, key=key, content_type=upload.content_type
    )
    files().save(key, upload.data)
    if old:
        on_commit(session, lambda: files().delete(old))
    return etag(present(product))


@blp.delete("/<uuid:product_id>/image")
@blp.response(200, ProductOut)
def delete_image(product_id: uuid.UUID) -> Any:
    """Remove the product's photo."""
    principal = authenticated()
    session = request_session()
    product = product_ops.get_product_for(session, principal, product_id)
    old = product_ops.set_image(
        session, actor=principal, product=product, key=None, content_type=None
    )
    if old:
        on_commit(session, lambda: files().delete(old))
    return etag(present(product))
