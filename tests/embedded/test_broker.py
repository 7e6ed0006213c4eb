"""The embedded default's Celery broker: a SQLite file under var/, safe between processes.

These run real processes (a publisher and a worker) with the broker in a temporary var/
folder and the current directory somewhere else, so a file written relative to the
working directory or beside the checkout would show.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable

QUEUE_TASKS = """
import django
django.setup()
from clinic.celery import app
for number in range({count}):
    app.send_task("celery.accumulate", args=(number,))
print(app.conf.broker_url)
"""


def _embedded_environment(var_dir: Path) -> dict[str, str]:
    environment = {
        **os.environ,
        "CLINIC_VAR_DIR": str(var_dir),
        "PYTHONPATH": str(ROOT),
        "DJANGO_SETTINGS_MODULE": "clinic.settings",
        "DJANGO_DEBUG": "true",
    }
    for name in ("REDIS_URL", "DATABASE_URL", "CELERY_TASK_ALWAYS_EAGER"):
        environment.pop(name, None)
    return environment


def _untracked_in_checkout() -> set[str]:
    status = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=normal"],  # noqa: S607
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return {line[3:] for line in status.splitlines() if line.startswith("??")}


def _waiting_messages(broker_file: Path) -> int:
    with sqlite3.connect(broker_file, timeout=30) as connection:
        return connection.execute("SELECT count(*) FROM kombu_message WHERE visible = 1").fetchone()[0]


def _stored_messages(broker_file: Path) -> int:
    with sqlite3.connect(broker_file, timeout=30) as connection:
        return connection.execute("SELECT count(*) FROM kombu_message").fetchone()[0]


def test_tasks_queued_without_redis_are_run_by_a_worker_and_nothing_is_written_outside_var(tmp_path: Path) -> None:
    var_dir = tmp_path / "var"
    elsewhere = tmp_path / "cwd"
    elsewhere.mkdir()
    environment = _embedded_environment(var_dir)
    untracked_before = _untracked_in_checkout()

    queued = subprocess.run(  # noqa: S603
        [PYTHON, "-c", QUEUE_TASKS.format(count=5)],
        cwd=elsewhere,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    broker_file = var_dir / "celery-broker.sqlite3"
    assert queued.stdout.strip() == f"sqlite:///{broker_file}"
    assert _waiting_messages(broker_file) == 5

    with (var_dir / "worker.log").open("wb") as log:
        worker = subprocess.Popen(  # noqa: S603
            [PYTHON, "-m", "celery", "-A", "clinic", "worker", "--pool=solo", "--loglevel=INFO"],
            cwd=elsewhere,
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            deadline = time.monotonic() + 60
            while _waiting_messages(broker_file) and time.monotonic() < deadline:
                time.sleep(0.5)
        finally:
            worker.terminate()
            worker.wait(timeout=30)

    assert _waiting_messages(broker_file) == 0, (var_dir / "worker.log").read_text()
    assert _stored_messages(broker_file) == 0, "a delivered message is deleted, so the file does not grow"
    assert "Task celery.accumulate" in (var_dir / "worker.log").read_text()
    assert sorted(path.name for path in elsewhere.iterdir()) == []
    assert sorted(path.name for path in tmp_path.iterdir()) == ["cwd", "var"]
    assert _untracked_in_checkout() == untracked_before


def test_processes_publishing_at_once_lose_no_message(tmp_path: Path) -> None:
    """Processes that open a fresh broker file at once all publish; every message arrives whole."""
    var_dir = tmp_path / "var"
    environment = _embedded_environment(var_dir)
    publishers = 4
    running = [
        subprocess.Popen(  # noqa: S603
            [PYTHON, "-c", QUEUE_TASKS.format(count=40)],
            cwd=tmp_path,
            env=environment,
            stdout=subprocess.DEVNULL,
        )
        for _ in range(publishers)
    ]
    assert [process.wait(timeout=120) for process in running] == [0] * publishers
    assert _waiting_messages(var_dir / "celery-broker.sqlite3") == 40 * publishers
