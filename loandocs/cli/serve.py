"""``loandocs serve``: run the HTTP API with uvicorn on the settings from the environment
(``LOANDOCS_DATA_DIR``, ``LOANDOCS_DATABASE_URL``, ``LOANDOCS_REDIS_URL``)."""

from __future__ import annotations


def serve(host: str = "127.0.0.1", port: int = 8000) -> int:
    import uvicorn

    from loandocs.api import create_app
    from loandocs.logs import setup_logging
    from loandocs.services import get_services

    services = get_services()
    setup_logging(services.settings.log_format, services.settings.log_level)
    services.settings.data_dir.mkdir(parents=True, exist_ok=True)
    _ = services.engine  # migrate and fail now, not on the first request
    # One process: the services (engine pool, embedded Redis) are shared by its threads.
    # log_config=None keeps our JSON handler; the request-id middleware writes the access log.
    uvicorn.run(create_app(services), host=host, port=port, proxy_headers=True, log_config=None, access_log=False)
    return 0
