"""The public trace pages: what a shopper sees after scanning a label, and the report form.

Routes (at the root of the URL space: the gateway sends `/q/…` and `/01/…` here unchanged):

- `GET /q/{code}` — an item serial or a product/lot short code;
- `GET /01/{gtin}[/10/{lot}][/21/{serial}]` — GS1 Digital Link;
- `GET|POST <either>/report` — report a suspected fake or a problem (CSRF, rate-limited per
  client address, PROBLEM_REPORTS_PER_HOUR), for the managing agency.

A page view costs, when its code and card are warm in this process: one Redis round trip
(one script: the per-address page budget, the card epoch, the serial's counters and the
queued scan; domain/scans.py), the replacement of the code in a page rendered once per card
(`trace_html`), no call to another service and no query. Unknown and forged codes get a
clear 404 page, void ones a warning, a products-service outage with no stored card a 503
page, a spent budget a 429 page — never a stack trace.

Vietnamese first, English with `?lang=en` (shared/web.py); every value goes through Jinja's
escaping.
"""

from __future__ import annotations

import logging
import secrets
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from urllib.parse import quote

from flask import Blueprint, Flask, current_app, g, render_template, request
from flask.sessions import SecureCookieSessionInterface
from markupsafe import Markup, escape
from marshmallow import ValidationError
from werkzeug.exceptions import BadRequest

from services.labels.domain import cards, scans
from services.labels.domain.directory import COPY
from services.labels.domain.resolve import Resolution, resolve_path, warnings_for
from services.labels.models import REPORT_KINDS, ProblemReport
from services.labels.schemas.public import TraceReportIn
from shared.clock import local_today
from shared.db import get_database, request_session
from shared.errors import DomainError, TooManyRequests, flatten_field_errors
from shared.kv import RedisStore
from shared.web import _l, check_csrf, init_web

log = logging.getLogger(__name__)

blp = Blueprint("labels_web", __name__, template_folder="templates")

VIEWS_PER_MINUTE = 120  # per client address, page and JSON together; TRACE_VIEWS_PER_MINUTE
VIEW_WINDOW = 60
REPORT_WINDOW = 3600
REPORT_KIND_NAMES = {
    "suspected_fake": _l("Nghi hàng giả, hàng nhái"),
    "quality": _l("Chất lượng sản phẩm"),
    "wrong_information": _l("Thông tin không đúng"),
    "other": _l("Khác"),
}
SOFT_WARNINGS = frozenset({"stale", "lot_expired"})
_SHARED_CSS = ""


class _LazyCookieSessions(SecureCookieSessionInterface):
    """No signing work for a request without a session cookie (a scan never has one)."""

    def open_session(self, app: Flask, request: Any) -> Any:
        if "HTTP_COOKIE" not in request.environ or not request.cookies.get(
            self.get_cookie_name(app)
        ):
            return self.session_class()
        return super().open_session(app, request)

    def save_session(self, app: Flask, session: Any, response: Any) -> None:
        # What the parent does for a session nobody touched, without its seven config reads.
        if not session and not session.modified and not session.accessed:
            return
        super().save_session(app, session, response)


def init_app(app: Flask) -> None:
    global _SHARED_CSS
    init_web(app)
    if type(app.session_interface) is SecureCookieSessionInterface:
        app.session_interface = _LazyCookieSessions()
    app.config.setdefault("TRACE_VIEWS_PER_MINUTE", VIEWS_PER_MINUTE)
    app.extensions["labels_scans"] = scans.Recorder(app.extensions["trace_kv"], get_database(app))
    from shared.web import SHARED

    # The page is served at the root (/q/…), where the shared stylesheet's URL does not
    # reach this service: it travels inline (one request, which also suits a phone).
    _SHARED_CSS = (SHARED / "static" / "style.css").read_text(encoding="utf-8")
    app.register_blueprint(blp)


# --- budgets ------------------------------------------------------------------------------


def _settings() -> Any:
    return current_app.config["SETTINGS"]


def _store() -> Any:
    return current_app.extensions["trace_kv"]


