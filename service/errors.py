"""Domain errors carrying their HTTP status, rendered as RFC 9457 problem+json."""

from __future__ import annotations

from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

log = structlog.get_logger()
PROBLEM = "application/problem+json"


class AppError(Exception):
    status_code = 400
    title = "Bad request"

    def __init__(self, detail: str, *, headers: dict[str, str] | None = None, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.headers = headers
        self.extra = extra


class NotFound(AppError):
    status_code = 404
    title = "Not found"


class Conflict(AppError):
    status_code = 409
    title = "Conflict"


class Unprocessable(AppError):
    status_code = 422
    title = "Unprocessable content"


class Unauthorized(AppError):
    status_code = 401
    title = "Unauthorized"


class Forbidden(AppError):
    status_code = 403
    title = "Forbidden"


class TooLarge(AppError):
    status_code = 413
    title = "Content too large"


class TooManyRequests(AppError):
    status_code = 429
    title = "Too many requests"


class Unavailable(AppError):
    status_code = 503
    title = "Service unavailable"


def problem(
    status: int,
    title: str,
    detail: str,
    *,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, **extra}
    return JSONResponse(
        jsonable_encoder(body), status_code=status, media_type=PROBLEM, headers=headers
    )


async def _app_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AppError)
    return problem(exc.status_code, exc.title, exc.detail, headers=exc.headers, **exc.extra)


async def _validation_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    raw = exc.errors()
    errors = [
        {"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")}
        for e in raw
    ]
    return problem(422, "Unprocessable content", _detail(raw, exc.body), errors=errors)


def _branch(loc: list[Any]) -> str | None:
    # A body that is one of several types (a comment or a list of them) gets errors for each,
    # tagged with the type's name where a field name would be.
    tag = loc[1] if len(loc) > 1 and loc[0] == "body" else None
    return tag if isinstance(tag, str) and (tag[:1].isupper() or "[" in tag) else None


def _detail(raw: Any, body: Any) -> str:
    """The first error, said plainly: for a union body, one of the branch the body is."""
    if not raw:
        return "body: invalid request"
    is_list = isinstance(body, list)
    chosen = next(
        (e for e in raw if (_branch(list(e["loc"])) or "").startswith("list[") == is_list), raw[0]
    )
    loc = [p for p in chosen["loc"] if p != "body" and p != _branch(list(chosen["loc"]))]
    if chosen.get("type") == "json_invalid":
        reason = (chosen.get("ctx") or {}).get("error", "")
        return f"the body is not valid JSON: {reason} (at character {loc[0] if loc else 0})"
    where = ".".join(str(p) for p in loc) or "body"
    return f"{where}: {chosen.get('msg', '')}"


# FastAPI's answer to a body it cannot decode (invalid UTF-8, JSON nested too deep, a number
# too long to read): a 400 with a vague text, where broken JSON gets a 422 saying what is wrong.
_UNPARSED_BODY = "There was an error parsing the body"


async def _http_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 400 and exc.detail == _UNPARSED_BODY:
        return problem(
            422,
            "Unprocessable content",
            "the body cannot be read as JSON: it must be UTF-8, nested at most a few hundred "
            "levels, with numbers of ordinary length",
        )
    headers = dict(exc.headers) if exc.headers else None
    return problem(exc.status_code, str(exc.detail), str(exc.detail), headers=headers)


async def _database_error(request: Request, exc: Exception) -> JSONResponse:
    if _sqlstate(exc).startswith("22"):
        # asyncpg's data exceptions reach SQLAlchemy as a plain DBAPIError: told apart here.
        return await _unstorable_value(request, exc)
    if _sqlstate(exc) in ("40001", "40P01"):
        # A deadlock or serialization failure: two requests changed the same rows at once and
        # the database gave up one of them. The database is fine; the request may be retried.
        log.warning("db.concurrent_change", error=str(exc)[:300])
        return problem(
            409,
            "Conflict",
            "another change to the same items happened at the same moment; retry",
            headers={"Retry-After": "1"},
        )
    log.error("db.unavailable", error=str(exc)[:300])
    return problem(
        503,
        "Service unavailable",
        "the database is unavailable, retry later",
        headers={"Retry-After": "5"},
    )


async def _conflicting_write(_: Request, exc: Exception) -> JSONResponse:
    # A constraint the service did not check first (two requests racing for one name, say):
    # the request is wrong for the data as it now is, not the database down.
    log.warning("db.integrity", error=str(exc)[:300])
    return problem(
        409,
        "Conflict",
        "the change conflicts with stored data (a duplicate, or a reference that no longer "
        "exists); reload and retry",
    )


def _sqlstate(exc: Exception) -> str:
    code = getattr(getattr(exc, "orig", None), "sqlstate", None)
    return code if isinstance(code, str) else ""


async def _unstorable_value(_: Request, exc: Exception) -> JSONResponse:
    # SQLSTATE class 22: a value from the request that the database cannot hold or compare
    # (a NUL in an identifier, a number out of range) that no validator caught first.
    log.warning("db.data_error", error=str(exc)[:300])
    return problem(
        422,
        "Unprocessable content",
        "a value in the request cannot be stored or compared (NUL characters, out of range)",
    )


async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
    log.exception("request.unhandled", error=str(exc)[:300])
    return problem(500, "Internal server error", "an unexpected error occurred")


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(AppError, _app_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    # Starlette picks the handler of the nearest class in the exception's MRO.
    app.add_exception_handler(IntegrityError, _conflicting_write)
    app.add_exception_handler(DataError, _unstorable_value)
    app.add_exception_handler(OperationalError, _database_error)
    app.add_exception_handler(DBAPIError, _database_error)
    # asyncpg's connect() lets a refused or reset socket through unwrapped: still the database.
    app.add_exception_handler(ConnectionError, _database_error)
    app.add_exception_handler(Exception, _unexpected)


PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "RFC 9457 problem details; `field` names the input at fault when one is.",
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "field": {"type": "string"},
        "errors": {"type": "array", "items": {"type": "object"}},
    },
    "additionalProperties": True,
}


def document_problems(schema: dict[str, Any]) -> dict[str, Any]:
    """Every error answer in the OpenAPI document as what it is on the wire: problem+json.

    FastAPI documents its own 422 as `application/json` with its validation-error model, and
    declared error codes without a body; clients generated from the document would then parse
    errors wrongly (a schemathesis `content_type_conformance` finding)."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components["Problem"] = PROBLEM_SCHEMA
    content = {PROBLEM: {"schema": {"$ref": "#/components/schemas/Problem"}}}
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            for code, response in operation.get("responses", {}).items():
                if code[:1] in ("4", "5"):
                    response["content"] = content
                    response.setdefault("description", "Problem details")
    for unused in ("HTTPValidationError", "ValidationError"):
        components.pop(unused, None)
    return schema
