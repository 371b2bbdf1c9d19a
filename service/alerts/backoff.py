"""Retry schedule for alert deliveries (reliability.md §5 "Webhooks").

First attempt at once, then 10 s, 1 min, 5 min, 15 min, 30 min, 1 h, 2 h, then hourly while the
nominal total stays within 24 h: 28 attempts. Each delay gets ±20 % jitter so alerts that failed
together (a receiver outage) do not come back together. A server's Retry-After is a floor.
"""

from __future__ import annotations

import random

JITTER = 0.2
RETRY_WINDOW_S = 24 * 3600.0
# A receiver asking for more than the whole window would get an alert nobody can act on.
MAX_RETRY_AFTER_S = RETRY_WINDOW_S
_LADDER_S = (10.0, 60.0, 300.0, 900.0, 1800.0, 3600.0, 7200.0)
_HOURLY_S = 3600.0
_DEFAULT_RNG = random.Random()


def _schedule() -> tuple[float, ...]:
    delays = list(_LADDER_S)
    while sum(delays) + _HOURLY_S <= RETRY_WINDOW_S:
        delays.append(_HOURLY_S)
    return tuple(delays)


# SCHEDULE_S[n - 1] is the nominal wait after the n-th failed attempt.
SCHEDULE_S = _schedule()
MAX_ATTEMPTS = len(SCHEDULE_S) + 1


def next_attempt_delay(
    attempt: int,
    *,
    retry_after: float | None = None,
    rng: random.Random | None = None,
) -> float | None:
    """Seconds to wait before the next attempt, after `attempt` attempts have failed.

    `attempt=0` (nothing tried yet) gives 0. None means give up: dead-letter the delivery.
    Attempts that never left the process (`DeliveryOutcome.attempted=False`) should not count.
    """
    if attempt < 0:
        raise ValueError("attempt counts from 0")
    if attempt >= MAX_ATTEMPTS:
        return None
    if retry_after is not None and retry_after > MAX_RETRY_AFTER_S:
        return None
    if attempt == 0:
        base = 0.0
    else:
        base = SCHEDULE_S[attempt - 1] * (rng or _DEFAULT_RNG).uniform(1 - JITTER, 1 + JITTER)
    return max(base, retry_after or 0.0)
