"""Compiling a report: a job (shared/jobs.py) on the `reports` queue that refreshes the unit
tree, reads every source for the period, computes the figures, renders the XLSX and the PDF,
and only then stores the report as a new version — in one transaction with the files already
written. A source that is down makes the job retry with backoff and, past its attempts, fail
with a clear reason; nothing partial is ever stored as a report.

Compiling the same period and unit again (on demand, or beat firing twice) adds a version;
a job delivered twice stores its report once (`reports.job_id` is unique).
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from services.reports.domain import exports, indicators, narratives, sources
from services.reports.domain.directory import COPY
from services.reports.domain.periods import Period
from services.reports.models import DirectoryUnit, Job, Report
from shared import jobs
from shared.clock import LOCAL_TZ, local_today
from shared.db import Database, utcnow
from shared.errors import NotFound

JOB_KIND = "compile"


def request(
    session: Session,
    period: Period,
    unit_id: uuid.UUID | None,
    *,
    trigger: str,
    actor: uuid.UUID | None,
    as_of: date | None = None,
    each_unit: bool = False,
) -> Job:
    """Create the compile job (the caller enqueues it after commit)."""
    if unit_id is not None and session.get(DirectoryUnit, unit_id) is None:
        raise NotFound(extra={"unit_id": str(unit_id)})
    job = Job(
        id=uuid.uuid4(),
        kind=JOB_KIND,
        status="queued",
        params={
            "kind": period.kind,
            "year": period.year,
            "quarter": period.quarter,
            "unit_id": str(unit_id) if unit_id else None,
            "trigger": trigger,
            "as_of": as_of.isoformat() if as_of else None,
            "each_unit": each_unit,
        },
        created_by=actor,
        unit_id=unit_id,
    )
    session.add(job)
    session.flush()
    return job


def title(period: Period, unit_name: str | None) -> tuple[str, str]:
    where_vi = unit_name or "Toàn tỉnh"
    where_en = unit_name or "Province"
    kind_vi = "Báo cáo quý" if period.kind == "quarterly" else "Báo cáo năm"
    kind_en = "Quarterly report" if period.kind == "quarterly" else "Annual report"
    return (
        f"{kind_vi} {period.label_vi.removeprefix('Năm ').removeprefix('Quý ')} — {where_vi}",
        f"{kind_en} {period.label_en} — {where_en}",
    )


def document(report: Report, unit_name: str | None) -> dict[str, Any]:
    """What the exports render: the stored figures and the report's own facts."""
    period = Period.of(report.kind, report.year, report.quarter or None)
    title_vi, title_en = title(period, unit_name)
    return {
        "id": str(report.id),
        "title_vi": title_vi,
        "title_en": title_en,
        "version": report.version,
        "compiled_at_local": report.compiled_at.astimezone(LOCAL_TZ).strftime("%d/%m/%Y %H:%M"),
        "due_local": period.due_at.strftime("%d/%m/%Y"),
        "figures": report.figures,
    }


def run(context: jobs.JobContext, db: Database, settings: Any, store: Any) -> dict[str, Any]:
    """The job body: one reading of the sources, then one report for the unit asked for (the
    province when none) and, when `each_unit` is set (the scheduled runs), one for every
    other active unit too."""
    params = context.params
    period = Period.of(params["kind"], int(params["year"]), int(params["quarter"]) or None)
    unit_id = uuid.UUID(params["unit_id"]) if params.get("unit_id") else None
    as_of = date.fromisoformat(params["as_of"]) if params.get("as_of") else None
    as_of = min(as_of or period.as_of(local_today()), period.end)

    with db.transaction() as session:
        COPY.sync_units(session, settings)
        province = _province_id(session)
        targets: list[uuid.UUID | None] = [unit_id]
        if params.get("each_unit"):
            targets += [
                uuid.UUID(node.id)
                for node in narratives.owing_units(session, unit_id)
                if uuid.UUID(node.id) not in (unit_id, province)
            ]
        done = {
            row.unit_id: row
            for row in session.scalars(select(Report).where(Report.job_id == context.job_id))
        }
    total = len(targets) + 1
    context.progress(0, total)

    snapshot = sources.read(settings, as_of, period.start, as_of)
    context.progress(1, total)

    stored: list[dict[str, Any]] = []
    for index, target in enumerate(targets, start=2):
        filed_under = target or province
        if filed_under in done:  # delivered again after this one was stored
            stored.append({"report_id": str(done[filed_under].id), "unit_id": str(filed_under)})
            continue
        report = _compile_one(db, store, context, period, target, filed_under, snapshot, params)
        stored.append(
            {"report_id": str(report.id), "unit_id": str(filed_under), "version": report.version}
        )
        context.progress(index, total)
    first = stored[0]
    return {**first, "reports": stored}


