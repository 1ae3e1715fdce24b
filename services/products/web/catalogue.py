"""Products (list, add, detail and edit, photo, delete) and certifications (list with validity,
add with the scanned document, download)."""

from __future__ import annotations

import uuid
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from marshmallow import ValidationError
from sqlalchemy import select

from services.products.api.common import files, send_stored
from services.products.api.products import present as present_product
from services.products.domain import certifications as certification_ops
from services.products.domain import products as product_ops
from services.products.domain import scope
from services.products.models import (
    CERTIFICATION_KINDS,
    PARTY_ROLES,
    Certification,
    DirectoryEstablishment,
    Product,
)
from services.products.schemas.products import (
    CertificationIn,
    CertificationQuery,
    ProductIn,
    ProductPatch,
    ProductQuery,
)
from services.products.web import blp
from services.products.web.common import (
    CERT_KIND_LABELS,
    compact,
    form_values,
    options,
    paged,
    query_args,
    upload_limit,
)
from shared.db import on_commit, request_session
from shared.errors import DomainError, NotFound
from shared.uploads import DOCUMENT_KINDS, IMAGE_KINDS, accept_upload
from shared.web import _, form_errors, page, render_form, user

VIEWERS = ("admin", "agency", "establishment")

PRODUCT_FIELDS = (
    "name",
    "code",
    "gtin",
    "category",
    "description",
    "origin",
    "capacity",
    "packaging",
    "shelf_life_days",
    "preservation",
    "price",
    "price_unit",
    "ocop_stars",
    "ocop_decision_no",
    "ocop_decision_date",
    "ocop_expires_on",
    "status",
)
PRODUCT_NULLABLE = tuple(
    f for f in PRODUCT_FIELDS if f not in {"name", "code", "preservation", "status"}
)
PARTY_ROWS = 3  # empty rows offered for new chain parties


def _establishment_names(ids: set[uuid.UUID]) -> dict[uuid.UUID, str]:
    if not ids:
        return {}
    return dict(
        request_session()
        .execute(
            select(DirectoryEstablishment.id, DirectoryEstablishment.name).where(
                DirectoryEstablishment.id.in_(ids)
            )
        )
        .all()
    )


# --- products ---------------------------------------------------------------------------------


@blp.get("/products")
@page(*VIEWERS)
def products() -> Any:
    """Sản phẩm: an establishment its own; an agency or the administrator those in scope."""
    principal = user()
    session = request_session()
    args = query_args(ProductQuery(), ("q", "status", "category", "establishment_id"))
    result = paged(product_ops.product_query(session, principal, args))
    names = _establishment_names({p.establishment_id for p in result.items})
    return render_template("products/products.html", result=result, names=names, args=request.args)


def _product_values(product: Product | None) -> dict[str, Any]:
    if product is None:
        return {"preservation": "fresh", "status": "active", "parties": []}
    values: dict[str, Any] = {name: getattr(product, name) for name in PRODUCT_FIELDS}
    values = {k: ("" if v is None else v) for k, v in values.items()}
    values["gtin"] = product.gtin or ""
    values["standards"] = "\n".join(product.standards or [])
    values["is_key_product"] = product.is_key_product
    values["is_packaged_processed"] = product.is_packaged_processed
    values["parties"] = [
        {
            "role": p.role,
            "establishment_id": str(p.establishment_id or ""),
            "name": p.name or "",
            "address": p.address or "",
        }
        for p in product.parties
    ]
    values["version"] = product.version
    return values


def _product_form() -> tuple[dict[str, Any], dict[str, Any]]:
    """(values to re-fill the form, data for the schema)."""
    values: dict[str, Any] = form_values(PRODUCT_FIELDS)
    values["standards"] = request.form.get("standards", "")
    values["is_key_product"] = bool(request.form.get("is_key_product"))
    values["is_packaged_processed"] = bool(request.form.get("is_packaged_processed"))
    parties = []
    for i in range(int(request.form.get("party_rows", 0) or 0)):
        row = {
            key: request.form.get(f"parties-{i}-{key}", "").strip()
            for key in ("role", "establishment_id", "name", "address")
        }
        if row["name"] or row["establishment_id"]:
            parties.append(row)
    values["parties"] = parties
    data = compact({k: values[k] for k in PRODUCT_FIELDS}, nullable=PRODUCT_NULLABLE)
    data["standards"] = [s.strip() for s in values["standards"].splitlines() if s.strip()]
    data["is_key_product"] = values["is_key_product"]
    data["is_packaged_processed"] = values["is_packaged_processed"]
    data["parties"] = [compact(p, nullable=("establishment_id",)) for p in parties]
    return values, data


