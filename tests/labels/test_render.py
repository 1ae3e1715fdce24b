"""Label PDFs (domain/render.py, domain/qr.py): templates, the QR codes decoded back from a
raster of the PDF, Vietnamese text extracted from it, sharpness, determinism, joining."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pypdfium2 as pdfium
import pytest
import segno
import zxingcpp

from services.labels.domain import qr, render
from services.labels.domain.render import PRESETS, Template, join, render_labels
from shared.errors import InvalidInput

pytestmark = pytest.mark.smoke

CONTENT = {
    "product_name": "Chả mực Hạ Long",
    "establishment_name": "Hợp tác xã Thủy sản Đầm Hà",
    "lot_code": "LÔ-2024-05",
    "production_date": "2024-05-01",
    "expiry_date": "2024-11-01",
    "certifications": ["vietgap", "ocop"],
    "ocop_stars": 4,
}
PER_PAGE = {"30x20": 78, "40x30": 40, "50x30": 36, "roll-50x30": 1, "roll-40x30": 1}


@pytest.fixture(scope="module")
def celery_eager() -> None:
    """Rendering needs no service app, database or broker: the suite-wide fixture that
    builds them all is not needed here."""


def stand_in(n: int) -> tuple[str, str]:
    return f"https://example.vn/q/S{n}", f"{n:010d}"


def pdf_document(data: bytes) -> Any:
    return pdfium.PdfDocument(data)


def page_texts(data: bytes) -> list[str]:
    document = pdf_document(data)
    try:
        texts = []
        for page in document:
            textpage = page.get_textpage()
            texts.append(textpage.get_text_range())
            textpage.close()
            page.close()
        return texts
    finally:
        document.close()


def decode_pages(data: bytes, dpi: int = 200) -> list[list[tuple[str, float, float]]]:
    """Per page: every QR code zxing finds in a raster of it, with its centre in mm from the
    page's top-left corner."""
    document = pdf_document(data)
    found = []
    try:
        for page in document:
            bitmap = page.render(scale=dpi / 72, grayscale=True)
            image = bitmap.to_pil().convert("L")
            codes = []
            for result in zxingcpp.read_barcodes(image):
                p = result.position
                xs = [p.top_left.x, p.top_right.x, p.bottom_left.x, p.bottom_right.x]
                ys = [p.top_left.y, p.top_right.y, p.bottom_left.y, p.bottom_right.y]
                to_mm = 25.4 / dpi
                codes.append((result.text, sum(xs) / 4 * to_mm, sum(ys) / 4 * to_mm))
            found.append(codes)
            bitmap.close()
            page.close()
    finally:
        document.close()
    return found


