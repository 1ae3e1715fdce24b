"""What the accounts page tests share: logging a test client in by the cookie, a known CSRF
token in its session, and a response's text."""

from __future__ import annotations

from typing import Any

CSRF = "csrf-test-token"


def login(client: Any, world: Any, who: str | None) -> None:
    """Log `client` in as `who` of the world (None: nobody), with `CSRF` as its form token."""
    client.delete_cookie("trace_access")
    if who:
        client.set_cookie("trace_access", world.token(who))
    with client.session_transaction() as s:
        s["_csrf"] = CSRF


def html(response: Any) -> str:
    return str(response.get_data(as_text=True))
