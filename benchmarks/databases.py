"""Which database a benchmark size uses, and how it is created, recognised and reset.

The benchmark never writes to the database it was pointed at: on SQLite each size gets
``var/bench-<size>.sqlite3``; on PostgreSQL ``<name>_bench_<size>`` on the same server
(``<name>`` without a trailing ``_bench``, so ``clinic_bench`` gives ``clinic_bench_20000``).
Only databases whose name says they are a benchmark's are ever dropped.

A generated database carries a marker row (table ``bench_marker``) with its size, the
generator's version, the migrations it was built with and the day it was generated; a later
run reuses it only when all of these still match.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import environ
from django.db import DatabaseError, connection
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.loader import MigrationLoader

MARKER_TABLE = "bench_marker"
BENCH_NAME = re.compile(r"_bench_\d+$")
MAX_AGE = timedelta(days=7)  # the calendar is laid out around the day it was generated


def is_postgres_url(url: str | None) -> bool:
    return bool(url) and urlsplit(url).scheme in {"postgres", "postgresql", "pgsql", "postgis"}


def bench_database_url(*, base_url: str | None, size: int, data_dir: Path) -> str:
    """The URL of the benchmark database for ``size`` (never ``base_url``'s own database)."""
    if not is_postgres_url(base_url):
        return f"sqlite:///{(data_dir / f'bench-{size}.sqlite3').resolve()}"
    parts = urlsplit(base_url)
    name = parts.path.lstrip("/") or "clinic"
    name = name.removesuffix("_bench")
    return urlunsplit(parts._replace(path=f"/{name}_bench_{size}"))


def _maintenance_connection(url: str):
    import psycopg

    config = environ.Env.db_url_config(url)
    return psycopg.connect(
        dbname="postgres",
        user=config.get("USER") or None,
        password=config.get("PASSWORD") or None,
        host=config.get("HOST") or None,
        port=config.get("PORT") or None,
        autocommit=True,
    )


def postgres_database_ensure(url: str, *, recreate: bool = False) -> None:
    """Create the benchmark database if it is missing (drop it first with ``recreate``)."""
    from psycopg import sql

    name = environ.Env.db_url_config(url)["NAME"]
    if not BENCH_NAME.search(name):
        raise ValueError(f"Refusing to touch {name!r}: not a benchmark database name.")
    with _maintenance_connection(url) as maintenance:
        if recreate:
            maintenance.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        exists = maintenance.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            maintenance.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def sqlite_database_remove(path: str) -> None:
    name = Path(path).name
    if not re.fullmatch(r"bench-\d+\.sqlite3", name):
        raise ValueError(f"Refusing to delete {path}: not a benchmark database file.")
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def database_reset() -> None:
    """Empty the current (benchmark) database completely; the next query starts from nothing."""
    settings_dict = connection.settings_dict
    connection.close()
    if connection.vendor == "sqlite":
        sqlite_database_remove(settings_dict["NAME"])
    else:
        user = settings_dict.get("USER") or ""
        host = settings_dict.get("HOST") or "127.0.0.1"
        port = settings_dict.get("PORT") or 5432
        password = f":{settings_dict['PASSWORD']}" if settings_dict.get("PASSWORD") else ""
        credentials = f"{user}{password}@" if user else ""
        postgres_database_ensure(f"postgres://{credentials}{host}:{port}/{settings_dict['NAME']}", recreate=True)


def migration_signature() -> str:
    """A fingerprint of every migration on disk: changes when anyone adds or renames one."""
    loader = MigrationLoader(None, ignore_no_migrations=True)
    names = sorted(f"{app}.{name}" for app, name in loader.disk_migrations)
    return hashlib.sha256("\n".join(names).encode()).hexdigest()[:16]


def migrations_pending() -> bool:
    executor = MigrationExecutor(connection)
    return bool(executor.migration_plan(executor.loader.graph.leaf_nodes()))


def marker_read() -> dict | None:
    try:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT value FROM {MARKER_TABLE} WHERE name = 'clinic'")  # noqa: S608 - constant
            row = cursor.fetchone()
    except DatabaseError:
        return None
    return json.loads(row[0]) if row else None


def marker_write(marker: dict) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TABLE IF NOT EXISTS {MARKER_TABLE} (name varchar(40) PRIMARY KEY, value text NOT NULL)")
        cursor.execute(f"DELETE FROM {MARKER_TABLE}")  # noqa: S608 - constant
        cursor.execute(f"INSERT INTO {MARKER_TABLE} (name, value) VALUES ('clinic', %s)", [json.dumps(marker)])  # noqa: S608


def marker_matches(marker: dict | None, *, expected: dict, today: date) -> bool:
    if not marker or any(marker.get(key) != value for key, value in expected.items()):
        return False
    generated_on = date.fromisoformat(marker.get("generated_on", "1970-01-01"))
    return today - generated_on <= MAX_AGE
