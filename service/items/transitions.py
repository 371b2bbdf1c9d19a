"""The item state machine (SPEC §3): which action may move an item from which status."""

from __future__ import annotations

from schemas.items import Status
from service.errors import Conflict

S = Status

# action -> (statuses it may start from, status it leads to; None = stays)
TRANSITIONS: dict[str, tuple[frozenset[Status], Status | None]] = {
    "route": (frozenset({S.new}), S.routed),
    "triage": (frozenset({S.new}), S.triage),
    "auto_reject": (frozenset({S.new}), S.rejected),
    "assign": (frozenset({S.triage, S.new}), S.routed),
    "claim": (frozenset({S.routed, S.reopened, S.awaiting_citizen}), S.in_progress),
    "reply": (
        frozenset({S.routed, S.reopened, S.in_progress, S.awaiting_citizen}),
        None,
    ),
    "final_reply": (
        frozenset({S.routed, S.reopened, S.in_progress, S.awaiting_citizen}),
        S.answered,
    ),
    "redirect": (
        frozenset({S.routed, S.reopened, S.in_progress, S.awaiting_citizen, S.triage}),
        S.routed,
    ),
    "request_info": (frozenset({S.in_progress, S.routed, S.reopened}), S.awaiting_citizen),
    "citizen_reply": (frozenset({S.awaiting_citizen}), S.in_progress),
    "resolve": (frozenset({S.answered, S.in_progress, S.awaiting_citizen}), S.closed),
    "reject": (
        frozenset({S.new, S.routed, S.triage, S.in_progress, S.awaiting_citizen, S.reopened}),
        S.rejected,
    ),
    "reopen": (frozenset({S.answered, S.closed, S.rejected}), S.reopened),
}


def check(action: str, current: str) -> Status | None:
    """Return the target status, or raise 409 saying why the action is not allowed now."""
    sources, target = TRANSITIONS[action]
    if current not in sources:
        allowed = ", ".join(sorted(s.value for s in sources))
        raise Conflict(
            f"cannot {action.replace('_', ' ')} an item in status {current!r}; "
            f"allowed from: {allowed}",
            current_status=current,
        )
    return target
