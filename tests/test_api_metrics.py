"""API request metrics on ``/metrics``: a count and a latency histogram per method, route
template and status, kept in Redis so that any API replica answers for all of them. Real Redis
(db 2, ``LOANDOCS_TEST_API_METRICS_REDIS_URL``), SQLite."""

from __future__ import annotations

import os

import pytest
from fastapi.testclient import TestClient

from loandocs.api import create_app
from loandocs.api.metrics import HTTP_DURATION, HTTP_REQUESTS, UNMATCHED
from loandocs.config import Settings
from loandocs.services import Services

from .helpers import metric_samples as _samples
from .helpers import metric_value as _get
from .helpers import services_on, staff_token

REDIS_URL = os.environ.get("LOANDOCS_TEST_API_METRICS_REDIS_URL", "redis://127.0.0.1:6379/2")


@pytest.fixture
def svc(tmp_path):
    with services_on(tmp_path, REDIS_URL) as services:
        yield services


def test_requests_are_counted_per_route_template_and_status_across_api_processes(svc, tmp_path):
    admin = {"Authorization": f"Bearer {staff_token(svc, 'admin')}"}
    body = {"applicant_name": "测试", "loan_type": "personal_consumer", "amount": 1000, "term_months": 6,
            "consent": {"agreed": True, "version": "v1"}}
    with TestClient(create_app(svc)) as one:
        apps = [one.post("/v1/applications", json=body).json() for _ in range(3)]
        assert all("application_no" in a for a in apps)
        for a in apps[:2]:  # two different numbers, one route template
            assert one.get(f"/v1/status/{a['application_no']}").status_code == 200
        assert one.get("/v1/status/LD00000000-999999").status_code == 404
        assert one.get("/v1/applications/nope").status_code == 401  # no token
        assert one.get("/no/such/path/123").status_code == 404
        assert one.get("/no/such/path/456").status_code == 404

    # A second API process on the same Redis (a replica on another host): its requests add up.
    other = Services(Settings(data_dir=svc.settings.data_dir, redis_url=REDIS_URL))
    with TestClient(create_app(other)) as two:
        assert two.get(f"/v1/status/{apps[2]['application_no']}").status_code == 200
        text = two.get("/metrics", headers=admin).text
    other.engine.dispose()
    m = _samples(text)
    total = HTTP_REQUESTS.name + "_total"
    assert _get(m, total, method="POST", route="/v1/applications", status="201") == 3
    assert _get(m, total, method="GET", route="/v1/status/{application_no}", status="200") == 3
    assert _get(m, total, method="GET", route="/v1/status/{application_no}", status="404") == 1
    assert _get(m, total, method="GET", route="/v1/applications/{app_id}", status="401") == 1
    assert _get(m, total, method="GET", route=UNMATCHED, status="404") == 2  # one series, not one per path
    assert not [k for k in m if k[0] == total and dict(k[1]).get("route", "").startswith("/no/")]

    # The histogram: count equals the counter, buckets are cumulative and end at +Inf.
    h = HTTP_DURATION.name
    labels = {"method": "GET", "route": "/v1/status/{application_no}", "status": "200"}
    assert _get(m, h + "_count", **labels) == 3
    assert _get(m, h + "_bucket", **labels, le="+Inf") == 3
    buckets = sorted(((float(dict(k[1])["le"]), v) for k, v in m.items()
                      if k[0] == h + "_bucket" and {x: y for x, y in k[1] if x != "le"} == labels))
    assert [v for _, v in buckets] == sorted(v for _, v in buckets)
    assert 0 < _get(m, h + "_sum", **labels) < 3 * 5.0
    assert _get(m, "loandocs_metrics_source_up", source="redis_http") == 1


def test_rate_limited_requests_are_counted_under_their_route(tmp_path):
    with services_on(tmp_path, REDIS_URL) as svc:
        svc.settings.rate_limit_status = 2  # refused before routing: the template is still found
        with TestClient(create_app(svc)) as client:
            codes = [client.get("/v1/status/LD20261129-000001").status_code for _ in range(4)]
            assert codes == [404, 404, 429, 429]
            admin = {"Authorization": f"Bearer {staff_token(svc, 'admin')}"}
            m = _samples(client.get("/metrics", headers=admin).text)
        total = HTTP_REQUESTS.name + "_total"
        assert _get(m, total, method="GET", route="/v1/status/{application_no}", status="429") == 2
        assert _get(m, total, method="GET", route="/v1/status/{application_no}", status="404") == 2


def test_redis_down_does_not_fail_requests(tmp_path):
    svc = Services(Settings(data_dir=tmp_path / "data", redis_url="redis://127.0.0.1:1/0"))
    try:
        with TestClient(create_app(svc)) as client:
            assert client.get("/healthz").status_code == 200
            assert client.get("/healthz").status_code == 200  # paused after the first failure
    finally:
        svc.engine.dispose()
