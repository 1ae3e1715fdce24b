"""What the products API views share: ETags, file responses, the caller's settings."""

from __future__ import annotations

from typing import Any

from flask import Response, current_app, request, send_file

from shared.files import LocalFileStore
from shared.pagination import if_match_version


def etag(obj: Any, status: int = 200) -> tuple[Any, int, dict[str, str]]:
    return obj, status, {"ETag": f'"{obj.version}"'}


def expected_version() -> int | None:
    return if_match_version(request.headers.get("If-Match"))


def files() -> LocalFileStore:
    store: LocalFileStore = current_app.extensions["trace_files"]
    return store


def max_upload_bytes() -> int:
    return int(current_app.config["SETTINGS"].upload_max_mb) * 1024 * 1024


def send_stored(key: str, content_type: str, download_name: str, *, inline: bool) -> Response:
    """A stored file as a response; the handle is closed by the response."""
    handle = files().open(key)
    response = send_file(
        handle,
        mimetype=content_type,
        as_attachment=not inline,
        download_name=download_name,
        max_age=300,
    )
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


def file_ref(key: str | None, url: str, **extra: Any) -> dict[str, Any] | None:
    if not key:
        return None
    return {"key": key.rsplit("/", 1)[-1], "url": url, **extra}
