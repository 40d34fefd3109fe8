"""Reading machinery: bytes in, words, lines and tables out. No Redis, database or HTTP, and no
knowledge of document kinds or loan policy; ``loandocs.reader`` puts the full pipeline together."""

from loandocs.extractor.ocr.base import OcrEngine, OcrLine, OcrWord, get_engine
from loandocs.extractor.options import Limits, OcrOptions, PipelineOptions
from loandocs.extractor.pipeline import Pipeline, Stage, Work

__all__ = ["Limits", "OcrEngine", "OcrLine", "OcrWord", "OcrOptions", "Pipeline", "PipelineOptions", "Stage", "Work", "get_engine"]
