"""Turns one pytest run into events: a session verdict and one event per failed test."""

from __future__ import annotations

import contextlib
import queue
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from waitbus.event import JSON, MAX_TEXT_CHARS, Conclusion, Draft, JSONObject
from waitbus.paths import resolve
from waitbus.sources import emitter

SOURCE = "pytest"
MAX_MESSAGE_CHARS = 500
MAX_PAYLOAD_CHARS = 64 * 1024
MAX_ARGS = 50
# How long the end of a run waits for the store; only a stuck store ever uses it up.
FLUSH_S = 2.0
# pytest.ExitCode values, by number so the table reads without the enum's import cost.
_EXIT_OK = 0
_EXIT_INTERRUPTED = 2


@dataclass
class Counts:
    """Outcome tallies in pytest's own vocabulary."""

    passed: int = 0
    failed: int = 0
    errors: int = 0
    skipped: int = 0
    xfailed: int = 0
    xpassed: int = 0

    def as_fields(self) -> JSONObject:
        return {"passed": self.passed, "failed": self.failed, "errors": self.errors,
                "skipped": self.skipped, "xfailed": self.xfailed, "xpassed": self.xpassed}


class Writer:
    """Commits drafts on a background thread, so a slow or stuck store never holds up a test."""

    def __init__(self) -> None:
        self._queue: queue.SimpleQueue[Draft | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self.error: str | None = None

    def __repr__(self) -> str:
        alive = self._thread is not None and self._thread.is_alive()
        return f"<Writer running={alive} error={self.error!r}>"

    def put(self, item: Draft) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="waitbus-pytest", daemon=True)
            self._thread.start()
        self._queue.put(item)

    def close(self, timeout_s: float) -> bool:
        """Finish the queued drafts; False when the store did not take them in `timeout_s`."""
        if self._thread is None:
            return True
        self._queue.put(None)
        self._thread.join(timeout_s)
        return not self._thread.is_alive()

    def _run(self) -> None:
        paths = resolve()
        while (item := self._queue.get()) is not None:
            if self.error is not None:
                continue
            try:
                emitter.append(paths, item)
            except Exception as exc:  # a broken bus must never break the test run
                self.error = str(exc)


@dataclass(eq=False)  # pytest keeps plugins in sets: identity hashing
class Recorder:
    """The enabled plugin: counts reports, emits failures as they happen and the verdict last.

    It runs in the controller only; under xdist the workers' reports reach these hooks there.
    Drafts are committed off the test thread; at the end of the run, an error or a store that
    did not answer within FLUSH_S is reported in one terminal line. The run is never affected.
    """

    config: pytest.Config
    started: float
    session: str = field(default_factory=lambda: uuid.uuid4().hex)
    counts: Counts = field(default_factory=Counts)
    failures: int = 0
    writer: Writer = field(default_factory=Writer)

    def __repr__(self) -> str:
        return f"<Recorder session={self.session} {self.counts} {self.writer!r}>"

    @pytest.hookimpl(trylast=True)
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        xfail = hasattr(report, "wasxfail")
        if report.passed:
            if report.when == "call":
                if xfail:
                    self.counts.xpassed += 1
                else:
                    self.counts.passed += 1
        elif report.skipped:
            if xfail:
                self.counts.xfailed += 1
            else:
                self.counts.skipped += 1
        elif report.when == "call":
            self.counts.failed += 1
            self._failed(report)
        else:
            self.counts.errors += 1
            self._failed(report)

    @pytest.hookimpl(trylast=True)
    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            self.counts.errors += 1
            self._failed(report)

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        status = int(exitstatus)
        fields: JSONObject = {
            **self.counts.as_fields(),
            "duration_s": round(time.monotonic() - self.started, 3),
            "exit_status": status,
            "rootdir": str(self.config.rootpath),
            "session": self.session,
            "args": _args(self.config),
        }
        with self._guard():
            self.writer.put(emitter.draft(
                SOURCE, "session", subject=_subject(str(self.config.rootpath)),
                conclusion=_verdict(status, self.counts), fields=fields,
                delivery_id=f"pytest-{self.session}-session"))
        if not self.writer.close(FLUSH_S):
            self._warn(f"waitbus: the event store did not answer within {FLUSH_S:g} s; this run "
                       "may be recorded late or not at all; the tests are unaffected")
        elif self.writer.error is not None:
            self._warn(f"waitbus: not recording this run ({self.writer.error}); "
                       "the tests are unaffected")

    def _failed(self, report: pytest.TestReport | pytest.CollectReport) -> None:
        self.failures += 1
        with self._guard():
            self._record_failure(report)

    def _record_failure(self, report: pytest.TestReport | pytest.CollectReport) -> None:
        when = getattr(report, "when", None) or "collect"
        path, line = _location(report)
        fields: JSONObject = {
            "nodeid": report.nodeid,
            "when": when,
            "path": path,
            "line": line,
            "message": _message(report),
            "duration_s": round(float(getattr(report, "duration", 0.0)), 3),
            "rootdir": str(self.config.rootpath),
            "session": self.session,
        }
        self.writer.put(emitter.draft(
            SOURCE, "test_failed", subject=_subject(report.nodeid or str(self.config.rootpath)),
            conclusion=Conclusion.FAILURE, fields=fields,
            payload=report.longreprtext[:MAX_PAYLOAD_CHARS] or None,
            delivery_id=f"pytest-{self.session}-{self.failures}"))

    @contextlib.contextmanager
    def _guard(self) -> Iterator[None]:
        try:
            yield
        except Exception as exc:  # whatever goes wrong here must not reach pytest
            self.writer.error = self.writer.error or f"{type(exc).__name__}: {exc}"

    def _warn(self, text: str) -> None:
        # Not warnings.warn: a project's filterwarnings=error would turn it into a failure.
        reporter = self.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line(text, yellow=True)


def _verdict(exit_status: int, counts: Counts) -> Conclusion:
    """OK is success; a run stopped by the user with nothing failed is cancelled; anything
    else (failures, collection errors, which also stop a run, usage errors, a run that
    collected nothing and so verified nothing) is failure."""
    if exit_status == _EXIT_OK:
        return Conclusion.SUCCESS
    if exit_status == _EXIT_INTERRUPTED and not (counts.failed or counts.errors):
        return Conclusion.CANCELLED
    return Conclusion.FAILURE


def _location(report: pytest.TestReport | pytest.CollectReport) -> tuple[str, JSON]:
    location = getattr(report, "location", None)
    if location is None:
        return str(report.fspath), None
    path, line, _domain = location
    return str(path), None if line is None else int(line) + 1


def _message(report: pytest.TestReport | pytest.CollectReport) -> str:
    """The crash line pytest shows in its short summary, else the last error line."""
    crash = getattr(report.longrepr, "reprcrash", None)
    text = getattr(crash, "message", None)
    if text:
        lines = str(text).strip().splitlines()
    else:
        lines = [line for line in report.longreprtext.splitlines() if line.strip()]
        errors = [line[1:].strip() for line in lines if line.startswith("E ")]
        lines = errors[-1:] or lines[-1:]
    return lines[0][:MAX_MESSAGE_CHARS] if lines else ""


def _subject(text: str) -> str:
    return text if len(text) <= MAX_TEXT_CHARS else text[:MAX_TEXT_CHARS - 1] + "…"


def _args(config: pytest.Config) -> list[JSON]:
    return [str(arg)[:200] for arg in config.invocation_params.args[:MAX_ARGS]]
