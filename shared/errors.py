"""One error format for every service: RFC 9457 problem details, Vietnamese and English.

Domain code raises `DomainError` subclasses (no Flask imports needed); `register_error_handlers`
is the one place that turns them, HTTP errors and marshmallow validation errors into
`application/problem+json` responses. An unknown exception is logged and answered 500 — never
dressed up as a vague 4xx.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Any

from flask import Flask, Response, g, jsonify, request
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"


class Message(dict[str, str]):
    """A text in both languages: {"vi": ..., "en": ...}."""

    def __init__(self, vi: str, en: str) -> None:
        super().__init__(vi=vi, en=en)


class DomainError(Exception):
    """A rule of the domain refused the request. `code` is stable; clients switch on it."""

    status = 400
    code = "bad_request"
    vi = "Yêu cầu không hợp lệ."
    en = "The request is not valid."
    # A refusal that must still keep what the domain recorded (e.g. ending a session whose
    # refresh token was stolen): the request's transaction commits despite the error status.
    commit_anyway = False

    def __init__(
        self,
        vi: str | None = None,
        en: str | None = None,
        *,
        code: str | None = None,
        fields: Mapping[str, list[Message]] | None = None,
        headers: Mapping[str, str] | None = None,
        extra: Mapping[str, Any] | None = None,
        commit_anyway: bool = False,
    ) -> None:
        self.message = Message(vi or self.vi, en or self.en)
        self.commit_anyway = commit_anyway
        if code:
            self.code = code
        self.fields = dict(fields or {})
        self.headers = dict(headers or {})
        self.extra = dict(extra or {})
        super().__init__(self.message["en"])


class InvalidInput(DomainError):
    status = 422
    code = "validation_error"
    vi = "Dữ liệu gửi lên không hợp lệ."
    en = "The submitted data is not valid."

    @classmethod
    def field(cls, name: str, vi: str, en: str, *, code: str | None = None) -> InvalidInput:
        return cls(fields={name: [Message(vi, en)]}, code=code)


class Unauthenticated(DomainError):
    status = 401
    code = "unauthenticated"
    vi = "Cần đăng nhập."
    en = "Authentication is required."

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("headers", {"WWW-Authenticate": 'Bearer realm="traceability"'})
        super().__init__(*args, **kwargs)


class Forbidden(DomainError):
    status = 403
    code = "forbidden"
    vi = "Bạn không có quyền thực hiện thao tác này."
    en = "You are not allowed to do this."


class NotFound(DomainError):
    status = 404
    code = "not_found"
    vi = "Không tìm thấy."
    en = "Not found."


class Conflict(DomainError):
    status = 409
    code = "conflict"
    vi = "Xung đột với trạng thái hiện tại của dữ liệu."
    en = "This conflicts with the current state of the data."


class PreconditionFailed(DomainError):
    status = 412
    code = "stale_version"
    vi = "Dữ liệu đã được người khác thay đổi; hãy tải lại rồi thử lại."
    en = "Someone else changed this record; reload it and try again."


class TooManyRequests(DomainError):
    status = 429
    code = "too_many_requests"
    vi = "Quá nhiều yêu cầu; hãy thử lại sau."
    en = "Too many requests; try again later."


class ServiceUnavailable(DomainError):
    status = 503
    code = "service_unavailable"
    vi = "Dịch vụ tạm thời không sẵn sàng; hãy thử lại sau ít phút."
    en = "The service is temporarily unavailable; try again in a few minutes."


# --- marshmallow messages, in Vietnamese -------------------------------------------------------

_EXACT_VI = {
    "Missing data for required field.": "Thiếu trường bắt buộc.",
    "Field may not be null.": "Trường này không được để trống.",
    "Not a valid string.": "Không phải là chuỗi ký tự hợp lệ.",
    "Not a valid integer.": "Không phải là số nguyên hợp lệ.",
    "Not a valid number.": "Không phải là số hợp lệ.",
    "Not a valid boolean.": "Không phải là giá trị đúng/sai hợp lệ.",
    "Not a valid UUID.": "Không phải là mã định danh (UUID) hợp lệ.",
    "Not a valid date.": "Không phải là ngày hợp lệ.",
    "Not a valid datetime.": "Không phải là thời điểm hợp lệ.",
    "Not a valid email address.": "Không phải là địa chỉ email hợp lệ.",
    "Not a valid URL.": "Không phải là địa chỉ URL hợp lệ.",
    "Not a valid list.": "Không phải là danh sách hợp lệ.",
    "Not a valid mapping type.": "Không phải là đối tượng hợp lệ.",
    "Invalid input type.": "Kiểu dữ liệu không hợp lệ.",
    "Invalid value.": "Giá trị không hợp lệ.",
    "Unknown field.": "Trường không được phép gửi.",
    "Shorter than minimum length 1.": "Không được để trống.",
    "Invalid JSON body.": "Nội dung JSON không hợp lệ.",
}
_PATTERNS_VI: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"^Length must be between (\d+) and (\d+)\.$"), r"Độ dài phải từ \1 đến \2 ký tự."),
    (re.compile(r"^Shorter than minimum length (\d+)\.$"), r"Ngắn hơn độ dài tối thiểu \1."),
    (re.compile(r"^Longer than maximum length (\d+)\.$"), r"Dài hơn độ dài tối đa \1 ký tự."),
    (re.compile(r"^Must be one of: (.*)\.$"), r"Phải là một trong các giá trị: \1."),
    (re.compile(r"^Must be greater than or equal to (\S+)\.$"), r"Phải lớn hơn hoặc bằng \1."),
    (re.compile(r"^Must be less than or equal to (\S+)\.$"), r"Phải nhỏ hơn hoặc bằng \1."),
    (
        re.compile(r"^Must be greater than or equal to (.*) and less than or equal to (.*)\.$"),
        r"Phải từ \1 đến \2.",
    ),
    (re.compile(r"^String does not match expected pattern\.$"), "Không đúng định dạng."),
]


def bilingual(message: str | Mapping[str, str]) -> Message:
    """A marshmallow message (English) or an already bilingual one, as a Message."""
    if isinstance(message, Mapping):
        return Message(message.get("vi", ""), message.get("en", ""))
    if message in _EXACT_VI:
        return Message(_EXACT_VI[message], message)
    for pattern, replacement in _PATTERNS_VI:
        if pattern.match(message):
            return Message(pattern.sub(replacement, message), message)
    return Message(message, message)


_LOCATIONS = {"json", "query", "form", "headers", "files", "path", "cookies", "view_args"}


def flatten_field_errors(
    messages: Any, prefix: str = "", *, top: bool = True
) -> dict[str, list[Message]]:
    """marshmallow's nested {"json": {"name": ["..."]}} → {"name": [Message, ...]}."""
    out: dict[str, list[Message]] = {}

    def add(name: str, found: dict[str, list[Message]]) -> None:
        for field_name, msgs in found.items():
            out.setdefault(field_name, []).extend(msgs)

    if isinstance(messages, Mapping):
        if messages and set(messages) <= {"vi", "en"}:
            return {prefix or "_schema": [bilingual(messages)]}
        for key, value in messages.items():
            if top and key in _LOCATIONS:
                name = ""
            elif key == "_schema":
                name = prefix
            else:
                name = f"{prefix}.{key}" if prefix else str(key)
            add(name, flatten_field_errors(value, name, top=False))
    elif isinstance(messages, list | tuple):
        for item in messages:
            add(prefix, flatten_field_errors(item, prefix, top=False))
    elif isinstance(messages, str):
        out[prefix or "_schema"] = [bilingual(messages)]
    return out


