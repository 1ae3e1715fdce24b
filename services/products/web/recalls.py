"""Recalls (thu hồi): the list with the Circular's two deadlines (overdue ones flagged), opening
one on a lot (voluntary by its establishment, imposed by an agency), and a recall's page — the
lots and recipients it reaches, its steps with who and when, and the form for the next step."""

from __future__ import annotations

import uuid
from typing import Any

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from marshmallow import ValidationError
from sqlalchemy.orm import selectinload

from services.products.domain import recalls, scope
from services.products.models import HANDLING_METHODS, RECALL_STATUSES, Lot, Recall
from services.products.schemas.recalls import RecallCancelIn, RecallOpenIn, RecallStepIn
from services.products.web import blp
from services.products.web.common import aware, compact, form_values, paged
from shared.db import request_session, utcnow
from shared.errors import DomainError
from shared.pagination import count
from shared.web import _, form_errors, page, render_form, user
from shared.web import message_text as msg

VIEWERS = ("admin", "agency", "establishment")
DETAIL_LOTS = 200


@blp.get("/recalls")
@page(*VIEWERS)
def recall_list() -> Any:
    """Recalls the caller sees, newest first, with their deadlines."""
    principal = user()
    session = request_session()
    state = request.args.get("state", "open")
    filters: dict[str, Any] = {}
    if state == "open":
        filters["open"] = True
    elif state == "finished":
        filters["open"] = False
    status = request.args.get("status")
    if status in RECALL_STATUSES:
        filters["status"] = status
    result = paged(
        recalls.list_query(session, principal, filters).options(selectinload(Recall.steps)),
        rows=True,
    )
    now = utcnow()
    items = [
        recalls.summary(r, code, pid, pname, ename, now)
        for r, code, pid, pname, ename in result.items
    ]
    return render_template("products/recalls.html", result=result, items=items, state=state)


@blp.route("/recalls/new", methods=["GET", "POST"])
@page(*VIEWERS)
def new_recall() -> Any:
    """Start a recall of a lot: voluntary (its establishment) or compulsory (an agency)."""
    principal = user()
    session = request_session()
    lot_id = request.values.get("lot_id", "")
    try:
        lot = recalls.find_lot(session, principal, uuid.UUID(lot_id))
    except ValueError:
        lot = None
    except DomainError:
        lot = None
    if lot is None:
        return render_template("products/recall_pick.html"), 404
    if not _may_open(lot):
        abort(403)
    context = {"lot": lot, "authority": principal.role in ("admin", "agency")}
    if request.method == "GET":
        values = {"kind": "compulsory" if context["authority"] else "voluntary"}
        return render_template("products/recall_form.html", values=values, errors={}, **context)
    values = form_values(("kind", "reason", "hazard", "found_at"))
    values["confirm"] = request.form.get("confirm", "")
    data = compact(values)
    data.pop("confirm", None)
    data["lot_id"] = str(lot.id)
    if not context["authority"]:
        data.pop("kind", None)
    if "found_at" in data:
        data["found_at"] = aware(data["found_at"])
    if not values["confirm"]:
        errors = {"confirm": [_("Hãy xác nhận việc thu hồi.")]}
        return render_form("products/recall_form.html", errors=errors, values=values, **context)
    try:
        body = RecallOpenIn().load(data)
        recall = recalls.open_recall(
            session,
            actor=principal,
            lot=lot,
            kind=body.get("kind"),
            reason=body["reason"],
            hazard=body.get("hazard"),
            found_at=body.get("found_at"),
            settings=current_app.config["SETTINGS"],
        )
    except (ValidationError, DomainError) as exc:
        return render_form(
            "products/recall_form.html", errors=form_errors(exc), values=values, **context
        )
    flash(_("Đã mở đợt thu hồi %(number)s.", number=recall.number))
    return redirect(url_for("products_web.recall", recall_id=recall.id), 303)


def _may_open(lot: Lot) -> bool:
    """The rule of `recalls.open_recall`: the lot's own establishment, or an authority
    managing it (a recipient of the lot may see it but not recall it)."""
    principal = user()
    if principal.role == "establishment":
        return principal.establishment_id == lot.establishment_id
    return scope.manages(request_session(), principal, lot.establishment_id)


