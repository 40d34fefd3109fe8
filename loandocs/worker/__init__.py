"""Background processing: the rq queue, the document job and the worker process.

Importing this package stays light (no OCR, no database): the API imports ``enqueue_document``
from here on every upload.
"""

from loandocs.worker.queue import DEFAULT_QUEUE, QUEUES, REPROCESS_QUEUE, enqueue_document, job_id_for

__all__ = ["DEFAULT_QUEUE", "QUEUES", "REPROCESS_QUEUE", "enqueue_document", "job_id_for"]
