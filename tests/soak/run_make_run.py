"""Soak test of the embedded default: what ``make run`` starts, used as a person would.

Starts ``manage.py runlocal`` (web, Celery worker and beat under the supervisor) on a
free port with its own throwaway ``var/`` folder (SQLite database, SQLite broker,
logs, mail), and for the given time books sessions through HTTP as the demo
patients.  Part way through it kills the worker (SIGKILL, as a crash would) and
checks that it comes back by itself and runs a task again.  At the end it stops
runlocal with SIGTERM and checks every child is gone.

It reports, as one JSON line at the end, what happened and every crash it saw: a
child restarted that it did not kill, "Unrecoverable error" or a traceback in the
worker or beat logs, a server error from the web server, a file written outside
``var/``.  Exit status 0 when there was none.

    .venv/bin/python tests/soak/run_make_run.py              # 30 minutes, as issue 15 asks
    .venv/bin/python tests/soak/run_make_run.py --seconds 40 # what the test suite runs

Standard library only, so it runs against any checkout with its virtualenv.
"""

from __future__ import annotations

import argparse
import http.cookiejar
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEMO_PATIENTS = ("pat@example.com", "sam@example.com", "robin@example.com")
DEMO_PASSWORD = "demo-clinic-2026"
READY_LINE = "The clinic is running at"
LOGIN_PATH = "/accounts/login/"
# The clinic's periodic tasks run every few minutes; a run this long must have seen one.
BEAT_MUST_HAVE_RUN_AFTER_SECONDS = 600
LOG_ALARMS = ("Unrecoverable error", "Traceback (most recent call last)", "CRITICAL")
PROBE_TASK = """
import django, sys
django.setup()
from clinic.celery import app
app.send_task("celery.accumulate", args=(int(sys.argv[1]),))
"""


@dataclass
class SoakReport:
    seconds_planned: float
    seconds_served: float = 0.0
    started_in_seconds: float = 0.0
    bookings_made: int = 0
    bookings_refused: int = 0
    bookings_cancelled: int = 0
    pages_fetched: int = 0
    server_errors: list[str] = field(default_factory=list)
    unanswered_requests: list[str] = field(default_factory=list)
    worker_killed_pid: int | None = None
    worker_back_after_seconds: float | None = None
    task_run_after_restart_seconds: float | None = None
    beat_tasks_sent: int = 0
    unexpected_restarts: list[str] = field(default_factory=list)
    log_alarms: list[str] = field(default_factory=list)
    files_outside_var: list[str] = field(default_factory=list)
    children_left_running: list[int] = field(default_factory=list)
    runlocal_exit_code: int | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