def preferred_language() -> str:
    try:
        header = request.headers.get("Accept-Language", "")
    except RuntimeError:
        return "vi"
    best = request.accept_languages.best_match(["vi", "en"]) if header else None
    return best or "vi"


def problem_response(
    status: int,
    code: str,
    message: Mapping[str, str],
    *,
    fields: Mapping[str, list[Message]] | None = None,
    headers: Mapping[str, str] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> Response:
    lang = preferred_language()
    from http import HTTPStatus

    try:
        title = HTTPStatus(status).phrase
    except ValueError:
        title = "Error"
    body: dict[str, Any] = {
        "type": f"urn:traceability:problem:{code}",
        "title": title,
        "status": status,
        "code": code,
        "detail": message.get(lang) or message.get("en", ""),
        "message": {"vi": message.get("vi", ""), "en": message.get("en", "")},
        "instance": request.path,
        "request_id": getattr(g, "request_id", None),
    }
    if fields:
        body["errors"] = {name: [dict(m) for m in msgs] for name, msgs in fields.items()}
    if extra:
        body.update(extra)
    response = jsonify(body)
    response.status_code = status
    response.mimetype = PROBLEM_JSON
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


_HTTP_MESSAGES: dict[int, tuple[str, Message]] = {
    400: ("bad_request", Message("Yêu cầu không hợp lệ.", "The request is not valid.")),
    401: ("unauthenticated", Message("Cần đăng nhập.", "Authentication is required.")),
    403: ("forbidden", Message("Bạn không có quyền truy cập.", "Access is forbidden.")),
    404: ("not_found", Message("Không tìm thấy địa chỉ này.", "This address was not found.")),
    405: ("method_not_allowed", Message("Phương thức không được hỗ trợ.", "Method not allowed.")),
    406: ("not_acceptable", Message("Không có định dạng phù hợp.", "Not acceptable.")),
    409: ("conflict", Conflict().message),
    412: ("precondition_failed", PreconditionFailed().message),
    413: (
        "payload_too_large",
        Message("Tệp hoặc nội dung gửi lên quá lớn.", "The upload or request body is too large."),
    ),
    415: (
        "unsupported_media_type",
        Message("Định dạng nội dung không được hỗ trợ.", "Unsupported media type."),
    ),
    422: ("validation_error", InvalidInput().message),
    428: (
        "precondition_required",
        Message(
            "Thiếu điều kiện phiên bản (If-Match).",
            "A version precondition (If-Match) is required.",
        ),
    ),
    429: ("too_many_requests", TooManyRequests().message),
    503: ("service_unavailable", ServiceUnavailable().message),
}


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def _domain(exc: DomainError) -> Response:
        if exc.commit_anyway:
            g.commit_despite_error = True
        return problem_response(
            exc.status,
            exc.code,
            exc.message,
            fields=exc.fields,
            headers=exc.headers,
            extra=exc.extra,
        )

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> Response:
        status = exc.code or 500
        code, message = _HTTP_MESSAGES.get(
            status, ("http_error", Message(exc.description or "", exc.description or ""))
        )
        fields: dict[str, list[Message]] = {}
        data = getattr(exc, "data", None)
        if isinstance(data, Mapping) and "messages" in data:
            # webargs/flask-smorest validation failure
            fields = flatten_field_errors(data["messages"])
            code, message = "validation_error", InvalidInput().message
            status = 422
        headers = {k: v for k, v in exc.get_headers() if k.lower() not in {"content-type"}}
        if isinstance(data, Mapping):
            headers.update(data.get("headers") or {})
        return problem_response(status, code, message, fields=fields, headers=headers)

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Response:
        from sqlalchemy.exc import DBAPIError
        from sqlalchemy.orm.exc import StaleDataError

        if isinstance(exc, StaleDataError):
            # Two saves raced past the If-Match check; the database's version check caught it.
            stale = PreconditionFailed()
            return problem_response(stale.status, stale.code, stale.message)

        if (isinstance(exc, DBAPIError) and exc.connection_invalidated) or _is_unavailable(exc):
            log.warning("dependency unavailable: %s", exc)
            err = ServiceUnavailable()
            return problem_response(503, err.code, err.message, headers={"Retry-After": "5"})
        log.exception("unhandled error")
        return problem_response(
            500,
            "internal_error",
            Message("Lỗi hệ thống; sự cố đã được ghi lại.", "Internal error; it has been logged."),
        )


def _is_unavailable(exc: Exception) -> bool:
    from sqlalchemy.exc import OperationalError

    try:
        from redis.exceptions import ConnectionError as RedisConnectionError
        from redis.exceptions import TimeoutError as RedisTimeoutError
    except ImportError:  # pragma: no cover - redis is a dependency
        return isinstance(exc, OperationalError)
    return isinstance(exc, OperationalError | RedisConnectionError | RedisTimeoutError)
