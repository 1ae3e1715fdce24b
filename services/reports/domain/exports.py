"""A compiled report's files: XLSX (the tables in the appendices' layout) and PDF (WeasyPrint,
Vietnamese, with charts drawn as SVG in the page: progress against the targets and the
monthly plan against the accounts actually granted). Both are made from the report's stored
figures only, so they can be made again and always say the same."""

from __future__ import annotations

import io
from html import escape
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from shared.excel.writing import SheetSpec, write_xlsx

TEMPLATES = Path(__file__).resolve().parent.parent / "templates" / "reports"

APPENDIX01_HEADERS = [
    "STT",
    "Mã đơn vị",
    "Đơn vị",
    "Tổng số cơ sở thuộc phạm vi quản lý",
    "Thuộc diện cấp GCN ATTP",
    "Thuộc diện ký cam kết",
    "Cơ sở OCOP",
    "Số cơ sở đã có tài khoản",
    "Tỷ lệ có tài khoản / tổng số cơ sở (%)",
    "Tỷ lệ có tài khoản / diện cấp GCN (%)",
    "Diện cấp GCN có tài khoản (%)",
    "Diện ký cam kết có tài khoản (%)",
    "Cơ sở OCOP có tài khoản (%)",
]


def _name(unit: dict[str, Any]) -> str:
    return "    " * int(unit["depth"]) + unit["name"]


def _pct(value: float | None) -> object:
    return "" if value is None else value


def appendix01_rows(figures: dict[str, Any]) -> list[list[object]]:
    rows: list[list[object]] = []
    for number, unit in enumerate(figures["units"], start=1):
        total, rates = unit["total"], unit["rates"]
        rows.append(
            [
                number,
                unit["code"],
                _name(unit),
                total["establishments"],
                total["certificate_subject"],
                total["commitment_subject"],
                total["ocop"],
                total["with_account"],
                _pct(rates["with_account/establishments"]),
                _pct(rates["with_account/certificate_subject"]),
                _pct(rates["certificate_with_account/certificate_subject"]),
                _pct(rates["commitment_with_account/commitment_subject"]),
                _pct(rates["ocop_with_account/ocop"]),
            ]
        )
    return rows


def appendix02_rows(figures: dict[str, Any]) -> tuple[list[str], list[list[object]]]:
    months = figures["months"]
    headers = ["STT", "Mã đơn vị", "Đơn vị"]
    for month in months:
        label = f"T{int(month[5:])}/{month[:4]}"
        headers += [f"{label} kế hoạch", f"{label} thực hiện"]
    headers += ["Tổng kế hoạch", "Tổng thực hiện", "Tỷ lệ thực hiện (%)"]
    rows: list[list[object]] = []
    for number, unit in enumerate(figures["units"], start=1):
        row: list[object] = [number, unit["code"], _name(unit)]
        for month in months:
            row += [unit["months"][month]["plan"], unit["months"][month]["actual"]]
        total = unit["total"]
        row += [
            total["planned_accounts"],
            total["granted_accounts"],
            _pct(unit["rates"]["granted_accounts/planned_accounts"]),
        ]
        rows.append(row)
    return headers, rows


def activity_rows(figures: dict[str, Any]) -> list[list[object]]:
    rows: list[list[object]] = []
    for number, unit in enumerate(figures["units"], start=1):
        t = unit["total"]
        rows.append(
            [
                number,
                unit["code"],
                _name(unit),
                t["products"],
                t["ocop_or_key_products"],
                t["ocop_or_key_with_qr"],
                t["packaged_processed"],
                t["packaged_processed_traceable"],
                t["lots_created"],
                t["labels_issued"],
                t["scans"],
                t["counterfeit_alerts"],
                t["recalls_opened"],
                t["recalls_closed"],
                t["recalls_open"],
            ]
        )
    return rows


