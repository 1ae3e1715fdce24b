"""Server-rendered pages: one layout and stylesheet for every service, CSRF on every form,
Vietnamese first with an English switch (`?lang=en`, remembered in a cookie).

Jinja escapes every value (a name `<script>` shows as text). The full page set and
Flask-Babel catalogues come with the web-pages issue; this is the shared ground they build on.
"""

from __future__ import annotations

import hmac
import secrets
from pathlib import Path
from typing import Any

from flask import Blueprint, Flask, abort, g, request, session

SHARED = Path(__file__).parent
LANGUAGES = ("vi", "en")
LANG_COOKIE = "lang"


def init_web(app: Flask) -> None:
    """Shared templates and static files, the language, and CSRF checks for forms."""
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
        return {
            "lang": g.get("lang", "vi"),
            "csrf_token": csrf_token,
            "t": lambda vi, en: en if g.get("lang") == "en" else vi,
        }


def csrf_token() -> str:
    token = session.get("_csrf")
    if not token:
        token = secrets.token_urlsafe(32)
        session["_csrf"] = token
    return str(token)


def check_csrf() -> None:
    """Refuse a form POST without the session's token (400)."""
    sent = request.form.get("_csrf", "")
    expected = session.get("_csrf", "")
    if not expected or not hmac.compare_digest(str(sent), str(expected)):
        abort(400, description="CSRF token missing or wrong")
