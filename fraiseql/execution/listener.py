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


async def start_listening(listen: Callable[[asyncio.Event], Awaitable[None]],
                          worked: Callable[[], bool], what: str, name: str,
                          wait_s: float) -> asyncio.Task[None]:
    """Start ``keep_listening`` as a task; return it once ``listen`` has set its event
    (loaded, or its first try failed), the task ended, or ``wait_s`` passed."""
    first = asyncio.Event()
    task = asyncio.create_task(keep_listening(lambda: listen(first), worked, what), name=name)
    waiter = asyncio.create_task(first.wait())
    await asyncio.wait({waiter, task}, timeout=wait_s, return_when=asyncio.FIRST_COMPLETED)
    waiter.cancel()
    return task


async def cancel(task: asyncio.Task[None] | None) -> None:
    """Cancel a listener task and wait for it to close its connection."""
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
