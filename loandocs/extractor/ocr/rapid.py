"""PP-OCR (det + angle cls + rec) on ONNX Runtime through ``rapidocr``.

The weights are the ones shipped inside the rapidocr wheel. Every model path is set
explicitly and checked before the engine is built, so a missing file is a clear
``ocr_models_missing`` error instead of rapidocr trying to download one.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import numpy as np

from loandocs.errors import OcrEngineError
from loandocs.extractor.ocr.base import OcrLine, OcrWord

# Model files shipped in the rapidocr 3.x wheel (PP-OCRv6 small det/rec, mobile angle classifier).
DET_FILE = "PP-OCRv6_det_small.onnx"
REC_FILE = "PP-OCRv6_rec_small.onnx"
CLS_FILE = "ch_ppocr_mobile_v2.0_cls_mobile.onnx"


def _default_model_dir() -> Path:
    try:
        import rapidocr
    except ImportError as exc:  # pragma: no cover - rapidocr is a hard dependency
        raise OcrEngineError(
            "the rapidocr package is not installed; run `pip install loandocs`", code="ocr_engine_unavailable"
        ) from exc
    return Path(rapidocr.__file__).resolve().parent / "models"


class RapidOcrEngine:
    name = "rapidocr"

    def __init__(self, threads: int = 0, model_dir: Path | None = None):
        try:
            from rapidocr import RapidOCR
        except ImportError as exc:
            raise OcrEngineError("the rapidocr package is not installed", code="ocr_engine_unavailable") from exc

        model_dir = Path(model_dir) if model_dir else _default_model_dir()
        paths = {k: model_dir / f for k, f in (("det", DET_FILE), ("rec", REC_FILE), ("cls", CLS_FILE))}
        missing = [str(p) for p in paths.values() if not p.is_file()]
        if missing:
            raise OcrEngineError(
                "OCR model files are missing (nothing is downloaded at run time): " + ", ".join(missing),
                code="ocr_models_missing",
            )
        n = threads if threads > 0 else -1
        params = {
            "Global.log_level": "error",
            "Det.model_path": str(paths["det"]),
            "Rec.model_path": str(paths["rec"]),
            "Cls.model_path": str(paths["cls"]),
            "EngineConfig.onnxruntime.intra_op_num_threads": n,
            "EngineConfig.onnxruntime.inter_op_num_threads": 1 if threads > 0 else -1,
        }
        try:
            self._ocr = RapidOCR(params=params)
        except Exception as exc:  # a broken model file or runtime: say so, with the cause
            raise OcrEngineError(f"cannot load the PP-OCR models: {exc}", code="ocr_engine_unavailable") from exc
        logging.getLogger("RapidOCR").setLevel(logging.ERROR)
        # rapidocr keeps per-call state on the instance; one call at a time per engine.
        self._lock = threading.Lock()

    def read(self, image: np.ndarray) -> list[OcrLine]:
        try:
            with self._lock:
                out = self._ocr(image, return_word_box=True)
        except Exception as exc:
            raise OcrEngineError(f"OCR failed: {exc}", code="ocr_failed") from exc
        if out is None or getattr(out, "txts", None) is None or out.boxes is None:
            return []
        words_per_line = getattr(out, "word_results", None) or ()
        lines: list[OcrLine] = []
        for i, (box, text, score) in enumerate(zip(out.boxes, out.txts, out.scores)):
            pts = np.asarray(box, dtype=float)
            bbox = (float(pts[:, 0].min()), float(pts[:, 1].min()), float(pts[:, 0].max()), float(pts[:, 1].max()))
            words: list[OcrWord] = []
            if i < len(words_per_line) and words_per_line[i]:
                for item in words_per_line[i]:
                    if len(item) < 3 or item[2] is None:
                        continue
                    wpts = np.asarray(item[2], dtype=float)
                    words.append(
                        OcrWord(
                            text=str(item[0]),
                            score=float(item[1]),
                            bbox=(float(wpts[:, 0].min()), float(wpts[:, 1].min()), float(wpts[:, 0].max()), float(wpts[:, 1].max())),
                            quad=[(float(x), float(y)) for x, y in wpts[:4]],
                        )
                    )
            lines.append(OcrLine(text=str(text), score=float(score), bbox=bbox, words=words, quad=[(float(x), float(y)) for x, y in pts[:4]]))
        return lines
