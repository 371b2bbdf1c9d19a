"""A lean request handler for the intake endpoints, behind FastAPI's own route and OpenAPI.

FastAPI's generic handler (content-type sniffing, `json.loads`, dependency solving, parameter
extraction, response re-validation) costs about 100 µs a request on this machine: as much as a
bare endpoint's whole work, and intake must reach 60 % of a bare endpoint's throughput while
committing every report (SPEC §7, docs/benchmarks.md "Ingest"). `IntakeRoute` keeps FastAPI for
everything but the happy path of endpoints of a simple shape — one JSON body, `Request` /
`Response` / header parameters, and dependencies that can be resolved from the request alone:

- the body is parsed and validated in one pass by pydantic's JSON parser;
- anything unusual (another content type, a body that does not validate, a header that does not
  validate) is handed to FastAPI's own handler, so every error answer is FastAPI's, unchanged;
- the return value is serialised with the response model's serializer, status and headers set
  by the endpoint are kept as FastAPI keeps them.

Routes of any other shape get FastAPI's handler. The OpenAPI schema comes from the endpoint's
signature either way. tests/service/test_fastroute.py compares both handlers answer for answer.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, Optional, TypeVar

from fastapi import Request, Response
from fastapi import routing as fastapi_routing
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from pydantic import TypeAdapter, ValidationError
from starlette.requests import ClientDisconnect

Handler = Callable[[Request], Coroutine[Any, Any, Response]]
Resolver = Callable[[Request], Awaitable[Any]]
F = TypeVar("F", bound=Callable[..., Any])

_LEAN_ATTR = "__lean_resolver__"
# Header parameters read as FastAPI reads a single plain header (lists and models are not).
_PLAIN_HEADER: tuple[Any, ...] = (str, str | None, Optional[str])  # noqa: UP045


def lean_dependency(resolver: Resolver) -> Callable[[F], F]:
    """Mark a dependency as resolvable by `resolver(request)`, which must give the same value
    (or raise the same error) as FastAPI solving the dependency's own parameters."""

    def mark(call: F) -> F:
        setattr(call, _LEAN_ATTR, resolver)
        return call

    return mark


def is_json(content_type: str | None) -> bool:
    if not content_type:
        return False
    media = content_type.split(";", 1)[0].strip().lower()
    if media.count("/") != 1:
        return False  # FastAPI (the email package) reads such a type as text/plain
    return media == "application/json" or (
        media.startswith("application/") and media.endswith("+json")
    )


def _resolver(dep: Dependant) -> Resolver | None:
    marked: Resolver | None = getattr(dep.call, _LEAN_ATTR, None)
    if marked is not None:
        return marked
    plain = (
        dep.request_param_name is not None
        and not dep.dependencies
        and not (dep.path_params or dep.query_params or dep.header_params)
        and not (dep.cookie_params or dep.body_params)
    )
    call = dep.call
    if plain and call is not None and inspect.iscoroutinefunction(call):
        return call
    return None


class IntakeRoute(APIRoute):
    def get_route_handler(self) -> Handler:
        generic = super().get_route_handler()
        plan = _Plan.of(_effective(self))
        return generic if plan is None else plan.handler(generic)


def _effective(route: APIRoute) -> Any:
    """The route as included (prefix, include-level dependencies): FastAPI builds an included
    route's handler with its inclusion context in a context variable, as `APIRoute` reads it."""
    var = getattr(fastapi_routing, "_effective_route_context_var", None)
    context = var.get() if var is not None else None
    if context is not None and getattr(context, "original_route", None) is route:
        return context
    return route


class _Plan:
    """What the lean handler needs of a route, worked out once when the route is built."""

    def __init__(self, route: Any, body: TypeAdapter[Any], out: TypeAdapter[Any]) -> None:
        dependant = route.dependant
        self.endpoint = dependant.call
        self.status_code = route.status_code
        self.body_name = route.body_field.name if route.body_field else "body"
        self.body = body
        self.out = out
        self.headers = dependant.header_params
        self.request_name = dependant.request_param_name
        self.response_name = dependant.response_param_name
        self.overrides = route.dependency_overrides_provider
        self.deps: list[tuple[str, Resolver]] = []
        for dep in dependant.dependencies:
            resolver = _resolver(dep)
            assert dep.name is not None and resolver is not None  # checked by `of`
            self.deps.append((dep.name, resolver))

    @classmethod
    def of(cls, route: Any) -> _Plan | None:
        d = route.dependant
        body = getattr(route.body_field, "_type_adapter", None)
        out = getattr(route.response_field, "_type_adapter", None)
        simple = (
            len(d.body_params) == 1
            and not route._embed_body_fields
            and not (d.path_params or d.query_params or d.cookie_params)
            and d.background_tasks_param_name is None
            and d.security_scopes_param_name is None
            and d.websocket_param_name is None
            and all(h.field_info.annotation in _PLAIN_HEADER for h in d.header_params)
            and all(dep.name is not None and _resolver(dep) for dep in d.dependencies)
            and _default_serialisation(route)
        )
        if not simple or not isinstance(body, TypeAdapter) or not isinstance(out, TypeAdapter):
            return None
        return cls(route, body, out)

    def handler(self, generic: Handler) -> Handler:
        async def app(request: Request) -> Response:
            if self._needs_fastapi(request):
                return await generic(request)
            values = await self._arguments(request)
            if values is None:
                return await generic(request)  # FastAPI's own answer, errors included
            sub = Response()
            del sub.headers["content-length"]
            sub.status_code = None  # type: ignore[assignment]
            if self.response_name:
                values[self.response_name] = sub
            for name, resolve in self.deps:
                values[name] = await resolve(request)
            result = await self.endpoint(**values)
            if isinstance(result, Response):
                return result
            response = Response(
                self.out.dump_json(result),
                status_code=sub.status_code or self.status_code or 200,
                media_type="application/json",
            )
            response.headers.raw.extend(sub.headers.raw)
            return response

        return app

    def _needs_fastapi(self, request: Request) -> bool:
        """Dependency overrides (tests, operators) and FastAPI's telemetry hooks live in its
        handler: with either in use, every request takes that handler."""
        overrides = getattr(self.overrides, "dependency_overrides", None)
        settings = getattr(request.app.state, "settings", None)
        return bool(overrides) or bool(getattr(settings, "otel_enabled", False))

    async def _arguments(self, request: Request) -> dict[str, Any] | None:
        """The endpoint's body, header and request arguments, or None to let FastAPI answer."""
        if not is_json(request.headers.get("content-type")):
            return None
        try:
            raw = await request.body()  # cached on the request: FastAPI can read it again
        except ClientDisconnect:
            return None  # FastAPI's handler gives its own answer
        # Anything else propagates: a body past the limit (an HTTPException) must become the
        # 413, and FastAPI's handler, reading a stream already drained, would wait for ever.
        if not raw:
            return None
        try:
            values: dict[str, Any] = {self.body_name: self.body.validate_json(raw)}
        except ValidationError:
            return None
        for field in self.headers:
            given = request.headers.get(field.alias)
            if given is None:
                if field.field_info.is_required():
                    return None
                values[field.name] = field.get_default()
                continue
            value, errors = field.validate(given, values, loc=("header", field.alias))
            if errors:
                return None
            values[field.name] = value
        if self.request_name:
            values[self.request_name] = request
        return values


def _default_serialisation(route: Any) -> bool:
    return (
        route.response_field is not None
        and route.response_model_include is None
        and route.response_model_exclude is None
        and route.response_model_by_alias
        and not route.response_model_exclude_unset
        and not route.response_model_exclude_defaults
        and not route.response_model_exclude_none
    )
