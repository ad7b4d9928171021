"""What funding tells the floors above it without importing them.

`awards_changed` is sent inside the transaction of every change that makes awards money or stops them
being money (a list or an emergency grant approved, an award stopped or reinstated), with the groups it
touched: keyword arguments `semester_id`, `school_ids`, `program_ids`. Disbursements connects to it to
keep its money summary in step (`disbursements.summary`); a receiver runs in the sender's transaction,
so its writes commit or roll back with the change.
"""

from __future__ import annotations

from typing import Any

from django.dispatch import Signal

awards_changed = Signal()


def send_awards_changed(*, semester_id: Any, school_ids: Any, program_ids: Any) -> None:
    awards_changed.send(
        sender="funding", semester_id=semester_id, school_ids=list(school_ids), program_ids=list(program_ids)
    )
