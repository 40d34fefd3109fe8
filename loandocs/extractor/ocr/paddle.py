"""PP-OCR on the PaddlePaddle runtime through ``paddleocr`` (optional extra ``loandocs[paddle]``).

Only local model directories are used: ``model_dir`` must hold ``det/``, ``rec/`` and
optionally ``cls/`` (inference models exported by PaddleOCR). PaddleOCR is never allowed to
fetch weights: a missing directory is an ``ocr_models_missing`` error before it is called.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import numpy as np

from loandocs.errors import OcrEngineError
from loandocs.extractor.ocr.base import OcrLine


class PaddleOcrEngine:
    name = "paddleocr"

    def __init__(self, threads: int = 0, model_dir: Path | None = None):
        if model_dir is None:
            raise OcrEngineError(
                "the paddleocr engine needs LOANDOCS_OCR_MODEL_DIR with det/ and rec/ model folders",
                code="ocr_models_missing",
            )
        model_dir = Path(model_dir)
        det, rec, cls = model_dir / "det", model_dir / "rec", model_dir / "cls"
        missing = [str(p) for p in (det, rec) if not p.is_dir()]
        if missing:
            raise OcrEngineError("PaddleOCR model folders are missing: " + ", ".join(missing), code="ocr_models_missing")
        # Belt and braces: PaddleX-based releases look at these before any download.
        os.environ.setdefault("PADDLE_PDX_DISABLE_MODEL_SOURCE_CHECK", "True")
        os.environ.setdefault("HUB_OFFLINE", "1")
        try:
            from paddleocr import PaddleOCR
        except ImportError as exc:
            raise OcrEngineError(
                "paddleocr is not installed; install the `paddle` extra: pip install 'loandocs[paddle]'",
                code="ocr_engine_unavailable",
            ) from exc
        kwargs = dict(
            det_model_dir=str(det),
            rec_model_dir=str(rec),
            use_angle_cls=cls.is_dir(),
            lang="ch",
            show_log=False,
        )
        if cls.is_dir():
            kwargs["cls_model_dir"] = str(cls)
        if threads > 0:
            kwargs["cpu_threads"] = threads
        try:
            self._ocr = PaddleOCR(**kwargs)
        except Exception as exc:
            raise OcrEngineError(f"cannot load PaddleOCR models from {model_dir}: {exc}") from exc
        self._lock = threading.Lock()

    def read(self, image: np.ndarray) -> list[OcrLine]:
        try:
            with self._lock:
                result = self._ocr.ocr(image, cls=True)
        except Exception as exc:
            raise OcrEngineError(f"OCR failed: {exc}", code="ocr_failed") from exc
        lines: list[OcrLine] = []
        for page in result or []:
            for box, (text, score) in page or []:
                pts = np.asarray(box, dtype=float)
                bbox = (float(pts[:, 0].min()), float(pts[:, 1].min()), float(pts[:, 0].max()), float(pts[:, 1].max()))
                lines.append(OcrLine(text=str(text), score=float(score), bbox=bbox))
        return lines
