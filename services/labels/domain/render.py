"""Label PDFs: sticker templates, and rendering thousands of serialised labels fast.

What is the same on every label of a batch — product name, establishment, lot, dates,
certifications, the frame — is laid out ONCE by WeasyPrint (Pango shapes the Vietnamese text,
fonts are embedded) as a one-label "background" page. Each output page then draws:

- that background as one Form XObject, placed at every label position of the page;
- per label, the QR code as a 1-bit inline image mask (`/Interpolate false`, one image
  sample per module: sharp at any zoom and on any printer), encoded by `qr.QrShape` in
  microseconds;
- per label, the human-readable code as text in an embedded subset of DejaVu Sans Mono Bold
  (printable ASCII), so it stays vector and can be searched and copied.

Pages are assembled with pikepdf (qpdf); chunks of a job are joined with it too.

Templates (`LabelBatch.template`, validated by `Template.from_json`):

    {"preset": "40x30",                      # see PRESETS
     "fields": ["product_name", "establishment", "lot", "production_date",
                "expiry_date", "certifications", "code"],   # what prints (default: all)
     "margin_top": 10, "margin_left": 5,     # mm, sheet presets only (default: the preset's)
     "gap_x": 0, "gap_y": 5,                 # mm between stickers, sheet presets only
     "qr_error": "M",                        # QR error correction: L, M, Q or H
     "frame": false}                         # print a thin outline (plain paper, proofs)

Sheets are A4 with symmetric margins: columns and rows are as many as fit. Roll presets put
one label per page of exactly the label's size (thermal printers).

Content (`LabelBatch.content`, what prints on every label): `product_name`,
`establishment`, `lot`, `production_date`, `expiry_date` (ISO dates, printed dd/mm/yyyy),
`certifications` (a list of strings). The aliases `product`, `establishment_name`,
`lot_code`, `produced_on`, `expires_on` are read too.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import math
import os
import tempfile
import threading
import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any, cast

from shared.errors import InvalidInput, Message

MM = 72 / 25.4  # PDF points per millimetre
A4 = (210.0, 297.0)
FIELDS = (
    "product_name",
    "establishment",
    "lot",
    "production_date",
    "expiry_date",
    "certifications",
    "code",
)
QR_ERROR_LEVELS = ("L", "M", "Q", "H")
QUIET_MODULES = 2  # inside the QR box; the label's own white margin adds to it
MIN_MODULE_MM = 0.25  # below this a 203-dpi printer draws a module with under 2 dots
MAX_TEXT = 300  # characters of one content field that are ever printed
TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates" / "labels"


@dataclass(frozen=True)
class Preset:
    name: str
    width: float  # mm
    height: float
    roll: bool
    margin_top: float = 0.0
    margin_left: float = 0.0
    gap_x: float = 0.0
    gap_y: float = 0.0
    text_pt: float = 5.6  # body text size
    code_pt: float = 5.6  # human-readable code size
    padding: float = 1.5  # white inside the sticker's edge, mm
    dpi: int = 600  # device grid QR modules snap to (laser sheets; thermal rolls: 203)


PRESETS: dict[str, Preset] = {
    # 6 × 13 = 78 per A4 sheet
    "30x20": Preset("30x20", 30, 20, False, 10.5, 7.5, 3, 1, text_pt=4.4, code_pt=4.4, padding=1.2),
    # 5 × 8 = 40 per A4 sheet
    "40x30": Preset("40x30", 40, 30, False, 10, 5, 0, 5),
    # 4 × 9 = 36 per A4 sheet
    "50x30": Preset("50x30", 50, 30, False, 8.5, 5, 0, 0, text_pt=6.2, code_pt=6.0),
    "roll-50x30": Preset(
        "roll-50x30", 50, 30, True, text_pt=6.2, code_pt=6.0, padding=2.0, dpi=203
    ),
    "roll-40x30": Preset("roll-40x30", 40, 30, True, padding=2.0, dpi=203),
}


@dataclass(frozen=True)
class Box:
    """A rectangle inside a label, in mm from the label's top-left corner."""

    x: float
    y: float
    w: float
    h: float


