"""``manage.py bench`` (``make bench``): availability, booking, pages and reminders at clinic-chain scale.

For each size (appointments: 1,000, 20,000 and 200,000 by default) it prepares a database of
its own and measures it in a fresh process:

- embedded default: ``var/bench-<size>.sqlite3``; with ``DATABASE_URL`` pointing at PostgreSQL:
  ``<name>_bench_<size>`` on that server (the database in ``DATABASE_URL`` itself is never
  touched).  A database whose marker still matches (size, generator version, migrations,
  generated within a week) is reused; otherwise it is rebuilt with ``generate_clinic``;
- the measure process times the availability selector, the booking service, three pages
  and, at 20,000 (or the size nearest below), the reminder pipeline, the desk's patient search
  at 1,000, 20,000 and 200,000 patients (``--search-patients``; 1,000 with ``--quick``) and, on
  PostgreSQL, 20 clients booking contested slots through gunicorn on 127.0.0.1.

It prints a table, then one line of JSON (the last line) with the headline figures.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from dataclasses import asdict
from datetime import date
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection
from django.utils import timezone

from benchmarks.databases import (
    bench_database_url,
    database_reset,
    is_postgres_url,
    marker_matches,
    marker_read,
    marker_write,
    migration_signature,
    migrations_pending,
    postgres_database_ensure,
)

RESULT_PREFIX = "BENCH-RESULT "
DEFAULT_SIZES = "1000,20000,200000"
DEFAULT_SEARCH_PATIENTS = "1000,20000,200000"
CHILD_TIMEOUT_SECONDS = 3 * 60 * 60
JSON_KEYS = (
    "availability_day_ms",
    "availability_day_queries",
    "availability_week_ms",
    "availability_week_queries",
    "availability_week_queries_1k",
    "availability_week_queries_200k",
    "booking_ms",
    "booking_queries",
    "page_ms",
    "page_queries",
    "concurrent_bookings_per_s",
    "concurrent_refusals",
    "concurrent_errors",
    "concurrent_double_bookings",
    "reminders_per_s",
    "patient_search_ms",
    "patient_search_queries",
    "peak_rss_mb",
)


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown CPU"


def _span(first: str | None, last: str | None) -> str:
    if not first or not last:
        return "-"
    return f"{date.fromisoformat(first):%d %b %y}-{date.fromisoformat(last):%d %b %y}"


def peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)  # Linux reports KiB


class Command(BaseCommand):
    help = "Benchmark availability, booking, pages and reminders on generated clinics; last line is JSON."
    requires_system_checks: list[str] = []  # the parent process never opens a database

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--sizes", default=None, help=f"Appointments per clinic, comma-separated ({DEFAULT_SIZES})."
        )
        parser.add_argument("--quick", action="store_true", help="A smoke run: 1,000 only, few runs, small counts.")
        parser.add_argument("--runs", type=int, default=None, help="Timed runs per figure (default 25, quick 5).")
        parser.add_argument("--reminders", type=int, default=None, help="Reminders to plan and send (100000).")
        parser.add_argument(
            "--concurrency-seconds", type=float, default=None, help="Length of the concurrent-booking run (10)."
        )
        parser.add_argument(
            "--search-patients",
            default=None,
            help=f"Clinic sizes in patients for the patient search, comma-separated ({DEFAULT_SEARCH_PATIENTS}; "
            "quick: 1000).",
        )
        parser.add_argument("--data-dir", default=None, help="Folder of the SQLite benchmark databases (var/).")
        parser.add_argument(
            "--senders",
            type=int,
            default=None,
            help="Processes sending reminders, as Celery worker processes (default: one per CPU, Celery's default).",
        )
        parser.add_argument(
            "--worker", choices=["prepare", "measure", "send"], help="Internal: run one step in this process."
        )
        parser.add_argument("--batch", type=int, default=500, help="Internal: a sender's batch size.")
        parser.add_argument("--size", type=int, help="Internal: the size a worker handles.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["worker"] == "prepare":
            return self.prepare(size=options["size"])
        if options["worker"] == "send":
            return self.send(batch=options["batch"])
        if options["worker"] == "measure":
            return self.measure(
                size=options["size"],
                runs=options["runs"] or 25,
                reminders=options["reminders"] or 0,
                concurrency_seconds=options["concurrency_seconds"] or 0,
                search_patients=options["search_patients"] or "",
                senders=options["senders"] or 1,
            )
        return self.orchestrate(options)

    # --- The parent: one prepare and one measure process per size --------------------------

    def orchestrate(self, options: dict[str, Any]) -> None:
        quick = options["quick"]
        sizes_text = options["sizes"] or ("1000" if quick else DEFAULT_SIZES)
        try:
            sizes = sorted({int(part) for part in sizes_text.split(",") if part.strip()})
        except ValueError as error:
            raise CommandError(f"--sizes takes numbers separated by commas, not {sizes_text!r}.") from error
        if not sizes or min(sizes) < 100:
            raise CommandError("Every size must be at least 100 appointments.")
        runs = options["runs"] or (5 if quick else 25)
        if runs < 1:
            raise CommandError("--runs must be at least 1.")
        reminders = options["reminders"] if options["reminders"] is not None else (300 if quick else 100_000)
        concurrency = options["concurrency_seconds"] or (3 if quick else 10)
        search_patients = options["search_patients"] or ("1000" if quick else DEFAULT_SEARCH_PATIENTS)
        senders = options["senders"] or (os.cpu_count() or 1)
        if senders < 1:
            raise CommandError("--senders must be at least 1.")
        try:
            search_sizes = sorted({int(part) for part in search_patients.split(",") if part.strip()})
        except ValueError as error:
            raise CommandError(
                f"--search-patients takes numbers separated by commas, not {search_patients!r}."
            ) from error
        data_dir = Path(options["data_dir"] or settings.VAR_DIR)
        data_dir.mkdir(parents=True, exist_ok=True)
        base_url = os.environ.get("DATABASE_URL")
        postgres = is_postgres_url(base_url)
        below = [size for size in sizes if size <= 20_000]
        primary = 20_000 if 20_000 in sizes else (max(below) if below else min(sizes))
        self.stdout.write(
            f"Benchmark on {'PostgreSQL' if postgres else 'SQLite'}"
            f"{' and Redis' if os.environ.get('REDIS_URL') else ''}: sizes {', '.join(f'{s:,}' for s in sizes)}, "
            f"{runs} timed runs per figure; headline size {primary:,}"
        )
        results: dict[int, dict[str, Any]] = {}
        load_before = os.getloadavg()
        for size in sizes:
            url = bench_database_url(base_url=base_url, size=size, data_dir=data_dir)
            if postgres:
                postgres_database_ensure(url)
            env = {
                **os.environ,
                "DATABASE_URL": url,
                "DJANGO_SETTINGS_MODULE": "benchmarks.settings",
                "DJANGO_SECRET_KEY": os.environ.get("DJANGO_SECRET_KEY") or "bench-only-secret-never-used-to-serve",
            }
            self.stdout.write(f"\n== {size:,} appointments: {url.split('@')[-1]}")
            prepared = self._child(["--worker", "prepare", "--size", str(size)], env=env)
            arguments = ["--worker", "measure", "--size", str(size), "--runs", str(runs)]
            if size == primary:
                arguments += ["--reminders", str(reminders), "--senders", str(senders)]
                if search_sizes:
                    arguments += ["--search-patients", ",".join(str(number) for number in search_sizes)]
                if postgres:
                    arguments += ["--concurrency-seconds", str(concurrency)]
            measured = self._child(arguments, env=env)
            results[size] = {"prepare": prepared, **measured}
        self._table(results, sizes=sizes, primary=primary)
        load_after = os.getloadavg()
        # Other processes on the machine slow every figure down: say how busy it was.
        self.stdout.write(
            f"\nMachine: {os.cpu_count()} CPUs, {_cpu_model()}; load average {load_before[0]:.1f} at the start, "
            f"{load_after[0]:.1f} at the end (figures are only comparable on an otherwise idle machine)"
        )
        headline = self._headline(results, primary=primary)
        report = data_dir / f"bench-{'postgresql' if postgres else 'sqlite'}.json"
        machine = {
            "cpus": os.cpu_count(),
            "cpu_model": _cpu_model(),
            "load_before": load_before,
            "load_after": load_after,
        }
        report.write_text(
            json.dumps({"headline": headline, "machine": machine, "sizes": results}, indent=2, default=str)
        )
        self.stdout.write(f"\nFull results: {report}")
        self.stdout.write(json.dumps(headline))

    def _child(self, arguments: list[str], *, env: dict[str, str]) -> dict[str, Any]:
        command = [sys.executable, str(Path(settings.BASE_DIR) / "manage.py"), "bench", *arguments]
        process = subprocess.Popen(  # noqa: S603 - our own manage.py
            command,
            cwd=settings.BASE_DIR,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        result: dict[str, Any] | None = None
        started = time.monotonic()
        assert process.stdout is not None
        for line in process.stdout:
            if line.startswith(RESULT_PREFIX):
                result = json.loads(line[len(RESULT_PREFIX) :])
            elif not line.startswith("AXES:"):
                self.stdout.write(f"   {line.rstrip()}")
            if time.monotonic() - started > CHILD_TIMEOUT_SECONDS:
                process.kill()
                break
        process.wait()
        if process.returncode != 0 or result is None:
            raise CommandError(f"bench {' '.join(arguments)} failed (exit {process.returncode}).")
        return result

    # --- Worker: make sure the database holds the generated clinic of this size -------------

    def prepare(self, *, size: int) -> None:
        from benchmarks.generator import GENERATOR_VERSION, clinic_generate

        today = timezone.localdate()
        expected = {"size": size, "generator": GENERATOR_VERSION, "migrations": migration_signature()}
        marker = marker_read()
        if marker_matches(marker, expected=expected, today=today) and not migrations_pending():
            self.stdout.write(f"Reusing the clinic generated on {marker['generated_on']}.")
            self._result({"reused": True, "seconds": 0, **marker, "peak_rss_mb": peak_rss_mb()})
            return
        started = time.perf_counter()
        database_reset()
        call_command("migrate", verbosity=0, interactive=False)
        generated = clinic_generate(appointments=size, progress=lambda line: self.stdout.write(line))
        seconds = round(time.perf_counter() - started, 1)
        marker = {
            **expected,
            "generated_on": today.isoformat(),
            "appointments": generated.appointments,
            "practitioners": generated.size.practitioners,
            "patients": generated.size.patients,
            "sites": generated.size.sites,
            "session_logs": generated.session_logs,
            "outbox_rows": generated.reminders,
            "first_day": generated.first_day.isoformat(),
            "last_day": generated.last_day.isoformat(),
            "density": round(generated.density, 3),
            "generate_seconds": seconds,
        }
        marker_write(marker)
        self._result({"reused": False, "seconds": seconds, **marker, "peak_rss_mb": peak_rss_mb()})

    # --- Worker: the measurements -----------------------------------------------------------

    def send(self, *, batch: int) -> None:
        """A reminder sender for ``reminders_measure``: ready once set up, sends when told "go"."""
        from benchmarks import measure as bench

        connection.ensure_connection()
        self.stdout.write("READY")
        self.stdout.flush()
        sys.stdin.readline()
        run = bench.reminders_send_until_done(batch=batch)
        self.stdout.write(bench.SENDER_RESULT_PREFIX + json.dumps(asdict(run)))

    def measure(
        self,
        *,
        size: int,
        runs: int,
        reminders: int,
        concurrency_seconds: float,
        search_patients: str = "",
        senders: int = 1,
    ) -> None:
        from benchmarks import measure as bench

        if migrations_pending():
            raise CommandError(
                "The benchmark database is behind the code's migrations (one landed meanwhile); run again."
            )
        subjects = bench.subjects_load()
        result: dict[str, Any] = {"size": size, "vendor": connection.vendor, "errors": {}}

        def attempt(name: str, function: Any) -> Any:
            self.stdout.write(f"{name} ...")
            try:
                return function()
            except Exception as error:  # still print every other figure
                result["errors"][name] = f"{type(error).__name__}: {error}"
                self.stdout.write(f"{name} failed: {result['errors'][name]}")
                return None

        def timing(value: Any) -> dict[str, Any] | None:
            return None if value is None else {"ms": value.median_ms, "queries": value.queries, "runs": value.runs}

        result["availability_day"] = timing(
            attempt(
                "availability, one practitioner, one day", lambda: bench.availability_day_measure(subjects, runs=runs)
            )
        )
        result["availability_week"] = timing(
            attempt(
                "availability, every practitioner, one week",
                lambda: bench.availability_week_measure(subjects, runs=runs),
            )
        )
        result["booking"] = timing(attempt("booking service", lambda: bench.booking_measure(subjects, runs=runs)))
        pages = attempt("pages", lambda: bench.pages_measure(subjects, runs=runs))
        result["pages"] = {name: timing(value) for name, value in pages.items()} if pages else None
        if reminders:
            run = attempt(f"{reminders:,} reminders", lambda: bench.reminders_measure(count=reminders, senders=senders))
            result["reminders"] = asdict(run) if run else None
        if search_patients:
            sizes = [int(part) for part in search_patients.split(",") if part.strip()]
            search = attempt(
                f"patient search at {', '.join(f'{number:,}' for number in sizes)} patients",
                lambda: bench.patient_search_measure(sizes=sizes, runs=runs),
            )
            result["patient_search"] = [asdict(run) for run in search] if search else None
        if concurrency_seconds and connection.vendor == "postgresql":
            run = attempt(
                f"20 clients booking over HTTP for {concurrency_seconds:g} s",
                lambda: bench.concurrent_booking_measure(subjects, seconds=concurrency_seconds),
            )
            result["concurrent"] = asdict(run) if run else None
            attempt("purge queued confirmation tasks", bench.celery_queue_purge)
        result["peak_rss_mb"] = peak_rss_mb()
        self._result(result)

    def _result(self, data: dict[str, Any]) -> None:
        self.stdout.write(RESULT_PREFIX + json.dumps(data, default=str))

    # --- Output ------------------------------------------------------------------------

    def _headline(self, results: dict[int, dict[str, Any]], *, primary: int) -> dict[str, Any]:
        main = results[primary]

        def figure(section: str | None, key: str, data: dict[str, Any] = main) -> Any:
            value = data.get(section) if section else data
            return value.get(key) if isinstance(value, dict) else None

        pages = main.get("pages") or {}
        concurrent = main.get("concurrent") or {}
        headline = {
            "availability_day_ms": figure("availability_day", "ms"),
            "availability_day_queries": figure("availability_day", "queries"),
            "availability_week_ms": figure("availability_week", "ms"),
            "availability_week_queries": figure("availability_week", "queries"),
            "availability_week_queries_1k": figure("availability_week", "queries", results.get(1000, {})),
            "availability_week_queries_200k": figure("availability_week", "queries", results.get(200_000, {})),
            "booking_ms": figure("booking", "ms"),
            "booking_queries": figure("booking", "queries"),
            "page_ms": {
                name: (pages.get(name) or {}).get("ms")
                for name in ("patient_booking", "practitioner_day", "patient_chart")
            },
            "page_queries": {
                name: (pages.get(name) or {}).get("queries")
                for name in ("patient_booking", "practitioner_day", "patient_chart")
            },
            "concurrent_bookings_per_s": concurrent.get("bookings_per_second"),
            "concurrent_refusals": concurrent.get("refusals"),
            "concurrent_errors": concurrent.get("errors"),
            "concurrent_double_bookings": concurrent.get("double_bookings"),
            "reminders_per_s": (main.get("reminders") or {}).get("per_second"),
            "patient_search_ms": {
                str(run["patients"]): run["name_typo_ms"] for run in main.get("patient_search") or []
            },
            "patient_search_queries": {
                str(run["patients"]): run["name_typo_queries"] for run in main.get("patient_search") or []
            },
            "peak_rss_mb": max((data.get("peak_rss_mb") or 0) for data in results.values()),
        }
        assert tuple(headline) == JSON_KEYS
        return headline

    def _table(self, results: dict[int, dict[str, Any]], *, sizes: list[int], primary: int) -> None:
        def cell(value: Any) -> str:
            if value is None:
                return "-"
            if isinstance(value, float):
                return f"{value:,.2f}" if value < 100 else f"{value:,.0f}"
            if isinstance(value, int):
                return f"{value:,}"
            return str(value)

        def get(data: dict[str, Any], *path: str) -> Any:
            for key in path:
                data = data.get(key) if isinstance(data, dict) else None
            return data

        rows: list[tuple[str, list[Any]]] = [
            (
                "practitioners / patients",
                [f"{get(r, 'prepare', 'practitioners')} / {get(r, 'prepare', 'patients')}" for r in results.values()],
            ),
            (
                "calendar (first to last day)",
                [_span(get(r, "prepare", "first_day"), get(r, "prepare", "last_day")) for r in results.values()],
            ),
            ("practitioner time blocked", [f"{(get(r, 'prepare', 'density') or 0):.0%}" for r in results.values()]),
            ("database generated in (s)", [get(r, "prepare", "generate_seconds") for r in results.values()]),
        ]
        for label, section in (
            ("availability, 1 practitioner, 1 day", "availability_day"),
            ("availability, all practitioners, 1 week", "availability_week"),
            ("booking service (gate included)", "booking"),
        ):
            rows.append((f"{label}: ms", [get(r, section, "ms") for r in results.values()]))
            rows.append((f"{label}: queries", [get(r, section, "queries") for r in results.values()]))
        for name, label in (
            ("patient_booking", "page: patient booking (week)"),
            ("practitioner_day", "page: practitioner day"),
            ("patient_chart", "page: patient chart (50 sessions)"),
        ):
            rows.append((f"{label}: ms", [get(r, "pages", name, "ms") for r in results.values()]))
            rows.append((f"{label}: queries", [get(r, "pages", name, "queries") for r in results.values()]))
        rows.append(("peak RSS of the measuring process (MB)", [r.get("peak_rss_mb") for r in results.values()]))
        rows.append(("peak RSS while generating (MB)", [get(r, "prepare", "peak_rss_mb") for r in results.values()]))
        label_width = max(len(label) for label, _ in rows) + 2
        header = "".join(f"{size:>20,}" for size in sizes)
        self.stdout.write("\n" + "appointments".ljust(label_width) + header)
        for label, values in rows:
            self.stdout.write(label.ljust(label_width) + "".join(f"{cell(value):>20}" for value in values))

        main = results[primary]
        reminders = main.get("reminders")
        if reminders:
            senders = reminders.get("senders", 1)
            batch = reminders.get("batch", 500)
            self.stdout.write(
                f"\nReminders at {primary:,} (planned with reminders_plan_many, sent with reminders_send_batch by "
                f"{senders} sender process{'es' if senders != 1 else ''}, as Celery runs one worker process per CPU):"
            )
            self.stdout.write(
                f"  {reminders['planned']:,} planned in {reminders['plan_seconds']} s, {reminders['sent']:,} sent in "
                f"{reminders['send_seconds']} s: {reminders['per_second']:,} reminders/s"
                + (f"; left unsent: {reminders['left']}" if reminders.get("left") else "")
            )
            if reminders.get("send_cpu_ms"):
                self.stdout.write(
                    f"  CPU per reminder (Python only, whatever the load): planning {reminders['plan_cpu_ms']} ms, "
                    f"sending {reminders['send_cpu_ms']} ms (summed over the senders)"
                )
            self.stdout.write(
                f"  queries: {reminders.get('plan_queries', '-')} per planned batch of {batch}, "
                f"{reminders['dispatch_queries']} per dispatched batch of {batch} + "
                f"{reminders['deliver_queries']} per sent batch of {batch}; reminders_plan_due on the generated data: "
                f"{reminders['plan_due_queries']} queries, {reminders['plan_due_ms']} ms, "
                f"created {reminders['plan_due_created']}"
            )
        searches = main.get("patient_search")
        if searches:
            self.stdout.write(f"\nPatient search by the front desk (measured at {primary:,}; median ms, queries):")
            for run in searches:
                self.stdout.write(
                    f"  {run['patients']:>9,} patients: name with a typo {run['name_typo_ms']} ms "
                    f"({run['name_typo_queries']} queries), surname and date of birth {run['date_of_birth_ms']} ms, "
                    f"phone number {run['phone_ms']} ms ({run['phone_queries']} queries)"
                )
        concurrent = main.get("concurrent")
        if concurrent:
            self.stdout.write(f"\nConcurrent booking at {primary:,} (20 clients, gunicorn on 127.0.0.1):")
            self.stdout.write(
                f"  {concurrent['requests']:,} requests in {concurrent['seconds']} s: {concurrent['bookings']} booked "
                f"({concurrent['bookings_per_second']}/s), {concurrent['refusals']} refused, "
                f"{concurrent['errors']} errors, {concurrent['double_bookings']} double bookings"
            )
            for sample in concurrent.get("error_samples") or []:
                self.stdout.write(f"  error: {sample}")
        for size, data in results.items():
            for name, error in (data.get("errors") or {}).items():
                self.stdout.write(f"\n{size:,}: {name} failed: {error}")
