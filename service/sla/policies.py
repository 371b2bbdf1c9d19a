"""SLA policies: the most specific active match wins; defaults come from the category."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from schemas.catalog import Category
from schemas.items import Item
from schemas.sla import SlaPolicy

MATCH_FIELDS = ("channel", "category", "priority", "authority_code")
DEFAULT_ESCALATION: list[dict[str, Any]] = [
    {"after": {"duration": 4, "unit": "working_hours"}, "to": "parent"},
    {"after": {"duration": 1, "unit": "working_days"}, "to": "tsur"},
]


@dataclass
class ClockDef:
    duration: float
    unit: str


@dataclass
class PolicySnapshot:
    """What is pinned to an item when its clocks attach, so later edits do not move them."""

    policy_id: int | None
    policy_version: int
    name: str
    calendar: str | None
    first_response: ClockDef
    resolution: ClockDef
    warn_at: float = 0.75
    on_redirect: str = "continue"
    pause_limit: ClockDef = field(default_factory=lambda: ClockDef(3, "calendar_days"))
    remind_at: float = 0.67
    escalation: list[dict[str, Any]] = field(default_factory=lambda: list(DEFAULT_ESCALATION))
    after_interim: ClockDef | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _matches(policy: SlaPolicy, item: Item) -> int | None:
    """The number of fields the policy pins, or None if one of them differs from the item."""
    values = {
        "channel": item.channel,
        "category": item.category,
        "priority": item.priority,
        "authority_code": item.authority_code,
    }
    score = 0
    for name in MATCH_FIELDS:
        wanted = getattr(policy, f"match_{name}")
        if wanted is None:
            continue
        if wanted != values[name]:
            return None
        score += 1
    return score


def snapshot_of(policy: SlaPolicy) -> PolicySnapshot:
    return PolicySnapshot(
        policy_id=policy.id,
        policy_version=policy.version,
        name=policy.name,
        calendar=policy.calendar,
        first_response=ClockDef(policy.first_response_duration, policy.first_response_unit),
        resolution=ClockDef(policy.resolution_duration, policy.resolution_unit),
        warn_at=policy.warn_at,
        on_redirect=policy.on_redirect,
        pause_limit=ClockDef(policy.pause_limit_duration, policy.pause_limit_unit),
        remind_at=policy.remind_at,
        escalation=list(policy.escalation) if policy.escalation else list(DEFAULT_ESCALATION),
        after_interim=_after_interim(policy),
    )


def _after_interim(policy: SlaPolicy) -> ClockDef | None:
    if policy.after_interim_duration is None or policy.after_interim_unit is None:
        return None
    return ClockDef(policy.after_interim_duration, policy.after_interim_unit)


def default_snapshot(category: Category | None) -> PolicySnapshot:
    """categories.csv: first response in plain hours (the «сутки» norm), resolution in days."""
    hours = category.first_response_hours if category else 24
    days = category.resolution_days if category else 30
    return PolicySnapshot(
        policy_id=None,
        policy_version=0,
        name=f"default:{category.code if category else 'none'}",
        calendar=None,
        first_response=ClockDef(hours, "hours"),
        resolution=ClockDef(days, "calendar_days"),
    )


async def policy_for(session: AsyncSession, item: Item) -> PolicySnapshot:
    policies = (await session.exec(select(SlaPolicy).where(col(SlaPolicy.active).is_(True)))).all()
    best: tuple[int, int, SlaPolicy] | None = None
    for policy in policies:
        score = _matches(policy, item)
        if score is not None and (best is None or (score, policy.id or 0) > best[:2]):
            best = (score, policy.id or 0, policy)
    if best is not None:
        return snapshot_of(best[2])
    category = await session.get(Category, item.category) if item.category else None
    return default_snapshot(category)
