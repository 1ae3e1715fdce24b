"""Server-rendered pages: one layout, stylesheet and menu for every service, login by cookie,
CSRF on every form, Vietnamese first with an English switch (Flask-Babel).

How a service's pages are written (services/<name>/web.py):

    blp = Blueprint("products_web", __name__, template_folder="templates")
    init_pages(blp)                      # HTML error pages for this blueprint

    @blp.route("/lots/<uuid:lot_id>/stages", methods=["GET", "POST"])
    @page("establishment")              # who may open it; POSTs are CSRF-checked
    def add_stage(lot_id): ...

- `page(*roles)` sends a visitor without a valid login to `/accounts/login?next=…` (an expired
  access token first tries the refresh cookie), someone whose one-time password is still to be
  changed to `/accounts/password`, and answers 403 to a role not listed. `g.user` is the
  `Principal`. Scope checks (which unit, which establishment) stay in the domain functions the
  API uses, so a page never shows what the API would refuse.
- Texts: `_("Vietnamese text")` in templates and Python; the English catalogue of each service
  is `services/<name>/translations/en/LC_MESSAGES/messages.po` (shared: `shared/translations`).
  The `.mo` files are compiled at set-up (`make install`, the image build) and, when missing or
  older than their `.po`, when the app starts. tests/web/test_translations.py fails on any text
  without an English translation.
- Domain errors (`DomainError`) carry both languages already: `form_errors(exc)` turns one into
  the field → messages map the form macros show; a form answered with errors returns 422, so the
  request's transaction rolls back (shared/db.py commits only responses under 400).
- Dates print as dd/mm/yyyy in Asia/Ho_Chi_Minh (`|date`, `|datetime`), numbers the local way
  (`|number`: 30.000 in Vietnamese, 30,000 in English).
"""

from __future__ import annotations

import hmac
import logging
import math
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar, cast
from urllib.parse import quote, urlencode, urlsplit

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import (
    Blueprint,
    Flask,
    Response,
    abort,
    current_app,
    g,
    redirect,
    render_template,
    request,
    session,
)
from flask_babel import Babel, format_decimal, format_percent
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from marshmallow import ValidationError
from werkzeug.exceptions import HTTPException

from shared.auth import Principal, current_principal
from shared.clock import LOCAL_TZ
from shared.errors import DomainError, Message, Unauthenticated, flatten_field_errors

log = logging.getLogger(__name__)

SHARED = Path(__file__).parent
LANGUAGES = ("vi", "en")
LANG_COOKIE = "lang"
CSRF_FIELD = "_csrf"
CSRF_HEADER = "X-CSRF-Token"
TIMEZONE = "Asia/Ho_Chi_Minh"

# Where the accounts service's pages are (the same prefix behind the gateway and embedded).
LOGIN_PATH = "/accounts/login"
REFRESH_PATH = "/accounts/login/refresh"
PASSWORD_PATH = "/accounts/password"  # noqa: S105 - a page, not a secret
LOGOUT_PATH = "/accounts/logout"
HTMX_PATH = "vendor/htmx.min.js"  # under shared/static, fetched at set-up (deploy/web-assets.sh)


@dataclass(frozen=True)
class NavItem:
    path: str
    label: Any  # a lazy text
    roles: tuple[str, ...]


