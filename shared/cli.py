"""Command line: `python -m shared.cli {migrate,seed-demo,create-admin,run,check-config}`.

`run` is what `make run` calls: migrate, seed the demo province, then serve every service at
http://127.0.0.1:$PORT under gunicorn with a Celery worker (all queues) and beat, until
interrupted. Children are stopped together: if one dies, the rest are stopped too.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from shared.config import PROJECT_ROOT, QUEUES, ConfigError, Settings, load_settings
from shared.keys import ensure_local_secrets
from shared.logs import configure_logging


def _settings() -> Settings:
    try:
        return ensure_local_secrets(load_settings())
    except ConfigError as exc:
        sys.exit(f"configuration error: {exc}")


def cmd_migrate(args: argparse.Namespace) -> None:
    from shared.migrate import upgrade

    settings = _settings()
    configure_logging(settings.log_format or "text", settings.log_level)
    upgrade(settings, args.services or None)


def cmd_seed_demo(_args: argparse.Namespace) -> None:
    settings = _settings()
    if settings.is_production:
        sys.exit("seed-demo refuses to run in production mode")
    from services.accounts.seed import seed_demo
    from shared.db import Database

    database = Database(settings.database_url("accounts"), service="accounts")
    with database.transaction() as session:
        logins = seed_demo(
            session,
            admin_username=settings.demo_admin_username,
            admin_password=settings.demo_admin_password,
        )
    lots = _seed_products(settings, database)
    reports = _seed_reports(settings, database)
    labels = _seed_labels(settings, database)
    database.dispose()
    if lots:
        print(f"Demo products: {lots} lots with their production diary and shipments.")
    if reports:
        print(f"Demo reports: {reports}.")
    if set(labels) - {"units", "establishments"}:
        print(
            f"Demo labels: {labels.get('codes', 0)} QR codes, {labels.get('scans', 0)} scans, "
            f"{labels.get('alerts', 0)} counterfeit alert, "
            f"{labels.get('problem_reports', 0)} problem report, "
            f"{labels.get('batches', 0)} label batch (its PDF rendered by the worker)."
        )
    print("\nDemo logins (tài khoản trình diễn):")
    for login in logins:
        print(
            f"  {login.role:<14} {login.username:<16} password: {login.password!r}"
            f"  — {login.acts_for}"
        )


def _seed_products(settings: Any, accounts: Any) -> int:
    """The products service's demo data. Its directory copy is filled from the accounts
    service's own directory payload (the one its internal API serves), in-process: at set-up
    no service is running yet."""
    from services.accounts.domain import directory as accounts_directory
    from services.products.seed import seed_demo as seed_products
    from shared.db import Database

    with accounts.transaction() as session:
        payload = {
            "units": accounts_directory.units(session),
            "establishments": accounts_directory.establishments(session, limit=1_000_000),
        }
    products = Database(settings.database_url("products"), service="products")
    try:
        with products.transaction() as session:
            return seed_products(session, payload)
    finally:
        products.dispose()


def _seed_reports(settings: Any, accounts: Any) -> dict[str, int]:
    """The reports service's demo data (plans, the published Appendix 01, narratives), its
    unit tree copied in-process like the products service's."""
    from services.accounts.domain import directory as accounts_directory
    from services.reports.seed import seed_demo as seed_reports
    from shared.db import Database

    with accounts.transaction() as session:
        payload = {"units": accounts_directory.units(session)}
    reports = Database(settings.database_url("reports"), service="reports")
    try:
        with reports.transaction() as session:
            return seed_reports(session, payload)
    finally:
        reports.dispose()


def labels_seed_payload(accounts_session: Any, products_session: Any) -> dict[str, Any]:
    """What the labels demo seed is given: the accounts directory (as its internal API serves
    it) and the demo cooperative's squid cake lots, read from the products database."""
    from sqlalchemy import select

    from services.accounts.domain import directory as accounts_directory
    from services.products.models import DirectoryEstablishment, Lot, Product
    from services.products.seed import CATALOGUE, DEMO_BRN

    lots = products_session.execute(
        select(Lot.id, Lot.product_id, Lot.code, Lot.production_date)
        .join(Product, Product.id == Lot.product_id)
        .join(DirectoryEstablishment, DirectoryEstablishment.id == Product.establishment_id)
        .where(
            DirectoryEstablishment.business_registration_no == DEMO_BRN,
            Product.code == CATALOGUE[0]["code"],
        )
        .order_by(Lot.production_date, Lot.code)
    ).all()
    return {
        "units": accounts_directory.units(accounts_session),
        "establishments": accounts_directory.establishments(accounts_session, limit=1_000_000),
        "lots": [
            {
                "id": str(lot.id),
                "product_id": str(lot.product_id),
                "code": lot.code,
                "production_date": lot.production_date.isoformat() if lot.production_date else None,
            }
            for lot in lots
        ],
    }


