"""Machinery of the real-worker tests: a private redis-server, Celery worker processes, dispatchers.

Each test gets its own throwaway redis-server (so stopping it disturbs nobody) and workers that use
the test's PostgreSQL database and the test backends of ``worker_settings``.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from django.db import connection

PYTHON = sys.executable


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class RedisServer:
    """A private redis-server that keeps nothing on disk: a restart loses every queued message."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(  # noqa: S603
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],  # noqa: S607
            stdout=subprocess.DEVNULL,
        )
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.1).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)

    def queued(self) -> int:
        """Messages waiting in the queue."""
        return self._ask("llen", "celery")

    def unacknowledged(self) -> int:
        """Messages taken by a worker and not yet acknowledged (kombu keeps them to restore them)."""
        return self._ask("hlen", "unacked")

    def _ask(self, *command: str) -> int:
        out = subprocess.run(  # noqa: S603
            ["redis-cli", "-p", str(self.port), *command],  # noqa: S607
            capture_output=True,
            text=True,
            check=True,
        )
        return int(out.stdout.strip() or 0)


def worker_environment(*, redis_url: str, mail_dir: Path) -> dict[str, str]:
    """The environment of a worker or dispatcher process: this test's database, the given Redis."""
    db = connection.settings_dict
    database_url = f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "DJANGO_SETTINGS_MODULE": "tests.notifications.worker_settings",
        "DJANGO_SECRET_KEY": "test-only-secret-key-for-the-worker-process-0123456789",
        "DJANGO_CONN_MAX_AGE": "0",
        "REMINDER_TEST_MAIL_DIR": str(mail_dir),
        "REMINDER_TEST_SEND_SECONDS": "0",
        "PYTHONPATH": str(settings.BASE_DIR),
    }


def worker_command(*, concurrency: int) -> list[str]:
    command = [PYTHON, "-m", "celery", "-A", "clinic", "worker", f"--concurrency={concurrency}", "--loglevel=INFO"]
    return [*command, "--without-gossip", "--without-mingle", "--without-heartbeat"]


def worker_start(*, env: dict[str, str], concurrency: int = 4, log: Path | None = None) -> subprocess.Popen:
    """A Celery worker in its own process group (so SIGKILL reaches its pool processes too)."""
    output = log.open("ab") if log else None
    try:
        return subprocess.Popen(  # noqa: S603
            worker_command(concurrency=concurrency),
            cwd=settings.BASE_DIR,
            env=env,
            start_new_session=True,
            stdout=output,
            stderr=subprocess.STDOUT if output else None,
        )
    finally:
        if output:
            output.close()


def worker_kill(worker: subprocess.Popen) -> None:
    """SIGKILL the worker and its pool processes: nothing of theirs runs another instruction."""
    os.killpg(worker.pid, signal.SIGKILL)
    worker.wait(timeout=10)


def worker_stop(worker: subprocess.Popen) -> None:
    if worker.poll() is not None:
        return
    os.killpg(worker.pid, signal.SIGTERM)
    try:
        worker.wait(timeout=15)
    except subprocess.TimeoutExpired:
        worker_kill(worker)


def wait_for(condition: Callable[[], bool], timeout: float = 60, *, what: str = "the workers") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
