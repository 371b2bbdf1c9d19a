"""Per-chat pacing of Telegram messages inside one worker process (reliability C4).

Telegram's published guidance: about 1 message/s per chat, at most 20/min into a group, about
30/s overall. Each chat gets the next free slot at a fixed spacing (3 s for groups and channels =
20/min without bursts). Several worker processes each pace on their own; Telegram's 429 with
`retry_after` (fed back through `penalize`) covers the rest.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import NamedTuple

PRIVATE_INTERVAL_S = 1.0
GROUP_INTERVAL_S = 3.0
GLOBAL_INTERVAL_S = 1 / 30
_PRUNE_AT = 1024


class Reservation(NamedTuple):
    granted: bool
    delay_s: float  # granted: sleep this long, then send; refused: the wait that was needed


def is_group(chat_id: str) -> bool:
    # Groups, supergroups and channels have negative ids; public channels are addressed by @name.
    return chat_id.startswith(("-", "@"))


class TelegramPacer:
    def __init__(
        self,
        *,
        private_interval_s: float = PRIVATE_INTERVAL_S,
        group_interval_s: float = GROUP_INTERVAL_S,
        global_interval_s: float = GLOBAL_INTERVAL_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._private = private_interval_s
        self._group = group_interval_s
        self._global = global_interval_s
        self._clock = clock
        self._next_chat: dict[str, float] = {}
        self._next_any = 0.0

    def reserve(self, chat_id: str, *, max_wait_s: float, messages: int = 1) -> Reservation:
        """Book the chat's next `messages` slots, one `spacing` apart, if the first is at most
        `max_wait_s` away (a long reply goes as several messages, all or none booked).

        Synchronous on purpose: with no await between reading and booking, concurrent tasks of
        one event loop cannot take the same slot. A refused reservation books nothing.
        """
        now = self._clock()
        slot = max(now, self._next_chat.get(chat_id, now), self._next_any)
        delay = slot - now
        if delay > max_wait_s:
            return Reservation(False, delay)
        self._prune(now)
        count = max(1, messages)
        self._next_chat[chat_id] = slot + self.spacing(chat_id) * count
        # The overall rate counts messages, not when each goes: one chat booked far ahead
        # must not hold every other chat back until its own slot.
        self._next_any = max(self._next_any, now) + self._global * count
        return Reservation(True, delay)

    def spacing(self, chat_id: str) -> float:
        """The time between two messages into this chat."""
        return self._group if is_group(chat_id) else self._private

    def penalize(self, chat_id: str, retry_after_s: float) -> None:
        """Telegram said 429: nothing more to this chat from here until retry_after has passed."""
        until = self._clock() + retry_after_s
        self._next_chat[chat_id] = max(self._next_chat.get(chat_id, until), until)

    def _prune(self, now: float) -> None:
        if len(self._next_chat) < _PRUNE_AT:
            return
        for chat_id in [c for c, t in self._next_chat.items() if t <= now]:
            del self._next_chat[chat_id]