# The menu of the whole application, in the order it shows; each role sees its own items.
AGENCY = ("admin", "agency")
NAV: tuple[NavItem, ...] = (
    NavItem("/reports/", _l("Tổng quan"), AGENCY),
    NavItem("/products/", _l("Tổng quan"), ("establishment",)),
    NavItem("/accounts/units", _l("Đơn vị"), AGENCY),
    NavItem("/accounts/establishments", _l("Cơ sở"), AGENCY),
    NavItem("/accounts/imports", _l("Nhập Excel"), AGENCY),
    NavItem("/accounts/registrations", _l("Đề nghị cấp tài khoản"), AGENCY),
    NavItem("/accounts/accounts", _l("Tài khoản"), AGENCY),
    NavItem("/accounts/password-requests", _l("Yêu cầu mật khẩu"), AGENCY),
    NavItem("/accounts/profile", _l("Hồ sơ cơ sở"), ("establishment",)),
    NavItem("/products/certifications", _l("Chứng nhận"), ("establishment",)),
    NavItem("/products/products", _l("Sản phẩm"), ("establishment",)),
    NavItem("/products/lots", _l("Lô hàng"), ("establishment",)),
    NavItem("/products/shipments", _l("Hàng đến"), ("establishment",)),
    NavItem("/products/recalls", _l("Thu hồi"), ("admin", "agency", "establishment")),
    NavItem("/labels/batches", _l("Tem QR"), ("admin", "agency", "establishment")),
    NavItem("/labels/stats", _l("Thống kê quét"), ("admin", "agency", "establishment")),
    NavItem("/labels/alerts", _l("Cảnh báo & phản ánh"), AGENCY),
    NavItem("/reports/reports", _l("Báo cáo"), AGENCY),
    NavItem("/reports/narratives", _l("Thuyết minh"), AGENCY),
    NavItem("/reports/targets", _l("Chỉ tiêu & kế hoạch"), AGENCY),
)


def home_path(role: str) -> str:
    return "/products/" if role == "establishment" else "/reports/"


def nav_for(principal: Principal | None) -> list[NavItem]:
    if principal is None or principal.must_change_password:
        return []
    return [item for item in NAV if principal.role in item.roles]


# --- set-up ---------------------------------------------------------------------------------


def compile_catalogues(directories: list[Path]) -> None:
    """Compile each `.po` to its `.mo` where the `.mo` is missing or older (no-op when fresh)."""
    for directory in directories:
        for po_path in directory.glob("*/LC_MESSAGES/*.po"):
            mo_path = po_path.with_suffix(".mo")
            if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
                continue
            try:
                with po_path.open("rb") as po_file:
                    catalog = read_po(po_file)
                with mo_path.open("wb") as mo_file:
                    write_mo(mo_file, catalog)
            except OSError as exc:  # a read-only install: the image build compiled them
                log.warning("cannot compile %s: %s", po_path, exc)


def translation_directories(app: Flask) -> list[Path]:
    dirs = [SHARED / "translations"]
    own = Path(app.root_path) / "translations"
    if own.is_dir():
        dirs.append(own)
    return dirs


def init_web(app: Flask) -> None:
    """Shared templates and static files, the language, Flask-Babel, filters and the menu."""
    blueprint = Blueprint(
        "shared_web",
        __name__,
        template_folder=str(SHARED / "templates"),
        static_folder=str(SHARED / "static"),
        static_url_path="/static/shared",
    )
    app.register_blueprint(blueprint)
    app.config.setdefault("SESSION_COOKIE_HTTPONLY", True)
    app.config.setdefault("SESSION_COOKIE_SAMESITE", "Lax")
    app.config["TRACE_HTMX"] = (SHARED / "static" / HTMX_PATH).is_file()  # looked at once
    directories = translation_directories(app)
    compile_catalogues(directories)
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = ";".join(str(d) for d in directories)
    app.config["BABEL_DEFAULT_LOCALE"] = "vi"
    app.config["BABEL_DEFAULT_TIMEZONE"] = TIMEZONE
    Babel(app, locale_selector=lambda: g.get("lang", "vi"), timezone_selector=lambda: TIMEZONE)
    app.jinja_env.filters.update(
        date=format_day, datetime=format_moment, number=format_number, percent=format_share
    )
    app.jinja_env.globals.update(csrf_token=csrf_token, msg=message_text, CSRF_FIELD=CSRF_FIELD)

    @app.before_request
    def _language() -> None:
        chosen = request.args.get("lang")
        g.lang = chosen if chosen in LANGUAGES else request.cookies.get(LANG_COOKIE, "vi")
        if g.lang not in LANGUAGES:
            g.lang = "vi"
        g.set_lang_cookie = chosen in LANGUAGES

    @app.after_request
    def _remember_language(response: Any) -> Any:
        if g.get("set_lang_cookie"):
            response.set_cookie(LANG_COOKIE, g.lang, max_age=365 * 86400, samesite="Lax")
        return response

    @app.context_processor
    def _helpers() -> dict[str, Any]:
        user = g.get("user")
        return {
            "lang": g.get("lang", "vi"),
            "user": user,
            "nav": nav_for(user),
            "home": home_path(user.role) if user else LOGIN_PATH,
            "logout_path": LOGOUT_PATH,
            "password_path": PASSWORD_PATH,
            "htmx_src": _htmx_src(),
            "switch_lang_url": switch_language_url,
        }


