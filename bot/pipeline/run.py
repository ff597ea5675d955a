"""The pipeline of one channel, put together: the adapter's updates into the :class:`Inbox`, the
:class:`Dispatcher` (per-user order, the service's one transaction), the :class:`OutboxSender` through the
adapter's transport, the :class:`Broadcaster` beside it (same transport and limits, replies first); and
:meth:`Pipeline.run`, which runs them supervised beside the adapter's own loops (its receiver: polling;
its chores: menus, setting a webhook) and stops them in order.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine, Mapping, Sequence
from typing import Any

from bot.pipeline.adapter import Adapter
from bot.pipeline.broadcaster import BroadcastConfig, Broadcaster
from bot.pipeline.dispatcher import Dispatcher
from bot.pipeline.inbox import Inbox
from bot.pipeline.sender import OutboxSender
from bot.pipeline.supervise import Loop, supervise
from bot.service import Service
from bot.store.db import Database

SHUTDOWN_GRACE = 10.0  # seconds the dispatcher and the sender get to finish on SIGTERM


class Pipeline:
    def __init__(
        self,
        service: Service,
        db: Database,
        adapter: Adapter,
        *,
        per_second: float,
        chat_interval: float,
        max_in_flight: int = 8,
        broadcasts: BroadcastConfig | None = None,
    ) -> None:
        self.service, self.db, self.adapter = service, db, adapter
        self.inbox = Inbox(db, adapter.source, adapter.inspect)
        self.sender = OutboxSender(
            db,
            adapter.channel,
            adapter.transport,
            per_second=per_second,
            chat_interval=chat_interval,
            max_in_flight=max_in_flight,
        )
        self.dispatcher = Dispatcher(service, db, adapter, self.inbox, self.sender)
        # broadcasts through the same transport and limits, after the replies (None: this channel has none)
        self.broadcaster = (
            Broadcaster(db, adapter.channel, adapter.transport, self.sender, broadcasts)
            if broadcasts is not None
            else None
        )

    async def run(
        self,
        stop: asyncio.Event,
        receivers: Mapping[str, Loop] | None = None,
        chores: Sequence[Coroutine[Any, Any, None]] = (),
        closing: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        """Until ``stop``: the dispatcher, the sender and the ``receivers`` supervised, the ``chores``
        beside them. Then the receivers and chores are cancelled (what a receiver had not stored, the
        platform delivers again), ``closing`` runs (e.g. the webhook server closes), and the dispatcher
        and the sender finish what they hold (the sender writes down what it delivered) within
        ``SHUTDOWN_GRACE`` seconds."""
        workers = [
            asyncio.create_task(supervise("dispatcher", self.dispatcher.run, stop)),
            asyncio.create_task(supervise("sender", self.sender.run, stop)),
        ]
        if self.broadcaster is not None:
            workers.append(asyncio.create_task(supervise("broadcaster", self.broadcaster.run, stop)))
        helpers = [asyncio.create_task(chore) for chore in chores]
        helpers += [asyncio.create_task(supervise(n, loop, stop)) for n, loop in (receivers or {}).items()]
        try:
            await stop.wait()
        finally:
            stop.set()
            for helper in helpers:
                helper.cancel()
            await asyncio.gather(*helpers, return_exceptions=True)
            if closing is not None:
                await closing()
            _, late = await asyncio.wait(workers, timeout=SHUTDOWN_GRACE)
            for worker in late:
                worker.cancel()
            await asyncio.gather(*workers, return_exceptions=True)
