"""Every page of every role at province scale: server time per page, p50/p95 (target < 200 ms p95).

    .venv/bin/python -m bench.bench_pages [--runs 40]

The data is the reports bench's province (`bench/bench_reports.py`, built once and reused: 23
units, 30,000 establishments, 100,000 products, 1,000,000 lots, 10,000,000 label serials,
5,000,000 scans). The four services run in this process behind a WSGI dispatcher with the
URL space of the gateway, each calling the others over its real HTTP API (WSGI transport),
with PostgreSQL and Redis; a page is timed from the request to the last byte of its body, as
an administrator, a district officer (the district with the most establishments) and the
establishment with the most lots. A page answering anything but 200 is reported, not timed.
"""

from __future__ import annotations

import argparse
import tempfile
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import psycopg

from bench import bench_reports, common

TARGET_MS = 200.0


def _one(conninfo: str, sql: str, *params: Any) -> Any:
    with psycopg.connect(conninfo) as conn:
        row = conn.execute(sql, params).fetchone()
    return row[0] if row else None


def _subjects() -> dict[str, Any]:
    accounts = bench_reports._conninfo("accounts")
    products = bench_reports._conninfo("products")
    district = _one(
        accounts,
        "SELECT u.id FROM units u JOIN establishments e ON e.unit_id = u.id "
        "GROUP BY u.id ORDER BY count(*) DESC LIMIT 1",
    )
    # The establishment with the most lots among those that hold an account (the profile
    # page shows the account).
    with psycopg.connect(accounts) as conn:
        holders = dict(
            conn.execute(
                "SELECT establishment_id, id FROM accounts WHERE role = 'establishment' "
                "AND status = 'active'"
            ).fetchall()
        )
    establishment = _one(
        products,
        "SELECT establishment_id FROM lots WHERE establishment_id = ANY(%s) "
        "GROUP BY establishment_id ORDER BY count(*) DESC LIMIT 1",
        list(holders),
    )
    lot = _one(
        products,
        "SELECT l.id FROM lots l JOIN stage_events s ON s.lot_id = l.id "
        "WHERE l.establishment_id = %s LIMIT 1",
        establishment,
    )
    product = _one(
        products, "SELECT id FROM products WHERE establishment_id = %s LIMIT 1", establishment
    )
    some_establishment = _one(
        accounts, "SELECT id FROM establishments WHERE unit_id = %s LIMIT 1", district
    )
    return {
        "account": holders[establishment],
        "district": district,
        "establishment": establishment,
        "lot": lot,
        "product": product,
        "district_establishment": some_establishment,
    }


def _pages(s: dict[str, Any]) -> dict[str, list[str]]:
    agency = [
        "/reports/",
        "/reports/reports",
        "/reports/narratives",
        "/reports/targets",
        "/accounts/units",
        "/accounts/establishments",
        "/accounts/establishments?q=co+so",
        f"/accounts/establishments/{s['district_establishment']}",
        "/accounts/registrations",
        "/accounts/accounts",
        "/accounts/imports",
        "/accounts/password-requests",
        "/products/recalls",
        "/labels/batches",
        "/labels/stats",
        "/labels/alerts",
    ]
    return {
        "admin": agency,
        "agency": agency,
        "establishment": [
            "/products/",
            "/products/products",
            f"/products/products/{s['product']}",
            "/products/lots",
            f"/products/lots/{s['lot']}",
            f"/products/lots/{s['lot']}/trace",
            f"/products/lots/{s['lot']}/diary",
            "/products/certifications",
            "/products/recalls",
            "/products/shipments",
            "/labels/batches",
            f"/labels/batches/new?lot_id={s['lot']}",
            "/labels/stats",
            "/accounts/profile",
        ],
    }


def _tokens(apps: dict[str, Any], s: dict[str, Any]) -> dict[str, str]:
    from services.accounts.models import Account

    issuer = apps["accounts"].extensions["accounts"].issuer
    people = {
        "admin": Account(id=uuid.uuid4(), username="bench.admin", role="admin", token_version=0),
        "agency": Account(
            id=uuid.uuid4(),
            username="bench.agency",
            role="agency",
            unit_id=uuid.UUID(str(s["district"])),
            token_version=0,
        ),
        "establishment": Account(
            id=uuid.UUID(str(s["account"])),
            username="bench.owner",
            role="establishment",
            establishment_id=uuid.UUID(str(s["establishment"])),
            token_version=0,
        ),
    }
    return {role: issuer.access_token(a, uuid.uuid4()) for role, a in people.items()}


