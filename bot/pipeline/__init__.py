"""The message pipeline, the same for every channel: inbox -> per-user ordered dispatch -> one transaction
(the service) -> outbox -> sender. A channel plugs in through an :class:`~bot.pipeline.adapter.Adapter`;
see :mod:`bot.pipeline.run` for how the parts are put together."""
