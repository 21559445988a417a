"""RFC 9457 problem details: every error the API answers is ``application/problem+json``
with a stable ``code`` and a message in the caller's language (the ``lang`` query parameter,
else ``Accept-Language``; Vietnamese by default)."""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from exchange.errors import BadRequest, ExchangeError, NotFound

PROBLEM = "application/problem+json"
LANGUAGES = ("vi", "en")
_log = logging.getLogger("lienthong.api")


def language(request: Request) -> str:
    """``vi`` or ``en`` for this request."""
    asked = request.query_params.get("lang")
    if asked in LANGUAGES:
        return asked
    best, best_q = "vi", -1.0
    for part in request.headers.get("accept-language", "").split(","):
        tag, _, params = part.strip().partition(";")
        primary = tag.strip().lower().split("-")[0]
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        if primary in LANGUAGES and q > best_q:
            best, best_q = primary, q
    return best


def problem(request: Request, error: ExchangeError) -> JSONResponse:
    lang = language(request)
    body: dict[str, Any] = {
        "type": f"urn:lienthong:problem:{error.code}",
        "title": HTTPStatus(error.status).phrase,
        "status": error.status,
        "detail": error.message(lang),
        "code": error.code,
        "lang": lang,
        "instance": request.url.path,
    }
    reason = error.details.get("reason")
    if reason:  # a stable sub-code (a node's refusal says which check failed)
        body["reason"] = reason
    headers = {"Content-Language": lang}
    if error.status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    return JSONResponse(body, status_code=error.status, media_type=PROBLEM, headers=headers)


class InternalError(ExchangeError):
    code = "exchange.internal"
    status = 500


class MethodNotAllowed(ExchangeError):
    code = "exchange.method_not_allowed"
    status = 405


def install(app: FastAPI) -> None:
    """Answer every error as problem+json."""

    async def exchange_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, ExchangeError)  # noqa: S101 (registered for this class only)
        return problem(request, exc)

    async def invalid(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)  # noqa: S101
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()) if p != "body") or "request"
        return problem(
            request,
            BadRequest(
                f"The request is invalid at {where}: {first.get('msg', 'invalid value')}.",
                f"Yêu cầu không hợp lệ tại {where}: {first.get('msg', 'giá trị không hợp lệ')}.",
            ),
        )

    async def http_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)  # noqa: S101
        if exc.status_code == 404:
            return problem(request, NotFound("Not found.", "Không tìm thấy."))
        if exc.status_code == 405:
            return problem(
                request,
                MethodNotAllowed(
                    "This method is not allowed here.", "Không được dùng phương thức này ở đây."
                ),
            )
        error = BadRequest("The request is invalid.", "Yêu cầu không hợp lệ.")
        return problem(request, error)

    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        _log.exception("unexpected error on %s", request.url.path, exc_info=exc)
        return problem(
            request,
            InternalError(
                "Internal error; it has been logged.", "Lỗi nội bộ; sự cố đã được ghi lại."
            ),
        )

    app.add_exception_handler(ExchangeError, exchange_error)
    app.add_exception_handler(RequestValidationError, invalid)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(Exception, unexpected)
