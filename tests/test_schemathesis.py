"""schemathesis against the app's own ``/openapi.json`` (ASGI, in process): generated requests
for every operation, as a reviewer and with no token. Checks: no 5xx (``not_a_server_error``)
and every documented response matches its schema (``response_schema_conformance``).

Half of the generated cases get the path ids of a real application and document (seeded with
an extraction), so the routes' work on real rows is exercised too, not only their 404s. Rate
limits are off here (they are tested in test_hostile_input); Redis db 6.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import shutil
import tempfile
from pathlib import Path
from types import SimpleNamespace

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from redis import Redis
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from loandocs.api import create_app
from loandocs.config import Settings
from loandocs.models import DocumentResult, ExtractedField
from loandocs.services import Services
from loandocs.store import repository as repo

from .helpers import staff_token
from .hostile import SAMPLE_PDFS

# Property-based: schemathesis generates requests for every operation.
pytestmark = pytest.mark.fuzz

REDIS_URL = os.environ.get("LOANDOCS_TEST_SCHEMA_REDIS_URL", "redis://127.0.0.1:6379/6")
CHECKS = [not_a_server_error, response_schema_conformance]
EXAMPLES = settings(max_examples=12, deadline=None, derandomize=True, database=None,
                    suppress_health_check=list(HealthCheck))
NO_LIMITS = {"rate_limit_upload": 0, "rate_limit_status": 0, "rate_limit_application": 0, "rate_limit_login": 0}


# schemathesis builds one test per operation from a schema loaded at import, so the app exists
# at import; its services touch the data dir, database and Redis only once a request comes.
# (schemathesis' fixture-based lazy loading does not work with pytest 9: it sets a private
# node attribute pytest no longer has.)
DATA_DIR = Path(tempfile.gettempdir()) / f"loandocs-schemathesis-{os.getpid()}"
SERVICES = Services(Settings(data_dir=DATA_DIR, redis_url=REDIS_URL, **NO_LIMITS))
APP = create_app(SERVICES)
schema = schemathesis.openapi.from_asgi("/openapi.json", APP)


@pytest.fixture(scope="module")
def service():
    r = Redis.from_url(REDIS_URL)
    r.flushdb()
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    svc = SERVICES
    data = SAMPLE_PDFS[0].read_bytes()
    with svc.sessions.begin() as s:
        app = repo.create_application(s, applicant_name="张伟", loan_type="personal_consumer", amount="100000",
                                      term_months=24, purpose="装修", application_date=dt.date(2026, 11, 29))
        repo.record_consent(s, app.id, text_version="v1", channel="test")
        key = svc.files.put(data)
        doc = repo.add_document(s, app.id, filename="a.pdf", content_type="application/pdf", size=len(data),
                                sha256=hashlib.sha256(data).hexdigest(), storage_key=key)
        field = ExtractedField(value="张伟", confidence=0.99, page=1, bbox=[1, 2, 3, 4], source="text_layer")
        repo.add_extraction(s, doc.id, [DocumentResult(file="a.pdf", doc_type="income_certificate", pages=[1],
                                                       fields={"employee_name": field})], extractor_version="test")
        repo.set_document_status(s, doc.id, "extracted", doc_type="income_certificate")
        ids = {"app_id": app.id, "doc_id": doc.id, "application_no": app.application_no}
    token = staff_token(svc, "reviewer", "schemathesis")
    yield SimpleNamespace(services=svc, ids=ids, reviewer={"Authorization": f"Bearer {token}"})
    svc.engine.dispose()
    shutil.rmtree(DATA_DIR, ignore_errors=True)
    r.flushdb()
    r.close()


def _run(case, service, headers: dict[str, str]) -> None:
    # Deterministic per case: every other generated case aims at the seeded rows.
    params = case.path_parameters or {}
    digest = hashlib.sha256(repr(sorted(params.items())).encode()).digest()
    if params and digest[0] % 2 == 0:
        for name, value in service.ids.items():
            if name in params:
                params[name] = value
    case.call_and_validate(headers=headers, checks=CHECKS)


@schema.parametrize()
@EXAMPLES
def test_api_as_reviewer(case, service):
    _run(case, service, service.reviewer)


@schema.parametrize()
@EXAMPLES
def test_api_without_token(case, service):
    _run(case, service, {})
