"""The thresholds document checks and the assessment read. Their values per loan type live in
``loandocs/rules/checklist.yaml``; an environment variable, where set, overrides them
(``loandocs.config.Settings.threshold_overrides``)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class Thresholds(BaseModel):
    # Unknown keys are errors: a misspelt threshold must not silently fall back to a default.
    model_config = ConfigDict(extra="forbid", frozen=True)

    certificate_max_age_days: int = Field(default=90, ge=0)
    statement_min_days: int = Field(default=175, ge=1)
    statement_max_age_days: int = Field(default=30, ge=0)
    income_mismatch_ratio: float = Field(default=0.30, gt=0)
    min_age: int = Field(default=18, ge=0)
    max_age: int = Field(default=65, ge=0)
    low_confidence_threshold: float = Field(default=0.80, ge=0, le=1)
    # Credit report (个人信用报告): overdue months in the last 24 months' repayment grids
    # above this go to review; hard inquiries (loan/card approval, guarantee checks) in the 6
    # months before the application above this go to review; a report older than this many
    # days is asked for again.
    credit_max_overdue_months_24m: int = Field(default=0, ge=0)
    credit_max_hard_inquiries_6m: int = Field(default=6, ge=0)
    credit_report_max_age_days: int = Field(default=30, ge=0)