def _measure(runs: int) -> tuple[list[tuple[str, common.Stats]], list[str], float, float]:
    from werkzeug.exceptions import NotFound
    from werkzeug.middleware.dispatcher import DispatcherMiddleware
    from werkzeug.test import Client

    apps, _settings = bench_reports._apps(Path(tempfile.mkdtemp(prefix="bench-pages-")))
    gateway = DispatcherMiddleware(NotFound(), {f"/{n}": a.wsgi_app for n, a in apps.items()})
    subjects = _subjects()
    tokens = _tokens(apps, subjects)
    rows: list[tuple[str, common.Stats]] = []
    problems: list[str] = []
    worst = 0.0
    cold = _cold_dashboard(apps, gateway, tokens["admin"])
    for role, paths in _pages(subjects).items():
        client = Client(gateway)
        client.set_cookie("trace_access", tokens[role])
        for path in paths:
            label = f"{role} {path.split('?')[0]}" + ("?q" if "?q=" in path else "")
            for key, value in subjects.items():
                label = label.replace(str(value), f"<{key}>")
            first = client.get(path)
            if first.status_code != 200:
                problems.append(f"{label}: HTTP {first.status_code}")
                continue
            for _ in range(2):
                client.get(path).get_data()
            samples: list[int] = []
            for _ in range(runs):
                started = time.perf_counter_ns()
                response = client.get(path)
                response.get_data()
                samples.append(time.perf_counter_ns() - started)
            stats = common.Stats.of_ns(samples)
            worst = max(worst, stats.p95)
            rows.append((label, stats))
            common.progress(f"{label}: p95 {stats.p95:.1f} ms")
    return rows, problems, worst, cold


def _cold_dashboard(apps: dict[str, Any], gateway: Any, token: str) -> float:
    """The dashboard with no stored snapshot of the sources (a cold store; beat renews it every
    REPORT_LIVE_SECONDS, so officers do not normally meet this): one province-wide reading."""
    from werkzeug.test import Client

    from services.reports.domain import live
    from services.reports.domain.periods import Period
    from shared.clock import local_today

    today = local_today()
    store = apps["reports"].extensions["trace_kv"]
    store.delete(live.key(Period("annual", today.year), today))
    client = Client(gateway)
    client.set_cookie("trace_access", token)
    started = time.perf_counter()
    response = client.get("/reports/")
    response.get_data()
    assert response.status_code == 200, response.status_code
    return (time.perf_counter() - started) * 1000


def main(argv: Sequence[str] | None = None) -> str:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--rebuild", action="store_true")
    args = parser.parse_args(argv)
    common.progress("province data: " + bench_reports.build(force=args.rebuild))
    load_before = common.load_average()
    rows, problems, worst, cold = _measure(args.runs)
    verdict = "met" if worst < TARGET_MS and not problems else "NOT met"
    lines = [
        "## Pages at province scale (`bench/bench_pages.py`) — issue 7",
        "",
        f"- date: {common.utc_now()}; machine: {common.machine_line()}; commit "
        f"{common.git_revision()}; load average {load_before} at the start, "
        f"{common.load_average()} at the end",
        f"- command: `.venv/bin/python -m bench.bench_pages --runs {args.runs}` (the reports "
        "bench's province: 30,000 establishments, 100,000 products, 1,000,000 lots, "
        "10,000,000 serials, 5,000,000 scans); server time of each page, in process, "
        "warm (two requests before the timed ones)",
        "",
        common.stats_table(rows),
        "",
        f"**Target (every page < {TARGET_MS:.0f} ms p95): {verdict} — worst p95 {worst:.1f} ms.**",
        "",
        f"The dashboard's first view with no stored snapshot of the sources took {cold:,.0f} ms "
        "(one province-wide reading of the accounts, products and labels services; "
        "domain/live.py stores it for every officer and beat renews it every "
        "REPORT_LIVE_SECONDS, so pages are served from it, as timed above).",
    ]
    if problems:
        lines += ["", "Pages not timed:", *[f"- {p}" for p in problems]]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":  # pragma: no cover
    print(main())
