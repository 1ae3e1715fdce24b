"""Dates dd/mm/yyyy in Asia/Ho_Chi_Minh, numbers the local way, safe redirects."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from shared.web import format_day, format_moment, format_number, format_share, safe_next

pytestmark = pytest.mark.smoke


def test_days_and_moments_are_local() -> None:
    assert format_day(date(2024, 3, 9)) == "09/03/2024"
    # 20:30 UTC on the 9th is 03:30 on the 10th in Hà Nội.
    late = datetime(2024, 3, 9, 20, 30, tzinfo=UTC)
    assert format_day(late) == "10/03/2024"
    assert format_moment(late) == "10/03/2024 03:30"
    assert format_moment("2024-03-09T20:30:00Z") == "10/03/2024 03:30"
    assert format_day(None) == ""
    assert format_day("không phải ngày") == "không phải ngày"


@pytest.mark.parametrize(
    ("lang", "number", "share"), [("vi", "30.000", "82,5%"), ("en", "30,000", "82.5%")]
)
def test_numbers_follow_the_language(accounts_app: Any, lang: str, number: str, share: str) -> None:
    with accounts_app.test_request_context(f"/login?lang={lang}"):
        accounts_app.preprocess_request()
        assert format_number(30000) == number
        assert format_share(0.825).replace("\xa0", "") == share
        assert format_share(None) == "—"


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/products/lots?x=1", "/products/lots?x=1"),
        ("//evil.example", "/"),
        ("https://evil.example/a", "/"),
        ("/\\evil.example", "/"),
        ("javascript:alert(1)", "/"),
        ("", "/"),
        (None, "/"),
    ],
)
def test_next_is_only_a_path_of_this_site(target: str | None, expected: str) -> None:
    assert safe_next(target) == expected
