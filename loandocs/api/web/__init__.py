"""Web pages: ``/review`` for reviewers, ``/apply`` for applicants, ``/static`` for their
CSS and JavaScript (served from this package; nothing comes from a CDN)."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from loandocs.api.web.apply_pages import json_router as apply_json_router
from loandocs.api.web.apply_pages import router as apply_router
from loandocs.api.web.common import STATIC_DIR, install_handlers
from loandocs.api.web.review_pages import router as review_router


def install(app: FastAPI) -> None:
    install_handlers(app)
    app.include_router(apply_json_router)
    app.include_router(review_router)
    app.include_router(apply_router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")


__all__ = ["install"]
