"""Every text of every page has its English translation, and the catalogues compile."""

from __future__ import annotations

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
