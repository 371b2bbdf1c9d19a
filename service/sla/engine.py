"""SLA clocks on an item: attach, stop, pause, resume, redirect, and what is due when.

The item's `sla` JSON holds the pinned policy and one entry per clock; the columns
`first_response_due_at`, `resolution_due_at` and `sla_next_check_at` mirror it for queries.
"""

from __future__ import annotations

import copy
import datetime as dt
from dataclasses import dataclass
from typing import Any

from schemas.items import Item
from service.items.deadlines import refresh_next_due
from service.sla.clocks import RedirectMode, redirect_deadline, shift_deadline, warn_at
from service.sla.deadlines import clock_elapsed, compute_deadline
from service.sla.policies import PolicySnapshot
from service.sla.registry import CalendarRegistry

CLOCKS = ("first_response", "resolution")
# The share of the pause limit after which an unanswered question is recalled to the citizen.
DEFAULT_REMIND_AT = 0.67


@dataclass(frozen=True)
class DueLevel:
    clock: str  # first_response | resolution
    key: str  # the clock's generation key, e.g. "resolution" or "resolution#2"
    level: str  # warning | breach | escalation:N
    at: dt.datetime
    due_at: dt.datetime
    escalate_to: str | None = None  # parent | tsur


def _iso(t: dt.datetime) -> str:
    return t.astimezone(dt.UTC).isoformat()


def _t(value: str | None) -> dt.datetime | None:
    return None if value is None else dt.datetime.fromisoformat(value)


def _new_clock(
    start: dt.datetime, duration: float, unit: str, due: dt.datetime, generation: int = 1
) -> dict[str, Any]:
    return {
        "duration": duration,
        "unit": unit,
        "started_at": _iso(start),
        "due_at": _iso(due),
        "stopped_at": None,
        "paused_at": None,
        "paused_seconds": 0.0,
        "alerted": [],
        "generation": generation,
    }


def calendar_of(item: Item, registry: CalendarRegistry) -> Any:
    assert item.sla is not None
    return registry.get(item.sla["calendar_code"])


def attach(
    item: Item,
    snap: PolicySnapshot,
    calendar_code: str,
    registry: CalendarRegistry,
    start: dt.datetime,
) -> None:
    """Pin the policy and start both clocks at `start` (the moment the item was received).

    Attached again (an operator places a triage item), each clock is a new generation: the
    alerts the first one raised at the ЦУР keep their keys, and the new owner gets its own.
    """
    code = snap.calendar or calendar_code
    cal = registry.get(code)
    before = item.sla["clocks"] if item.sla else {}
    clocks = {}
    for name in CLOCKS:
        d = getattr(snap, name)
        generation = before[name].get("generation", 1) + 1 if name in before else 1
        due = compute_deadline(start, d.duration, d.unit, cal)
        clocks[name] = _new_clock(start, d.duration, d.unit, due, generation)
    item.sla = {**snap.as_dict(), "calendar_code": code, "clocks": clocks}
    sync(item, registry)


def _edit(item: Item) -> dict[str, Any]:
    # JSON columns only notice reassignment, so every change works on a copy.
    assert item.sla is not None
    return copy.deepcopy(item.sla)


def stop(item: Item, name: str, now: dt.datetime, registry: CalendarRegistry) -> None:
    if item.sla is None:
        return
    sla = _edit(item)
    clock = sla["clocks"][name]
    if clock["stopped_at"] is None:
        clock["stopped_at"] = _iso(now)
        clock["paused_at"] = None
    item.sla = sla
    sync(item, registry)


def pause(
    item: Item,
    now: dt.datetime,
    registry: CalendarRegistry,
    names: tuple[str, ...] = ("resolution",),
) -> None:
    if item.sla is None:
        return
    sla = _edit(item)
    for name in names:
        clock = sla["clocks"][name]
        if clock["stopped_at"] is None and clock["paused_at"] is None:
            clock["paused_at"] = _iso(now)
    item.sla = sla
    sync(item, registry)


def _pause_started(item: Item) -> dt.datetime | None:
    assert item.sla is not None
    started = [_t(c["paused_at"]) for c in item.sla["clocks"].values() if c["paused_at"]]
    return min((t for t in started if t is not None), default=None)


