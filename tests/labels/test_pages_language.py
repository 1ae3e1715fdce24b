"""The public trace page's texts come from the catalogues (`_()`): Vietnamese by default,
English with `?lang=en` (then by the cookie), and the page rendered once per card and
language (web.trace_html) never serves one language's copy to the other."""

from __future__ import annotations

from typing import Any

import pytest

from services.labels import web
from tests.labels.test_trace_page import (  # noqa: F401 - the autouse fixture
    Goods,
    fresh_caches,
    item_path,
    make_goods,
)

VIETNAMESE = ("Các công đoạn", "Thời hạn sử dụng", "365 ngày", "Mã truy xuất hợp lệ", "Lô sản xuất")
ENGLISH = ("Stages of the chain", "Shelf life", "365 days", "A valid traceability code")


@pytest.fixture
def tea(lworld: Any, psession: Any, lsession: Any) -> Goods:
    return make_goods(lworld, psession, lsession)


def text(response: Any) -> str:
    return str(response.get_data(as_text=True))


def assert_vietnamese(html: str) -> None:
    assert 'lang="vi"' in html
    for expected in VIETNAMESE:
        assert expected in html, expected
    for english in ENGLISH:
        assert english not in html, english


def assert_english(html: str) -> None:
    assert 'lang="en"' in html
    for expected in ENGLISH:
        assert expected in html, expected
    assert "Production lot" in html
    for vietnamese in VIETNAMESE:
        assert vietnamese not in html, vietnamese


def test_vietnamese_by_default_english_on_request(
    lclient: Any, labels_app: Any, tea: Goods
) -> None:
    assert_vietnamese(text(lclient.get(item_path(labels_app, tea.batch, 1))))
    english = lclient.get(item_path(labels_app, tea.batch, 2) + "?lang=en")
    assert_english(text(english))
    assert "lang=en" in english.headers.get("Set-Cookie", "")
    # The cookie keeps English; `?lang=vi` switches back; the card cached in one language is
    # never shown in the other.
    assert_english(text(lclient.get(item_path(labels_app, tea.batch, 3))))
    assert_vietnamese(text(lclient.get(item_path(labels_app, tea.batch, 4) + "?lang=vi")))
    fresh = labels_app.test_client()  # another shopper, no cookie
    assert_vietnamese(text(fresh.get(item_path(labels_app, tea.batch, 5))))


def test_unknown_codes_and_the_report_form_in_both_languages(
    lclient: Any, labels_app: Any, tea: Goods
) -> None:
    missing = lclient.get("/q/ZZZZZZZZZZ?lang=en")
    assert missing.status_code == 404
    assert "No traceability information found" in text(missing)
    missing = labels_app.test_client().get("/q/ZZZZZZZZZZ")
    assert "Không tìm thấy thông tin truy xuất" in text(missing)

    path = item_path(labels_app, tea.batch, 6) + "/report"
    html = text(labels_app.test_client().get(path))
    assert "Nghi hàng giả, hàng nhái" in html
    assert "Gửi phản ánh" in html
    html = text(labels_app.test_client().get(path + "?lang=en"))
    assert "Suspected fake" in html
    assert "Product quality" in html
    assert "Send the report" in html
    assert "Gửi phản ánh" not in html


def test_a_warm_page_is_not_rendered_again(
    lclient: Any, labels_app: Any, tea: Goods, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The translation happens when the page is first rendered for a card and language;
    the next scans only put their code in (no template, no catalogue look-up)."""
    for lang in ("vi", "en"):
        lclient.get(item_path(labels_app, tea.batch, 7) + f"?lang={lang}")
    calls: list[str] = []
    real = web.render_template

    def counting(template: str, **context: Any) -> str:
        calls.append(template)
        return real(template, **context)

    monkeypatch.setattr(web, "render_template", counting)
    assert_english(text(lclient.get(item_path(labels_app, tea.batch, 8) + "?lang=en")))
    assert_vietnamese(text(lclient.get(item_path(labels_app, tea.batch, 9) + "?lang=vi")))
    assert calls == []