def client_mark() -> str:
    if "labels_client_mark" not in g:
        g.labels_client_mark = scans.client_mark(_settings().secret_key, request.remote_addr)
    return str(g.labels_client_mark)


def view_budget() -> scans.Budget:
    """The per-address page budget (scraping): page and JSON views together."""
    return scans.Budget(
        key=f"labels:views:{client_mark()}",
        limit=int(current_app.config["TRACE_VIEWS_PER_MINUTE"]),
        window=VIEW_WINDOW,
    )


def throttle_views() -> None:
    """The page budget on its own (the report form), read with the card epoch. A store
    outage lets the page through: the shopper comes first."""
    store = _store()
    key = view_budget().key
    try:
        if isinstance(store, RedisStore):
            pipe = store.client.pipeline(transaction=False)
            pipe.incr(store.prefix + key)
            pipe.expire(store.prefix + key, VIEW_WINDOW, nx=True)
            pipe.get(store.prefix + cards.EPOCH_KEY)
            count, _, epoch = pipe.execute()
        else:
            count = store.incr(key, VIEW_WINDOW)
            epoch = store.get_many([cards.EPOCH_KEY])[0]
    except Exception:
        log.warning("view budget not checked", exc_info=True)
        return
    cards.observe_epoch(epoch)
    if int(count) > int(current_app.config["TRACE_VIEWS_PER_MINUTE"]):
        raise TooManyRequests(headers={"Retry-After": str(VIEW_WINDOW)})


def throttle_reports() -> None:
    limit = _settings().problem_reports_per_hour
    try:
        count = _store().incr(f"labels:reports:{client_mark()}", REPORT_WINDOW)
    except Exception:
        log.warning("report budget not checked", exc_info=True)
        return
    if count > limit:
        raise TooManyRequests(headers={"Retry-After": str(REPORT_WINDOW)})


# --- one trace ----------------------------------------------------------------------------


@dataclass
class Trace:
    resolution: Resolution
    answer: dict[str, Any]
    status: int
    card: cards.Card | None = None
    today: date | None = None


def _card(resolution: Resolution) -> cards.Card:
    settings = _settings()
    if resolution.lot_by_code is not None and resolution.product_id is not None:
        return cards.get_by_code(
            request_session, settings, resolution.product_id, resolution.lot_by_code, store=_store()
        )
    key = resolution.card_key
    if key is None:  # pragma: no cover - shows_card implies a key
        raise cards.CardNotFound()
    return cards.get(request_session, settings, key, store=_store())


def trace(path: str) -> Trace:
    """Resolve a public code path, load its card, record the scan: the page's and the JSON
    API's one flow. Raises TooManyRequests (the per-address budget, checked with the scan in
    one round trip; nothing recorded) and CardUnavailable (the scan is still kept)."""
    # What this flow writes (a card fetched, scans and alerts without Redis) goes into the
    # request's session and is kept even when the answer is an error (unknown code, 503).
    g.commit_despite_error = True
    settings = _settings()
    resolution = resolve_path(request_session, path, key=settings.serial_signing_key or "")
    card: cards.Card | None = None
    unavailable: cards.CardUnavailable | None = None
    if resolution.shows_card:
        try:
            card = _card(resolution)
        except cards.CardNotFound:
            resolution = resolution.with_(outcome="unknown", detail="not_issued")
        except cards.CardUnavailable as exc:
            unavailable = exc
    if resolution.lot_id is None and card is not None and card.data.get("lot"):
        lot_id = card.data["lot"].get("id")
        if lot_id:
            resolution = resolution.with_(lot_id=uuid.UUID(str(lot_id)))
    base = resolution.outcome
    if base == "ok" and card is not None and cards.is_recalled(card.data):
        base = "recalled"
    recorder: scans.Recorder = current_app.extensions["labels_scans"]
    resolution = recorder.record(
        resolution,
        base_outcome=base,
        place=scans.place_cell(request.args.get("lat"), request.args.get("lon")),
        ua=scans.ua_class(request.headers.get("User-Agent")),
        mark=client_mark(),
        settings=settings,
        session=request_session,
        budget=view_budget(),
    )
    if unavailable is not None:
        raise unavailable
    today = local_today()
    view = card_view(card, today)
    warnings = warnings_for(
        resolution,
        view,
        stale_since=card.fetched_at if card is not None and card.stale else None,
        today=today,
    )
    answer = {
        "outcome": resolution.outcome,
        "verified": resolution.outcome == "ok"
        and all(w["code"] in SOFT_WARNINGS for w in warnings),
        "level": resolution.level,
        "code": resolution.code,
        "path": resolution.path,
        "serial": resolution.code if resolution.level == "item" else None,
        "scans": resolution.scans if resolution.level == "item" else None,
        "warnings": warnings,
        **view,
        "report_path": quote(f"{resolution.path.rstrip('/')}/report", safe="/"),
    }
    status = 404 if resolution.outcome in {"unknown", "forged"} else 200
    return Trace(resolution, answer, status, card if resolution.shows_card else None, today)


