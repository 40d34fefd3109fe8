"""Request dependencies: the process services and a database session per request.

The session commits when the route returns and rolls back when it raises; both happen before
the response is sent (``scope="function"``), so a failed commit becomes an error answer rather
than a success the client already saw. Routes that must commit mid-way (upload: commit, then
enqueue) call ``session.commit()`` themselves.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from loandocs.services import Services


def get_app_services(request: Request) -> Services:
    return request.app.state.services


def get_session(services: Annotated[Services, Depends(get_app_services)]) -> Iterator[Session]:
    session = services.sessions()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


ServicesDep = Annotated[Services, Depends(get_app_services)]
SessionDep = Annotated[Session, Depends(get_session, scope="function")]
