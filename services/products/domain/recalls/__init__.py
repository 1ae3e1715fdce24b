"""Recalls (thu hồi sản phẩm) — Circular 17/2021/TT-BNNPTNT, Art. 8, 10, 11 and 13.

A recall starts from one lot and reaches everything the forward trace reaches: the lots made
from it or received from it, at any depth and in any establishment, and the customers outside
the system it was shipped to. Opening one:

- numbers it `TH-<year>-<5 digits>` (the year in Vietnam), one sequence per year;
- keeps a `RecallLot` per reached lot with the status it had, and marks the lot `recalled`
  (a destroyed lot stays destroyed) — so every lookup of the lot, the public trace page
  included, shows it as recalled;
- keeps a `RecallRecipient` per shipment of a reached lot to a customer outside the system,
  and per shipment still on its way to an establishment inside it (not yet received, so no
  lot of the recipient to mark yet);
- tells every affected establishment, and the unit managing each, in the system
  (`Notification` rows, Vietnamese and English).

Then it walks the Circular's steps in order, each with who and when: requested → assessed →
plan_approved → executed → handled (fix, change_use, re_export or destroy) → reported →
closed. The last is the authority's decision on the handling, so only an agency managing the
establishment (or the administrator) takes it. Two deadlines are shown with each recall:

- decision: the recall decision is due `RECALL_DECISION_HOURS` (24) after the food was found
  to need recalling. A compulsory recall *is* the authority's decision, issued when it was
  opened; a voluntary one is decided by the establishment's assessment (the `assessed` step).
- handling decision: `RECALL_HANDLING_WORKING_DAYS` (3) working days after the result report
  (see `workdays`); met when the authority closes the recall.

A recall found unnecessary can be cancelled before it is carried out (`executed`); each lot
goes back to its former status unless another open recall still holds it.

Domain functions flush, never commit: the request commits.

The package, by sub-domain: `steps` (the steps, their names, who records them), `reach` (what
the forward trace reaches), `opening` (opening and refreshing), `workflow` (the next step,
cancelling, deadlines), `notify` (telling those reached), `queries` (what a caller sees). The
notifications themselves are read and marked in `services.products.domain.notifications`.
"""

from services.products.domain.recalls.opening import (
    CLOCK_SKEW,
    EARLIEST_FINDING_YEAR,
    NUMBER_LOCK,
    Refreshed,
    find_lot,
    open_recall,
    refresh_impact,
)
from services.products.domain.recalls.queries import (
    Rows,
    describe,
    get_visible,
    list_query,
    lot_rows,
    lots_query,
    recipients,
    sees_everything,
    summary,
    visible_filter,
)
from services.products.domain.recalls.reach import (
    AffectedLot,
    AffectedShipment,
    Impact,
    impact,
)
from services.products.domain.recalls.steps import (
    AUTHORITY_STEPS,
    CANCELLABLE,
    CHUNK,
    DEADLINE_NAMES,
    FINISHED,
    HANDLING_NAMES,
    KIND_NAMES,
    OPEN,
    STEP_NAMES,
    next_step,
    runs,
)
from services.products.domain.recalls.workflow import advance, cancel, deadlines

__all__ = [
    "AUTHORITY_STEPS",
    "CANCELLABLE",
    "CHUNK",
    "CLOCK_SKEW",
    "DEADLINE_NAMES",
    "EARLIEST_FINDING_YEAR",
    "FINISHED",
    "HANDLING_NAMES",
    "KIND_NAMES",
    "NUMBER_LOCK",
    "OPEN",
    "STEP_NAMES",
    "AffectedLot",
    "AffectedShipment",
    "Impact",
    "Refreshed",
    "Rows",
    "advance",
    "cancel",
    "deadlines",
    "describe",
    "find_lot",
    "get_visible",
    "impact",
    "list_query",
    "lot_rows",
    "lots_query",
    "next_step",
    "open_recall",
    "recipients",
    "refresh_impact",
    "runs",
    "sees_everything",
    "summary",
    "visible_filter",
]
