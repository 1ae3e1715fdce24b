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
    database.dispose()
    if lots:
        print(f"Demo products: {lots} lots with their production diary and shipments.")
    if reports:
        print(f"Demo reports: {reports}.")
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
        f"\nServing on http://127.0.0.1:{settings.port}/ "
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
