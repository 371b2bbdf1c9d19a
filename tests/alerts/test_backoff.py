"""Retry schedule: nominal ladder, jitter bounds, Retry-After floor, giving up."""

from __future__ import annotations

import random

import pytest

from service.alerts.backoff import (
    JITTER,
    MAX_ATTEMPTS,
    RETRY_WINDOW_S,
    SCHEDULE_S,
    next_attempt_delay,
)

MIN, HOUR = 60.0, 3600.0


def test_nominal_ladder_then_hourly_within_a_day() -> None:
    assert SCHEDULE_S[:7] == (10.0, MIN, 5 * MIN, 15 * MIN, 30 * MIN, HOUR, 2 * HOUR)
    assert set(SCHEDULE_S[7:]) == {HOUR}
    assert RETRY_WINDOW_S - HOUR < sum(SCHEDULE_S) <= RETRY_WINDOW_S
    assert MAX_ATTEMPTS == len(SCHEDULE_S) + 1 == 28


def test_first_attempt_is_immediate() -> None:
    assert next_attempt_delay(0, rng=random.Random(0)) == 0.0


def test_jitter_stays_within_twenty_percent_and_is_used() -> None:
    rng = random.Random(7)
    for attempt, base in enumerate(SCHEDULE_S, start=1):
        samples = [next_attempt_delay(attempt, rng=rng) for _ in range(50)]
        assert all(
            s is not None and (1 - JITTER) * base <= s <= (1 + JITTER) * base for s in samples
        )
        assert max(s for s in samples if s) - min(s for s in samples if s) > 0.2 * base


def test_seeded_rng_gives_a_reproducible_schedule() -> None:
    one = [next_attempt_delay(a, rng=random.Random(42)) for a in range(MAX_ATTEMPTS)]
    two = [next_attempt_delay(a, rng=random.Random(42)) for a in range(MAX_ATTEMPTS)]
    assert one == two


@pytest.mark.parametrize(("attempt", "retry_after"), [(1, 30.0), (1, 120.0), (3, 3 * HOUR)])
def test_never_earlier_than_retry_after(attempt: int, retry_after: float) -> None:
    delay = next_attempt_delay(attempt, retry_after=retry_after, rng=random.Random(1))
    assert delay is not None and delay >= retry_after


def test_retry_after_below_the_schedule_does_not_shorten_it() -> None:
    delay = next_attempt_delay(5, retry_after=1.0, rng=random.Random(1))
    assert delay is not None and delay >= (1 - JITTER) * 30 * MIN


def test_gives_up_after_the_last_attempt_or_an_absurd_retry_after() -> None:
    assert next_attempt_delay(MAX_ATTEMPTS - 1, rng=random.Random(1)) is not None
    assert next_attempt_delay(MAX_ATTEMPTS, rng=random.Random(1)) is None
    assert next_attempt_delay(2, retry_after=RETRY_WINDOW_S + 1, rng=random.Random(1)) is None
    with pytest.raises(ValueError, match="attempt"):
        next_attempt_delay(-1)