def _htmx_src() -> str | None:
    if not current_app.config["TRACE_HTMX"]:
        return None  # not fetched: every page still works without it
    return f"{request.script_root}/static/shared/{HTMX_PATH}"


def switch_language_url(lang: str) -> str:
    args = request.args.to_dict(flat=False)
    args["lang"] = [lang]
    query = "&".join(f"{quote(k)}={quote(v)}" for k, vs in args.items() for v in vs)
    return f"{request.script_root}{request.path}?{query}"


# --- formatting -----------------------------------------------------------------------------


def format_day(value: Any) -> str:
    """dd/mm/yyyy; a moment in time is first put in Asia/Ho_Chi_Minh."""
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(LOCAL_TZ)
        return value.strftime("%d/%m/%Y")
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, str) and value:
        try:
            return format_day(datetime.fromisoformat(value.replace("Z", "+00:00")))
        except ValueError:
            return value
    return ""


def format_moment(value: Any) -> str:
    """dd/mm/yyyy HH:MM in Asia/Ho_Chi_Minh."""
    if isinstance(value, str) and value:
        try:
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return value
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(LOCAL_TZ)
        return value.strftime("%d/%m/%Y %H:%M")
    return format_day(value)


def format_number(value: Any, digits: int | None = None) -> str:
    if value is None or value == "":
        return ""
    if digits is not None:
        return str(format_decimal(value, format=f"#,##0.{'0' * digits}" if digits else "#,##0"))
    return str(format_decimal(value))


def format_share(value: Any) -> str:
    """A fraction (0.825) as a percentage the local way (82,5 %)."""
    if value is None:
        return "—"
    return str(format_percent(value, format="#,##0.#%"))


# --- paged lists ------------------------------------------------------------------------------

PAGE_SIZE = 50
MAX_PAGE = 100_000


@dataclass
class Paged:
    """One page of a list: its rows, how many rows the whole list has, which page of how many."""

    items: list[Any]
    total: int
    page: int
    pages: int


def page_number() -> int:
    """`?page=` (1 when absent or malformed)."""
    raw = request.args.get("page", "1")
    number = int(raw) if raw.isdigit() else 1
    return max(1, min(number, MAX_PAGE))


def paged(
    session: Any,
    stmt: Any,
    *,
    size: int = PAGE_SIZE,
    rows: bool = False,
    options: tuple[Any, ...] = (),
) -> Paged:
    """The page `?page=` of an ordered statement and the number of rows it selects (counted
    once; OFFSET/LIMIT — lists are filtered to a few thousand rows at most before paging).
    `options` (eager loads for the page's rows) apply to the page, not to the count; `rows`
    gives result rows instead of the first column's values. A page past the end is the last."""
    from shared.pagination import count

    total = count(session, stmt)
    pages = max(1, math.ceil(total / size))
    number = min(page_number(), pages)
    limited = stmt.options(*options).offset((number - 1) * size).limit(size)
    items = list(session.execute(limited) if rows else session.scalars(limited))
    return Paged(items, total, number, pages)


