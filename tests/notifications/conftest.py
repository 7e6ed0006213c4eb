from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.conf import settings

from notifications.models import ReminderSettings
from tests.notifications.real_workers import (
    PYTHON,
    RedisServer,
    worker_environment,
    worker_start,
    worker_stop,
)


@pytest.fixture
def rules(db) -> ReminderSettings:
    return ReminderSettings.load()


# --- Real Celery workers and a private Redis (tests marked redis and postgres) ----------------


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    server = RedisServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def mail_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "mail"
    folder.mkdir()
    return folder


@pytest.fixture
def worker_env(redis_server: RedisServer, mail_dir: Path) -> dict[str, str]:
    return worker_environment(redis_url=redis_server.url, mail_dir=mail_dir)


@pytest.fixture
def start_worker(worker_env: dict[str, str]) -> Iterator[Callable[..., subprocess.Popen]]:
    workers: list[subprocess.Popen] = []

    def start(**extra_env: str) -> subprocess.Popen:
        worker = worker_start(env={**worker_env, **extra_env})
        workers.append(worker)
        return worker

    yield start
    for worker in workers:
        worker_stop(worker)


@pytest.fixture
def dispatch(worker_env: dict[str, str]) -> Callable[[int], None]:
    """Run ``manage.py reminders_dispatch`` in ``times`` processes at once."""

    def run(times: int = 1) -> None:
        processes = [
            subprocess.Popen(  # noqa: S603
                [PYTHON, "manage.py", "reminders_dispatch", "--no-plan"],
                cwd=settings.BASE_DIR,
                env=worker_env,
                stdout=subprocess.DEVNULL,
            )
            for _ in range(times)
        ]
        assert [process.wait(timeout=60) for process in processes] == [0] * times

    return run