@dataclass(frozen=True)
class Template:
    preset: str
    fields: tuple[str, ...]
    margin_top: float
    margin_left: float
    gap_x: float
    gap_y: float
    qr_error: str
    frame: bool

    # --- construction and validation ---------------------------------------------------------

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> Template:
        """The template of a batch; InvalidInput (field errors, vi + en) when it is not valid.
        Keys it does not know are ignored; a null value means the preset's default."""
        data = {k: v for k, v in dict(data or {}).items() if v is not None}
        problems: dict[str, list[Message]] = {}

        def bad(name: str, vi: str, en: str) -> None:
            problems.setdefault(name, []).append(Message(vi, en))

        preset_name = data.get("preset", "40x30")
        preset = PRESETS.get(preset_name) if isinstance(preset_name, str) else None
        if preset is None:
            bad(
                "preset",
                f"Cỡ tem phải là một trong: {', '.join(PRESETS)}.",
                f"The sticker size must be one of: {', '.join(PRESETS)}.",
            )
            preset = PRESETS["40x30"]
        raw_fields = data.get("fields", list(FIELDS))
        fields: tuple[str, ...] = ()
        if not isinstance(raw_fields, list | tuple) or not all(
            isinstance(f, str) for f in raw_fields
        ):
            bad("fields", "Danh sách trường in không hợp lệ.", "Fields must be a list of names.")
        else:
            wrong = [f for f in raw_fields if f not in FIELDS]
            if wrong:
                bad(
                    "fields",
                    f"Trường không in được: {', '.join(wrong)}.",
                    f"Fields that cannot be printed: {', '.join(wrong)}.",
                )
            fields = tuple(f for f in FIELDS if f in raw_fields)  # canonical order, no repeats
        # `margin_mm` / `gap_mm` set both axes; the per-axis keys win over them.
        for both, keys in (
            ("margin_mm", ("margin_top", "margin_left")),
            ("gap_mm", ("gap_x", "gap_y")),
        ):
            if both in data:
                for key in keys:
                    data.setdefault(key, data[both])
        numbers: dict[str, float] = {}
        for key, default in (
            ("margin_top", preset.margin_top),
            ("margin_left", preset.margin_left),
            ("gap_x", preset.gap_x),
            ("gap_y", preset.gap_y),
        ):
            value = data.get(key, default)
            if preset.roll:
                value = 0  # one label per page of its own size: no margins, no gaps
            if (
                isinstance(value, bool)
                or not isinstance(value, int | float)
                or not math.isfinite(value)
                or not 0 <= value <= 50
            ):
                bad(key, "Phải là số mm từ 0 đến 50.", "Must be a number of mm from 0 to 50.")
                value = default
            numbers[key] = float(value)
        qr_error = data.get("qr_error", "M")
        if qr_error not in QR_ERROR_LEVELS:
            bad(
                "qr_error",
                "Mức sửa lỗi QR phải là L, M, Q hoặc H.",
                "QR error level: L, M, Q or H.",
            )
            qr_error = "M"
        frame = data.get("frame", False)
        if not isinstance(frame, bool):
            bad("frame", "Phải là đúng hoặc sai.", "Must be true or false.")
            frame = False
        template = cls(preset.name, fields, qr_error=qr_error, frame=frame, **numbers)
        if not problems and (template.columns < 1 or template.rows < 1):
            bad(
                "margin_left" if template.columns < 1 else "margin_top",
                "Với lề và khoảng cách này không đặt được tem nào lên tờ A4.",
                "With these margins and gaps not one sticker fits on an A4 sheet.",
            )
        if problems:
            raise InvalidInput(fields=problems, code="invalid_template")
        return template

    def to_json(self) -> dict[str, Any]:
        """The normalised form to store in `LabelBatch.template`."""
        data: dict[str, Any] = {
            "preset": self.preset,
            "fields": list(self.fields),
            "qr_error": self.qr_error,
            "frame": self.frame,
        }
        if not self.spec.roll:
            data.update(
                margin_top=self.margin_top,
                margin_left=self.margin_left,
                gap_x=self.gap_x,
                gap_y=self.gap_y,
            )
        return data

    # --- geometry ------------------------------------------------------------------------------

    @property
    def spec(self) -> Preset:
        return PRESETS[self.preset]

    @property
    def page_size(self) -> tuple[float, float]:
        """Page width and height in mm."""
        return (self.spec.width, self.spec.height) if self.spec.roll else A4

    @property
    def columns(self) -> int:
        if self.spec.roll:
            return 1
        usable = self.page_size[0] - 2 * self.margin_left + self.gap_x
        return max(0, math.floor(usable / (self.spec.width + self.gap_x) + 1e-9))

    @property
    def rows(self) -> int:
        if self.spec.roll:
            return 1
        usable = self.page_size[1] - 2 * self.margin_top + self.gap_y
        return max(0, math.floor(usable / (self.spec.height + self.gap_y) + 1e-9))

    @property
    def per_page(self) -> int:
        return self.columns * self.rows

    def slot(self, index: int) -> tuple[float, float]:
        """Bottom-left corner (PDF points, from the page's bottom-left) of position `index`
        on a page: left to right, then top to bottom."""
        row, column = divmod(index, self.columns)
        x = self.margin_left + column * (self.spec.width + self.gap_x)
        top = self.margin_top + row * (self.spec.height + self.gap_y)
        return x * MM, (self.page_size[1] - top - self.spec.height) * MM

    @property
    def code_height(self) -> float:
        return self.spec.code_pt / MM * 1.35 if "code" in self.fields else 0.0

    @property
    def has_text(self) -> bool:
        return any(f != "code" for f in self.fields)

    @property
    def qr_box(self) -> Box:
        """Where the QR code goes (its quiet zone included), mm within the label."""
        s, pad = self.spec, self.spec.padding
        side = s.height - 2 * pad - self.code_height
        side = min(side, s.width * 0.47) if self.has_text else min(side, s.width - 2 * pad)
        top = (s.height - side - self.code_height) / 2
        left = pad if self.has_text else (s.width - side) / 2
        return Box(left, top, side, side)

    @property
    def code_box(self) -> Box:
        qr = self.qr_box
        return Box(qr.x, qr.y + qr.h, qr.w, self.code_height)

    @property
    def text_box(self) -> Box:
        qr, pad = self.qr_box, self.spec.padding
        left = qr.x + qr.w + 0.8
        return Box(left, pad, self.spec.width - pad - left, self.spec.height - 2 * pad)

    def module_mm(self, modules: int) -> float:
        """Size of one QR module for a code of `modules` per side, snapped to the printer's
        dot grid (whole dots per module print evenly)."""
        raw = self.qr_box.w / (modules + 2 * QUIET_MODULES)
        dot = 25.4 / self.spec.dpi
        return math.floor(raw / dot) * dot if raw >= dot else raw

    def check_payload(self, payload: str) -> None:
        """Refuse (InvalidInput) a QR payload too long to print legibly on this sticker."""
        from services.labels.domain.qr import shape_for

        modules = shape_for(payload.encode(), self.qr_error).size
        if self.module_mm(modules) < MIN_MODULE_MM:
            raise InvalidInput.field(
                "template",
                "Mã QR quá dày cho cỡ tem này; hãy chọn tem lớn hơn hoặc mức sửa lỗi thấp hơn.",
                "The QR code is too dense for this sticker; choose a larger size or a lower "
                "error correction level.",
                code="qr_too_dense",
            )