# --- pages --------------------------------------------------------------------------------


# The card's view and its rendered HTML depend only on the card, the day (validity states)
# and the language: built once, reused for every scan of every serial of the lot.
_views: cards.TTLCache[tuple[str, datetime, date], dict[str, Any]] = cards.TTLCache(5_000)
_bodies: cards.TTLCache[tuple[str, datetime, date, str], tuple[Markup, Markup]] = cards.TTLCache(
    5_000
)
_NO_CARD = cards.public_view(None, local_today())


def card_view(card: cards.Card | None, today: date) -> dict[str, Any]:
    if card is None:
        return _NO_CARD
    key = (card.key, card.fetched_at, today)
    found = _views.get(key)
    if found is None:
        found = cards.public_view(card.data, today)
        _views.put(key, found)
    return found


def card_body(found: Trace) -> tuple[Markup, Markup]:
    """The card's sections as HTML (around the scan's own code box)."""
    card = found.card
    if card is None:
        return Markup(""), Markup("")
    lang = g.get("lang", "vi")
    key = (card.key, card.fetched_at, found.today or local_today(), str(lang))
    body = _bodies.get(key)
    if body is None:
        html = render_template("labels/_card.html", v=found.answer)
        head, _, rest = html.partition("<!--code-box-->")
        body = (Markup(head), Markup(rest))  # noqa: S704 - rendered by Jinja, escaped there
        _bodies.put(key, body)
    return body


def _page(template: str, status: int, **context: Any) -> Any:
    return _page_response(render_template(template, shared_css=_SHARED_CSS, **context), status)


def _problem_page(exc: DomainError) -> Any:
    response = _page("labels/problem.html", exc.status, problem=exc)
    for key, value in exc.headers.items():
        response.headers[key] = value
    return response


@blp.errorhandler(DomainError)
def _domain_error(exc: DomainError) -> Any:
    return _problem_page(exc)


@blp.errorhandler(BadRequest)
def _bad_request(exc: BadRequest) -> Any:
    return _problem_page(
        DomainError(
            "Biểu mẫu đã hết hạn hoặc không hợp lệ; hãy tải lại trang và gửi lại.",
            "The form has expired or is not valid; reload the page and send it again.",
            code="bad_form",
        )
    )


def _split_report(path: str) -> tuple[str, bool]:
    if path.endswith("/report"):
        return path[: -len("/report")], True
    return path, False


@blp.route("/q/", defaults={"rest": ""}, methods=["GET", "POST"])
@blp.route("/q/<path:rest>", methods=["GET", "POST"])
def short_code(rest: str) -> Any:
    """A short code or an item serial (`/q/{code}`), or its report form."""
    path, report = _split_report(f"/q/{rest}")
    return report_form(path) if report else trace_page(path)


@blp.route("/01/", defaults={"rest": ""}, methods=["GET", "POST"])
@blp.route("/01/<path:rest>", methods=["GET", "POST"])
def digital_link(rest: str) -> Any:
    """A GS1 Digital Link (`/01/{gtin}[/10/{lot}][/21/{serial}]`), or its report form."""
    path, report = _split_report(f"/01/{rest}")
    if report and path.count("/") < 2:  # `/01/report` is no code with a form
        path, report = f"/01/{rest}", False
    return report_form(path) if report else trace_page(path)


