"""Errors as RFC 9457 problem details (``application/problem+json``)."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from captions.protocol import ErrorCode

PROBLEM_JSON = "application/problem+json"
# What the framework itself refuses (no such route, a method a route does not take).
_HTTP_CODES: dict[int, ErrorCode] = {404: "not_found", 405: "method_not_allowed"}


class Problem(Exception):
    """``code``: a stable, machine-readable reason (``rate_limited``, ``private_room``...)."""

    def __init__(
        self,
        status: int,
        title: str,
        detail: str = "",
        *,
        code: ErrorCode,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail or title)
        self.status = status
        self.title = title
        self.detail = detail
        self.code = code
        self.headers = headers or {}


def problem_response(
    status: int, title: str, detail: str = "", headers: dict[str, str] | None = None, **extra: object
) -> JSONResponse:
    body: dict[str, object] = {"type": "about:blank", "title": title, "status": status}
    if detail:
        body["detail"] = detail
    body.update({name: value for name, value in extra.items() if value})
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def install_problem_handlers(app: FastAPI) -> None:
    async def on_problem(_: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, Problem)
        return problem_response(error.status, error.title, error.detail, error.headers, code=error.code)

    async def on_http(_: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, HTTPException)
        return problem_response(
            error.status_code, str(error.detail), code=_HTTP_CODES.get(error.status_code, "bad_request")
        )

    async def on_validation(_: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, RequestValidationError)
        errors = [{"where": ".".join(str(p) for p in e["loc"]), "problem": e["msg"]} for e in error.errors()]
        detail = errors[0]["problem"] if errors else ""
        return problem_response(422, "Invalid request", detail, code="invalid_request", errors=errors)

    app.add_exception_handler(Problem, on_problem)
    app.add_exception_handler(HTTPException, on_http)
    app.add_exception_handler(RequestValidationError, on_validation)
