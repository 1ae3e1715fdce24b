"""Every page of every service, found in the apps' URL maps: an anonymous visitor is sent to
the login page (only the public pages answer), a role the page is not for gets 403, and a
form posted without its CSRF token is refused — for pages added later too."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from werkzeug.routing import Rule

from tests.products.factories import mint_token

PUBLIC = {
    "accounts_web.login",
    "accounts_web.refresh",
    "accounts_web.logout",
    "accounts_web.forgot",
    "accounts_web.register",
    "accounts_web.status",
}
ROLES = ("admin", "agency", "establishment")


def page_rules(app: Any) -> list[tuple[Rule, Any]]:
    found = []
    for rule in app.url_map.iter_rules():
        blueprint = rule.endpoint.partition(".")[0]
        public_or_assets = blueprint in ("labels_web", "shared_web")
        if blueprint.endswith(("_web", "_pages")) and not public_or_assets:
            found.append((rule, app.view_functions[rule.endpoint]))
    return found


def concrete(rule: Rule) -> str:
    values: dict[str, Any] = {}
    for name in rule.arguments:
        converter = rule._converters[name]
        kind = type(converter).__name__
        if kind == "AnyConverter":
            values[name] = sorted(converter.items)[0]  # type: ignore[attr-defined]
        else:
            values[name] = (
                uuid.uuid4() if kind == "UUIDConverter" else 1 if "Integer" in kind else "x"
            )
    return str(rule.build(values, append_unknown=False)[1])


def all_pages(apps: dict[str, Any]) -> list[tuple[str, Any, Rule, Any]]:
    return [(name, app, rule, view) for name, app in apps.items() for rule, view in page_rules(app)]


@pytest.fixture
def apps(accounts_app: Any, products_app: Any, labels_app: Any, reports_app: Any) -> Any:
    return {
        "accounts": accounts_app,
        "products": products_app,
        "labels": labels_app,
        "reports": reports_app,
    }


def test_every_page_declares_who_may_open_it(apps: dict[str, Any]) -> None:
    pages = all_pages(apps)
    assert len(pages) >= 10
    undeclared = [
        f"{name}:{rule.rule}"
        for name, _app, rule, view in pages
        if rule.endpoint not in PUBLIC and not hasattr(view, "page_roles")
    ]
    assert not undeclared, f"pages without @page(...): {undeclared}"


def test_anonymous_visitors_go_to_the_login_page(apps: dict[str, Any], db: Any) -> None:
    for name, app, rule, _view in all_pages(apps):
        if rule.endpoint in PUBLIC or "GET" not in (rule.methods or ()):
            continue
        path = concrete(rule)
        answer = app.test_client().get(path)
        assert answer.status_code == 302, (name, path, answer.status_code)
        assert answer.headers["Location"].startswith("/accounts/login?next="), (name, path)


def test_other_roles_are_refused(apps: dict[str, Any], app_settings: Any, db: Any) -> None:
    tokens = {
        role: mint_token(
            app_settings,
            role=role,
            unit_id=uuid.uuid4() if role == "agency" else None,
            establishment_id=uuid.uuid4() if role == "establishment" else None,
        )
        for role in ROLES
    }
    checked = 0
    for name, app, rule, view in all_pages(apps):
        allowed = getattr(view, "page_roles", None)
        if allowed is None:
            continue
        path = concrete(rule)
        for role in ROLES:
            if role in allowed:
                continue
            client = app.test_client()
            client.set_cookie("trace_access", tokens[role])
            method = "GET" if "GET" in (rule.methods or ()) else "POST"
            answer = client.open(path, method=method)
            assert answer.status_code == 403, (name, path, role, answer.status_code)
            assert "text/html" in answer.content_type
            checked += 1
    assert checked > 0


def test_forms_need_their_csrf_token(apps: dict[str, Any], app_settings: Any, db: Any) -> None:
    tokens = {
        role: mint_token(
            app_settings,
            role=role,
            unit_id=uuid.uuid4() if role == "agency" else None,
            establishment_id=uuid.uuid4() if role == "establishment" else None,
        )
        for role in ROLES
    }
    for name, app, rule, view in all_pages(apps):
        allowed = getattr(view, "page_roles", None)
        if allowed is None or "POST" not in (rule.methods or ()):
            continue
        client = app.test_client()
        client.set_cookie("trace_access", tokens[allowed[0]])
        answer = client.post(concrete(rule), data={"reason": "x"})
        assert answer.status_code == 400, (name, rule.rule, answer.status_code)