def _detail(recall: Recall) -> dict[str, Any]:
    principal = user()
    session = request_session()
    body = recalls.describe(session, recall)
    lots = recalls.lots_query(session, principal, recall)
    runs = recalls.runs(session, principal, recall)
    upcoming = body["next_step"]
    may_step = (
        runs
        and upcoming is not None
        and (upcoming not in recalls.AUTHORITY_STEPS or principal.role in ("admin", "agency"))
    )
    may_cancel = (
        runs
        and recall.status in recalls.CANCELLABLE
        and (recall.kind != "compulsory" or principal.role in ("admin", "agency"))
    )
    done = {step.step: step for step in recall.steps}
    return {
        "recall": recall,
        "body": body,
        "lots": recalls.lot_rows(session.execute(lots.limit(DETAIL_LOTS))),
        "lots_total": count(session, lots),
        "recipients": recalls.recipients(session, principal, recall),
        "steps": list(recall.steps),
        "done": done,
        "sees_everything": recalls.sees_everything(session, principal, recall),
        "runs": runs,
        "may_step": may_step,
        "may_cancel": may_cancel,
        "upcoming": upcoming,
        "step_names": recalls.STEP_NAMES,
        "step_order": [*recalls.OPEN, "closed"],
        "handling_names": recalls.HANDLING_NAMES,
        "handlings_options": [(h, msg(recalls.HANDLING_NAMES[h])) for h in HANDLING_METHODS],
        "kind_names": recalls.KIND_NAMES,
    }


@blp.get("/recalls/<uuid:recall_id>")
@page(*VIEWERS)
def recall(recall_id: uuid.UUID) -> Any:
    """A recall: what it reaches, its steps with who and when, the next step's form."""
    found = recalls.get_visible(request_session(), user(), recall_id)
    return render_template("products/recall.html", errors={}, values={}, **_detail(found))


@blp.post("/recalls/<uuid:recall_id>/step")
@page(*VIEWERS)
def recall_step(recall_id: uuid.UUID) -> Any:
    """Record the next step of the recall (with the version read, so nobody's step is
    recorded twice)."""
    principal = user()
    session = request_session()
    found = recalls.get_visible(session, principal, recall_id)
    values = form_values(("step", "note", "handling"))
    try:
        body = RecallStepIn().load(compact(values))
        recalls.advance(
            session,
            actor=principal,
            recall=found,
            step=body["step"],
            note=body.get("note"),
            handling=body.get("handling"),
            if_match_version=request.form.get("version", type=int),
            settings=current_app.config["SETTINGS"],
        )
    except (ValidationError, DomainError) as exc:
        return render_form(
            "products/recall.html", errors=form_errors(exc), values=values, **_detail(found)
        )
    flash(_("Đã ghi nhận bước: %(step)s.", step=msg(recalls.STEP_NAMES[found.status])))
    return redirect(url_for("products_web.recall", recall_id=found.id), 303)


@blp.post("/recalls/<uuid:recall_id>/cancel")
@page(*VIEWERS)
def recall_cancel(recall_id: uuid.UUID) -> Any:
    """Cancel a recall found unnecessary, before it is carried out (reason required)."""
    principal = user()
    session = request_session()
    found = recalls.get_visible(session, principal, recall_id)
    values = form_values(("reason",))
    try:
        body = RecallCancelIn().load(compact(values))
        recalls.cancel(
            session,
            actor=principal,
            recall=found,
            reason=body["reason"],
            if_match_version=request.form.get("version", type=int),
        )
    except (ValidationError, DomainError) as exc:
        return render_form(
            "products/recall.html", errors=form_errors(exc), values=values, **_detail(found)
        )
    flash(_("Đã hủy đợt thu hồi %(number)s.", number=found.number))
    return redirect(url_for("products_web.recall", recall_id=found.id), 303)


@blp.post("/recalls/<uuid:recall_id>/refresh")
@page(*VIEWERS)
def recall_refresh(recall_id: uuid.UUID) -> Any:
    """Walk the trace again: lots made or received from the recalled ones since join it."""
    principal = user()
    session = request_session()
    found = recalls.get_visible(session, principal, recall_id)
    refreshed = recalls.refresh_impact(session, actor=principal, recall=found)
    flash(
        _(
            "Đã cập nhật: thêm %(lots)s lô và %(recipients)s nơi nhận.",
            lots=refreshed.added_lots,
            recipients=refreshed.added_recipients,
        )
    )
    return redirect(url_for("products_web.recall", recall_id=found.id), 303)
