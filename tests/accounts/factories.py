"""Test data: factory_boy factories over the accounts models, and tokens without argon2 cost.

Factories build rows directly (fast); flows under test go through the domain and the API.
"""

from __future__ import annotations

import uuid
from functools import cache
from typing import Any

import factory
from factory.alchemy import SQLAlchemyModelFactory
from sqlalchemy import select
from sqlalchemy.orm import Session

from services.accounts.domain import passwords
from services.accounts.domain.login import TokenIssuer, _open_session
from services.accounts.models import Account, Establishment, Unit, UsernameHistory
from shared.text import fold

PASSWORD = "Mật khẩu thử nghiệm dài"


@cache
def password_hash() -> str:
    return passwords.hash_password(PASSWORD)


class _Base(SQLAlchemyModelFactory):  # type: ignore[misc]
    class Meta:
        abstract = True
        sqlalchemy_session_persistence = "flush"


class UnitFactory(_Base):
    class Meta:
        model = Unit

    id = factory.LazyFunction(uuid.uuid4)
    code = factory.Sequence(lambda n: f"U{n:04d}")
    name = factory.Sequence(lambda n: f"Đơn vị thử {n}")
    name_folded = factory.LazyAttribute(lambda o: fold(o.name))
    level = "district"
    parent = None
    parent_id = factory.LazyAttribute(lambda o: o.parent.id if o.parent else None)
    path = factory.LazyAttribute(lambda o: (o.parent.path if o.parent else "/") + f"{o.id}/")
    login_prefix = factory.LazyAttribute(lambda o: o.code.lower())
    status = "active"


class EstablishmentFactory(_Base):
    class Meta:
        model = Establishment

    id = factory.LazyFunction(uuid.uuid4)
    name = factory.Sequence(lambda n: f"Cơ sở Đầm Hà số {n}")
    name_folded = factory.LazyAttribute(lambda o: fold(o.name))
    business_registration_no = factory.Sequence(lambda n: f"57{n:08d}")
    unit = factory.SubFactory(UnitFactory)


class AccountFactory(_Base):
    class Meta:
        model = Account

    id = factory.LazyFunction(uuid.uuid4)
    username = factory.Sequence(lambda n: f"user{n:05d}")
    display_name = factory.LazyAttribute(lambda o: o.username)
    role = "agency"
    unit = None
    establishment = None
    status = "active"
    password_hash = factory.LazyFunction(password_hash)
    must_change_password = False
    token_version = 1

    @factory.post_generation
    def history(obj: Account, create: bool, extracted: Any, **kwargs: Any) -> None:
        if create:
            session = AccountFactory._meta.sqlalchemy_session
            session.add(UsernameHistory(account_id=obj.id, username=obj.username))
            session.flush()


def bind_factories(session: Session) -> None:
    for f in (UnitFactory, EstablishmentFactory, AccountFactory):
        f._meta.sqlalchemy_session = session


def token_for(app: Any, session: Session, account: Account) -> str:
    """A real access token for `account`, through a real login session (no password check)."""
    issuer: TokenIssuer = app.extensions["accounts"].issuer
    pair = _open_session(session, account, issuer, "pytest")
    session.commit()
    return pair.access_token


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def unit_by_code(session: Session, code: str) -> Unit:
    unit = session.scalar(select(Unit).where(Unit.code == code))
    assert unit is not None
    return unit
