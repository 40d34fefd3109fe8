"""``create_app(services)``: the FastAPI application. Services default to the process-wide
ones built from the environment (``get_services()``); tests pass their own."""

from __future__ import annotations

from fastapi import Depends, FastAPI
from fastapi.responses import JSONResponse
from sqlalchemy import text

from loandocs import __version__
from loandocs.api import errors, web
from loandocs.api.admin_routes import router as admin_router
from loandocs.api.auth import PUBLIC
from loandocs.api.deps import ServicesDep
from loandocs.api.limits import FORM_LIMITS, BodyLimit, RequestGuard
from loandocs.api.metrics import RequestMetrics
from loandocs.api.metrics import router as metrics_router
from loandocs.api.ratelimit import RateLimit
from loandocs.api.requestid import RequestId
from loandocs.api.review_routes import router as review_router
from loandocs.api.routes import router
from loandocs.api.schemas import HealthOut
from loandocs.api.webhook_routes import router as webhook_router
from loandocs.services import Services, get_services


def create_app(services: Services | None = None) -> FastAPI:
    app = FastAPI(
        title="loandocs",
        version=__version__,
        description="Loan application documents: upload, extraction, checklist, review.",
        # Swagger UI and ReDoc load their scripts from a CDN; this service runs offline, so
        # only the OpenAPI document itself is served.
        docs_url=None,
        redoc_url=None,
        form_limits=FORM_LIMITS,
    )
    app.state.services = services or get_services()
    errors.install(app)
    app.add_middleware(BodyLimit, max_bytes_of=lambda: app.state.services.settings.limits.max_file_bytes)
    # Before the body is read: a flood is refused without taking in its uploads.
    app.add_middleware(RateLimit, settings_of=lambda: app.state.services.settings,
                       redis_of=lambda: app.state.services.redis)
    app.add_middleware(RequestGuard)  # header limits, nosniff on every response
    # Outside the rate limit and the guard, so the requests they refuse are counted too.
    app.add_middleware(RequestMetrics, redis_of=lambda: app.state.services.redis, fastapi_app=app)
    app.add_middleware(RequestId)  # added last = outermost: the id covers the whole request
    app.include_router(router)
    app.include_router(admin_router)
    app.include_router(review_router)
    web.install(app)  # /review and /apply pages, /static
    app.include_router(metrics_router)
    app.include_router(webhook_router)  # admin: the lender's webhook subscriptions and deliveries

    @app.get("/healthz", response_model=HealthOut, tags=["ops"], dependencies=[Depends(PUBLIC)])
    def healthz() -> HealthOut:
        return HealthOut(status="ok")

    @app.get("/readyz", response_model=HealthOut, tags=["ops"],
             responses={503: {"model": HealthOut, "description": "database or Redis unavailable"}},
             dependencies=[Depends(PUBLIC)])
    def readyz(services: ServicesDep):
        checks = {"database": _check(lambda: _ping_db(services)), "redis": _check(lambda: services.redis.ping())}
        ok = all(v == "ok" for v in checks.values())
        body = HealthOut(status="ok" if ok else "unavailable", checks=checks)
        return JSONResponse(body.model_dump(), status_code=200 if ok else 503)

    return app


def _ping_db(services: Services) -> None:
    with services.engine.connect() as conn:
        conn.execute(text("SELECT 1"))


def _check(probe) -> str:  # type: ignore[no-untyped-def]
    try:
        probe()
    except Exception as exc:  # noqa: BLE001 - any failure means "not ready"; the reason is reported
        return f"error: {exc.__class__.__name__}"
    return "ok"