def _seed_labels(settings: Settings, accounts: Any) -> dict[str, int]:
    """The labels service's demo data: its directory copy filled like the products
    service's, then codes, scans, an alert, a report and a label batch. Codes and batches read
    the products service's public cards over HTTP: at set-up no service is running, so the
    products app answers in-process (a WSGI transport, as the embedded runner routes it). The
    batch's print job is sent to the broker after the commit, for the worker `run` starts."""
    import httpx
    from werkzeug.exceptions import NotFound
    from werkzeug.middleware.dispatcher import DispatcherMiddleware

    from services.labels.seed import seed_demo as seed_labels
    from services.products.app import create_app as create_products_app
    from shared.db import Database, get_database

    products_app = create_products_app(settings)  # also points Celery at the broker
    products = get_database(products_app)
    gateway = DispatcherMiddleware(NotFound(), {"/products": products_app.wsgi_app})
    local = settings.with_(
        products_url="http://seed.invalid/products",
        extra={**settings.extra, "http_transport": httpx.WSGITransport(app=gateway)},
    )
    labels = Database(settings.database_url("labels"), service="labels")
    try:
        with accounts.transaction() as accounts_session, products.transaction() as session:
            payload = labels_seed_payload(accounts_session, session)
        with labels.transaction() as session:
            return seed_labels(session, payload, local)
    finally:
        labels.dispose()
        products.dispose()


def cmd_create_admin(args: argparse.Namespace) -> None:
    """The first administrator of a new installation (production included): prints a
    one-time password that must be changed at first login."""
    from services.accounts.domain import accounts as account_ops
    from services.accounts.seed import SYSTEM
    from shared.db import Database
    from shared.errors import DomainError

    settings = _settings()
    database = Database(settings.database_url("accounts"), service="accounts")
    try:
        with database.transaction() as session:
            granted = account_ops.grant(
                session,
                actor=SYSTEM,
                role="admin",
                username=args.username,
                display_name=args.display_name or args.username,
                reason="Tạo quản trị viên đầu tiên (create-admin)",
            )
    except DomainError as exc:
        sys.exit(f"{exc.message['en']} / {exc.message['vi']} {exc.fields or ''}")
    finally:
        database.dispose()
    print(
        f"administrator {granted.account.username} created; one-time password: "
        f"{granted.one_time_password}"
    )


def cmd_check_config(_args: argparse.Namespace) -> None:
    settings = _settings()
    print(f"configuration is valid (mode: {settings.mode})")


def cmd_run(args: argparse.Namespace) -> None:
    settings = _settings()
    cmd_migrate(argparse.Namespace(services=None))
    if not settings.is_production:
        cmd_seed_demo(args)
    Path(settings.var_dir).mkdir(parents=True, exist_ok=True)
    python = sys.executable
    bin_dir = Path(python).parent
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    children = {
        "web": [
            str(bin_dir / "gunicorn"),
            "-c",
            str(PROJECT_ROOT / "deploy" / "gunicorn.conf.py"),
            "--bind",
            f"127.0.0.1:{settings.port}",
            "shared.embedded:create_embedded_app()",
        ],
        "worker": [
            str(bin_dir / "celery"),
            "-A",
            "shared.worker",
            "worker",
            "-Q",
            ",".join(QUEUES),
            "--concurrency",
            "2",
            "--loglevel",
            "INFO",
            "--hostname",
            "embedded@%h",
        ],
        "beat": [
            str(bin_dir / "celery"),
            "-A",
            "shared.worker",
            "beat",
            "--loglevel",
            "INFO",
            "--schedule",
            str(Path(settings.var_dir) / "celerybeat-schedule"),
        ],
    }
    processes = {
        name: subprocess.Popen(command, cwd=PROJECT_ROOT, env=env)  # noqa: S603 - fixed argv
        for name, command in children.items()
    }
    print(
        f"\nServing on http://127.0.0.1:{settings.port}/ — open it in a browser and log in "
        f"(API docs: http://127.0.0.1:{settings.port}/accounts/api/v1/docs). Ctrl-C stops."
    )
    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    exit_code = 0
    while not stopping:
        for name, proc in processes.items():
            if proc.poll() is not None:
                print(f"{name} exited with {proc.returncode}; stopping", file=sys.stderr)
                exit_code = proc.returncode or 1
                stopping = True
        time.sleep(0.5)
    for proc in processes.values():
        if proc.poll() is None:
            proc.terminate()
    deadline = time.monotonic() + 15
    for proc in processes.values():
        try:
            proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.kill()
    sys.exit(exit_code)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m shared.cli")
    sub = parser.add_subparsers(dest="command", required=True)
    migrate = sub.add_parser("migrate", help="run every service's migrations to head")
    migrate.add_argument("services", nargs="*")
    migrate.set_defaults(func=cmd_migrate)
    sub.add_parser("seed-demo", help="load the demo province").set_defaults(func=cmd_seed_demo)
    create_admin = sub.add_parser("create-admin", help="create an administrator account")
    create_admin.add_argument("username")
    create_admin.add_argument("--display-name", default="")
    create_admin.set_defaults(func=cmd_create_admin)
    sub.add_parser("check-config", help="validate the environment").set_defaults(
        func=cmd_check_config
    )
    sub.add_parser(
        "run", help="migrate, seed and serve everything (embedded default)"
    ).set_defaults(func=cmd_run)
    args = parser.parse_args(argv)
    args.func(args)


if __name__ == "__main__":
    main()