def _quiet(logger: str) -> None:
    """A library logger that chatters at INFO logs warnings only (unless configured)."""
    found = logging.getLogger(logger)
    if found.level == logging.NOTSET:
        found.setLevel(logging.WARNING)


# --- the background (WeasyPrint) ----------------------------------------------------------------

_CONTENT_KEYS: dict[str, tuple[str, ...]] = {
    "product_name": ("product_name", "product"),
    "establishment": ("establishment", "establishment_name"),
    "lot": ("lot", "lot_code"),
    "production_date": ("production_date", "produced_on"),
    "expiry_date": ("expiry_date", "expires_on"),
    "certifications": ("certifications",),
}


def _text(value: Any) -> str:
    if value is None:
        return ""
    return " ".join(str(value).split())[:MAX_TEXT]


def _date(value: Any) -> str:
    text = _text(value)
    try:
        return date.fromisoformat(text[:10]).strftime("%d/%m/%Y") if text else ""
    except ValueError:
        return text


# Short names of the products service's certification kinds, as a sticker prints them;
# any other text is printed as it is.
CERTIFICATION_LABELS = {
    "food_safety": "Đủ ĐK ATTP",
    "commitment": "Cam kết ATTP",
    "vietgap": "VietGAP",
    "globalgap": "GlobalGAP",
    "organic": "Hữu cơ",
    "gmp": "GMP",
    "haccp": "HACCP",
    "iso22000": "ISO 22000",
    "ocop": "OCOP",
    "other": "",
}


