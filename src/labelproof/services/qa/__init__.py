"""The QA workflow: policy, SOP, batches, queue, review, calibration, gold, consensus,
escalations and figures (docs/qa-workflow.md).

Every public function takes a database session and the acting ``Actor`` first and checks
the permission matrix itself, so the API and the CLI share one set of rules.
"""

from __future__ import annotations

from labelproof.services.qa import (
    batches,
    calibration,
    consensus,
    escalations,
    figures,
    policy,
    qualify,
    queue,
    review,
    work,
)

__all__ = [
    "batches",
    "calibration",
    "consensus",
    "escalations",
    "figures",
    "policy",
    "qualify",
    "queue",
    "review",
    "work",
]
