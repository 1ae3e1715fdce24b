"""Notifications in the system: a recall tells every establishment it touches and the unit
managing each; everyone reads the ones in their scope; only the addressee marks one read."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import func, select

from services.products.models import Notification
from tests.products.factories import auth, mint_token
from tests.products.test_recalls import Chain, build_chain, open_recall

pytestmark = pytest.mark.smoke

URL = "/api/v1/notifications/"


@pytest.fixture
def chain(psession: Any, pworld: Any) -> Chain:
    return build_chain(psession, pworld)


@pytest.fixture
def opened(pclient: Any, pworld: Any, chain: Chain) -> dict[str, Any]:
    """A recall of est_a's lot reaching est_a2 and est_b (the latter also has goods on the way):
    three establishment notifications and three to their units (A1, A1, B)."""
    response = open_recall(pclient, pworld, "owner_a", chain.origin)
    assert response.status_code == 201
    body: dict[str, Any] = response.json
    return body


def commune_agency(products_app: Any, pworld: Any) -> dict[str, str]:
    """An agency account of commune A1 itself (agency_a is the district above it)."""
    settings = products_app.config["SETTINGS"]
    return auth(mint_token(settings, role="agency", unit_id=pworld.unit_a1.id))


def listed(client: Any, headers: dict[str, str], query: str = "") -> list[dict[str, Any]]:
    response = client.get(f"{URL}{query}", headers=headers)
    assert response.status_code == 200, response.json
    items: list[dict[str, Any]] = response.json
    return items


def test_who_reads_which(pclient: Any, pworld: Any, opened: dict[str, Any]) -> None:
    assert pclient.get(URL).status_code == 401
    everything = listed(pclient, pworld.headers("admin"))
    assert len(everything) == 6
    assert {n["recall_id"] for n in everything} == {opened["id"]}
    assert all(n["kind"] == "recall_opened" and n["read"] is False for n in everything)
    for who, est in (
        ("owner_a", pworld.est_a),
        ("owner_a2", pworld.est_a2),
        ("owner_b", pworld.est_b),
    ):
        mine = listed(pclient, pworld.headers(who))
        assert len(mine) == 1, who
        assert mine[0]["establishment_id"] == str(est.id)
        assert mine[0]["unit_id"] is None
        assert opened["number"] in mine[0]["title_vi"]
        assert opened["number"] in mine[0]["title_en"]
        assert "Dư lượng thuốc" in mine[0]["title_vi"]  # the reason
    district_a = listed(pclient, pworld.headers("agency_a"))
    assert {n["establishment_id"] for n in district_a} == {
        str(pworld.est_a.id),
        str(pworld.est_a2.id),
    }
    assert {n["unit_id"] for n in district_a} == {str(pworld.unit_a1.id)}
    assert pworld.est_a2.name in next(
        n["title_vi"] for n in district_a if n["establishment_id"] == str(pworld.est_a2.id)
    )
    district_b = listed(pclient, pworld.headers("agency_b"))
    assert [n["unit_id"] for n in district_b] == [str(pworld.unit_b.id)]
    # `mine`: only those addressed to the caller itself
    assert listed(pclient, pworld.headers("agency_a"), "?mine=true") == []
    assert len(listed(pclient, pworld.headers("agency_b"), "?mine=true")) == 1
    assert len(listed(pclient, pworld.headers("owner_b"), "?mine=true")) == 1
    assert listed(pclient, pworld.headers("admin"), "?mine=true") == []
    # filters
    assert len(listed(pclient, pworld.headers("admin"), f"?recall_id={opened['id']}")) == 6
    assert listed(pclient, pworld.headers("admin"), f"?recall_id={uuid.uuid4()}") == []
    assert listed(pclient, pworld.headers("admin"), "?kind=recall_closed") == []


def test_only_the_addressee_marks_read(
    products_app: Any, pclient: Any, pworld: Any, psession: Any, opened: dict[str, Any]
) -> None:
    own_a2 = listed(pclient, pworld.headers("owner_a2"))[0]["id"]
    unit_a1 = listed(pclient, pworld.headers("agency_a"))[0]["id"]
    unit_b = listed(pclient, pworld.headers("agency_b"))[0]["id"]

    def read(who: str | dict[str, str], notification_id: str) -> Any:
        headers = pworld.headers(who) if isinstance(who, str) else who
        return pclient.post(f"{URL}{notification_id}/read", headers=headers)

    expectations = {  # establishment notification of est_a2
        "anonymous": 401,
        "admin": 403,  # reads everything, but it is not addressed to the administrator
        "agency_a": 404,  # agencies read their units' notifications, not establishments'
        "agency_b": 404,
        "owner_a": 404,
        "owner_b": 404,
    }
    for who, status in expectations.items():
        response = read(who, own_a2)
        assert response.status_code == status, (who, response.json)
        if status != 401:
            assert response.json["message"]["vi"]
            assert response.json["message"]["en"]
    done = read("owner_a2", own_a2)
    assert done.status_code == 200
    assert done.json["read"] is True
    first_read = done.json["read_at"]
    assert read("owner_a2", own_a2).json["read_at"] == first_read  # again: unchanged

    # a unit's notification: the district above it reads it but does not clear it
    assert read("agency_a", unit_a1).status_code == 403
    assert read("agency_b", unit_a1).status_code == 404
    assert read("owner_a", unit_a1).status_code == 404
    assert read(commune_agency(products_app, pworld), unit_a1).status_code == 200
    assert read("agency_b", unit_b).status_code == 200
    assert read("admin", str(uuid.uuid4())).status_code == 404

    unread = listed(pclient, pworld.headers("admin"), "?unread=true")
    assert len(unread) == 3
    assert len(listed(pclient, pworld.headers("admin"), "?unread=false")) == 3
    assert listed(pclient, pworld.headers("owner_a2"), "?unread=true") == []


def test_read_all_marks_only_ones_own(
    products_app: Any, pclient: Any, pworld: Any, opened: dict[str, Any]
) -> None:
    assert pclient.post(f"{URL}read-all").status_code == 401
    marked = pclient.post(f"{URL}read-all", headers=pworld.headers("owner_b"))
    assert marked.status_code == 200
    assert marked.json == {"marked": 1}
    assert pclient.post(f"{URL}read-all", headers=pworld.headers("owner_b")).json == {"marked": 0}
    assert pclient.post(f"{URL}read-all", headers=pworld.headers("agency_a")).json == {"marked": 0}
    assert pclient.post(f"{URL}read-all", headers=pworld.headers("admin")).json == {"marked": 0}
    commune = commune_agency(products_app, pworld)
    assert pclient.post(f"{URL}read-all", headers=commune).json == {"marked": 2}
    still_unread = listed(pclient, pworld.headers("admin"), "?unread=true")
    assert sorted((n["establishment_id"], n["unit_id"] is None) for n in still_unread) == sorted(
        [
            (str(pworld.est_a.id), True),
            (str(pworld.est_a2.id), True),
            (str(pworld.est_b.id), False),
        ]
    )


def test_pages(pclient: Any, pworld: Any, opened: dict[str, Any]) -> None:
    first = pclient.get(f"{URL}?page=1&page_size=4", headers=pworld.headers("admin"))
    assert len(first.json) == 4
    assert '"total": 6' in first.headers["X-Pagination"]
    second = pclient.get(f"{URL}?page=2&page_size=4", headers=pworld.headers("admin"))
    assert len(second.json) == 2
    assert {n["id"] for n in first.json}.isdisjoint({n["id"] for n in second.json})


@pytest.mark.parametrize(
    "query", ["?unread=perhaps", "?kind=spam", "?recall_id=12", "?mine=2x", "?page=0"]
)
def test_bad_query(query: str, pclient: Any, pworld: Any, psession: Any, opened: Any) -> None:
    response = pclient.get(f"{URL}{query}", headers=pworld.headers("owner_a"))
    assert response.status_code == 422, response.json
    for messages in response.json["errors"].values():
        assert all(m["vi"] and m["en"] for m in messages)


def test_read_with_a_body_or_a_bad_id_changes_nothing(
    pclient: Any, pworld: Any, psession: Any, opened: Any
) -> None:
    response = pclient.post(f"{URL}not-a-uuid/read", headers=pworld.headers("owner_a"))
    assert response.status_code == 404
    psession.expire_all()
    assert (
        psession.scalar(
            select(func.count()).select_from(Notification).where(Notification.read_at.is_not(None))
        )
        == 0
    )