def _certifications(value: Any, ocop_stars: Any) -> str:
    items = value if isinstance(value, list | tuple) else [value]
    names = []
    for item in items:
        name = CERTIFICATION_LABELS.get(str(item), _text(item))
        if str(item) == "ocop" and isinstance(ocop_stars, int) and 3 <= ocop_stars <= 5:
            name = f"OCOP {ocop_stars}★"
        if name and name not in names:
            names.append(name)
    return ", ".join(names)[:MAX_TEXT]


def label_lines(template: Template, content: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The static text of a label, as (css class, text) lines in print order."""
    values: dict[str, Any] = {}
    for field, keys in _CONTENT_KEYS.items():
        values[field] = next((content[k] for k in keys if content.get(k) not in (None, "")), None)
    lines: list[tuple[str, str]] = []
    wanted = set(template.fields)
    if "product_name" in wanted and values["product_name"]:
        lines.append(("name", _text(values["product_name"])))
    if "establishment" in wanted and values["establishment"]:
        lines.append(("establishment", _text(values["establishment"])))
    if "lot" in wanted and values["lot"]:
        lines.append(("lot", f"Lô: {_text(values['lot'])}"))
    if "production_date" in wanted and values["production_date"]:
        lines.append(("date", f"NSX: {_date(values['production_date'])}"))
    if "expiry_date" in wanted and values["expiry_date"]:
        lines.append(("date", f"HSD: {_date(values['expiry_date'])}"))
    if "certifications" in wanted and values["certifications"]:
        text = _certifications(values["certifications"], content.get("ocop_stars"))
        if text:
            lines.append(("certifications", text))
    return lines


@cache
def _jinja() -> Any:
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    return Environment(
        loader=FileSystemLoader(str(TEMPLATES_DIR)),
        autoescape=select_autoescape(default=True, default_for_string=True),
        auto_reload=False,
    )


def background_html(
    template: Template, content: Mapping[str, Any], *, text_pt: float | None = None
) -> str:
    s = template.spec
    css = (TEMPLATES_DIR / "sheet.css").read_text(encoding="utf-8")
    return str(
        _jinja()
        .get_template("sheet.html")
        .render(
            css=css,
            width=s.width,
            height=s.height,
            text_pt=round(text_pt or s.text_pt, 2),
            frame=template.frame,
            text_box=template.text_box,
            lines=label_lines(template, content) if template.has_text else [],
        )
    )


MIN_TEXT_PT = 3.6  # smaller than this is not legible on a sticker; below it text is cut
_PX_PER_MM = 96 / 25.4  # WeasyPrint lays out in CSS pixels


def _overflows(document: Any, template: Template, lines: int) -> bool:
    """Whether the text column's last line ends below the column (it is clipped there), or
    lines were left out (WeasyPrint does not lay out what falls off the page)."""
    bottom, seen = 0.0, 0
    stack = [document.pages[0]._page_box]
    while stack:
        box = stack.pop()
        element = getattr(box, "element", None)
        if getattr(box, "element_tag", None) == "p" and type(box).__name__ == "BlockBox":
            bottom = max(bottom, box.position_y + box.margin_top + box.border_height())
            seen += 1
        elif element is None or getattr(box, "element_tag", None) != "p":
            stack.extend(getattr(box, "children", ()))
    box = template.text_box
    return seen < lines or bottom > (box.y + box.h) * _PX_PER_MM + 0.01


def laid_out(template: Template, content: Mapping[str, Any], text_pt: float) -> Any:
    """WeasyPrint's laid-out document of the background at a text size."""
    from weasyprint import HTML
    from weasyprint.urls import URLFetcher

    _quiet("weasyprint.progress")  # seven INFO lines per layout
    html = background_html(template, content, text_pt=text_pt)
    # Nothing is fetched: the page is self-contained; content must not reach files or URLs.
    return HTML(string=html, url_fetcher=URLFetcher(allowed_protocols=())).render()


def _layout(template: Template, content: Mapping[str, Any]) -> Any:
    """The background's document, its text shrunk (down to MIN_TEXT_PT) until every line
    fits in its column."""
    size = template.spec.text_pt
    lines = len(label_lines(template, content)) if template.has_text else 0
    while True:
        document = laid_out(template, content, size)
        if size <= MIN_TEXT_PT or not _overflows(document, template, lines):
            return document
        size = max(MIN_TEXT_PT, size * 0.9)


_BACKGROUNDS: dict[str, bytes] = {}
_BACKGROUND_LOCK = threading.Lock()


def _key(template: Template, content: Mapping[str, Any]) -> str:
    text = json.dumps([template.to_json(), content], sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def render_background(template: Template, content: Mapping[str, Any]) -> bytes:
    """A one-page PDF, exactly one label in size, with everything but the QR code and the
    human-readable code. Kept per process (a worker renders it once per batch)."""
    key = _key(template, content)
    cached = _BACKGROUNDS.get(key)
    if cached is not None:
        return cached
    pdf = cast(bytes, _layout(template, content).write_pdf())
    with _BACKGROUND_LOCK:
        if len(_BACKGROUNDS) >= 8:
            _BACKGROUNDS.clear()
        _BACKGROUNDS[key] = pdf
    return pdf


# --- the human-readable code's font -------------------------------------------------------------

_FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSansMono-Bold.ttf",  # Debian, Ubuntu
    "/usr/share/fonts/dejavu-sans-mono-fonts/DejaVuSansMono-Bold.ttf",  # Fedora
    "/usr/share/fonts/TTF/DejaVuSansMono-Bold.ttf",  # Arch
    "/usr/share/fonts/dejavu/DejaVuSansMono-Bold.ttf",
)
FIRST_CHAR, LAST_CHAR = 32, 126


@dataclass(frozen=True)
class CodeFont:
    program: bytes  # TrueType subset: printable ASCII
    name: str
    widths: tuple[int, ...]  # 1/1000 em, FIRST_CHAR..LAST_CHAR
    bbox: tuple[int, int, int, int]
    ascent: int
    descent: int
    cap_height: int
    monospace: bool

    def width(self, text: str, size: float) -> float:
        if self.monospace:
            return len(text) * self.widths[0] * size / 1000
        return sum(self.widths[ord(c) - FIRST_CHAR] for c in text) * size / 1000


@cache
def code_font() -> CodeFont:
    from fontTools import subset
    from fontTools.ttLib import TTFont

    path = next((p for p in _FONT_CANDIDATES if os.path.isfile(p)), None)
    if path is None:
        raise RuntimeError(
            "DejaVu Sans Mono Bold is not installed (Debian: fonts-dejavu-core); "
            "run deploy/system-deps.sh"
        )
    _quiet("fontTools.subset")  # it logs every table it subsets at INFO
    font = TTFont(path, recalcTimestamp=False)
    options = subset.Options()
    options.hinting = True
    options.name_IDs = ["*"]
    options.notdef_outline = True
    options.drop_tables += ["FFTM"]
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=range(FIRST_CHAR, LAST_CHAR + 1))
    subsetter.subset(font)
    scale = 1000 / font["head"].unitsPerEm
    cmap = font.getBestCmap()
    widths = tuple(
        round(font["hmtx"][cmap[c]][0] * scale) if c in cmap else 0
        for c in range(FIRST_CHAR, LAST_CHAR + 1)
    )
    head = font["head"]
    bbox = tuple(round(v * scale) for v in (head.xMin, head.yMin, head.xMax, head.yMax))
    cap = font["glyf"]["H"].yMax if "H" in font["glyf"] else head.yMax
    ascent, descent = font["hhea"].ascent, font["hhea"].descent
    out = io.BytesIO()
    font.save(out)
    font.close()
    return CodeFont(
        program=out.getvalue(),
        name="LBLCDE+DejaVuSansMono-Bold",
        widths=widths,
        bbox=(bbox[0], bbox[1], bbox[2], bbox[3]),
        ascent=round(ascent * scale),
        descent=round(descent * scale),
        cap_height=round(cap * scale),
        monospace=len(set(widths)) == 1,
    )