ACTIVITY_HEADERS = [
    "STT",
    "Mã đơn vị",
    "Đơn vị",
    "Sản phẩm",
    "Sản phẩm OCOP, chủ lực",
    "… có mã QR",
    "Sản phẩm bao gói, chế biến",
    "… được truy xuất",
    "Lô mới trong kỳ",
    "Tem phát hành trong kỳ",
    "Lượt quét trong kỳ",
    "Cảnh báo nghi giả",
    "Thu hồi mở trong kỳ",
    "Thu hồi kết thúc trong kỳ",
    "Thu hồi đang mở",
]


def to_xlsx(report: dict[str, Any]) -> bytes:
    figures = report["figures"]
    period = figures["period"]
    heading = f"{report['title_vi']} — số liệu đến hết ngày {_dmy(figures['as_of'])}"
    months_headers, months_rows = appendix02_rows(figures)
    targets = [
        [
            number,
            t["vi"],
            t["formula"],
            t["target"],
            t["numerator"],
            t["denominator"],
            _pct(t["value"]),
            "Đạt" if t["met"] else "Chưa đạt",
        ]
        for number, t in enumerate(figures["targets"], start=1)
    ]
    narratives = [
        [
            n["unit_code"],
            n["unit_name"],
            "Đã nộp" if n["status"] == "submitted" else "Chưa nộp",
            "Muộn" if n.get("late") else "",
            n.get("done", ""),
            n.get("not_done", ""),
            n.get("reasons", ""),
            n.get("proposals", ""),
        ]
        for n in figures.get("narratives", [])
    ]
    buffer = io.BytesIO()
    write_xlsx(
        buffer,
        [
            SheetSpec(
                "Phụ lục 01",
                APPENDIX01_HEADERS,
                appendix01_rows(figures),
                column_widths=[5, 12, 48, 14, 14, 14, 10, 14, 14, 14, 14, 14, 14],
                title=f"{heading} — Phụ lục 01: cơ sở và tài khoản",
            ),
            SheetSpec(
                "Phụ lục 02",
                months_headers,
                months_rows,
                column_widths=[5, 12, 48],
                title=f"{heading} — Phụ lục 02: kế hoạch và thực hiện cấp tài khoản",
            ),
            SheetSpec(
                "Chỉ tiêu",
                ["STT", "Chỉ tiêu", "Công thức", "Mục tiêu (%)", "Tử số", "Mẫu số", "Đạt (%)", ""],
                targets,
                column_widths=[5, 55, 45, 12, 10, 10, 10, 10],
                title=f"{heading} — Tiến độ các chỉ tiêu năm {period['year']}",
            ),
            SheetSpec(
                "Sản phẩm, tem, thu hồi",
                ACTIVITY_HEADERS,
                activity_rows(figures),
                column_widths=[5, 12, 48],
                title=f"{heading} — Sản phẩm, tem truy xuất, lượt quét, thu hồi",
            ),
            SheetSpec(
                "Thuyết minh",
                [
                    "Mã đơn vị",
                    "Đơn vị",
                    "Tình trạng",
                    "",
                    "Đã làm được",
                    "Chưa làm được",
                    "Nguyên nhân",
                    "Đề xuất, kiến nghị",
                ],
                narratives,
                column_widths=[12, 40, 10, 8, 50, 50, 50, 50],
                title=f"{heading} — Báo cáo của các đơn vị",
            ),
        ],
    )
    return buffer.getvalue()


def _dmy(iso: str) -> str:
    year, month, day = iso[:10].split("-")
    return f"{day}/{month}/{year}"


# --- charts (SVG, drawn here so the PDF needs nothing but WeasyPrint) ------------------------


