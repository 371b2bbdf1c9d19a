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
import sys
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


# SPEC §4: the input columns and the expected ones. The text and every expected column must be
# in the header (a misspelled one would read as empty in every row and quietly change the
# figures); an input column left out is empty in every row, as its cells may be.
COLUMNS = ("channel", "page_id", "category_hint", "lat", "lon", "address", "text")
EXPECTED = ("expected_category", "expected_authority", "expected_priority", "expected_actionable")
REQUIRED = ("text", *EXPECTED)
CHANNELS = ("comment", "widget", "platform")


class BadInput(ValueError):
    """A row or a header the evaluation cannot read: said with its line number."""


def _float(value: str | None) -> float | None:
    text = (value or "").strip()
    return float(text) if text else None


def _opt(value: str | None) -> str | None:
    text = (value or "").strip()
    return text or None


def read_examples(csv_path: Path) -> list[Example]:
    with csv_path.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        header = list(reader.fieldnames or [])
        missing = [c for c in REQUIRED if c not in header]
        if missing:
            raise BadInput(f"missing column(s) {missing}; header is {header}")
        unknown = [c for c in header if c not in (*COLUMNS, *EXPECTED)]
        if unknown:
            sys.stderr.write(f"note: column(s) {unknown} are not read\n")
        examples = []
        for row in reader:
            try:
                examples.append(_example(row))
            except ValueError as exc:
                raise BadInput(f"line {reader.line_num}: {exc}") from exc
    if not examples:
        raise BadInput("no rows to evaluate")
    return examples


def _actionable(value: str | None) -> bool:
    text = (value or "").strip().lower()
    if text not in ("true", "false"):
        raise ValueError(f"expected_actionable must be true or false, not {value!r}")
    return text == "true"


def _channel(value: str | None) -> str:
    channel = (value or "").strip() or "comment"
    if channel not in CHANNELS:
        raise ValueError(f"channel must be one of {', '.join(CHANNELS)}, not {value!r}")
    return channel


def _example(row: dict[str, str]) -> Example:
    item = RouteInput(
        text=row.get("text") or "",
        channel=_channel(row.get("channel")),
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
        actionable=_actionable(row.get("expected_actionable")),
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
