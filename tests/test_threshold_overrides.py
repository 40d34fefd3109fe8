"""One source per setting: a threshold set in the environment (LOANDOCS_MAX_AGE) overrides the
checklist for every loan type and on every path: ``loandocs check`` and the API + worker."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from loandocs.api.app import create_app
from loandocs.config import Settings, get_settings
from loandocs.services import Services, set_services
from loandocs.store import repository as repo
from loandocs.worker import enqueue_document
from loandocs.worker.runner import run_worker

from .helpers import flushed_redis, staff_token

ROOT = Path(__file__).resolve().parent.parent
REDIS_URL = os.environ.get("LOANDOCS_TEST_REDIS_URL", "redis://127.0.0.1:6379/13")
FRONT = ROOT / "samples/idcards/front_scan_004.jpg"  # born 2000-08-25: 26 on the application date
APP_DATE = dt.date(2026, 11, 29)


def _check(folder: Path, **env: str) -> dict:
    cmd = [sys.executable, "-m", "loandocs.cli", "check", str(folder), "--loan-type", "personal_consumer",
           "--application-date", APP_DATE.isoformat(), "--json"]
    run = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=600,
                         env={k: v for k, v in os.environ.items() if k != "LOANDOCS_MAX_AGE"} | env)
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout)


def _age_findings(findings: list[dict]) -> list[dict]:
    return [f for f in findings if f["code"] == "age_out_of_range"]


@pytest.mark.slow  # two OCR runs in subprocesses
def test_env_threshold_reaches_the_check_command(tmp_path):
    shutil.copy(FRONT, tmp_path)
    assert _age_findings(_check(tmp_path)["supplement"]) == []
    found = _age_findings(_check(tmp_path, LOANDOCS_MAX_AGE="20")["supplement"])
    assert len(found) == 1 and "26" in found[0]["message_zh"] and "20" in found[0]["message_zh"]


def test_settings_override_wins_over_every_loan_type(monkeypatch):
    monkeypatch.setenv("LOANDOCS_MAX_AGE", "20")
    monkeypatch.setenv("LOANDOCS_STATEMENT_MIN_DAYS", "30")
    checklist = Settings().checklist()
    for loan_type in checklist.loan_types:
        t = checklist.thresholds(loan_type)
        assert (t.max_age, t.statement_min_days, t.min_age) == (20, 30, 18)
    assert checklist.default_thresholds().max_age == 20
    assert Settings().pipeline_options().thresholds.max_age == 20
    monkeypatch.setenv("LOANDOCS_MAX_AGE", "-1")
    with pytest.raises(Exception) as exc:
        Settings().checklist()
    assert "max_age" in str(exc.value)


@pytest.fixture
def overridden(tmp_path, monkeypatch):
    monkeypatch.setenv("LOANDOCS_MAX_AGE", "20")
    get_settings.cache_clear()
    with flushed_redis(REDIS_URL):
        svc = Services(Settings(data_dir=tmp_path, redis_url=REDIS_URL))
        set_services(svc)
        yield svc
        set_services(None)
        svc.engine.dispose()
    get_settings.cache_clear()


def test_env_threshold_reaches_the_worker_and_the_api(overridden):
    svc = overridden
    with svc.sessions.begin() as s:
        app = repo.create_application(s, applicant_name="测试", loan_type="mortgage", amount="100000",
                                      term_months=24, purpose="购房", application_date=APP_DATE)
        repo.record_consent(s, app.id, text_version="v1", channel="test")
        data = FRONT.read_bytes()
        key = svc.files.put(data)
        doc = repo.add_document(s, app.id, filename=FRONT.name, content_type="image/jpeg", size=len(data),
                                sha256=key, storage_key=key)
    enqueue_document(svc.redis, doc.id)
    run_worker(svc, burst=True)

    with svc.sessions() as s:
        stored = repo.get_application(s, app.id)
    assert stored.status == "needs_supplement"
    assert _age_findings(stored.supplement_requirements), stored.supplement_requirements

    client = TestClient(create_app(svc))
    token = staff_token(svc, "reviewer")
    view = client.get(f"/v1/applications/{app.id}", headers={"Authorization": f"Bearer {token}"}).json()
    found = _age_findings(view["supplement"])
    assert len(found) == 1 and "20" in found[0]["message_en"]
