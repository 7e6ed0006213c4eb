"""``make bench`` (``manage.py bench --quick`` under ``benchmarks.settings``) runs end to end on SQLite."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from benchmarks.management.commands.bench import JSON_KEYS

ROOT = Path(__file__).resolve().parents[2]


def test_quick_bench_prints_a_table_then_json_with_every_key(tmp_path: Path) -> None:
    env = {key: value for key, value in os.environ.items() if key not in {"DATABASE_URL", "REDIS_URL"}}
    env["DJANGO_SECRET_KEY"] = "test-bench-only"
    env["DJANGO_SETTINGS_MODULE"] = "benchmarks.settings"  # the settings `make bench` uses
    completed = subprocess.run(  # noqa: S603 - our own manage.py
        [
            sys.executable,
            "manage.py",
            "bench",
            "--quick",
            "--runs",
            "3",
            "--reminders",
            "50",
            "--data-dir",
            str(tmp_path),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    lines = completed.stdout.strip().splitlines()
    result = json.loads(lines[-1])
    assert tuple(result) == JSON_KEYS
    assert result["availability_week_queries"] == result["availability_week_queries_1k"] <= 6
    assert result["concurrent_bookings_per_s"] is None  # PostgreSQL only
    assert set(result["page_queries"]) == {"patient_booking", "practitioner_day", "patient_chart"}
    assert all(isinstance(value, int) for value in result["page_queries"].values())
    assert result["reminders_per_s"] > 0
    # Every reminder the bench plans is really sent (none dropped as "no longer wanted"); the
    # generated clinic's own due reminders go out in the same run, so there may be more.
    [sending] = [re.search(r"(\d+) planned in .*, ([\d,]+) sent in", line) for line in lines if " planned in " in line]
    assert int(sending[1]) == 50
    assert int(sending[2].replace(",", "")) >= 50
    assert any("availability, all practitioners, 1 week: queries" in line for line in lines)
    assert (tmp_path / "bench-1000.sqlite3").exists()
    assert not (ROOT / "var" / "bench-1000.sqlite3").exists() or tmp_path != ROOT / "var"