def page_url(number: int) -> str:
    """This page's URL with another `page` (the pager macro calls it)."""
    args = {k: v for k, v in request.args.items() if k not in ("page", "lang")}
    args["page"] = str(number)
    return f"{request.script_root}{request.path}?{urlencode(args)}"


# --- CSRF -----------------------------------------------------------------------------------


def csrf_token() -> str:
    token = session.get("_csrf")
    if not token:
        token = secrets.token_urlsafe(32)
        session["_csrf"] = token
    return str(token)


def check_csrf() -> None:
    """Refuse a form POST without the session's token (400). htmx sends it as a header."""
    sent = request.form.get(CSRF_FIELD) or request.headers.get(CSRF_HEADER, "")
    expected = session.get("_csrf", "")
    if not expected or not hmac.compare_digest(str(sent), str(expected)):
        abort(400, description="CSRF token missing or wrong")


# --- login by cookie --------------------------------------------------------------------------


def safe_next(target: str | None, default: str = "/") -> str:
    """Only a path on this site (never `//host` or `https://…`): no open redirect."""
    if not target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return default
    if "\\" in target:
        return default
    return target


def this_url() -> str:
    url = f"{request.script_root}{request.path}"
    if request.query_string:
        url += "?" + request.query_string.decode("latin-1")
    return url


def login_redirect(*, refresh: bool = False) -> Response:
    target = REFRESH_PATH if refresh else LOGIN_PATH
    return cast(Response, redirect(f"{target}?next={quote(this_url(), safe='/')}"))


F = TypeVar("F", bound=Callable[..., Any])


def page(*roles: str, allow_pending_password: bool = False) -> Callable[[F], F]:
    """A page for these roles (none listed: any logged-in person). See the module docstring."""

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                principal = current_principal(optional=True, allow_pending_password=True)
            except Unauthenticated:  # expired, revoked or malformed: try the refresh cookie
                return login_redirect(refresh=True)
            if principal is None or principal.is_service:
                return login_redirect()
            g.user = principal
            if principal.must_change_password and not allow_pending_password:
                return redirect(f"{PASSWORD_PATH}?next={quote(this_url(), safe='/')}")
            if roles and principal.role not in roles:
                abort(403)
            if request.method not in ("GET", "HEAD", "OPTIONS"):
                check_csrf()
            return view(*args, **kwargs)

        # Read by the page matrix test (tests/web/test_page_matrix.py).
        wrapper.page_roles = roles or ("admin", "agency", "establishment")  # type: ignore[attr-defined]
        return cast(F, wrapper)

    return decorator


def user() -> Principal:
    """The logged-in person of a `page` view."""
    return cast(Principal, g.user)


# --- errors on pages ------------------------------------------------------------------------


def message_text(message: Mapping[str, str] | str | None) -> str:
    """A bilingual domain message in the page's language."""
    if message is None:
        return ""
    if isinstance(message, str):
        return message
    return message.get(g.get("lang", "vi")) or message.get("vi", "")


def form_errors(exc: DomainError | ValidationError) -> dict[str, list[str]]:
    """Field → messages in the page's language; `_form` holds what belongs to no field."""
    if isinstance(exc, ValidationError):
        found: dict[str, list[str]] = {}
        for name, msgs in flatten_field_errors(exc.messages).items():
            key = "_form" if name in ("", "_schema") else name
            found.setdefault(key, []).extend(message_text(m) for m in msgs)
        return found
    out: dict[str, list[str]] = {}
    for name, msgs in (exc.fields or {}).items():
        out.setdefault(name or "_form", []).extend(message_text(m) for m in msgs)
    out.setdefault("_form", []).insert(0, message_text(exc.message))
    if "_schema" in out:
        out["_form"].extend(out.pop("_schema"))
    return out


def render_form(template: str, *, errors: Mapping[str, list[str]], **context: Any) -> Any:
    """The form again with its errors: 422, so the transaction of this request rolls back."""
    return render_template(template, errors=errors, **context), 422