def _compile_one(
    db: Database,
    store: Any,
    context: jobs.JobContext,
    period: Period,
    target: uuid.UUID | None,
    filed_under: uuid.UUID,
    snapshot: sources.Snapshot,
    params: dict[str, Any],
) -> Report:
    now = utcnow()
    with db.transaction() as session:
        figures = indicators.compute(session, snapshot, period, target)
        figures["narratives"] = narratives.for_report(session, target, period, now)
        figures["late_units"] = [n["unit_code"] for n in figures["narratives"] if n["late"]]
        unit_name = (
            session.scalar(select(DirectoryUnit.name).where(DirectoryUnit.id == target))
            if target
            else None
        )
    report_id = uuid.uuid4()
    draft = Report(
        id=report_id,
        kind=period.kind,
        year=period.year,
        quarter=period.quarter,
        unit_id=filed_under,
        version=0,
        trigger=params.get("trigger") or "on_demand",
        job_id=context.job_id,
        as_of=snapshot.as_of,
        compiled_at=now,
        compiled_by=context.created_by,
        figures=figures,
    )
    for attempt in range(5):
        # The version is printed in the files: take the next one, render, then store; if
        # another compilation of the same period took it meanwhile, take the next and render
        # again (rare: two compilations of one period finishing at once).
        with db.transaction() as session:
            draft.version = _next_version(session, draft)
        doc = document(draft, unit_name)
        base = f"reports/{period.year}/{report_id}"
        store.save(f"{base}.xlsx", exports.to_xlsx(doc))
        store.save(f"{base}.pdf", exports.to_pdf(doc))
        draft.xlsx_key, draft.pdf_key = f"{base}.xlsx", f"{base}.pdf"
        try:
            with db.transaction() as session:
                session.add(draft)
            return draft
        except IntegrityError:
            if attempt == 4:
                raise
            draft = _detached_copy(draft)
    return draft


def _detached_copy(report: Report) -> Report:
    columns = {c.key: getattr(report, c.key) for c in Report.__table__.columns}
    return Report(**columns)


def _next_version(session: Session, report: Report) -> int:
    current = session.scalar(
        select(func.max(Report.version)).where(
            Report.kind == report.kind,
            Report.year == report.year,
            Report.quarter == report.quarter,
            Report.unit_id == report.unit_id,
        )
    )
    return int(current or 0) + 1


def _province_id(session: Session) -> uuid.UUID:
    """The province report is filed under the tree's root unit."""
    tops = indicators.roots(indicators.load_tree(session))
    if len(tops) != 1:
        # Several roots (or none): file under a fixed id so versions still count up.
        return uuid.UUID(int=0)
    return uuid.UUID(tops[0].id)


def scheduled_already(session: Session, period: Period, unit_id: uuid.UUID | None) -> bool:
    """Has beat already asked for this period (a second firing must not add a version)?"""
    rows = session.scalars(select(Job.params).where(Job.kind == JOB_KIND, Job.status != "failed"))
    for params in rows:
        if (
            params.get("trigger") == "schedule"
            and params.get("kind") == period.kind
            and int(params.get("year") or 0) == period.year
            and int(params.get("quarter") or 0) == period.quarter
            and params.get("unit_id") == (str(unit_id) if unit_id else None)
        ):
            return True
    return False
