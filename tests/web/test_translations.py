"""Every text of every page has its English translation, and the catalogues compile."""

from __future__ import annotations

import re

import pytest

from shared import i18n

pytestmark = pytest.mark.smoke


@pytest.mark.parametrize("package", i18n.packages(), ids=lambda p: p.name)
def test_every_text_has_english(package: object) -> None:
    missing = i18n.missing(package)  # type: ignore[arg-type]
    assert not missing, "\n".join(f"{w}:{n}: {t!r}" for t, w, n in missing[:40])


def test_catalogues_parse_without_fuzzy_entries() -> None:
    for package in i18n.packages():
        catalogue = i18n.load(package)
        fuzzy = [m.id for m in catalogue if m.id and m.fuzzy]
        assert not fuzzy, f"{package.name}: fuzzy entries {fuzzy[:5]}"


def test_formats_keep_their_placeholders() -> None:
    """An English text must use the same %(name)s placeholders as its Vietnamese id."""
    import re

    pattern = re.compile(r"%\((\w+)\)s")
    for package in i18n.packages():
        for message in i18n.load(package):
            if message.id and message.string:
                assert set(pattern.findall(str(message.id))) == set(
                    pattern.findall(str(message.string))
                ), (package.name, message.id)


# Documents that are Vietnamese by nature (the compiled report a unit files, the printed label
# sheet), and the language switch, which names each language in itself.
VIETNAMESE_ONLY = {
    "services/reports/templates/reports/report.html",
    "services/labels/templates/labels/sheet.html",
}
VIETNAMESE_LETTER = re.compile(
    "[àáảãạăằắẳẵặâầấẩẫậèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵđ]", re.IGNORECASE
)


def test_no_vietnamese_text_outside_the_catalogues() -> None:
    """A page's text is written `_("…")`: Vietnamese left in a template's markup would show
    untranslated in English."""
    from shared.config import PROJECT_ROOT

    found = []
    templates = [
        *PROJECT_ROOT.glob("services/*/templates/**/*.html"),
        *PROJECT_ROOT.glob("shared/templates/*.html"),
    ]
    for path in templates:
        name = str(path.relative_to(PROJECT_ROOT))
        if name in VIETNAMESE_ONLY:
            continue
        text = path.read_text(encoding="utf-8")
        for pattern in (r"\{#.*?#\}", r"\{%.*?%\}", r"\{\{.*?\}\}"):
            text = re.sub(pattern, "", text, flags=re.DOTALL)
        text = text.replace(">Tiếng Việt<", "><")  # the switch names the language in itself
        found += [
            f"{name}: {line.strip()[:80]}"
            for line in text.splitlines()
            if VIETNAMESE_LETTER.search(line)
        ]
    assert not found, "\n".join(found)