def _parties_errors(errors: dict[str, list[str]]) -> dict[str, list[str]]:
    """`parties.0.name` → `parties-0-name`: the form's field names."""
    return {k.replace(".", "-") if k.startswith("parties.") else k: v for k, v in errors.items()}


@blp.route("/products/new", methods=["GET", "POST"])
@page("establishment")
def new_product() -> Any:
    """Thêm sản phẩm."""
    context = {"product": None, "party_rows": PARTY_ROWS, "roles": options_roles()}
    if request.method == "GET":
        return render_template(
            "products/product_form.html", values=_product_values(None), errors={}, **context
        )
    values, data = _product_form()
    data.pop("status", None)
    try:
        body = ProductIn().load(data)
        product = product_ops.create(request_session(), actor=user(), data=body)
    except (ValidationError, DomainError) as exc:
        return render_form(
            "products/product_form.html",
            errors=_parties_errors(form_errors(exc)),
            values=values,
            **context,
        )
    flash(_("Đã thêm sản phẩm %(name)s.", name=product.name))
    return redirect(url_for("products_web.product", product_id=product.id), 303)


def options_roles() -> list[tuple[str, Any]]:
    from services.products.web.common import PARTY_ROLE_LABELS

    return options(PARTY_ROLE_LABELS, PARTY_ROLES)


@blp.route("/products/<uuid:product_id>", methods=["GET", "POST"])
@page(*VIEWERS)
def product(product_id: uuid.UUID) -> Any:
    """A product: every field; its establishment edits it, agencies read it."""
    principal = user()
    session = request_session()
    found = present_product(product_ops.get_product_for(session, principal, product_id))
    editable = principal.role == "establishment" and scope.manages(
        session, principal, found.establishment_id
    )
    certs = list(
        session.scalars(certification_ops.query(session, principal, {"product_id": found.id}))
    )
    context = {
        "product": found,
        "editable": editable,
        "party_rows": len(found.parties) + PARTY_ROWS,
        "roles": options_roles(),
        "certifications": certs,
        "party_names": _establishment_names(
            {p.establishment_id for p in found.parties if p.establishment_id}
        ),
    }
    if request.method == "GET":
        return render_template(
            "products/product.html", values=_product_values(found), errors={}, **context
        )
    if not editable:
        abort(403)
    values, data = _product_form()
    try:
        body = ProductPatch().load(data)
        product_ops.update(
            session,
            actor=principal,
            product=found,
            data=body,
            expected_version=request.form.get("version", type=int),
        )
    except (ValidationError, DomainError) as exc:
        values["version"] = request.form.get("version", "")
        return render_form(
            "products/product.html",
            errors=_parties_errors(form_errors(exc)),
            values=values,
            **context,
        )
    flash(_("Đã lưu sản phẩm."))
    return redirect(url_for("products_web.product", product_id=found.id), 303)


@blp.post("/products/<uuid:product_id>/image")
@page("establishment")
def product_image(product_id: uuid.UUID) -> Any:
    """Upload the product's photo (PNG, JPEG or WebP)."""
    principal = user()
    session = request_session()
    found = product_ops.get_product_for(session, principal, product_id)
    try:
        upload = accept_upload(
            request.files.get("file"), kinds=IMAGE_KINDS, max_bytes=upload_limit()
        )
        key = upload.key("products", "images")
        old = product_ops.set_image(
            session, actor=principal, product=found, key=key, content_type=upload.content_type
        )
    except DomainError as exc:
        errors = form_errors(exc)
        errors.setdefault("file", []).extend(errors.pop("_form", []))
        present_product(found)
        return render_form(
            "products/product.html",
            errors=errors,
            values=_product_values(found),
            product=found,
            editable=True,
            party_rows=len(found.parties) + PARTY_ROWS,
            roles=options_roles(),
            certifications=[],
            party_names={},
        )
    files().save(key, upload.data)
    if old:
        on_commit(session, lambda: files().delete(old))
    flash(_("Đã cập nhật ảnh sản phẩm."))
    return redirect(url_for("products_web.product", product_id=found.id), 303)