def slot_of(template: Template, x_mm: float, y_mm: float) -> int:
    """Which position on the page a point (mm from the top-left) falls in."""
    s = template.spec
    column = int((x_mm - template.margin_left) // (s.width + template.gap_x))
    row = int((y_mm - template.margin_top) // (s.height + template.gap_y))
    return row * template.columns + column


# --- templates -------------------------------------------------------------------------------


@pytest.mark.parametrize("preset", list(PRESETS))
def test_presets_fit_their_page(preset: str) -> None:
    template = Template.from_json({"preset": preset})
    assert template.per_page == PER_PAGE[preset]
    width, height = template.page_size
    last_x, last_y = template.slot(template.per_page - 1)
    first_x, first_y = template.slot(0)
    assert first_x >= 0
    assert last_y >= 0
    assert last_x + template.spec.width * render.MM <= width * render.MM + 1e-6
    assert first_y + template.spec.height * render.MM <= height * render.MM + 1e-6
    qr_box, text_box = template.qr_box, template.text_box
    assert qr_box.x + qr_box.w < text_box.x  # the QR and the text never overlap
    assert text_box.x + text_box.w <= template.spec.width


def test_template_defaults_margins_gaps_and_normal_form() -> None:
    template = Template.from_json(None)
    assert template.preset == "40x30"
    assert template.fields == render.FIELDS
    custom = Template.from_json(
        {"preset": "50x30", "fields": ["code", "product_name"], "margin_mm": 10, "gap_mm": 2}
    )
    assert (custom.margin_top, custom.margin_left, custom.gap_x, custom.gap_y) == (10, 10, 2, 2)
    assert custom.fields == ("product_name", "code")  # canonical order
    assert custom.columns == 3  # 3 × 50 + 2 × 2 ≤ 210 − 2 × 10
    assert Template.from_json(custom.to_json()) == custom
    roll = Template.from_json({"preset": "roll-40x30", "margin_mm": 7, "gap_mm": None})
    assert (roll.margin_top, roll.gap_x, roll.per_page, roll.page_size) == (0, 0, 1, (40, 30))
    # Keys it does not know (added by a later API) are ignored.
    assert Template.from_json({"preset": "30x20", "colour": "red"}).preset == "30x20"


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"preset": "99x99"}, "preset"),
        ({"fields": ["product_name", "price"]}, "fields"),
        ({"fields": "product_name"}, "fields"),
        ({"margin_top": -1}, "margin_top"),
        ({"gap_x": "3"}, "gap_x"),
        ({"gap_y": float("nan")}, "gap_y"),
        ({"qr_error": "X"}, "qr_error"),
        ({"frame": "yes"}, "frame"),
        ({"preset": "50x30", "margin_left": 51}, "margin_left"),
    ],
)
def test_template_validation(data: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        Template.from_json(data)
    assert caught.value.code == "invalid_template"
    assert field in caught.value.fields
    message = caught.value.fields[field][0]
    assert message["vi"]
    assert message["en"]


def test_a_payload_too_dense_for_the_sticker_is_refused() -> None:
    small = Template.from_json({"preset": "30x20", "qr_error": "H"})
    small.check_payload("https://example.vn/q/0007K2M-9QF3")
    with pytest.raises(InvalidInput) as caught:
        small.check_payload("https://example.vn/" + "x" * 200)
    assert caught.value.code == "qr_too_dense"


# --- QR matrices -----------------------------------------------------------------------------


@pytest.mark.parametrize("error", qr.ERROR_LEVELS)
def test_fast_qr_matrices_are_exactly_segnos(error: str) -> None:
    rng = random.Random(7)
    base = "https://truyxuat.quangninh.gov.vn/01/08934567890123/10/LOT-1/21/"
    alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
    shape = qr.shape_for((base + "0000000-0000").encode(), error)
    for _ in range(40):
        code = "".join(rng.choice(alphabet) for _ in range(7)) + "-"
        code += "".join(rng.choice(alphabet) for _ in range(4))
        payload = (base + code).encode()
        expected = segno.make(
            payload,
            mode="byte",
            error=error,
            version=shape.version,
            mask=shape.mask,
            boost_error=False,
            micro=False,
        )
        assert shape.raster(payload) == qr._raster(expected.matrix, shape.row_bytes).to_bytes(
            shape.nbytes, "big"
        )
    with pytest.raises(ValueError, match="length"):
        shape.raster(b"short")


# --- the round trip: labels → PDF → raster → decoded ------------------------------------------


@pytest.mark.parametrize("preset", list(PRESETS))
def test_round_trip_every_preset(preset: str) -> None:
    template = Template.from_json({"preset": preset})
    count = template.per_page + 3 if template.per_page > 1 else 3  # a second, partial page
    labels = [stand_in(n) for n in range(1000, 1000 + count)]
    pdf = render_labels(template, CONTENT, labels)

    pages = decode_pages(pdf)
    assert len(pages) == -(-count // template.per_page)
    decoded = []
    for page_index, codes in enumerate(pages):
        for text, x, y in codes:
            position = page_index * template.per_page + slot_of(template, x, y)
            decoded.append((position, text))
    # Every payload exactly once, each at its own position in order.
    assert sorted(decoded) == [(i, url) for i, (url, _) in enumerate(labels)]

    texts = page_texts(pdf)
    for page_index, text in enumerate(texts):
        on_page = labels[page_index * template.per_page : (page_index + 1) * template.per_page]
        # The human-readable codes, in print order, and the Vietnamese text on every label.
        positions = [text.index(code) for _, code in on_page]
        assert positions == sorted(positions)
        flat = " ".join(text.split())
        for phrase in ("Chả mực Hạ Long", "Đầm Hà", "Hợp tác xã", "Lô: LÔ-2024-05"):
            assert flat.count(phrase) == len(on_page), (preset, phrase)
        assert flat.count("HSD: 01/11/2024") == len(on_page)
        assert flat.count("VietGAP, OCOP 4★") == len(on_page)


def test_qr_codes_are_sharp() -> None:
    """Module edges stay black and white at any zoom: no grey from interpolation."""
    template = Template.from_json({"preset": "roll-50x30"})
    pdf = render_labels(template, CONTENT, [stand_in(5)])
    document = pdf_document(pdf)
    try:
        page = document[0]
        for dpi in (203, 600, 1200):
            bitmap = page.render(scale=dpi / 72, grayscale=True)
            image = bitmap.to_pil().convert("L")
            box = template.qr_box
            px = dpi / 25.4
            inner = image.crop(
                (
                    int((box.x + box.w * 0.2) * px),
                    int((box.y + box.h * 0.2) * px),
                    int((box.x + box.w * 0.8) * px),
                    int((box.y + box.h * 0.8) * px),
                )
            )
            histogram = inner.histogram()
            assert sum(histogram[1:255]) == 0, dpi
            assert histogram[0] > 0
            assert histogram[255] > 0
            bitmap.close()
        page.close()
    finally:
        document.close()


def test_only_the_chosen_fields_print() -> None:
    template = Template.from_json({"preset": "40x30", "fields": ["product_name", "code"]})
    pdf = render_labels(template, CONTENT, [stand_in(1), stand_in(2)])
    text = " ".join(page_texts(pdf)[0].split())
    assert text.count("Chả mực Hạ Long") == 2
    assert "0000000001" in text
    for absent in ("Đầm Hà", "Lô:", "NSX", "HSD", "VietGAP"):
        assert absent not in text
    no_code = Template.from_json({"preset": "40x30", "fields": ["product_name"]})
    assert "0000000001" not in page_texts(render_labels(no_code, CONTENT, [stand_in(1)]))[0]
    assert [c[0] for c in decode_pages(render_labels(no_code, CONTENT, [stand_in(1)]))[0]] == [
        "https://example.vn/q/S1"
    ]


def test_long_text_shrinks_to_fit_and_markup_prints_as_text() -> None:
    content = {
        **CONTENT,
        "product_name": "Chả mực <b>loại 1</b> & ngon",
        "establishment_name": "Hợp tác xã Đầm Hà <script>",
    }
    template = Template.from_json({"preset": "30x20"})
    assert render._overflows(
        render.laid_out(template, content, template.spec.text_pt),
        template,
        len(render.label_lines(template, content)),
    )
    text = " ".join(page_texts(render_labels(template, content, [stand_in(9)]))[0].split())
    assert "<b>loại1</b>&ngon" in text.replace(" ", "")  # escaped: printed as typed
    assert "Đầm Hà <script>" in text
    assert "HSD: 01/11/2024" in text
    assert "VietGAP, OCOP 4★" in text  # the last line fits too, in a smaller size


def test_output_is_deterministic() -> None:
    template = Template.from_json({"preset": "50x30", "frame": True})
    labels = [stand_in(n) for n in range(40)]
    first = render_labels(template, CONTENT, labels)
    render._BACKGROUNDS.clear()  # the background laid out again, too
    assert render_labels(template, CONTENT, labels) == first


def test_human_codes_must_be_printable_ascii() -> None:
    template = Template.from_json({"preset": "roll-40x30"})
    with pytest.raises(ValueError, match="printable ASCII"):
        render_labels(template, CONTENT, [("https://example.vn/q/1", "mã-1")])
    with pytest.raises(ValueError, match="no labels"):
        render_labels(template, CONTENT, [])
    pdf = render_labels(template, CONTENT, [("https://example.vn/q/(1)", "A(1)\\")])
    assert "A(1)\\" in page_texts(pdf)[0]


# --- joining chunks --------------------------------------------------------------------------


def test_join_concatenates_in_order(tmp_path: Path) -> None:
    template = Template.from_json({"preset": "40x30"})
    paths = []
    for index, first in enumerate((0, 80, 160)):
        path = tmp_path / f"chunk-{index}.pdf"
        path.write_bytes(
            render_labels(template, CONTENT, [stand_in(n) for n in range(first, first + 80)])
        )
        paths.append(path)
    target = tmp_path / "out" / "labels.pdf"
    assert join(paths, target) == 6
    texts = page_texts(target.read_bytes())
    codes = [code for text in texts for code in text.split() if code.isdigit() and len(code) == 10]
    assert codes == [f"{n:010d}" for n in range(240)]
    assert sorted(p.name for p in target.parent.iterdir()) == ["labels.pdf"]


def test_a_join_that_dies_leaves_no_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    template = Template.from_json({"preset": "roll-40x30"})
    chunk = tmp_path / "chunk.pdf"
    chunk.write_bytes(render_labels(template, CONTENT, [stand_in(1)]))
    target = tmp_path / "labels.pdf"

    class Killed(BaseException):
        pass

    def die(*_: Any) -> None:
        raise Killed

    monkeypatch.setattr(render.os, "replace", die)
    with pytest.raises(Killed):
        join([chunk], target)
    assert not target.exists()
    assert [p.name for p in tmp_path.iterdir()] == ["chunk.pdf"]
