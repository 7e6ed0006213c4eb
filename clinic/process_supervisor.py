"""Keep the embedded clinic's processes running: web, Celery worker and Celery beat.

``runlocal`` (``make run``) starts its children through a :class:`Supervisor`:

- a child marked ``restart`` (worker, beat) that exits is started again after a
  back-off that doubles from ``first_delay`` to ``max_delay`` while it keeps
  crashing, and starts from ``first_delay`` again once it has run for
  ``max_delay``; each restart is reported with the reason (exit code or signal,
  and the last line of the child's log);
- a child not marked ``restart`` (the web server) is what the user talks to: when
  it exits, the supervisor stops the others and exits with an error;
- SIGTERM and SIGINT (Ctrl-C) do the same thing, and so does the exit of the
  process that started the supervisor (``make`` dies of a SIGTERM without passing
  it on, which left runlocal and its children running): every child gets SIGTERM (a Celery
  worker then finishes its tasks and stops its own pool), and whatever still runs
  after ``stop_timeout`` gets SIGKILL, with its whole process group.

Each child runs in its own session, so Ctrl-C in the terminal reaches the children
only through the supervisor (once, in order), and the SIGKILL also reaches a
worker's pool processes that would otherwise outlive it.

Standard library only: the tests run it in a plain subprocess with fake children.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import IO


@dataclass(frozen=True)
class ChildSpec:
    name: str
    command: Sequence[str]
    # False for the process the user talks to: its exit ends the whole run.
    restart: bool = True
    # Where its output goes; None keeps the terminal.
    log_path: Path | None = None


@dataclass
class ChildStart:
    """One start of a child, kept so a caller (or a test) can see the history."""

    name: str
    pid: int
    started_at: float


@dataclass
class _Running:
    spec: ChildSpec
    process: subprocess.Popen[bytes] | None = None
    log: IO[bytes] | None = None
    started_at: float = 0.0
    quick_crashes: int = 0
    restart_at: float | None = None


@dataclass
class Supervisor:
    children: Sequence[ChildSpec]
    report: Callable[[str], None] = print
    first_delay: float = 1.0
    max_delay: float = 60.0
    stop_timeout: float = 10.0
    cwd: Path | None = None
    env: dict[str, str] | None = None
    # Where each child's current pid is written (``<name>.pid``), for operators and the soak test.
    pid_dir: Path | None = None
    starts: list[ChildStart] = field(default_factory=list)
    _running: dict[str, _Running] = field(default_factory=dict)
    _stop_requested_by: str | None = None
    _exit_code: int | None = None
    _stopped: bool = False
    _parent_pid: int = field(default_factory=os.getppid)

    def install_signal_handlers(self) -> None:
        """Make SIGTERM stop everything exactly as Ctrl-C does."""
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, self._on_signal)

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        self._stop_requested_by = f"{signal.Signals(signum).name} received"

    @property
    def stop_requested(self) -> bool:
        return self._stop_requested_by is not None or self._exit_code is not None

    def start(self) -> None:
        for spec in self.children:
            running = _Running(spec=spec)
            self._running[spec.name] = running
            self._start(running)

    def pid_of(self, name: str) -> int | None:
        process = self._running[name].process
        return process.pid if process is not None and process.poll() is None else None

    def is_running(self, name: str) -> bool:
        return self.pid_of(name) is not None

    def check(self) -> None:
        """Look at every child once: schedule restarts, start those whose back-off is over."""
        if os.getppid() != self._parent_pid and self._stop_requested_by is None:
            self._stop_requested_by = f"The process that started this one ({self._parent_pid}) exited"
            return
        now = time.monotonic()
        for running in self._running.values():
            process = running.process
            if process is not None and process.poll() is not None:
                self._on_exit(running, now)
            elif process is None and running.restart_at is not None and now >= running.restart_at:
                running.restart_at = None
                self._start(running)

    def watch(self, *, until: Callable[[], bool] | None = None, interval: float = 0.2) -> int:
        """Supervise until a signal, the essential child's exit or ``until()``; then stop all.

        Returns the exit code for the command: 0 after a signal or ``until()``, 1 when
        the essential child stopped by itself.
        """
        try:
            while not self.stop_requested and not (until is not None and until()):
                self.check()
                time.sleep(interval)
        finally:
            self.stop()
        return self._exit_code or 0

    def stop(self) -> None:
        """Stop every child; calling it again does nothing."""
        if self._stopped:
            return
        self._stopped = True
        if self._stop_requested_by:
            self.report(f"{self._stop_requested_by}: stopping {', '.join(self._running)}.")
        live = [running for running in self._running.values() if running.process and running.process.poll() is None]
        for running in live:
            # The child alone: a Celery worker's pool processes die of SIGTERM, and their
            # parent then waits for them; it stops them itself when it gets the signal.
            running.process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + self.stop_timeout
        for running in live:
            try:
                running.process.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self.report(f"{running.spec.name} did not stop within {self.stop_timeout:g} s; killing it.")
                _signal_group(running.process, signal.SIGKILL)
                running.process.wait()
        for running in self._running.values():
            # Pool processes of a worker that was killed may outlive it in its group.
            if running.process is not None:
                _signal_group(running.process, signal.SIGKILL)
            if running.log is not None:
                running.log.close()
                running.log = None
            running.restart_at = None
            self._forget_pid(running.spec.name)

    def _start(self, running: _Running) -> None:
        spec = running.spec
        if spec.log_path is not None and running.log is None:
            spec.log_path.parent.mkdir(parents=True, exist_ok=True)
            running.log = spec.log_path.open("ab")
        running.process = subprocess.Popen(  # noqa: S603 - our own commands, no shell
            list(spec.command),
            cwd=self.cwd,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=running.log,
            stderr=subprocess.STDOUT if running.log is not None else None,
            start_new_session=True,
        )
        running.started_at = time.monotonic()
        self.starts.append(ChildStart(name=spec.name, pid=running.process.pid, started_at=running.started_at))
        if self.pid_dir is not None:
            self.pid_dir.mkdir(parents=True, exist_ok=True)
            (self.pid_dir / f"{spec.name}.pid").write_text(f"{running.process.pid}\n")

    def _on_exit(self, running: _Running, now: float) -> None:
        spec = running.spec
        reason = _exit_reason(running.process.returncode)
        # Its pool processes, if any, go with it before a new one starts.
        _signal_group(running.process, signal.SIGKILL)
        running.process = None
        self._forget_pid(spec.name)
        last_line = _last_line(spec.log_path) if spec.log_path else ""
        why = f"{spec.name} {reason}" + (f" (last log line: {last_line})" if last_line else "")
        if not spec.restart:
            self.report(f"{why}; stopping the others.")
            self._exit_code = 1
            return
        if now - running.started_at >= self.max_delay:
            running.quick_crashes = 0
        running.quick_crashes += 1
        delay = min(self.max_delay, self.first_delay * 2 ** (running.quick_crashes - 1))
        running.restart_at = now + delay
        where = f"; its log: {spec.log_path}" if spec.log_path else ""
        self.report(f"{why}; restarting it in {delay:g} s{where}.")

    def _forget_pid(self, name: str) -> None:
        if self.pid_dir is not None:
            (self.pid_dir / f"{name}.pid").unlink(missing_ok=True)


def _signal_group(process: subprocess.Popen[bytes], signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signum)


def _exit_reason(returncode: int) -> str:
    if returncode < 0:
        return f"was killed by {signal.Signals(-returncode).name}"
    return f"exited with code {returncode}"


def _last_line(path: Path, tail_bytes: int = 4096) -> str:
    try:
        with path.open("rb") as log:
            log.seek(0, os.SEEK_END)
            log.seek(max(0, log.tell() - tail_bytes))
            lines = [line.strip() for line in log.read().decode("utf-8", "replace").splitlines()]
    except OSError:
        return ""
    lines = [line for line in lines if line]
    return lines[-1][:300] if lines else ""
