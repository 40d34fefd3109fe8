"""The pure extraction pipeline: bytes in, typed documents out. No Redis, database or HTTP."""

from loandocs.extractor.ocr.base import OcrEngine, OcrLine, OcrWord, get_engine
from loandocs.extractor.options import Limits, OcrOptions, PipelineOptions
from loandocs.extractor.pipeline import Pipeline, Stage, Work

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


def __getattr__(name: str):
    # The stages import every parser; load them on first use so that light imports
    # (``loandocs.extractor.idnumber`` from the sample generator) stay light.
    if name == "DEFAULT_STAGES":
        from loandocs.extractor.stages import DEFAULT_STAGES

        return DEFAULT_STAGES
    raise AttributeError(name)
