"""Bearer tokens and the audit log: who may call, and what they did with personal data.

Tokens are 256 random bits shown once; only their SHA-256 is stored (``repository.hash_token``),
so a stolen database does not yield working tokens. Audit events are only ever inserted.
"""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from loandocs.errors import LoanDocsError
from loandocs.store.repository import hash_token
from loandocs.store.tables import ApiToken, Application, AuditEvent, utcnow

STAFF_ROLES = ("reviewer", "admin")
ROLES = ("applicant",) + STAFF_ROLES


class InvalidRole(LoanDocsError):
    code = "invalid_role"
    http_status = 422


class TokenNotFound(LoanDocsError):
    code = "token_not_found"
    http_status = 404


class TokenRecord(BaseModel):
    model_config = ConfigDict(from_attributes=True, frozen=True)
    id: str
    name: str
    role: str
    created_at: dt.datetime
    created_by: str
    revoked_at: dt.datetime | None
    last_used_at: dt.datetime | None


class AuditRecord(BaseModel):
    model_config = ConfigDict(from_attributes=True, frozen=True)
    id: int
    at: dt.datetime
    actor: str
    role: str
    action: str
    object_type: str
    object_id: str | None
    application_id: str | None
    ip: str | None
    detail: Any | None


class Identity(BaseModel):
    """Who a presented token belongs to."""

    model_config = ConfigDict(frozen=True)
    role: str
    name: str
    token_id: str | None = None
    application_id: str | None = None


def create_token(session: Session, *, role: str, name: str, created_by: str = "cli") -> tuple[str, TokenRecord]:
    """(token to show once, its record). Staff roles only: applicant tokens come with their application."""
    if role not in STAFF_ROLES:
        raise InvalidRole(f"role must be one of {', '.join(STAFF_ROLES)}")
    token = f"ld_{role[:3]}_{secrets.token_urlsafe(32)}"
    row = ApiToken(name=name, role=role, token_hash=hash_token(token), created_by=created_by, created_at=utcnow())
    session.add(row)
    session.flush()
    return token, TokenRecord.model_validate(row)


def list_tokens(session: Session) -> list[TokenRecord]:
    rows = session.scalars(select(ApiToken).order_by(ApiToken.created_at, ApiToken.id))
    return [TokenRecord.model_validate(r) for r in rows]


def revoke_token(session: Session, token_id_or_name: str) -> list[TokenRecord]:
    """Revoke by id, or every live token of that name. Revoked tokens stop working at once."""
    rows = list(session.scalars(select(ApiToken).where(
        ((ApiToken.id == token_id_or_name) | (ApiToken.name == token_id_or_name)) & ApiToken.revoked_at.is_(None))))
    if not rows:
        raise TokenNotFound(f"no live token with id or name {token_id_or_name!r}")
    now = utcnow()
    for row in rows:
        row.revoked_at = now
    session.flush()
    return [TokenRecord.model_validate(r) for r in rows]


def identify(session: Session, token: str) -> Identity | None:
    """The staff token or applicant token ``token`` belongs to; None when unknown or revoked."""
    digest = hash_token(token)
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == digest))
    if row is not None:
        if row.revoked_at is not None:
            return None
        # Once a minute at most: a write per request would serialise reads on SQLite.
        now = utcnow()
        if row.last_used_at is None or now - row.last_used_at > dt.timedelta(minutes=1):
            row.last_used_at = now
        return Identity(role=row.role, name=row.name, token_id=row.id)
    app = session.scalar(select(Application.id).where(Application.applicant_token_hash == digest))
    if app is not None:
        return Identity(role="applicant", name=f"applicant:{app}", application_id=app)
    return None


def audit(session: Session, *, actor: str, role: str, action: str, object_type: str, object_id: str | None = None,
          application_id: str | None = None, ip: str | None = None, detail: dict[str, Any] | None = None) -> None:
    """Append one event. ``detail`` must name fields, never hold their values."""
    session.add(AuditEvent(at=utcnow(), actor=actor, role=role, action=action, object_type=object_type,
                           object_id=object_id, application_id=application_id, ip=ip, detail=detail))
    session.flush()


def list_audit(session: Session, *, application_id: str | None = None, actor: str | None = None,
               action: str | None = None, limit: int = 100, offset: int = 0) -> tuple[int, list[AuditRecord]]:
    where = []
    if application_id:
        where.append(AuditEvent.application_id == application_id)
    if actor:
        where.append(AuditEvent.actor == actor)
    if action:
        where.append(AuditEvent.action == action)
    total = session.scalar(select(func.count()).select_from(AuditEvent).where(*where)) or 0
    rows = session.scalars(select(AuditEvent).where(*where).order_by(AuditEvent.id.desc()).limit(limit).offset(offset))
    return total, [AuditRecord.model_validate(r) for r in rows]
