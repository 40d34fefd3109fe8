"""The parts of one document OCRed at once: the pages of a scanned statement, the two cards of
a photocopy, each read by an engine of its own in a thread.

One engine reads one image at a time (rapidocr keeps per-call state), and on a page of a
statement much of a call is not the runtime's parallel kernels (detection post-processing, one
recognition batch after the other, orientation and levelling in ``stages.read_part``), so the
cores a worker owns are better spent on several pages at once, each engine with its share of
the threads. OpenVINO and ONNX Runtime release the GIL while they compute; OpenCV and numpy do
in their kernels.

- How many: ``OcrOptions.page_workers``, 0 meaning the worker's OCR threads (its share of the
  cores; every core when unset), at most ``MAX_AUTO``; never more than there are parts. Each
  page engine gets ``threads // page_workers`` threads (at least one), so a worker still uses
  the cores it was given and no more.
- Engines: made on first use and kept for the life of the process (``_POOLS``), beside the
  worker's main engine, which reads everything else (re-reads of rows, seals). Each costs
  memory (benchmarks/RESULTS.md, "cost model").
- Output: each part is read by the same ``read_part`` as before, on its own ``Part``; nothing
  is shared but the options, so the result does not depend on the order the threads finish in.
"""

from __future__ import annotations

import dataclasses
import os
import queue
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Callable

from loandocs.extractor.ocr.base import OcrEngine, new_engine
from loandocs.extractor.options import OcrOptions

MAX_AUTO = 4  # engines per worker when left to the cores: each is ~100 MB

_POOLS: dict[tuple, queue.Queue[OcrEngine]] = {}
_LOCK = threading.Lock()


def _cores() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def plan(options: OcrOptions, parts: int, cores: int | None = None) -> tuple[int, int]:
    """(engines, threads per engine) for reading ``parts`` parts at once; (1, 0) means one
    after the other with the worker's own engine."""
    budget = options.threads if options.threads > 0 else (cores or _cores())
    n = options.page_workers or min(MAX_AUTO, budget)
    n = min(n, parts)
    if n <= 1:
        return 1, 0
    return n, max(1, budget // n)


def _engines(options: OcrOptions, n: int, threads: int) -> queue.Queue[OcrEngine]:
    page_options = options.model_copy(update={"threads": threads, "page_workers": 1})
    key = (page_options.model_dump_json(), n)
    with _LOCK:
        pool = _POOLS.get(key)
        if pool is None:
            pool = queue.Queue()
            for _ in range(n):
                pool.put(new_engine(page_options))
            _POOLS[key] = pool
    return pool


def read_parts(work, parts: list, read: Callable[[object, object], None]) -> bool:  # type: ignore[type-arg]
    """Read ``parts`` at once with ``read(work_view, part)`` if the plan says so; returns False
    (nothing done) when one engine should read them one after the other."""
    n, threads = plan(work.options.ocr, len(parts))
    if n <= 1:
        return False
    engines = _engines(work.options.ocr, n, threads)

    def one(part) -> None:  # type: ignore[no-untyped-def]
        engine = engines.get()
        try:
            # The same Work with this thread's engine: read_part only asks it for the engine
            # and the options, and writes to the part it was given.
            read(dataclasses.replace(work, engine=engine), part)
        finally:
            engines.put(engine)

    pool = ThreadPoolExecutor(n, thread_name_prefix="ocr-page")
    try:
        futures = [pool.submit(one, p) for p in parts]
        for f in futures:
            f.result()  # the first error, in part order
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)  # a job timeout must not wait for every page
        raise
    pool.shutdown(wait=True)
    return True


def reset() -> None:
    """Forget the page engines (tests, or a worker that recycles itself)."""
    with _LOCK:
        _POOLS.clear()