def _error_page(status: int, message: Message | str) -> Any:
    titles = {
        400: _l("Yêu cầu không hợp lệ"),
        403: _l("Không có quyền truy cập"),
        404: _l("Không tìm thấy"),
        409: _l("Xung đột dữ liệu"),
        412: _l("Dữ liệu đã thay đổi"),
        413: _l("Tệp quá lớn"),
        422: _l("Dữ liệu không hợp lệ"),
        429: _l("Quá nhiều yêu cầu"),
        503: _l("Dịch vụ tạm thời gián đoạn"),
        500: _l("Lỗi hệ thống"),
    }
    return (
        render_template(
            "error.html",
            status=status,
            title=titles.get(status, _l("Lỗi")),
            detail=message_text(message),
        ),
        status,
    )


def init_pages(blueprint: Blueprint) -> None:
    """HTML answers for errors raised in this blueprint's pages (the API keeps problem+json)."""

    @blueprint.errorhandler(DomainError)
    def _domain(exc: DomainError) -> Any:
        if isinstance(exc, Unauthenticated):
            return login_redirect(refresh=True)
        if exc.commit_anyway:
            g.commit_despite_error = True
        body, status = _error_page(exc.status, exc.message)
        return body, status, dict(exc.headers or {})

    @blueprint.errorhandler(ValidationError)
    def _invalid(exc: ValidationError) -> Any:
        errors = form_errors(exc)
        detail = "; ".join(f"{k}: {' '.join(v)}" for k, v in errors.items())
        return _error_page(422, detail)

    @blueprint.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Any:
        """A database or store outage is a 503 page with Retry-After; anything else is a 500
        page (logged) — an HTML page either way, never a stack trace or a JSON body."""
        from sqlalchemy.orm.exc import StaleDataError

        from shared.errors import _is_unavailable

        if isinstance(exc, HTTPException):
            return exc
        if isinstance(exc, StaleDataError):  # two saves raced past the version check
            return _error_page(
                412,
                Message(
                    "Dữ liệu vừa được người khác thay đổi; hãy tải lại trang và làm lại.",
                    "Someone else has just changed this; reload the page and try again.",
                ),
            )
        if _is_unavailable(exc):
            log.warning("dependency unavailable on a page: %s", exc)
            body, status = _error_page(
                503,
                Message(
                    "Hệ thống đang tạm thời gián đoạn; vui lòng thử lại sau ít phút.",
                    "The system is briefly unavailable; please try again in a few minutes.",
                ),
            )
            return body, status, {"Retry-After": "5"}
        log.exception("unhandled error on a page")
        return _error_page(
            500,
            Message("Lỗi hệ thống; sự cố đã được ghi lại.", "Internal error; it has been logged."),
        )

    for status in (400, 403, 404, 405, 409, 413, 429):

        @blueprint.errorhandler(status)
        def _http(exc: HTTPException) -> Any:
            status_code = exc.code or 500
            generic = {
                400: Message("Yêu cầu không hợp lệ.", "The request is not valid."),
                403: Message(
                    "Bạn không có quyền xem trang này.", "You are not allowed to see this page."
                ),
                404: Message("Không tìm thấy trang này.", "This page does not exist."),
                405: Message("Thao tác không được hỗ trợ.", "This method is not allowed here."),
                409: Message("Dữ liệu xung đột.", "The data conflicts."),
                413: Message("Tệp tải lên quá lớn.", "The upload is too large."),
                429: Message("Quá nhiều yêu cầu; thử lại sau.", "Too many requests; try later."),
            }
            return _error_page(status_code, generic.get(status_code, Message("Lỗi.", "Error.")))


__all__ = [
    "NAV",
    "_",
    "_l",
    "check_csrf",
    "csrf_token",
    "form_errors",
    "init_pages",
    "init_web",
    "page",
    "render_form",
    "safe_next",
    "user",
]
