"""OCR engines behind one small interface. Engines are imported lazily: ``rapidocr`` is the
default (PP-OCR models on ONNX Runtime, weights shipped in its wheel); ``paddleocr`` is an
optional extra that reads local model directories."""

from loandocs.extractor.ocr.base import OcrEngine, OcrLine, OcrWord, get_engine

__all__ = ["OcrEngine", "OcrLine", "OcrWord", "get_engine"]