class Browser:
    """One patient's session: cookies, CSRF token, redirects not followed."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.cookies = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.cookies), _NoRedirect, urllib.request.ProxyHandler({})
        )

    def request(self, path: str, data: dict[str, str] | None = None) -> tuple[int, str, str]:
        """Returns status, body and the Location header (for redirects)."""
        url = urllib.parse.urljoin(self.base_url, path)
        body = None
        headers = {"Referer": url}
        if data is not None:
            data = {"csrfmiddlewaretoken": self._csrf_token(), **data}
            body = urllib.parse.urlencode(data).encode()
        request = urllib.request.Request(url, data=body, headers=headers)  # noqa: S310 - our local URL
        try:
            with self.opener.open(request, timeout=30) as response:
                return response.status, response.read().decode("utf-8", "replace"), ""
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode("utf-8", "replace"), error.headers.get("Location", "")

    def _csrf_token(self) -> str:
        return next((cookie.value for cookie in self.cookies if cookie.name == "csrftoken"), "")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=30, help="How long to book sessions (default 30).")
    parser.add_argument("--seconds", type=float, help="The same in seconds; overrides --minutes.")
    parser.add_argument("--kill-worker-at", type=float, help="Seconds into the run (default: a third of it).")
    parser.add_argument("--keep", action="store_true", help="Keep the temporary var/ folder to read its logs.")
    options = parser.parse_args(argv)
    seconds = options.seconds if options.seconds is not None else options.minutes * 60
    kill_at = options.kill_worker_at if options.kill_worker_at is not None else seconds / 3

    workspace = Path(tempfile.mkdtemp(prefix="clinic-soak-"))
    report = SoakReport(seconds_planned=seconds)
    try:
        soak(workspace=workspace, seconds=seconds, kill_at=kill_at, report=report)
    finally:
        if options.keep or not report.ok:
            print(f"var/ kept in {workspace / 'var'}", file=sys.stderr)
        else:
            shutil.rmtree(workspace, ignore_errors=True)
    print(json.dumps(asdict(report) | {"ok": report.ok}))
    return 0 if report.ok else 1


def soak(*, workspace: Path, seconds: float, kill_at: float, report: SoakReport) -> None:
    var_dir = workspace / "var"
    var_dir.mkdir()
    port = _free_port()
    base_url = f"http://127.0.0.1:{port}/"
    environment = _embedded_environment(var_dir=var_dir, base_url=base_url)
    runlocal_log = var_dir / "runlocal.log"
    began = time.monotonic()
    with runlocal_log.open("wb") as log:
        runlocal = subprocess.Popen(  # noqa: S603
            [sys.executable, str(ROOT / "manage.py"), "runlocal", "--port", str(port)],
            cwd=workspace,  # anything written relative to the working directory shows up here
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    children: set[int] = set()
    try:
        if not _wait_for_line(runlocal_log, READY_LINE, process=runlocal, timeout=300):
            report.problems.append(f"runlocal did not print {READY_LINE!r}: {_tail(runlocal_log)}")
            return
        report.started_in_seconds = round(time.monotonic() - began, 1)
        children |= _child_pids(var_dir)
        _book_for(
            seconds=seconds,
            kill_at=kill_at,
            base_url=base_url,
            var_dir=var_dir,
            environment=environment,
            runlocal=runlocal,
            children=children,
            report=report,
        )
        children |= _child_pids(var_dir)
    finally:
        report.runlocal_exit_code = _stop(runlocal)
    _check_afterwards(workspace=workspace, var_dir=var_dir, children=children, report=report)


def _book_for(
    *,
    seconds: float,
    kill_at: float,
    base_url: str,
    var_dir: Path,
    environment: dict[str, str],
    runlocal: subprocess.Popen[bytes],
    children: set[int],
    report: SoakReport,
) -> None:
    browsers = {email: Browser(base_url) for email in DEMO_PATIENTS}
    for email, browser in browsers.items():
        browser.request(LOGIN_PATH)  # the CSRF cookie
        status, _, _ = browser.request(LOGIN_PATH, {"username": email, "password": DEMO_PASSWORD})
        if status != 302:
            report.problems.append(f"demo patient {email} could not log in (HTTP {status})")
    started = time.monotonic()
    killed = False
    turn = 0
    while time.monotonic() - started < seconds:
        if runlocal.poll() is not None:
            report.problems.append(f"runlocal stopped by itself (exit {runlocal.returncode}): {_tail(var_dir)}")
            break
        if not killed and time.monotonic() - started >= kill_at:
            killed = True
            _kill_worker_and_see_it_back(var_dir=var_dir, environment=environment, report=report)
            children |= _child_pids(var_dir)
        browser = browsers[DEMO_PATIENTS[turn % len(DEMO_PATIENTS)]]
        turn += 1
        _book_one(browser, report=report)
        time.sleep(0.5)
    report.seconds_served = round(time.monotonic() - started, 1)
    if not killed:
        report.problems.append("the run ended before the worker was killed")


def _book_one(browser: Browser, *, report: SoakReport) -> None:
    """Choose a treatment and a free time as a patient would, and book it.

    Every other booking is cancelled again, as patients do, so a long run does not
    fill the calendar up to the booking horizon and stop booking.
    """
    page = _fetch(browser, "/bookings/book/", report)
    slugs = sorted(set(re.findall(r'href="/bookings/book/([\w-]+)/"', page)))
    random.shuffle(slugs)
    for slug in slugs:
        times = _free_times(browser, slug, report)
        if not times:
            continue
        starts_at = urllib.parse.unquote(random.choice(times))
        _fetch(browser, f"/bookings/book/{slug}/confirm/?starts_at={urllib.parse.quote(starts_at)}", report)
        status, _, location = browser.request(f"/bookings/book/{slug}/confirm/", {"starts_at": starts_at})
        report.pages_fetched += 1
        if status == 302 and "/bookings/appointments/" in location:
            report.bookings_made += 1
            if report.bookings_made % 2 == 0:
                _cancel(browser, urllib.parse.urlparse(location).path, report)
        elif status >= 500:
            report.server_errors.append(f"POST book {slug} {starts_at}: HTTP {status}")
        else:
            report.bookings_refused += 1
        return


def _free_times(browser: Browser, slug: str, report: SoakReport, weeks: int = 12) -> list[str]:
    """The bookable times of the first week (this one or later) that has any."""
    path = f"/bookings/book/{slug}/"
    for _ in range(weeks):
        page = _fetch(browser, path, report)
        times = re.findall(r'href="/bookings/book/[\w-]+/confirm/\?starts_at=([^"]+)"', page)
        if times:
            return [value.replace("&amp;", "&") for value in times]
        later = [
            link.replace("&amp;", "&")
            for link in re.findall(r'href="(/bookings/book/[\w-]+/\?week=[^"]+)"', page)
            if link.split("week=")[1] > path.partition("week=")[2]
        ]
        if not later:
            return []
        path = min(later)
    return []


def _cancel(browser: Browser, appointment_path: str, report: SoakReport) -> None:
    cancel_path = appointment_path.rstrip("/") + "/cancel/"
    _fetch(browser, cancel_path, report)
    status, _, _ = browser.request(cancel_path, {"reason": "Soak test: the slot is given back."})
    report.pages_fetched += 1
    if status == 302:
        report.bookings_cancelled += 1
    elif status >= 500:
        report.server_errors.append(f"POST {cancel_path}: HTTP {status}")


def _fetch(browser: Browser, path: str, report: SoakReport) -> str:
    try:
        status, body, _ = browser.request(path)
    except (urllib.error.URLError, OSError) as error:
        report.unanswered_requests.append(f"GET {path}: {error}")
        return ""
    report.pages_fetched += 1
    if status >= 500:
        report.server_errors.append(f"GET {path}: HTTP {status}")
    return body


def _kill_worker_and_see_it_back(*, var_dir: Path, environment: dict[str, str], report: SoakReport) -> None:
    pid_file = var_dir / "run" / "worker.pid"
    worker = int(pid_file.read_text())
    os.kill(worker, signal.SIGKILL)
    report.worker_killed_pid = worker
    killed_at = time.monotonic()
    deadline = killed_at + 60
    back = None
    while time.monotonic() < deadline:
        try:
            pid = int(pid_file.read_text())
        except (OSError, ValueError):
            pid = None
        if pid is not None and pid != worker and _alive(pid):
            back = pid
            break
        time.sleep(0.2)
    if back is None:
        report.problems.append("the killed worker did not come back within 60 s")
        return
    report.worker_back_after_seconds = round(time.monotonic() - killed_at, 1)
    # The new worker does work: a task queued now is run.
    marker = random.randint(10**8, 10**9)
    subprocess.run(  # noqa: S603
        [sys.executable, "-c", PROBE_TASK, str(marker)],
        cwd=var_dir,
        env={**environment, "PYTHONPATH": str(ROOT)},
        check=True,
        capture_output=True,
        timeout=60,
    )
    worker_log = var_dir / "log" / "celery-worker.log"
    while time.monotonic() < killed_at + 120:
        if re.search(rf"celery\.accumulate\[[^\]]+\] succeeded in [\d.e-]+s: \(?{marker}\b", _read(worker_log)):
            report.task_run_after_restart_seconds = round(time.monotonic() - killed_at, 1)
            return
        time.sleep(0.3)
    report.problems.append("the restarted worker did not run a task queued after the restart")


def _check_afterwards(*, workspace: Path, var_dir: Path, children: set[int], report: SoakReport) -> None:
    if report.runlocal_exit_code not in (0, None):
        report.problems.append(f"runlocal exited with {report.runlocal_exit_code} on SIGTERM")
    deadline = time.monotonic() + 10
    while any(_alive(pid) for pid in children) and time.monotonic() < deadline:
        time.sleep(0.2)
    report.children_left_running = sorted(pid for pid in children if _alive(pid))
    if report.children_left_running:
        report.problems.append(f"children still running after SIGTERM: {report.children_left_running}")
    supervisor_lines = [line for line in _read(var_dir / "runlocal.log").splitlines() if line.startswith("[runlocal")]
    for line in supervisor_lines:
        if "received: stopping" in line:
            continue
        if report.worker_killed_pid is not None and "worker was killed by SIGKILL" in line:
            continue  # the one we caused
        report.unexpected_restarts.append(line)
    for name in ("celery-worker.log", "celery-beat.log"):
        text = _read(var_dir / "log" / name)
        report.log_alarms += [
            f"{name}: {line.strip()}" for line in text.splitlines() if any(a in line for a in LOG_ALARMS)
        ]
    report.beat_tasks_sent = _read(var_dir / "log" / "celery-beat.log").count("Scheduler: Sending due task")
    report.files_outside_var = sorted(path.name for path in workspace.iterdir() if path.name != "var")
    if report.unexpected_restarts:
        report.problems.append(f"{len(report.unexpected_restarts)} crash(es) the soak did not cause")
    if report.log_alarms:
        report.problems.append(f"{len(report.log_alarms)} alarming line(s) in the worker and beat logs")
    if report.server_errors:
        report.problems.append(f"{len(report.server_errors)} server error(s)")
    if report.unanswered_requests:
        report.problems.append(f"{len(report.unanswered_requests)} request(s) the web server did not answer")
    if report.files_outside_var:
        report.problems.append(f"files written outside var/: {report.files_outside_var}")
    if report.bookings_made == 0:
        report.problems.append("no session could be booked")
    if report.seconds_served >= BEAT_MUST_HAVE_RUN_AFTER_SECONDS and report.beat_tasks_sent == 0:
        report.problems.append("beat sent no periodic task")


def _embedded_environment(*, var_dir: Path, base_url: str) -> dict[str, str]:
    environment = {
        **os.environ,
        "CLINIC_VAR_DIR": str(var_dir),
        "DJANGO_DEBUG": "true",
        "EMAIL_URL": f"filemail://{var_dir / 'mail'}",
        "CLINIC_STAFF_2FA_REQUIRED": "false",
        "DJANGO_SITE_URL": base_url.rstrip("/"),
        "DJANGO_SETTINGS_MODULE": "clinic.settings",
        "PYTHONUNBUFFERED": "1",
    }
    # The embedded default: no Redis, no PostgreSQL, real Celery.
    for name in ("REDIS_URL", "DATABASE_URL", "CELERY_TASK_ALWAYS_EAGER", "PYTHONPATH"):
        environment.pop(name, None)
    return environment


def _stop(process: subprocess.Popen[bytes]) -> int | None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    try:
        return process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        return None


def _child_pids(var_dir: Path) -> set[int]:
    pids = set()
    for pid_file in (var_dir / "run").glob("*.pid"):
        try:
            pids.add(int(pid_file.read_text()))
        except (OSError, ValueError):
            continue
    return pids


def _alive(pid: int) -> bool:
    """os.kill(pid, 0), not fooled by a zombie nobody has reaped yet."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state != "Z"


def _wait_for_line(path: Path, text: str, *, process: subprocess.Popen[bytes], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if text in _read(path):
            return True
        if process.poll() is not None:
            return False
        time.sleep(0.3)
    return False


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _read(path: Path) -> str:
    try:
        return path.read_text(errors="replace")
    except OSError:
        return ""


def _tail(path: Path, lines: int = 15) -> str:
    if path.is_dir():
        path = path / "runlocal.log"
    return "\n".join(_read(path).splitlines()[-lines:])


if __name__ == "__main__":
    sys.exit(main())
