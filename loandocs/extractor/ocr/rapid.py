"""PP-OCR (det + angle cls + rec) on OpenVINO or ONNX Runtime through ``rapidocr``.

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


# OpenVINO's CPU plugin computes in bfloat16 by default on CPUs that have it (AVX512-BF16, AMX:
# this project's EPYC machines): measured, that misreads digits on scans (183552.27 as 183052.27 in
# samples/financial/statement_scan_pdf_001.pdf). f32 reads what ONNX Runtime reads.
OPENVINO_PRECISION = "f32"


def _openvino_precision(precision: str) -> None:
    """Give every OpenVINO session rapidocr compiles ``INFERENCE_PRECISION_HINT``: rapidocr's
    own configuration has no key for it, so its CPU configuration is wrapped, once."""
    from rapidocr.inference_engine.openvino import main as ov_main

    cls = ov_main.CPUConfig
    if getattr(cls, "_loandocs_precision", None) == precision:
        return
    original = getattr(cls, "_loandocs_original", cls.get_config)

    def get_config(self):  # type: ignore[no-untyped-def]
        return {**original(self), "INFERENCE_PRECISION_HINT": precision}

    cls._loandocs_original = original
    cls.get_config = get_config
    cls._loandocs_precision = precision


def runtime_params(runtime: str, threads: int) -> dict[str, object]:
    """rapidocr settings that put det, cls and rec on ``runtime`` with ``threads`` threads
    (0: the runtime's default, every core)."""
    if runtime == "onnxruntime":
        return {
            "EngineConfig.onnxruntime.intra_op_num_threads": threads if threads > 0 else -1,
            "EngineConfig.onnxruntime.inter_op_num_threads": 1 if threads > 0 else -1,
        }
    if runtime == "openvino":
        try:
            import openvino  # noqa: F401 - rapidocr imports it itself; this gives a clear error
            from rapidocr.utils.typings import EngineType
        except ImportError as exc:
            raise OcrEngineError("the openvino package is not installed; install it or set "
                                 "LOANDOCS_OCR__RUNTIME=onnxruntime", code="ocr_engine_unavailable") from exc
        _openvino_precision(OPENVINO_PRECISION)
        return {
            **{f"{m}.engine_type": EngineType.OPENVINO for m in ("Det", "Cls", "Rec")},
            "EngineConfig.openvino.inference_num_threads": threads if threads > 0 else -1,
            # Pinning ties each process's threads to the same first cores: several workers on
            # one machine (and the API beside them) would then share those cores and leave
            # others idle. The scheduler of the OS spreads them instead.
            "EngineConfig.openvino.enable_cpu_pinning": False,
        }
    raise OcrEngineError(f"unknown OCR runtime {runtime!r}", code="ocr_engine_unavailable")


class RapidOcrEngine:
    name = "rapidocr"

    def __init__(self, threads: int = 0, model_dir: Path | None = None, runtime: str = "onnxruntime",
                 rec_batch: int = 6, det_limit_side_len: int = 736):
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
        params = {
            "Global.log_level": "error",
            "Det.model_path": str(paths["det"]),
            "Rec.model_path": str(paths["rec"]),
            "Cls.model_path": str(paths["cls"]),
            "Rec.rec_batch_num": rec_batch,
            "Det.limit_side_len": det_limit_side_len,
            **runtime_params(runtime, threads),
        }
        try:
            self._ocr = RapidOCR(params=params)
        except Exception as exc:  # a broken model file or runtime: say so, with the cause
            raise OcrEngineError(f"cannot load the PP-OCR models on {runtime}: {exc}",
                                 code="ocr_engine_unavailable") from exc
        self.runtime = runtime
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
