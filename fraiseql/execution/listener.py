"""The reconnect loop shared by the background LISTEN tasks (result cache, trusted docs)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

logger = logging.getLogger("fraiseql")

RETRY_MIN_S, RETRY_MAX_S = 0.5, 10.0


async def keep_listening(listen: Callable[[], Awaitable[None]], worked: Callable[[], bool],
                         what: str) -> None:
    """Run ``listen`` again whenever it fails, forever (until cancelled).

    ``listen`` holds one connection and returns or raises when it is lost. The wait
    before the next try doubles from RETRY_MIN_S to RETRY_MAX_S while tries keep
    failing, and starts over after one that ``worked()`` for a while.
    """
    delay = RETRY_MIN_S
    while True:
        try:
            await listen()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - reconnect; the caller degrades meanwhile
            if worked():
                delay = RETRY_MIN_S
            logger.warning("%s: %s; reconnecting in %.1f s", what, exc, delay)
        await asyncio.sleep(delay)
        delay = min(delay * 2, RETRY_MAX_S)


async def cancel(task: asyncio.Task[None] | None) -> None:
    """Cancel a listener task and wait for it to close its connection."""
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
