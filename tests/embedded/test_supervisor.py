"""runlocal's supervisor, with short fake children in place of web, worker and beat."""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from clinic.process_supervisor import ChildSpec, Supervisor

ROOT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable
SERVES = [PYTHON, "-c", "import time; time.sleep(60)"]


def _crashes_after(seconds: float, message: str = "boom") -> list[str]:
    return [PYTHON, "-c", f"import sys, time; time.sleep({seconds}); print({message!r}, flush=True); sys.exit(3)"]


def _alive(pid: int) -> bool:
    """os.kill(pid, 0), not fooled by a zombie nobody has reaped yet."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state != "Z"


def test_a_crashing_worker_is_restarted_with_growing_back_off_and_the_web_server_keeps_serving(tmp_path: Path) -> None:
    reports: list[str] = []
    supervisor = Supervisor(
        children=[
            ChildSpec("web", SERVES, restart=False),
            ChildSpec(
                "worker", _crashes_after(0.1, "Unrecoverable error: JSONDecodeError"), log_path=tmp_path / "w.log"
            ),
        ],
        report=reports.append,
        first_delay=0.25,
        max_delay=1.0,
        stop_timeout=5,
    )
    supervisor.start()
    web_pid = supervisor.pid_of("web")
    started = time.monotonic()

    def worker_started_five_times() -> bool:
        starts = [start for start in supervisor.starts if start.name == "worker"]
        return len(starts) >= 5 or time.monotonic() - started > 30 or not _alive(web_pid)

    supervisor.watch(until=worker_started_five_times, interval=0.02)

    worker_starts = [start.started_at for start in supervisor.starts if start.name == "worker"]
    gaps = [later - earlier for earlier, later in itertools.pairwise(worker_starts)]
    assert len(worker_starts) == 5, reports
    # Each gap is the child's run (0.1 s and Python's start) plus the back-off: 0.25, 0.5, then 1 (the cap).
    backoffs = [0.25, 0.5, 1.0, 1.0]
    assert all(backoff + 0.1 <= gap < backoff + 1.5 for gap, backoff in zip(gaps, backoffs, strict=True)), gaps
    assert [report.split("restarting it in ")[1].split(" s")[0] for report in reports] == ["0.25", "0.5", "1", "1"]
    assert [start.name for start in supervisor.starts].count("web") == 1
    assert not any(report.startswith("web") for report in reports)
    assert reports[0] == (
        "worker exited with code 3 (last log line: Unrecoverable error: JSONDecodeError); "
        f"restarting it in 0.25 s; its log: {tmp_path / 'w.log'}."
    )
    assert not _alive(web_pid), "watch() stops every child when it returns"


def test_when_the_web_server_exits_the_others_are_stopped_and_the_run_fails() -> None:
    reports: list[str] = []
    supervisor = Supervisor(
        children=[ChildSpec("web", _crashes_after(0.3), restart=False), ChildSpec("beat", SERVES)],
        report=reports.append,
        stop_timeout=5,
    )
    supervisor.start()
    beat_pid = supervisor.pid_of("beat")
    assert supervisor.watch(interval=0.05) == 1
    assert reports == ["web exited with code 3; stopping the others."]
    assert not _alive(beat_pid)


SUPERVISOR_SCRIPT = """
import json, sys
from pathlib import Path
from clinic.process_supervisor import ChildSpec, Supervisor

serves = [sys.executable, "-c", "import time; time.sleep(60)"]
# A child that ignores SIGTERM (as a worker hung on its messages can) and has a child of its own.
stubborn = [sys.executable, "-c", '''
import signal, subprocess, sys, time
signal.signal(signal.SIGTERM, signal.SIG_IGN)
grandchild = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
print(grandchild.pid, flush=True)
time.sleep(60)
''']
supervisor = Supervisor(
    children=[ChildSpec("web", serves, restart=False), ChildSpec("worker", stubborn, log_path=Path(sys.argv[1])),
              ChildSpec("beat", serves)],
    stop_timeout=2,
)
supervisor.install_signal_handlers()
supervisor.start()
print(json.dumps({name: supervisor.pid_of(name) for name in ("web", "worker", "beat")}), flush=True)
sys.exit(supervisor.watch())
"""


def test_sigterm_to_the_supervisor_stops_every_child_as_ctrl_c_does(tmp_path: Path) -> None:
    worker_log = tmp_path / "worker.log"
    supervisor = subprocess.Popen(  # noqa: S603
        [PYTHON, "-c", SUPERVISOR_SCRIPT, str(worker_log)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    children = json.loads(supervisor.stdout.readline())
    deadline = time.monotonic() + 20
    while not worker_log.read_text().strip() and time.monotonic() < deadline:
        time.sleep(0.05)
    grandchild = int(worker_log.read_text())
    pids = [*children.values(), grandchild]
    assert all(_alive(pid) for pid in pids)

    supervisor.send_signal(signal.SIGTERM)

    assert supervisor.wait(timeout=20) == 0
    output = supervisor.stdout.read()
    assert "SIGTERM received: stopping web, worker, beat." in output
    assert "worker did not stop within 2 s; killing it." in output
    deadline = time.monotonic() + 5
    while any(_alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [pid for pid in pids if _alive(pid)] == []


def test_a_worker_that_ran_for_a_while_before_crashing_is_restarted_after_the_shortest_back_off() -> None:
    reports: list[str] = []
    supervisor = Supervisor(
        children=[ChildSpec("web", SERVES, restart=False), ChildSpec("worker", _crashes_after(0.7))],
        report=reports.append,
        first_delay=0.1,
        max_delay=0.5,
        stop_timeout=5,
    )
    supervisor.start()
    started = time.monotonic()
    supervisor.watch(until=lambda: len(reports) >= 3 or time.monotonic() - started > 30, interval=0.02)

    assert [report.split("restarting it in ")[1] for report in reports] == ["0.1 s."] * 3


def test_when_the_process_that_started_it_dies_the_supervisor_stops_every_child(tmp_path: Path) -> None:
    """``make`` dies of SIGTERM without passing it on; runlocal must not keep the clinic running."""
    worker_log = tmp_path / "worker.log"
    make = subprocess.Popen(  # noqa: S603
        [
            PYTHON,
            "-c",
            "import subprocess, sys; subprocess.Popen(sys.argv[1:]); sys.stdin.readline()",
            PYTHON,
            "-c",
            SUPERVISOR_SCRIPT,
            str(worker_log),
        ],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    children = json.loads(make.stdout.readline())
    assert all(_alive(pid) for pid in children.values())

    make.stdin.close()
    make.wait(timeout=10)

    deadline = time.monotonic() + 20
    while any(_alive(pid) for pid in children.values()) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert [pid for pid in children.values() if _alive(pid)] == []
    assert "exited: stopping web, worker, beat." in make.stdout.read()
