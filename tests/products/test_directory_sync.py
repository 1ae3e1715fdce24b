"""The products service's copy of the accounts directory: pulled through the accounts
service's real internal API (in-process WSGI transport), incrementally, with a fallback for
an establishment not yet copied; and the doorbell the accounts service rings on a change."""

from __future__ import annotations

import base64
import inspect
import json
from typing import Any

import pytest

from services.products.domain import directory
from services.products.models import DirectoryEstablishment, DirectoryState, DirectoryUnit
from tests.accounts.factories import EstablishmentFactory, auth

pytestmark = pytest.mark.smoke


@pytest.fixture
def wired(products_app: Any, world: Any, products_db: Any) -> Any:
    """Settings whose service calls reach the accounts app in-process (tests/conftest.py)."""
    return products_app.config["SETTINGS"]


def test_full_then_incremental_sync(
    wired: Any, world: Any, session: Any, products_db: Any, products_app: Any
) -> None:
    psession = products_db.session()
    with products_app.app_context():
        counts = directory.sync(psession, wired)
        psession.commit()
    assert counts["units"] >= 4
    assert counts["establishments"] >= 2
    copied = psession.get(DirectoryEstablishment, world.est_a.id)
    assert copied.name == "HTX Chè Đường Hoa"
    assert copied.unit_path == world.unit_a1.path
    assert psession.get(DirectoryUnit, world.unit_b.id).code == "DIST-B"
    cursor = psession.get(DirectoryState, "accounts").cursor
    assert cursor is not None

    # A move and a suspension in the accounts service reach the copy on the next pull.
    world.est_a.unit = world.unit_b
    world.owner_a.status = "suspended"
    session.commit()
    with products_app.app_context():
        directory.sync(psession, wired)
        psession.commit()
    psession.expire_all()
    copied = psession.get(DirectoryEstablishment, world.est_a.id)
    assert copied.unit_id == world.unit_b.id
    assert copied.unit_path == world.unit_b.path
    assert copied.account_status == "suspended"
    psession.close()


def test_unknown_establishment_is_fetched_once(
    wired: Any, world: Any, session: Any, products_db: Any, products_app: Any
) -> None:
    newcomer = EstablishmentFactory(name="Cơ sở mới Tiên Yên", unit=world.unit_a1)
    session.commit()
    psession = products_db.session()
    with products_app.app_context():
        found = directory.get_establishment(psession, newcomer.id, settings=wired)
    assert found is not None
    assert found.name == "Cơ sở mới Tiên Yên"
    assert psession.get(DirectoryUnit, world.unit_a1.id) is not None
    psession.close()


def test_accounts_down_is_a_clear_failure(products_app: Any, products_db: Any) -> None:
    from shared.http import ServiceCallFailed

    settings = products_app.config["SETTINGS"]
    settings = settings.with_(
        accounts_url="http://127.0.0.1:9/accounts",  # nothing listens there
        http_retries=0,
        extra={k: v for k, v in settings.extra.items() if k != "http_transport"},
    )
    psession = products_db.session()
    with products_app.app_context(), pytest.raises(ServiceCallFailed):
        directory.sync(psession, settings)
    psession.close()


@pytest.mark.postgres_only
def test_a_change_rings_the_products_doorbell(
    client: Any, world: Any, accounts_app: Any, settings: Any, celery_eager: Any
) -> None:
    """The broker (the test's Redis database) receives `products.sync_directory` after the
    commit of an establishment edit."""
    import redis

    broker = redis.Redis.from_url(settings.redis_url)
    broker.delete("default")
    celery_eager.conf.task_always_eager = False
    try:
        response = client.patch(
            f"/api/v1/establishments/{world.est_a.id}",
            json={"phone": "0203 3888 999"},
            headers={**auth(world.token("agency_a")), "If-Match": f'"{world.est_a.version}"'},
        )
    finally:
        celery_eager.conf.task_always_eager = True
    assert response.status_code == 200, response.json
    messages = [json.loads(m) for m in broker.lrange("default", 0, -1)]
    assert sorted(m["headers"]["task"] for m in messages) == [
        "labels.sync_directory",
        "products.sync_directory",
        "reports.sync_directory",
    ]


@pytest.mark.postgres_only
def test_a_lot_change_rings_the_labels_doorbell(
    pclient: Any, pworld: Any, psession: Any, settings: Any, celery_eager: Any
) -> None:
    """After a lot is put on hold, the broker receives `labels.refresh_cards` with its id."""
    import redis

    from tests.products.factories import LotFactory, ProductFactory

    lot = LotFactory(product=ProductFactory(establishment_id=pworld.est_a.id))
    psession.commit()
    broker = redis.Redis.from_url(settings.redis_url)
    broker.delete("default")
    celery_eager.conf.task_always_eager = False
    try:
        response = pclient.post(
            f"/api/v1/lots/{lot.id}/status",
            json={"status": "on_hold", "reason": "Chờ kiểm nghiệm"},
            headers=pworld.headers("owner_a"),
        )
    finally:
        celery_eager.conf.task_always_eager = True
    assert response.status_code == 200, response.json
    messages = [json.loads(m) for m in broker.lrange("default", 0, -1)]
    assert [m["headers"]["task"] for m in messages] == ["labels.refresh_cards"]
    body = json.loads(base64.b64decode(messages[0]["body"]))
    args, kwargs, _embed = body
    assert args == []
    # The keyword names must be those of the labels task, or the worker refuses the message.
    assert set(kwargs) == {"lot_ids", "product_ids", "establishment_ids"}
    assert kwargs["lot_ids"] == [str(lot.id)]
    from services.labels.tasks import refresh_cards

    inspect.signature(refresh_cards.run).bind(**kwargs)
