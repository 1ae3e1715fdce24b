"""The pages' English catalogues: one per service plus one for the shared layout.

    python -m shared.i18n update [services/x]   # add new texts (empty English), drop unused
    python -m shared.i18n compile  # the .mo files (set-up and image build)
    python -m shared.i18n check    # list texts without an English translation (exit 1)
    python -m shared.i18n translate services/labels en.json   # set English from {vi: en}

The message id is the Vietnamese text as written in `_()` / `_l()` / `gettext()` in Python and
templates; the English is the `msgstr` of `<package>/translations/en/LC_MESSAGES/messages.po`.
A text used by two services is translated in each (the catalogues merge, the service's own
winning), or once in `shared/` when the shared layout or `shared/web.py` uses it.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

from shared.config import PROJECT_ROOT, SERVICES

KEYWORDS = {"_": None, "_l": None, "gettext": None, "lazy_gettext": None}
METHODS = [
    ("**/templates/**.html", "jinja2"),
    ("**/web/**.py", "python"),
    ("**/web.py", "python"),
    ("**/pages.py", "python"),
]
SHARED_METHODS = [("templates/**.html", "jinja2"), ("web.py", "python")]


def packages() -> list[Path]:
    out = [PROJECT_ROOT / "shared"]
    out += [
        PROJECT_ROOT / "services" / s for s in SERVICES if (PROJECT_ROOT / "services" / s).is_dir()
    ]
    return out


def catalogue_path(package: Path) -> Path:
    return package / "translations" / "en" / "LC_MESSAGES" / "messages.po"


def used_texts(package: Path) -> Iterator[tuple[str, str, int]]:
    """(text, file, line) of every translatable text written in this package's pages."""
    methods = SHARED_METHODS if package.name == "shared" else METHODS
    options = {"**/templates/**.html": {"extensions": "jinja2.ext.i18n"}}
    for filename, lineno, message, _comments, _context in extract_from_dir(
        str(package), methods, keywords=KEYWORDS, options_map=options
    ):
        texts = message if isinstance(message, tuple) else (message,)
        for text in texts:
            if text:
                yield text, filename, lineno


def load(package: Path) -> Catalog:
    path = catalogue_path(package)
    if not path.is_file():
        return Catalog(locale="en", project="traceability")
    with path.open("rb") as handle:
        return read_po(handle, locale="en")


def update(package: Path) -> int:
    """Add the texts not in the catalogue yet, drop those no page uses; returns how many added."""
    old = load(package)
    new = Catalog(locale="en", project="traceability", fuzzy=False)
    added = 0
    for text, filename, lineno in used_texts(package):
        if text in new:
            new[text].locations.append((filename, lineno))
            continue
        before = old.get(text)
        new.add(text, before.string if before is not None else "", locations=[(filename, lineno)])
        added += before is None
    path = catalogue_path(package)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as handle:
        write_po(handle, new, width=100, omit_header=False, sort_output=False, no_location=True)
    return added


def missing(package: Path) -> list[tuple[str, str, int]]:
    """Texts used in this package's pages with no English in its catalogue or the shared one."""
    own, shared = load(package), load(PROJECT_ROOT / "shared")
    out = []
    for text, filename, lineno in used_texts(package):
        for catalogue in (own, shared):
            found = catalogue.get(text)
            if found is not None and found.string and not found.fuzzy:
                break
        else:
            out.append((text, str(package.relative_to(PROJECT_ROOT) / filename), lineno))
    return out


def translate(package: Path, english: dict[str, str]) -> int:
    """Write these English texts into the package's catalogue (after `update`); returns how
    many texts it set. `python -m shared.i18n translate services/x file.json` does the same."""
    catalogue = load(package)
    changed = 0
    for text, string in english.items():
        found = catalogue.get(text)
        if found is None:
            catalogue.add(text, string)
        else:
            found.string = string
            found.flags.discard("fuzzy")
        changed += 1
    with catalogue_path(package).open("wb") as handle:
        write_po(handle, catalogue, width=100, sort_output=False, no_location=True)
    return changed


def main(argv: list[str]) -> int:
    command = argv[0] if argv else "check"
    if command == "compile":
        from shared.web import compile_catalogues

        compile_catalogues([package / "translations" for package in packages()])
        return 0
    if command == "translate":
        import json

        package = PROJECT_ROOT / argv[1]
        english = json.loads(Path(argv[2]).read_text(encoding="utf-8"))
        print(f"{argv[1]}: {translate(package, english)} text(s) set")
        return 0
    if command == "update":
        chosen = [PROJECT_ROOT / a for a in argv[1:]] or packages()
        for package in chosen:
            added = update(package)
            print(f"{package.relative_to(PROJECT_ROOT)}: {added} new text(s)")
        return 0
    problems = [m for package in packages() for m in missing(package)]
    for text, where, line in problems:
        print(f"{where}:{line}: no English for {text!r}")
    return 1 if problems else 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main(sys.argv[1:]))