def _font_object(pdf: Any) -> Any:
    import pikepdf

    f = code_font()
    program = pdf.make_stream(f.program)
    program.Length1 = len(f.program)
    descriptor = pikepdf.Dictionary(
        Type=pikepdf.Name.FontDescriptor,
        FontName=pikepdf.Name("/" + f.name),
        Flags=33,  # fixed pitch, non-symbolic
        FontBBox=list(f.bbox),
        ItalicAngle=0,
        Ascent=f.ascent,
        Descent=f.descent,
        CapHeight=f.cap_height,
        StemV=120,
        FontFile2=program,
    )
    return pdf.make_indirect(
        pikepdf.Dictionary(
            Type=pikepdf.Name.Font,
            Subtype=pikepdf.Name.TrueType,
            BaseFont=pikepdf.Name("/" + f.name),
            FirstChar=FIRST_CHAR,
            LastChar=LAST_CHAR,
            Widths=list(f.widths),
            Encoding=pikepdf.Name.WinAnsiEncoding,
            FontDescriptor=pdf.make_indirect(descriptor),
        )
    )


_PDF_STRING = str.maketrans({"(": "\\(", ")": "\\)", "\\": "\\\\"})


def _code_text(code: str) -> str:
    if not (0 < len(code) <= 40 and code.isascii() and code.isprintable()):
        raise ValueError(f"a human-readable code must be 1-40 printable ASCII characters: {code!r}")
    return code.translate(_PDF_STRING)