def pause_expiry(item: Item, registry: CalendarRegistry) -> dt.datetime | None:
    """When the running pause reaches the policy's limit (every pause is bounded by it)."""
    if item.sla is None:
        return None
    paused = _pause_started(item)
    if paused is None:
        return None
    limit = item.sla["pause_limit"]
    return compute_deadline(paused, limit["duration"], limit["unit"], calendar_of(item, registry))


def pause_reminder(item: Item, registry: CalendarRegistry) -> dt.datetime | None:
    """When the citizen is reminded of an unanswered question: at the policy's share of the
    pause limit (`remind_at`; 0 turns it off), once per pause. The share is of the limit's own
    time base, like a warning's, so a limit in working or calendar days reminds in open hours
    rather than at night."""
    if item.sla is None:
        return None
    share = float(item.sla.get("remind_at", DEFAULT_REMIND_AT))
    paused, expiry = _pause_started(item), pause_expiry(item, registry)
    if not share or paused is None or expiry is None:
        return None
    if item.sla.get("reminded_for") == _iso(paused):
        return None
    unit = item.sla["pause_limit"]["unit"]
    return warn_at(paused, expiry, share, calendar_of(item, registry), unit=unit)


def mark_reminded(item: Item, registry: CalendarRegistry) -> None:
    """The running pause has had its reminder (or needed none: a redirect pause)."""
    paused = _pause_started(item) if item.sla is not None else None
    if paused is None:
        return
    sla = _edit(item)
    sla["reminded_for"] = _iso(paused)
    item.sla = sla
    sync(item, registry)


def resume(item: Item, now: dt.datetime, registry: CalendarRegistry) -> None:
    """End a pause: the deadline moves by the clock time spent paused (at most the limit)."""
    if item.sla is None:
        return
    cal = calendar_of(item, registry)
    expiry = pause_expiry(item, registry)
    sla = _edit(item)
    for clock in sla["clocks"].values():
        paused = _t(clock["paused_at"])
        if paused is None:
            continue
        until = min(now, expiry) if expiry is not None else now
        due = _t(clock["due_at"])
        assert due is not None
        clock["due_at"] = _iso(
            shift_deadline(
                due, paused_from=paused, paused_to=until, calendar=cal, unit=clock["unit"]
            )
        )
        if paused < due:
            clock["paused_seconds"] += clock_elapsed(paused, until, cal, unit=clock["unit"])
        clock["paused_at"] = None
    item.sla = sla
    sync(item, registry)


def restart(
    item: Item, names: tuple[str, ...], now: dt.datetime, registry: CalendarRegistry
) -> None:
    """A fresh clock (a new generation, so its alerts can fire again) from `now`."""
    if item.sla is None:
        return
    cal = calendar_of(item, registry)
    sla = _edit(item)
    for name in names:
        old = sla["clocks"][name]
        # The policy's length, not the running clock's: an interim reply's clock is its own.
        length = sla.get(name) or old
        due = compute_deadline(now, length["duration"], length["unit"], cal)
        sla["clocks"][name] = _new_clock(
            now, length["duration"], length["unit"], due, old.get("generation", 1) + 1
        )
    item.sla = sla
    sync(item, registry)


def move_to_calendar(item: Item, code: str, now: dt.datetime, registry: CalendarRegistry) -> None:
    """The clocks now run on another authority's calendar (unless the policy pins one): the
    clock time left on each open clock is laid out again in it; a breached one stays so."""
    if item.sla is None or item.sla.get("calendar") or item.sla["calendar_code"] == code:
        return
    old, new = calendar_of(item, registry), registry.get(code)
    sla = _edit(item)
    for clock in sla["clocks"].values():
        due = _t(clock["due_at"])
        if clock["stopped_at"] is not None or clock["paused_at"] is not None or due is None:
            continue
        moved = redirect_deadline(
            RedirectMode.CONTINUE,
            deadline=due,
            redirected_at=now,
            duration=clock["duration"],
            unit=clock["unit"],
            calendar=old,
            new_calendar=new,
        )
        assert moved is not None  # `continue` always has a deadline
        clock["due_at"] = _iso(moved)
    sla["calendar_code"] = code
    item.sla = sla
    sync(item, registry)


def extend(item: Item, until: dt.datetime, registry: CalendarRegistry) -> None:
    """An approved extension: the resolution clock's deadline moves to `until`. The clock keeps
    its generation, so an alert already sent is not sent again; those still ahead (the warning,
    the breach) are laid out over the longer span."""
    sla = _edit(item)
    sla["clocks"]["resolution"]["due_at"] = _iso(until)
    sla["clocks"]["resolution"]["extended"] = True
    item.sla = sla
    sync(item, registry)


