"""The labels service's pages for logged-in people (under /labels):

- `/batches` — label batches in the caller's scope (establishment: its own; agency: the
  establishments of its units; administrator: all), with status and progress;
- `/batches/new?product_id=&lot_id=` — order N labels for a product or a lot, choosing the
  sticker and the printed fields, with a live preview (`/batches/preview`, an htmx fragment
  refreshed on every change; without JavaScript the "Preview" button posts the form back);
- `/batches/<id>` — the PDF's progress (htmx-polled fragment, a meta refresh without
  JavaScript), the download, voiding the batch (reason + confirmation);
- `/stats` — scan statistics (own establishment; agencies: per establishment or product in
  their units);
- `/alerts` — counterfeit alerts and consumers' problem reports for agencies and the
  administrator, with their status changes (reason + confirmation).

Every page calls the domain functions the JSON API uses (services/labels/api/*), so the
scope rules are the API's.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_smorest.pagination import PaginationParameters
from markupsafe import Markup
from marshmallow import ValidationError
from sqlalchemy import distinct, func, select

from services.labels.api.alerts import in_scope, may_manage, with_names
from services.labels.api.batches import _printing
from services.labels.api.scans import _managed, _range
from services.labels.domain import batches, codes, oversight, render, scans
from services.labels.domain.directory import COPY
from services.labels.models import (
    ALERT_STATUSES,
    REPORT_STATUSES,
    CounterfeitAlert,
    DirectoryEstablishment,
    Job,
    LabelBatch,
    ProblemReport,
    Scan,
    SerialCounter,
)
from services.labels.schemas.batches import PRINTABLE_FIELDS, BatchIn, TemplateIn, VoidIn
from services.labels.schemas.oversight import AlertStatusIn, ReportStatusIn, StatsQuery
from services.labels.web import REPORT_KIND_NAMES
from shared.auth import Principal
from shared.db import request_session
from shared.errors import DomainError, InvalidInput, NotFound
from shared.pagination import paginate, paginate_rows
from shared.web import _, _l, form_errors, init_pages, page, render_form, user

blp = Blueprint("labels_pages", __name__, template_folder="templates")
init_pages(blp)

PAGE_SIZE = 20
AGENCY = ("admin", "agency")
EVERYONE = ("admin", "agency", "establishment")

BATCH_STATUS_NAMES = {
    "queued": (_l("Chờ in"), "warn"),
    "rendering": (_l("Đang tạo PDF"), "warn"),
    "done": (_l("Sẵn sàng tải về"), "ok"),
    "failed": (_l("Lỗi khi tạo PDF"), "bad"),
    "void": (_l("Đã huỷ"), "bad"),
}
FIELD_NAMES = {
    "product_name": _l("Tên sản phẩm"),
    "establishment": _l("Tên cơ sở"),
    "lot": _l("Số lô"),
    "production_date": _l("Ngày sản xuất"),
    "expiry_date": _l("Hạn sử dụng"),
    "certifications": _l("Chứng nhận"),
    "code": _l("Mã số in dưới mã QR"),
}
ALERT_REASON_NAMES = {
    "too_many_scans": _l("Một tem bị quét quá nhiều lần"),
    "too_many_places": _l("Một tem bị quét ở quá nhiều nơi"),
    "forged": _l("Mã giả (chữ ký không đúng)"),
    "void": _l("Mã thuộc đợt tem đã huỷ"),
    "unknown": _l("Mã chưa từng được cấp"),
}
ALERT_STATUS_NAMES = {
    "open": (_l("Đang mở"), "warn"),
    "dismissed": (_l("Đã bỏ qua"), ""),
    "confirmed": (_l("Đã xác nhận hàng giả"), "bad"),
}
REPORT_STATUS_NAMES = {
    "new": (_l("Mới"), "warn"),
    "in_review": (_l("Đang xử lý"), ""),
    "closed": (_l("Đã đóng"), "ok"),
}
OUTCOME_NAMES = {
    "ok": _l("Hợp lệ"),
    "unknown": _l("Mã không có"),
    "forged": _l("Mã giả"),
    "void": _l("Tem đã huỷ"),
    "recalled": _l("Lô bị thu hồi"),
    "suspicious": _l("Đáng ngờ"),
}
# Form field of each template key a domain or schema error may name.
_ERROR_FIELDS = {
    "margin_top": "margin_mm",
    "margin_left": "margin_mm",
    "gap_x": "gap_mm",
    "gap_y": "gap_mm",
    "template": "preset",
    "qr_error": "preset",
    "frame": "preset",
}
_FORM_FIELDS = ("quantity", "preset", "fields", "margin_mm", "gap_mm")


def init_app(app: Any) -> None:
    app.register_blueprint(blp)


def _settings() -> Any:
    return current_app.config["SETTINGS"]


def _uuid_arg(name: str, source: Mapping[str, Any] | None = None) -> uuid.UUID | None:
    raw = (source if source is not None else request.args).get(name) or ""
    if not raw:
        return None
    try:
        return uuid.UUID(str(raw))
    except ValueError:
        abort(404)


def _pagination() -> PaginationParameters:
    try:
        number = max(1, min(int(request.args.get("page", "1")), 100_000))
    except ValueError:
        number = 1
    return PaginationParameters(number, PAGE_SIZE)


def _pager(params: PaginationParameters) -> dict[str, Any]:
    total = int(params.item_count or 0)
    base: dict[str, Any] = {**(request.view_args or {}), **request.args.to_dict()}
    endpoint = str(request.endpoint)

    def url_for_page(number: int) -> str:
        values: dict[str, Any] = {**base, "page": number}
        return url_for(endpoint, **values)

    return {
        "page_no": params.page,
        "pages": max(1, math.ceil(total / params.page_size)),
        "total": total,
        "url_for_page": url_for_page,
    }


def _establishment_name(establishment_id: uuid.UUID | None) -> str | None:
    if establishment_id is None:
        return None
    found = request_session().get(DirectoryEstablishment, establishment_id)
    return found.name if found is not None else None


# --- batches --------------------------------------------------------------------------------


def describe(rows: list[LabelBatch]) -> list[LabelBatch]:
    """Status, progress (labels rendered) and establishment name of each batch; the print
    jobs in one query (the API's `present` without its query per row)."""
    ids = [b.job_id for b in rows if b.job_id]
    jobs = (
        {j.id: j for j in request_session().scalars(select(Job).where(Job.id.in_(ids)))}
        if ids
        else {}
    )
    for batch in rows:
        job = jobs.get(batch.job_id) if batch.job_id else None
        status = {"running": "rendering"}.get(job.status, job.status) if job else "queued"
        if batch.voided_at:
            status = "void"
        counts = (job.counts or {}) if job else {}
        batch.status = status  # type: ignore[attr-defined]
        batch.done = int(counts.get("labels_done", 0))  # type: ignore[attr-defined]
        batch.total = int(counts.get("labels", batch.quantity))  # type: ignore[attr-defined]
        batch.error = job.error if job is not None and job.status == "failed" else None  # type: ignore[attr-defined]
        batch.ready = (  # type: ignore[attr-defined]
            job is not None
            and job.status == "done"
            and bool(job.result_file)
            and not batch.voided_at
        )
        batch.finished = status in {"done", "failed", "void"}  # type: ignore[attr-defined]
    return with_names(rows)


@blp.route("/batches")
@page(*EVERYONE)
def batch_list() -> Any:
    principal = user()
    session = request_session()
    args: dict[str, Any] = {
        name: _uuid_arg(name) for name in ("product_id", "lot_id", "establishment_id")
    }
    state = request.args.get("state", "")
    if state in ("active", "void"):
        args["voided"] = state == "void"
    params = _pagination()
    stmt = batches.query(session, principal, _settings(), args)
    rows = describe(paginate(session, stmt, params))
    return render_template(
        "labels/batches.html",
        rows=rows,
        pager=_pager(params),
        state=state,
        filters=args,
        filter_name=_establishment_name(args["establishment_id"])
        if principal.role != "establishment"
        else None,
        statuses=BATCH_STATUS_NAMES,
        recent=_recent_products(principal) if principal.role == "establishment" else [],
    )


def _recent_products(principal: Principal) -> list[dict[str, Any]]:
    """The products (and lots) labels were last ordered for, to order again (≤ 8)."""
    session = request_session()
    stmt = (
        batches.query(session, principal, _settings(), {})
        .with_only_columns(LabelBatch.product_id, LabelBatch.lot_id, LabelBatch.content)
        .limit(40)
    )
    seen: dict[tuple[Any, Any], dict[str, Any]] = {}
    for product_id, lot_id, content in session.execute(stmt):
        key = (product_id, lot_id)
        if key not in seen and len(seen) < 8:
            seen[key] = {
                "product_id": product_id,
                "lot_id": lot_id,
                "name": (content or {}).get("product_name") or str(product_id)[:8],
                "lot_code": (content or {}).get("lot_code"),
            }
    return list(seen.values())


def _card_in_scope(
    principal: Principal, product_id: uuid.UUID, lot_id: uuid.UUID | None
) -> dict[str, Any]:
    """The product's (lot's) public card, when the caller may order labels for it; else 404
    (nothing about another establishment's product is shown)."""
    try:
        card = batches.fetch_card(_settings(), product_id, lot_id)
    except InvalidInput as exc:
        raise NotFound() from exc
    establishment_id = uuid.UUID(card["product"]["establishment"]["id"])
    if not COPY.manages(request_session(), principal, establishment_id, _settings()):
        raise NotFound()
    return card


def _form_values(source: Mapping[str, Any], *, first: bool) -> dict[str, Any]:
    if first:
        defaults = TemplateIn().load({})
        return {
            "quantity": "100",
            "preset": defaults["preset"],
            "fields": list(defaults["fields_"]),
            "margin_mm": "",
            "gap_mm": "",
        }
    getlist = getattr(source, "getlist", None)
    return {
        "quantity": str(source.get("quantity", "")).strip(),
        "preset": str(source.get("preset", "")).strip(),
        "fields": [f for f in (getlist("fields") if getlist else []) if f in PRINTABLE_FIELDS],
        "margin_mm": str(source.get("margin_mm", "")).strip(),
        "gap_mm": str(source.get("gap_mm", "")).strip(),
    }


def _template_body(values: Mapping[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = {"preset": values["preset"] or None, "fields": values["fields"]}
    for name in ("margin_mm", "gap_mm"):
        if values.get(name):
            body[name] = values[name]
    return {k: v for k, v in body.items() if v is not None}


def _field_errors(exc: DomainError | ValidationError) -> dict[str, list[str]]:
    """Errors keyed by this form's fields (`template.preset` → `preset`, …)."""
    out: dict[str, list[str]] = {}
    for name, messages in form_errors(exc).items():
        base = name.removeprefix("template.").split(".")[0]
        base = _ERROR_FIELDS.get(base, base)
        if base not in _FORM_FIELDS:
            base = "_form"
        for message in messages:
            if message not in out.get(base, []):
                out.setdefault(base, []).append(message)
    return out


def _checked_template(values: Mapping[str, Any]) -> render.Template:
    """The template the form describes (ValidationError / InvalidInput when it is wrong)."""
    loaded = TemplateIn().load(_template_body(values))
    loaded["fields"] = loaded.pop("fields_")
    return render.Template.from_json(loaded)


def preview_model(
    values: Mapping[str, Any], card: Mapping[str, Any], quantity: int | None
) -> dict[str, Any]:
    """What the preview fragment draws: one label at 6 px/mm and the layout of one sheet."""
    import segno

    try:
        template = _checked_template(values)
    except (ValidationError, DomainError) as exc:
        return {"errors": _field_errors(exc)}
    spec = template.spec
    scale = 6.0  # px per mm on screen
    pt = 25.4 / 72 * scale  # px per typographic point
    settings = _settings()
    counter = request_session().get(SerialCounter, batches.ITEMS)
    serial = (counter.next_value if counter else 1) + max(0, (quantity or 1) - 1)
    lot = card.get("lot") or {}
    probe = LabelBatch(gtin=card["product"].get("gtin"), lot_code=lot.get("code"))
    payload, code = codes.item_payload(
        settings.serial_signing_key or "", settings.public_url, probe, serial
    )
    warning = None
    try:
        template.check_payload(payload)
    except DomainError as exc:
        warning = form_errors(exc).get("template", [""])[0]
    qr = segno.make(payload, error=template.qr_error.lower(), micro=False)
    svg = qr.svg_inline(scale=1, border=render.QUIET_MODULES, omitsize=True)
    content = batches._content(card)

    def box(b: render.Box) -> dict[str, float]:
        return {"x": b.x * scale, "y": b.y * scale, "w": b.w * scale, "h": b.h * scale}

    per_page = template.per_page
    slots = []
    if not spec.roll:
        for index in range(per_page):
            row, column = divmod(index, template.columns)
            slots.append(
                {
                    "x": template.margin_left + column * (spec.width + template.gap_x),
                    "y": template.margin_top + row * (spec.height + template.gap_y),
                }
            )
    return {
        "errors": {},
        "warning": warning,
        "template": template,
        "label": {"w": spec.width * scale, "h": spec.height * scale},
        "qr": box(template.qr_box),
        "code_box": box(template.code_box),
        "text_box": box(template.text_box),
        "text_px": round(spec.text_pt * pt, 2),
        "code_px": round(spec.code_pt * pt, 2),
        "lines": render.label_lines(template, content) if template.has_text else [],
        "show_code": "code" in template.fields,
        "code": code,
        "qr_svg": Markup(svg),  # noqa: S704 - segno's SVG of our own URL
        "sheet": {"w": template.page_size[0], "h": template.page_size[1]},
        "slots": slots,
        "slot": {"w": spec.width, "h": spec.height},
        "per_page": per_page,
        "pages": math.ceil(quantity / per_page) if quantity and per_page else None,
        "roll": spec.roll,
    }


def _quantity(values: Mapping[str, Any]) -> int | None:
    try:
        found = int(str(values.get("quantity", "")))
    except ValueError:
        return None
    return found if 1 <= found <= batches.MAX_PER_ORDER else None


def _presets() -> list[tuple[str, str]]:
    out = []
    for name, spec in render.PRESETS.items():
        size = f"{spec.width:g}×{spec.height:g}"
        if spec.roll:
            out.append((name, _("%(size)s mm — cuộn, máy in nhiệt", size=size)))
        else:
            count = render.Template.from_json({"preset": name}).per_page
            out.append((name, _("%(size)s mm — tờ A4, %(count)s tem/tờ", size=size, count=count)))
    return out


def _order_page(
    card: Mapping[str, Any],
    product_id: uuid.UUID,
    lot_id: uuid.UUID | None,
    values: dict[str, Any],
    errors: dict[str, list[str]],
) -> dict[str, Any]:
    return {
        "card": card,
        "product_id": product_id,
        "lot_id": lot_id,
        "values": values,
        "errors": errors,
        "presets": _presets(),
        "field_names": [(f, FIELD_NAMES[f]) for f in PRINTABLE_FIELDS],
        "preview": preview_model(values, card, _quantity(values)),
        "establishment_name": (card["product"].get("establishment") or {}).get("name"),
    }


@blp.route("/batches/new", methods=["GET", "POST"])
@page(*EVERYONE)
def batch_new() -> Any:
    principal = user()
    source = request.form if request.method == "POST" else request.args
    product_id = _uuid_arg("product_id", source)
    lot_id = _uuid_arg("lot_id", source)
    if product_id is None:
        return render_template(
            "labels/batch_choose.html",
            recent=_recent_products(principal) if principal.role == "establishment" else [],
        )
    card = _card_in_scope(principal, product_id, lot_id)
    if request.method == "GET":
        first = "preset" not in request.args
        values = _form_values(request.args, first=first)
        return render_template(
            "labels/batch_new.html", **_order_page(card, product_id, lot_id, values, {})
        )
    values = _form_values(request.form, first=False)
    if request.form.get("action") == "preview":
        return render_template(
            "labels/batch_new.html", **_order_page(card, product_id, lot_id, values, {})
        )
    try:
        body = BatchIn().load(
            {
                "product_id": str(product_id),
                "lot_id": str(lot_id) if lot_id else None,
                "quantity": values["quantity"],
                "template": _template_body(values),
            }
        )
        template = dict(body["template"])
        template["fields"] = template.pop("fields_")
        session = request_session()
        batch = batches.order(
            session,
            actor=principal,
            settings=_settings(),
            product_id=body["product_id"],
            lot_id=body["lot_id"],
            quantity=body["quantity"],
            template=template,
        )
        printing = _printing()
        if printing is not None:
            printing.start(session, batch, actor=principal)
    except (ValidationError, DomainError) as exc:
        if isinstance(exc, DomainError) and exc.status >= 500:
            raise
        errors = _field_errors(exc)
        return render_form(
            "labels/batch_new.html", **_order_page(card, product_id, lot_id, values, errors)
        )
    flash(
        _(
            "Đã đặt %(count)s tem (đợt %(number)s); tệp PDF đang được tạo.",
            count=batch.quantity,
            number=batch.number,
        )
    )
    return redirect(url_for("labels_pages.batch_detail", batch_id=batch.id), 303)


@blp.route("/batches/preview")
@page(*EVERYONE)
def batch_preview() -> Any:
    """The preview fragment (htmx), from the order form's current values."""
    product_id = _uuid_arg("product_id")
    if product_id is None:
        abort(404)
    card = _card_in_scope(user(), product_id, _uuid_arg("lot_id"))
    values = _form_values(request.args, first="preset" not in request.args)
    return render_template(
        "labels/_preview.html", preview=preview_model(values, card, _quantity(values))
    )


def _batch(batch_id: uuid.UUID) -> LabelBatch:
    return describe([batches.get_for(request_session(), user(), _settings(), batch_id)])[0]


@blp.route("/batches/<uuid:batch_id>")
@page(*EVERYONE)
def batch_detail(batch_id: uuid.UUID) -> Any:
    batch = _batch(batch_id)
    return _detail(batch, {})


def _detail(batch: LabelBatch, errors: dict[str, list[str]]) -> str:
    template = batch.template or {}
    return render_template(
        "labels/batch.html",
        batch=batch,
        errors=errors,
        statuses=BATCH_STATUS_NAMES,
        first_code=codes.serial_code(_settings().serial_signing_key or "", batch.serial_start),
        last_code=codes.serial_code(_settings().serial_signing_key or "", batch.serial_end),
        printed=[FIELD_NAMES.get(f, f) for f in template.get("fields", [])],
        preset=template.get("preset", ""),
    )


@blp.route("/batches/<uuid:batch_id>/progress")
@page(*EVERYONE)
def batch_progress(batch_id: uuid.UUID) -> Any:
    """The progress fragment the detail page polls (htmx) until the PDF is ready."""
    return render_template(
        "labels/_batch_progress.html", batch=_batch(batch_id), statuses=BATCH_STATUS_NAMES
    )


@blp.route("/batches/<uuid:batch_id>/pdf")
@page(*EVERYONE)
def batch_pdf(batch_id: uuid.UUID) -> Response:
    """The finished PDF (the API's download, answered with an HTML page when not ready)."""
    session = request_session()
    batch = batches.get_for(session, user(), _settings(), batch_id)
    job = session.get(Job, batch.job_id) if batch.job_id else None
    if batch.voided_at or job is None or job.status != "done" or not job.result_file:
        flash(_("Tệp PDF chưa sẵn sàng (hoặc đợt tem đã bị huỷ)."), "error")
        return redirect(url_for("labels_pages.batch_detail", batch_id=batch.id), 303)  # type: ignore[return-value]
    handle = current_app.extensions["trace_files"].open(job.result_file)
    return send_file(
        handle, mimetype="application/pdf", as_attachment=True, download_name=f"{batch.number}.pdf"
    )


@blp.route("/batches/<uuid:batch_id>/void", methods=["POST"])
@page(*EVERYONE)
def batch_void(batch_id: uuid.UUID) -> Any:
    principal = user()
    session = request_session()
    batch = batches.get_for(session, principal, _settings(), batch_id)
    try:
        body = VoidIn().load({"reason": request.form.get("reason", "")})
        batches.void(session, actor=principal, batch=batch, reason=body["reason"])
    except (ValidationError, DomainError) as exc:
        if isinstance(exc, DomainError) and exc.status >= 500:
            raise
        errors = form_errors(exc)
        return _detail(describe([batch])[0], errors), 422
    flash(_("Đã huỷ đợt tem %(number)s; các mã của đợt không còn hợp lệ.", number=batch.number))
    return redirect(url_for("labels_pages.batch_detail", batch_id=batch.id), 303)


# --- scan statistics -----------------------------------------------------------------------


def _product_names(ids: list[Any]) -> dict[str, str]:
    """Product names as printed on their labels (the labels service keeps no catalogue)."""
    wanted = [uuid.UUID(str(i)) for i in ids if i]
    if not wanted:
        return {}
    session = request_session()
    latest = (
        select(LabelBatch.product_id, func.max(LabelBatch.created_at).label("at"))
        .where(LabelBatch.product_id.in_(wanted))
        .group_by(LabelBatch.product_id)
        .subquery()
    )
    rows = session.execute(
        select(LabelBatch.product_id, LabelBatch.content).join(
            latest,
            (LabelBatch.product_id == latest.c.product_id) & (LabelBatch.created_at == latest.c.at),
        )
    ).all()
    return {
        str(pid): str((content or {}).get("product_name") or "")
        for pid, content in rows
        if (content or {}).get("product_name")
    }


def _distinct_places(column: Any, value: uuid.UUID, start: Any, end: Any) -> int:
    return int(
        request_session().scalar(
            select(func.count(distinct(Scan.place))).where(
                column == value, Scan.at >= start, Scan.at < end, Scan.place.is_not(None)
            )
        )
        or 0
    )


def _subject_stats(subject: str, subject_id: uuid.UUID, args: dict[str, Any]) -> dict[str, Any]:
    column = Scan.establishment_id if subject == "establishment" else Scan.product_id
    first, last, start, end = _range(args)
    found = scans.statistics(
        request_session(), column=column, value=subject_id, start=start, end=end
    )
    days = found["by_day"]
    peak = max((d["scans"] for d in days), default=0)
    seen = {d["day"]: d for d in days}
    every_day = [
        seen.get(day, {"day": day, "scans": 0, "suspicious": 0})
        for day in (first + timedelta(days=n) for n in range((last - first).days + 1))
    ]
    return {
        **found,
        "chart_days": every_day,
        "from_": first,
        "to": last,
        "suspicious": sum(d["suspicious"] for d in days),
        "places": _distinct_places(column, subject_id, start, end),
        "peak": peak,
        "product_names": _product_names([p["key"] for p in found["top_products"]]),
    }


@blp.route("/stats")
@page(*EVERYONE)
def stats() -> Any:
    principal = user()
    session = request_session()
    raw = {k: v for k, v in request.args.items() if k in ("from", "to") and v}
    values = {"from": raw.get("from", ""), "to": raw.get("to", "")}
    group = request.args.get("group", "establishment")
    if group not in ("establishment", "product"):
        group = "establishment"
    context: dict[str, Any] = {
        "values": values,
        "group": group,
        "errors": {},
        "range_args": raw,
        "outcomes": OUTCOME_NAMES,
    }
    try:
        args = StatsQuery().load(raw)
        first, last, start, end = _range(args)
    except (ValidationError, DomainError) as exc:
        if isinstance(exc, DomainError) and exc.status >= 500:
            raise
        errors = form_errors(exc)
        if "from_" in errors:
            errors["from"] = errors.pop("from_")
        context["errors"] = errors
        return render_form("labels/stats.html", **context)
    context.update(first=first, last=last)
    product_id = _uuid_arg("product_id")
    establishment_id = _uuid_arg("establishment_id")
    if principal.role == "establishment" and establishment_id is None and product_id is None:
        establishment_id = principal.establishment_id
    if product_id is not None:
        _managed(principal, scans.product_owner(session, product_id))
        context.update(
            subject="product",
            subject_id=product_id,
            subject_name=_product_names([product_id]).get(str(product_id)),
            stats=_subject_stats("product", product_id, args),
        )
    elif establishment_id is not None:
        _managed(principal, establishment_id)
        context.update(
            subject="establishment",
            subject_id=establishment_id,
            subject_name=_establishment_name(establishment_id),
            stats=_subject_stats("establishment", establishment_id, args),
        )
    else:
        params = _pagination()
        column = Scan.establishment_id if group == "establishment" else Scan.product_id
        scope = COPY.scope_filter(session, principal, Scan.establishment_id, _settings())
        stmt = scans.summary(session, column=column, scope=scope, start=start, end=end)
        rows = paginate_rows(session, stmt, params)
        ids = [r.id for r in rows]
        if group == "establishment" and ids:
            names = {
                str(k): v
                for k, v in session.execute(
                    select(DirectoryEstablishment.id, DirectoryEstablishment.name).where(
                        DirectoryEstablishment.id.in_(ids)
                    )
                ).all()
            }
        else:
            names = _product_names(ids)
        context.update(
            subject=None,
            rows=[
                {
                    "id": r.id,
                    "name": names.get(str(r.id)),
                    "total": int(r.total),
                    "suspicious": int(r.suspicious or 0),
                    "last_scan": r.last_scan,
                }
                for r in rows
            ],
            pager=_pager(params),
        )
    return render_template("labels/stats.html", **context)


# --- counterfeit alerts and problem reports ------------------------------------------------


def _alerts_context(errors: dict[str, list[str]] | None = None) -> dict[str, Any]:
    principal = user()
    session = request_session()
    tab = request.args.get("tab", "alerts")
    if tab not in ("alerts", "reports"):
        tab = "alerts"
    status = request.args.get("status", "")
    params = _pagination()
    context: dict[str, Any] = {"tab": tab, "status": status, "errors": errors or {}}
    if tab == "alerts":
        alerts = select(CounterfeitAlert).where(in_scope(principal, CounterfeitAlert))
        if status in ALERT_STATUSES:
            alerts = alerts.where(CounterfeitAlert.status == status)
        alerts = alerts.order_by(CounterfeitAlert.last_seen.desc(), CounterfeitAlert.id)
        context["alerts"] = with_names(paginate(session, alerts, params))
    else:
        reports = select(ProblemReport).where(in_scope(principal, ProblemReport))
        if status in REPORT_STATUSES:
            reports = reports.where(ProblemReport.status == status)
        reports = reports.order_by(ProblemReport.created_at.desc(), ProblemReport.id)
        context["reports"] = with_names(paginate(session, reports, params))
    context.update(
        pager=_pager(params),
        reasons=ALERT_REASON_NAMES,
        alert_statuses=ALERT_STATUS_NAMES,
        report_statuses=REPORT_STATUS_NAMES,
        kinds=REPORT_KIND_NAMES,
        alert_options=[(k, v[0]) for k, v in ALERT_STATUS_NAMES.items()],
        report_options=[(k, v[0]) for k, v in REPORT_STATUS_NAMES.items()],
        may_manage=lambda row: may_manage(principal, row.establishment_id),
    )
    return context


@blp.route("/alerts")
@page(*AGENCY)
def alerts() -> Any:
    return render_template("labels/alerts.html", **_alerts_context())


def _status_change(model: Any, row_id: uuid.UUID, schema: Any) -> Any:
    principal = user()
    session = request_session()
    row = session.scalar(select(model).where(model.id == row_id, in_scope(principal, model)))
    if row is None:
        abort(404)
    if not may_manage(principal, row.establishment_id):
        abort(403)
    try:
        body = schema.load(
            {"status": request.form.get("status", ""), "note": request.form.get("reason", "")}
        )
        if not (body.get("note") or "").strip():
            raise InvalidInput.field("reason", "Cần nêu lý do.", "A reason is required.")
    except (ValidationError, DomainError) as exc:
        errors = form_errors(exc)
        if "note" in errors:
            errors["reason"] = errors.pop("note")
        errors["_form"] = errors.get("_form", []) + [
            m for k, ms in errors.items() if k != "_form" for m in ms
        ]
        return render_form("labels/alerts.html", **_alerts_context(errors))
    oversight.set_status(
        session, actor=principal, row=row, status=body["status"], note=body["note"]
    )
    flash(_("Đã cập nhật trạng thái."))
    kept: dict[str, Any] = {k: v for k, v in request.args.items() if k in ("tab", "status", "page")}
    return redirect(url_for("labels_pages.alerts", **kept), 303)


@blp.route("/alerts/<uuid:alert_id>/status", methods=["POST"])
@page(*AGENCY)
def alert_status(alert_id: uuid.UUID) -> Any:
    return _status_change(CounterfeitAlert, alert_id, AlertStatusIn())


@blp.route("/alerts/reports/<uuid:report_id>/status", methods=["POST"])
@page(*AGENCY)
def report_status(report_id: uuid.UUID) -> Any:
    return _status_change(ProblemReport, report_id, ReportStatusIn())