# --- the labels ---------------------------------------------------------------------------------


def _fmt(value: float) -> str:
    return f"{value:.3f}".rstrip("0").rstrip(".")


class _Slots:
    """Per position on a page, the drawing operators that do not depend on the label."""

    def __init__(self, template: Template) -> None:
        self.template = template
        self.background = [
            f"q 1 0 0 1 {_fmt(x)} {_fmt(y)} cm /B Do Q\n".encode()
            for x, y in (template.slot(i) for i in range(template.per_page))
        ]
        self._qr: dict[int, list[bytes]] = {}

    def qr(self, modules: int) -> list[bytes]:
        """`q … cm BI … ID` for each position, for a code of `modules` per side."""
        found = self._qr.get(modules)
        if found is None:
            t = self.template
            box, module = t.qr_box, t.module_mm(modules)
            side = module * modules
            dot = 25.4 / t.spec.dpi
            found = []
            for i in range(t.per_page):
                x, y = t.slot(i)
                left = box.x + (box.w - side) / 2
                top = box.y + (box.h - side) / 2
                left, top = round(left / dot) * dot, round(top / dot) * dot
                px = x + left * MM
                py = y + (t.spec.height - top - side) * MM
                found.append(
                    f"q {_fmt(side * MM)} 0 0 {_fmt(side * MM)} {_fmt(px)} {_fmt(py)} cm "
                    f"BI /IM true /W {modules} /H {modules} /BPC 1 /D [1 0] /I false "
                    "/F /AHx ID ".encode()
                )
            self._qr[modules] = found
        return found