def final_after_interim(item: Item, now: dt.datetime, registry: CalendarRegistry) -> bool:
    """The policy's `after_interim`: the first interim reply sets the final answer's deadline,
    counted from it, as a new generation of the resolution clock (its alerts fire anew). Not
    when an approved extension has set the deadline (a supervisor's decision stands), nor
    after the deadline has passed: a late interim reply must not turn a breach into a fresh
    clock that the compliance report would count as on time."""
    if item.sla is None or not item.sla.get("after_interim") or item.sla.get("interim_at"):
        return False  # no such rule, or the first interim reply has been given
    clock = item.sla["clocks"]["resolution"]
    if clock["stopped_at"] is not None or clock.get("extended"):
        return False
    due_now = _t(clock["due_at"])
    if clock["paused_at"] is None and due_now is not None and now >= due_now:
        return False
    rule = item.sla["after_interim"]
    due = compute_deadline(now, rule["duration"], rule["unit"], calendar_of(item, registry))
    sla = _edit(item)
    generation = clock.get("generation", 1) + 1
    fresh = _new_clock(now, rule["duration"], rule["unit"], due, generation)
    # A pause under way (a question asked before the reply) carries over to the new clock,
    # from the clock's start: the time before it was the old clock's pause.
    if clock["paused_at"] is not None:
        fresh["paused_at"] = _iso(max(_t(clock["paused_at"]) or now, now))
    sla["clocks"]["resolution"] = fresh
    sla["interim_at"] = _iso(now)
    item.sla = sla
    sync(item, registry)
    return True


def open_clocks(item: Item) -> list[str]:
    if item.sla is None:
        return []
    return [n for n, c in item.sla["clocks"].items() if c["stopped_at"] is None]


def clock_key(name: str, clock: dict[str, Any]) -> str:
    generation = clock.get("generation", 1)
    return name if generation == 1 else f"{name}#{generation}"


def _levels(
    item: Item, name: str, clock: dict[str, Any], registry: CalendarRegistry
) -> list[DueLevel]:
    assert item.sla is not None
    cal = calendar_of(item, registry)
    start, due = _t(clock["started_at"]), _t(clock["due_at"])
    assert start is not None and due is not None
    key, unit = clock_key(name, clock), clock["unit"]
    warn = warn_at(
        start, due, item.sla["warn_at"], cal, unit=unit, paused_seconds=clock["paused_seconds"]
    )
    levels = [DueLevel(name, key, "warning", warn, due), DueLevel(name, key, "breach", due, due)]
    for n, step in enumerate(item.sla.get("escalation") or [], start=1):
        after = step["after"]
        at = compute_deadline(due, after["duration"], after["unit"], cal)
        levels.append(DueLevel(name, key, f"escalation:{n}", at, due, step.get("to", "parent")))
    return [lv for lv in levels if lv.level not in clock["alerted"]]


def pending_levels(item: Item, registry: CalendarRegistry) -> list[DueLevel]:
    if item.sla is None:
        return []
    found: list[DueLevel] = []
    for name, clock in item.sla["clocks"].items():
        if clock["stopped_at"] is None and clock["paused_at"] is None:
            found.extend(_levels(item, name, clock, registry))
    return found


def mark_alerted(item: Item, clock: str, level: str, registry: CalendarRegistry) -> None:
    sla = _edit(item)
    if level not in sla["clocks"][clock]["alerted"]:
        sla["clocks"][clock]["alerted"].append(level)
    item.sla = sla
    sync(item, registry)


def sync(item: Item, registry: CalendarRegistry) -> None:
    """Mirror the JSON into the indexed columns the queue and the due query use."""
    if item.sla is None:
        return
    clocks = item.sla["clocks"]
    item.first_response_due_at = _t(clocks["first_response"]["due_at"])
    item.resolution_due_at = _t(clocks["resolution"]["due_at"])
    refresh_next_due(item)
    moments = [lv.at for lv in pending_levels(item, registry)]
    for moment in (pause_expiry(item, registry), pause_reminder(item, registry)):
        if moment is not None:
            moments.append(moment)
    item.sla_next_check_at = min(moments) if moments else None