def targets_chart(targets: list[dict[str, Any]], width: int = 640) -> Markup:
    bar_h, gap, label_w = 22, 14, 250
    height = len(targets) * (bar_h + gap) + 30
    scale = (width - label_w - 60) / 100
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="DejaVu Sans" font-size="11">'
    ]
    for index, target in enumerate(targets):
        y = 10 + index * (bar_h + gap)
        value = min(100.0, target["value"] or 0.0)
        goal = float(target["target"])
        colour = "#2e7d32" if target["met"] else "#c62828"
        shown = "—" if target["value"] is None else f"{target['value']:.2f} %"
        parts.append(
            f'<text x="0" y="{y + 15}">{escape(_short(target["vi"], 40))}</text>'
            f'<rect x="{label_w}" y="{y}" width="{100 * scale:.1f}" height="{bar_h}" '
            f'fill="#eeeeee"/>'
            f'<rect x="{label_w}" y="{y}" width="{value * scale:.1f}" height="{bar_h}" '
            f'fill="{colour}"/>'
            f'<line x1="{label_w + goal * scale:.1f}" x2="{label_w + goal * scale:.1f}" '
            f'y1="{y - 3}" y2="{y + bar_h + 3}" stroke="#000" stroke-width="2"/>'
            f'<text x="{label_w + 100 * scale + 6:.1f}" y="{y + 15}">'
            f"{shown}</text>"
        )
    parts.append(
        f'<text x="{label_w}" y="{height - 4}" fill="#555">vạch đen: mục tiêu / '
        "black mark: target</text></svg>"
    )
    return Markup("".join(parts))  # noqa: S704 — every text in it is escaped above


def months_chart(months: list[str], totals: dict[str, dict[str, int]], width: int = 640) -> Markup:
    height, bottom, left = 220, 30, 40
    if not months:
        return Markup("")
    peak = max([1] + [max(v["plan"], v["actual"]) for v in totals.values()])
    slot = (width - left - 10) / len(months)
    bar = max(4.0, slot / 3)
    scale = (height - bottom - 20) / peak
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="DejaVu Sans" font-size="10">',
        f'<line x1="{left}" x2="{width - 10}" y1="{height - bottom}" y2="{height - bottom}" '
        'stroke="#000"/>',
        f'<text x="0" y="12">{peak}</text>',
    ]
    for index, month in enumerate(months):
        x = left + index * slot + slot / 2 - bar
        plan, actual = totals[month]["plan"], totals[month]["actual"]
        parts.append(
            f'<rect x="{x:.1f}" y="{height - bottom - plan * scale:.1f}" width="{bar:.1f}" '
            f'height="{plan * scale:.1f}" fill="#90a4ae"/>'
            f'<rect x="{x + bar:.1f}" y="{height - bottom - actual * scale:.1f}" '
            f'width="{bar:.1f}" height="{actual * scale:.1f}" fill="#1565c0"/>'
            f'<text x="{x:.1f}" y="{height - bottom + 14}">T{int(month[5:])}</text>'
        )
    parts.append(
        f'<rect x="{left}" y="{height - 10}" width="10" height="8" fill="#90a4ae"/>'
        f'<text x="{left + 14}" y="{height - 2}">Kế hoạch / plan</text>'
        f'<rect x="{left + 130}" y="{height - 10}" width="10" height="8" fill="#1565c0"/>'
        f'<text x="{left + 144}" y="{height - 2}">Thực hiện / granted</text></svg>'
    )
    return Markup("".join(parts))  # noqa: S704 — every text in it is escaped above


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


_env = Environment(
    loader=FileSystemLoader(str(TEMPLATES)),
    autoescape=select_autoescape(["html"]),
)


def to_html(report: dict[str, Any]) -> str:
    figures = report["figures"]
    return _env.get_template("report.html").render(
        report=report,
        figures=figures,
        dmy=_dmy,
        targets_svg=targets_chart(figures["targets"]),
        months_svg=months_chart(figures["months"], figures["total"]["months"]),
    )


def to_pdf(report: dict[str, Any]) -> bytes:
    from weasyprint import HTML
    from weasyprint.urls import URLFetcher

    # Nothing is fetched: the stylesheet is inline and the charts are SVG in the page, so a
    # narrative cannot make the renderer read a file or a URL.
    html = to_html(report)
    pdf = HTML(string=html, url_fetcher=URLFetcher(allowed_protocols=())).write_pdf()
    if pdf is None:  # only when a target file is given
        raise RuntimeError("WeasyPrint returned no PDF")
    return pdf
