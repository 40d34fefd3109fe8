"""``loandocs serve``: run the HTTP API with uvicorn on the settings from the environment
(``LOANDOCS_DATA_DIR``, ``LOANDOCS_DATABASE_URL``, ``LOANDOCS_REDIS_URL``)."""

from __future__ import annotations


def serve(host: str = "127.0.0.1", port: int = 8000) -> int:
    import uvicorn

    from loandocs.api import create_app
    from loandocs.services import get_services

    services = get_services()
    services.settings.data_dir.mkdir(parents=True, exist_ok=True)
    _ = services.engine  # migrate and fail now, not on the first request
    # One process: the services (engine pool, embedded Redis) are shared by its threads.
    uvicorn.run(create_app(services), host=host, port=port, proxy_headers=True)
    return 0