def trace_page(path: str) -> Any:
    if request.method != "GET":
        from werkzeug.exceptions import MethodNotAllowed

        raise MethodNotAllowed(valid_methods=["GET"])
    found = trace(path)
    return _page_response(trace_html(found), found.status)


# A trace page differs from the next scan of the same lot only by the code it shows: the page
# is rendered once per card, day, language and verdict with stand-ins for the code, and each
# scan puts its own (escaped) code in. The stand-ins are random per process.
_MARK = f"tk{secrets.token_hex(8)}"
_STAND_INS = {"code": f"{_MARK}c", "serial": f"{_MARK}s", "report_path": f"{_MARK}r"}
_pages: cards.TTLCache[tuple[Any, ...], str] = cards.TTLCache(5_000)


def trace_html(found: Trace) -> str:
    answer, card = found.answer, found.card
    key = (
        card.key if card is not None else None,
        card.fetched_at if card is not None else None,
        found.today,
        str(g.get("lang", "vi")),
        answer["outcome"],
        answer["level"],
        answer["verified"],
        answer["serial"] is not None,
        tuple((w["code"], w["message"]["vi"]) for w in answer["warnings"]),
        bool(request.args.get("lat")),
    )
    skeleton = _pages.get(key)
    if skeleton is None:
        shown = {
            **answer,
            **{k: v for k, v in _STAND_INS.items() if answer.get(k) is not None},
        }
        skeleton = render_template(
            "labels/trace.html", shared_css=_SHARED_CSS, v=shown, body=card_body(found)
        )
        _pages.put(key, skeleton)
    html = skeleton
    for name, stand_in in _STAND_INS.items():
        if answer.get(name) is not None:
            html = html.replace(stand_in, str(escape(answer[name])))
    return html


def _page_response(html: str, status: int) -> Any:
    response = current_app.response_class(html, status=status, mimetype="text/html")
    response.headers["Cache-Control"] = "private, no-cache"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _report_values() -> dict[str, str]:
    return {
        name: request.form.get(name, "").strip()
        for name in ("kind", "message", "contact", "place_text")
    }


def report_form(path: str) -> Any:
    """Report a suspected fake or a problem about the scanned code."""
    throttle_views()
    settings = _settings()
    resolution = resolve_path(request_session, path, key=settings.serial_signing_key or "")
    errors: dict[str, list[dict[str, str]]] = {}
    values: dict[str, str] = {"kind": "suspected_fake"}
    status = 200
    if request.method == "POST":
        check_csrf()
        throttle_reports()
        values = _report_values()
        try:
            body = TraceReportIn().load({k: v for k, v in values.items() if v != ""})
        except ValidationError as exc:
            errors = {
                k: [dict(m) for m in v] for k, v in flatten_field_errors(exc.messages).items()
            }
            status = 422
        else:
            report = create_report(resolution, body)
            return _page("labels/reported.html", 201, report=report, path=path)
    return _page(
        "labels/report.html",
        status,
        path=path,
        code=resolution.code,
        values=values,
        errors=errors,
        kinds=[(k, REPORT_KIND_NAMES[k]) for k in REPORT_KINDS],
    )


def create_report(resolution: Resolution, body: dict[str, Any]) -> ProblemReport:
    session = request_session()
    unit_path = None
    if resolution.establishment_id is not None:
        found = COPY.get_establishment(session, resolution.establishment_id, settings=_settings())
        unit_path = found.unit_path if found is not None else None
    report = ProblemReport(
        code=resolution.code[:64],
        kind=body["kind"],
        message=body["message"],
        contact=body.get("contact"),
        place_text=body.get("place_text"),
        product_id=resolution.product_id,
        lot_id=resolution.lot_id,
        establishment_id=resolution.establishment_id,
        unit_path=unit_path,
        status="new",
    )
    session.add(report)
    session.flush()
    return report
