"""Loan policy: the check catalogue, document validation, the checklist of each loan type and
the cross-document assessment. Nothing here reads files or runs OCR."""