def render_labels(
    template: Template, content: Mapping[str, Any], labels: Sequence[tuple[str, str]]
) -> bytes:
    """A PDF with one label per (QR payload URL, human-readable code), in order: left to
    right, top to bottom, page after page. Deterministic: the same input, the same bytes."""
    import pikepdf

    from services.labels.domain.qr import shape_for

    if not labels:
        raise ValueError("no labels to render")
    background = pikepdf.open(io.BytesIO(render_background(template, content)))
    out = pikepdf.new()
    try:
        form = out.copy_foreign(background.pages[0].as_form_xobject())
        resources = out.make_indirect(
            pikepdf.Dictionary(
                XObject=pikepdf.Dictionary(B=form),
                Font=pikepdf.Dictionary(C=_font_object(out)),
                ProcSet=[pikepdf.Name.PDF, pikepdf.Name.Text, pikepdf.Name.ImageB],
            )
        )
        media_box = [0, 0, *(_round(v * MM) for v in template.page_size)]
        slots = _Slots(template)
        per_page = template.per_page
        show_code = "code" in template.fields
        font = code_font()
        code_box, code_pt = template.code_box, template.spec.code_pt
        centres = [
            (x + (code_box.x + code_box.w / 2) * MM, y + (template.spec.height - code_box.y) * MM)
            for x, y in (template.slot(i) for i in range(per_page))
        ]
        ascent = font.cap_height / 1000
        for start in range(0, len(labels), per_page):
            ops: list[bytes] = [b"0 g\n"]
            for slot, (url, code) in enumerate(labels[start : start + per_page]):
                ops.append(slots.background[slot])
                payload = url.encode()
                shape = shape_for(payload, template.qr_error)
                ops.append(slots.qr(shape.size)[slot])
                ops.append(shape.raster(payload).hex().encode())
                ops.append(b"> EI Q\n")
                if show_code:
                    text = _code_text(code)
                    size = min(code_pt, code_box.w * MM * 0.98 / max(1, font.width(code, 1)))
                    cx, top = centres[slot]
                    x = cx - font.width(code, size) / 2
                    y = top - (code_box.h * MM + ascent * size) / 2
                    ops.append(
                        f"BT /C {_fmt(size)} Tf {_fmt(x)} {_fmt(y)} Td ({text}) Tj ET\n".encode()
                    )
            stream = out.make_stream(zlib.compress(b"".join(ops), 6))
            stream.Filter = pikepdf.Name.FlateDecode
            page = pikepdf.Dictionary(
                Type=pikepdf.Name.Page,
                MediaBox=media_box,
                Resources=resources,
                Contents=stream,
            )
            out.pages.append(pikepdf.Page(page))
        buffer = io.BytesIO()
        out.save(
            buffer,
            deterministic_id=True,
            compress_streams=True,
            stream_decode_level=pikepdf.StreamDecodeLevel.none,
            object_stream_mode=pikepdf.ObjectStreamMode.generate,
        )
        return buffer.getvalue()
    finally:
        out.close()
        background.close()


def _round(value: float) -> float:
    return round(value, 3)


# --- joining chunks -----------------------------------------------------------------------------


def join(paths: Iterable[str | Path], target: str | Path) -> int:
    """Concatenate PDFs in order into `target`, atomically: written to a temporary file in
    the same directory, fsync'd, then renamed — a reader sees the whole file or none.
    Returns the number of pages."""
    import pikepdf

    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".part-", suffix=".pdf")
    sources: list[Any] = []
    try:
        with os.fdopen(fd, "wb") as handle, pikepdf.new() as out:
            for path in paths:
                source = pikepdf.open(path)
                sources.append(source)
                out.pages.extend(source.pages)
            pages = len(out.pages)
            out.save(
                handle,
                deterministic_id=True,
                stream_decode_level=pikepdf.StreamDecodeLevel.none,
                object_stream_mode=pikepdf.ObjectStreamMode.generate,
            )
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    finally:
        for source in sources:
            source.close()
    return pages
