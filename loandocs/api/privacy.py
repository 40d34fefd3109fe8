"""What a caller may see of extracted personal data.

Reviewers compare ID and account numbers with the page image, so they get them in full; for
every other role (the applicant, who knows their own; admins, who run the service) the values
are masked, and so are numbers inside transaction descriptions and counterparties.
"""

from __future__ import annotations

from loandocs.api.auth import Caller
from loandocs.masking import MASKED_FIELDS, mask_field, mask_text
from loandocs.models import DocumentResult


def visible(caller: Caller, result: DocumentResult) -> DocumentResult:
    if caller.sees_identifiers:
        return result
    fields = {
        name: f.model_copy(update={"value": mask_field(name, f.value)}) if name in MASKED_FIELDS else f
        for name, f in result.fields.items()
    }
    update: dict[str, object] = {"fields": fields}
    if result.transactions is not None:
        update["transactions"] = [
            t.model_copy(update={
                "description": mask_text(t.description) if t.description else t.description,
                "counterparty": mask_text(t.counterparty) if t.counterparty else t.counterparty,
            })
            for t in result.transactions
        ]
    return result.model_copy(update=update)
