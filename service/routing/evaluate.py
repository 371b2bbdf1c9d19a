"""`route eval`: accuracy of the router on a labelled CSV.

Scoring, per row:
- authority: the routed authority, or "" when the item is triaged or rejected, must equal
  `expected_authority`. An item sent to triage is therefore right only when the expected
  authority is empty (the rule itself finds no owner); a rejected non-actionable row is
  right because its expected authority is empty, too.
- category: over rows expected actionable only; the predicted category (kept also for
  triaged items) must equal `expected_category`. A rejected actionable row is wrong.
- priority: over all rows; a missing priority (rejected item, or an empty expected value
  of a non-actionable row) counts as `normal`, the priority such rows would get.
- actionable: over all rows.
- triage_share: share of all rows whose status is `triage`.
- items_per_s: routing throughput, CSV parsing excluded.
"""

from __future__ import annotations

import csv
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from service.routing.decision import Decision, RouteInput
from service.routing.engine import Router


@dataclass(frozen=True, slots=True)
class Example:
    item: RouteInput
    category: str
    authority: str
    priority: str
    actionable: bool


def _float(value: str | None) -> float | None:
    text = (value or "").strip()
    return float(text) if text else None


def _opt(value: str | None) -> str | None:
    text = (value or "").strip()
    return text or None


def read_examples(csv_path: Path) -> list[Example]:
    with csv_path.open(encoding="utf-8", newline="") as fh:
        return [_example(row) for row in csv.DictReader(fh)]


def _example(row: dict[str, str]) -> Example:
    item = RouteInput(
        text=row.get("text") or "",
        channel=(row.get("channel") or "comment").strip() or "comment",
        page_id=_opt(row.get("page_id")),
        lat=_float(row.get("lat")),
        lon=_float(row.get("lon")),
        address=_opt(row.get("address")),
        category_hint=_opt(row.get("category_hint")),
    )
    return Example(
        item=item,
        category=(row.get("expected_category") or "").strip(),
        authority=(row.get("expected_authority") or "").strip(),
        priority=(row.get("expected_priority") or "").strip() or "normal",
        actionable=(row.get("expected_actionable") or "").strip().lower() == "true",
    )


def routed_authority(decision: Decision) -> str:
    return decision.authority_code or "" if decision.status == "routed" else ""


def score(examples: list[Example], decisions: list[Decision]) -> dict[str, float]:
    """The `route eval` figures except throughput (see the module docstring)."""
    pairs = list(zip(examples, decisions, strict=True))
    actionable = [(e, d) for e, d in pairs if e.actionable]
    n = len(pairs)
    return {
        "n": n,
        "authority_accuracy": _share(routed_authority(d) == e.authority for e, d in pairs),
        "category_accuracy": _share(d.category == e.category for e, d in actionable),
        "priority_accuracy": _share((d.priority or "normal") == e.priority for e, d in pairs),
        "actionable_accuracy": _share(d.actionable == e.actionable for e, d in pairs),
        "triage_share": _share(d.status == "triage" for _, d in pairs),
    }


def _share(flags: Iterable[bool]) -> float:
    values = list(flags)
    return round(sum(values) / len(values), 4) if values else 0.0


def evaluate(csv_path: Path | str, router: Router) -> dict[str, float]:
    examples = read_examples(Path(csv_path))
    started = time.perf_counter()
    decisions = [router.route(e.item) for e in examples]
    elapsed = time.perf_counter() - started
    result = score(examples, decisions)
    result["items_per_s"] = round(len(examples) / elapsed, 1) if elapsed > 0 else 0.0
    return result