@blp.post("/products/<uuid:product_id>/delete")
@page("establishment")
def delete_product(product_id: uuid.UUID) -> Any:
    """Delete a product entered by mistake (one with lots is discontinued instead)."""
    principal = user()
    session = request_session()
    found = product_ops.get_product_for(session, principal, product_id)
    image = found.image_key
    try:
        product_ops.delete(
            session, actor=principal, product=found, reason=request.form.get("reason", "")
        )
    except DomainError as exc:
        flash(" ".join(form_errors(exc).get("_form", [])), "error")
        return redirect(url_for("products_web.product", product_id=found.id), 303)
    if image:
        on_commit(session, lambda: files().delete(image))
    flash(_("Đã xóa sản phẩm."))
    return redirect(url_for("products_web.products"), 303)


# --- certifications ---------------------------------------------------------------------------

CERT_FIELDS = ("kind", "kind_other", "number", "issuer", "valid_from", "valid_to", "scope_note")


def _own_products() -> list[Product]:
    principal = user()
    session = request_session()
    return list(session.scalars(product_ops.product_query(session, principal, {}).limit(200)))


@blp.get("/certifications")
@page("establishment")
def certifications() -> Any:
    """Chứng nhận, with their validity (valid / expiring within six months / expired)."""
    principal = user()
    session = request_session()
    args = query_args(CertificationQuery(), ("state", "kind"))
    result = paged(certification_ops.query(session, principal, args))
    product_names = dict(
        session.execute(
            select(Product.id, Product.name).where(
                Product.id.in_({c.product_id for c in result.items if c.product_id})
            )
        ).all()
    )
    for item in result.items:
        item.state = certification_ops.state(item)
    return render_template(
        "products/certifications.html",
        result=result,
        product_names=product_names,
        args=request.args,
        kinds=options(CERT_KIND_LABELS, CERTIFICATION_KINDS),
    )


@blp.route("/certifications/new", methods=["GET", "POST"])
@page("establishment")
def new_certification() -> Any:
    """Add a certification with its scanned document (PDF or image)."""
    context = {
        "kinds": options(CERT_KIND_LABELS, CERTIFICATION_KINDS),
        "products": [(str(p.id), p.name) for p in _own_products()],
    }
    if request.method == "GET":
        values = {"product_id": request.args.get("product_id", "")}
        return render_template(
            "products/certification_form.html", values=values, errors={}, **context
        )
    values = form_values((*CERT_FIELDS, "product_id"))
    session = request_session()
    principal = user()
    try:
        body = CertificationIn().load(compact(values))
        certification = certification_ops.create(session, actor=principal, data=body)
        upload = None
        if request.files.get("file") and request.files["file"].filename:
            try:
                upload = accept_upload(
                    request.files.get("file"), kinds=DOCUMENT_KINDS, max_bytes=upload_limit()
                )
            except DomainError as exc:
                errors = form_errors(exc)
                errors["file"] = errors.pop("_form", []) + errors.pop("file", [])
                return render_form(
                    "products/certification_form.html", errors=errors, values=values, **context
                )
            key = upload.key("products", "certifications")
            certification_ops.set_document(
                session,
                actor=principal,
                certification=certification,
                key=key,
                content_type=upload.content_type,
                name=upload.original_name,
                size=upload.size,
            )
            files().save(key, upload.data)
    except (ValidationError, DomainError) as exc:
        return render_form(
            "products/certification_form.html", errors=form_errors(exc), values=values, **context
        )
    flash(_("Đã thêm chứng nhận số %(number)s.", number=certification.number))
    return redirect(url_for("products_web.certifications"), 303)


@blp.get("/certifications/<uuid:certification_id>/document")
@page(*VIEWERS)
def certification_document(certification_id: uuid.UUID) -> Any:
    """View or download the scanned document (same scope as the certification)."""
    found: Certification = certification_ops.get_for(request_session(), user(), certification_id)
    if not found.document_key or not found.document_type:
        raise NotFound("Chưa có bản scan.", "No document has been uploaded.")
    return send_stored(
        found.document_key,
        found.document_type,
        found.document_name or "chung-nhan",
        inline=request.args.get("download") != "1",
    )
