"""The reading pipeline as a library: bytes in, typed documents with their document-level
checks out. The reading stages (``loandocs.extractor.stages``), the stages that know the
document kinds (``loandocs.kinds.stages``) and the checks (``loandocs.rules.validation``) in
their order. No Redis, database or HTTP."""

from __future__ import annotations

from loandocs.extractor import pipeline
from loandocs.extractor.ocr.base import OcrEngine, get_engine
from loandocs.extractor.options import Limits, OcrOptions, PipelineOptions
from loandocs.extractor.pipeline import Stage, Work, stage
from loandocs.extractor.stages import layout_stage, load_stage, ocr_stage, preprocess_stage
from loandocs.kinds.stages import classify_stage, false_cards_stage, group_stage, parse_stage
from loandocs.models.policy import Thresholds
from loandocs.rules.validation import validate


@stage("validate")
def validate_stage(work: Work) -> None:
    today = work.options.effective_application_date()
    for result in work.results:
        result.checks = validate(result, work.options.thresholds, today)


DEFAULT_STAGES: list[Stage] = [
    load_stage, preprocess_stage, ocr_stage, false_cards_stage, layout_stage,
    classify_stage, group_stage, parse_stage, validate_stage,
]  # fmt: skip


class Pipeline(pipeline.Pipeline):
    """``loandocs.extractor.Pipeline`` with the default stages."""

    def __init__(self, options: PipelineOptions | None = None, engine: OcrEngine | None = None, stages: list[Stage] | None = None):
        super().__init__(DEFAULT_STAGES if stages is None else stages, options, engine)


__all__ = ["DEFAULT_STAGES", "Limits", "OcrOptions", "Pipeline", "PipelineOptions", "Thresholds", "get_engine", "validate_stage"]
