"""The pure extraction pipeline: bytes in, typed documents out. No Redis, database or HTTP."""

from loandocs.extractor.ocr.base import OcrEngine, OcrLine, OcrWord, get_engine
from loandocs.extractor.options import Limits, OcrOptions, PipelineOptions
from loandocs.extractor.pipeline import DEFAULT_STAGES, Pipeline, Stage, Work

__all__ = [
    "DEFAULT_STAGES",
    "Limits",
    "OcrEngine",
    "OcrLine",
    "OcrOptions",
    "OcrWord",
    "Pipeline",
    "PipelineOptions",
    "Stage",
    "Work",
    "get_engine",
]
