"""The Celery broker with ``REDIS_URL``: kombu's Redis transport, so that a worker outlives a Redis restart.

With Celery 5.7 and kombu 5.7, a worker that held an unacknowledged message when Redis went away
(it was running a task: every ``acks_late`` task is one) stopped with ``Unrecoverable error:
AttributeError("'NoneType' object has no attribute 'hostname'")`` instead of reconnecting: after
the connection error Celery collects the broken connection, which lets go of the transport's
connection details, and then closes it; closing the channel tries to put its unacknowledged
messages back into Redis, and building a Redis client for that reads the details it no longer has.
Only connection errors are expected there, so the AttributeError ended the worker (found by
``tests/notifications/test_outbox_soak.py``; ``test_worker_faults.py`` holds the regression test).

This transport reports that case as what it is, a connection error: Celery then logs it and
reconnects as it does after any broker failure.  Nothing is lost by not restoring those messages
at that moment: Redis keeps unacknowledged messages until their visibility timeout when it
survives, and when it restarted without persistence they are gone whatever the worker does; the
outbox row is the record of what is due and the dispatcher issues it again after its lease.
"""

from __future__ import annotations

from typing import Any

from kombu.transport import redis as kombu_redis
from redis.exceptions import ConnectionError as RedisConnectionError


class Channel(kombu_redis.Channel):
    def _connparams(self, asynchronous: bool = False) -> dict[str, Any]:
        if self.connection.client is None:
            raise RedisConnectionError("The broker connection has already been closed.")
        return super()._connparams(asynchronous=asynchronous)


class Transport(kombu_redis.Transport):
    Channel = Channel
