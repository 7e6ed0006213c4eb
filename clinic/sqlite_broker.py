"""The embedded default's Celery broker: kombu's SQLAlchemy transport on one SQLite file.

Used when ``REDIS_URL`` is not set (see settings): web, worker and beat on one machine
with no server to install.  What makes it safe between processes is kombu's own
transport: a message is one row, written in one transaction, and claimed inside
``BEGIN IMMEDIATE``, so no two workers take the same message and none reads a
half-written one (the folder transport it replaces did, and the worker died of a
``JSONDecodeError``).  This subclass changes three things:

- the file is in WAL mode, so a publisher writes while the worker reads;
- a claimed message is deleted instead of being kept as an invisible row forever,
  so the file does not grow by every message ever sent.  Nothing is lost by that:
  kombu's transport never hands an invisible row out again either;
- ``polling_interval`` (and any other option meant for kombu) is not passed on to
  SQLAlchemy's ``create_engine``, which refuses options it does not know;
- processes that open a fresh file at the same moment (web, worker and beat at the
  first ``make run``) wait for each other's ``CREATE TABLE`` instead of failing with
  "table already exists", which kombu's retry turned into a closed channel, and
  two that declare the same queue at once both end up using the one row.

The honest limit, as with kombu's transport: a message claimed by a worker that is
then killed (not stopped) is gone.  A warm shutdown puts unacknowledged messages back.
The clinic's messages do not depend on it: the outbox is the record of what is due,
and the periodic sender finds a due row again on its next run.
"""

from __future__ import annotations

import time
from json import loads
from queue import Empty
from typing import Any

from kombu.transport import sqlalchemy as kombu_sqlalchemy
from kombu.utils.encoding import bytes_to_str
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import sessionmaker

# How long a process waits for another one creating the broker's tables.
TABLE_CREATION_ATTEMPTS = 100
TABLE_CREATION_PAUSE_SECONDS = 0.1

# Transport options that are kombu's or Celery's, not create_engine()'s.
NOT_FOR_SQLALCHEMY = frozenset(
    {
        "queue_tablename",
        "message_tablename",
        "callback",
        "errback",
        "max_retries",
        "interval_start",
        "interval_step",
        "interval_max",
        "retry_errors",
        "polling_interval",
    }
)


class Channel(kombu_sqlalchemy.Channel):
    def _open(self) -> tuple[Engine, sessionmaker]:
        hostname = self.connection.client.hostname
        with kombu_sqlalchemy._MUTEX:
            if hostname not in self._engines:
                engine = self._engine_from_config()
                _tables_create(engine)
                self._engines[hostname] = engine, sessionmaker(bind=engine)
        return self._engines[hostname]

    def _engine_from_config(self) -> Engine:
        conninfo = self.connection.client
        options = {key: value for key, value in conninfo.transport_options.items() if key not in NOT_FOR_SQLALCHEMY}
        engine = create_engine(conninfo.hostname, **options)
        if engine.dialect.name == "sqlite":
            event.listen(engine, "connect", _sqlite_wal_mode)
        return engine

    def _get_or_create(self, queue: str) -> Any:
        try:
            return super()._get_or_create(queue)
        except IntegrityError:
            # Another process inserted the queue's row first: use theirs.
            self.session.rollback()
            return self.session.query(self.queue_cls).filter(self.queue_cls.name == queue).one()

    def _get(self, queue: str) -> dict[str, Any]:
        queue_row = self._get_or_create(queue)
        if self.session.bind.name == "sqlite":
            self.session.execute(text("BEGIN IMMEDIATE TRANSACTION"))
        try:
            message = (
                self.session.query(self.message_cls)
                .with_for_update()
                .filter(self.message_cls.queue_id == queue_row.id)
                .filter(self.message_cls.visible.is_(True))
                .order_by(self.message_cls.sent_at)
                .order_by(self.message_cls.id)
                .limit(1)
                .first()
            )
            if message is None:
                raise Empty
            payload = loads(bytes_to_str(message.payload))
            self.session.delete(message)
            return payload
        finally:
            self.session.commit()


class Transport(kombu_sqlalchemy.Transport):
    Channel = Channel


def _tables_create(engine: Engine) -> None:
    for attempt in range(TABLE_CREATION_ATTEMPTS):
        try:
            kombu_sqlalchemy.metadata.create_all(engine)
        except OperationalError:
            # Another process is creating them ("already exists", "locked"): look again.
            if attempt == TABLE_CREATION_ATTEMPTS - 1:
                raise
            time.sleep(TABLE_CREATION_PAUSE_SECONDS)
        else:
            return


def _sqlite_wal_mode(dbapi_connection: Any, connection_record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
    finally:
        cursor.close()
