"""Source plugins: the example loads into a real daemon, and a changed publisher is refused."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import shutil
import stat
import subprocess
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import DaemonProcess
from waitbus.bus.daemon import Daemon
from waitbus.config import Settings
from waitbus.demo import processes
from waitbus.event import JSON, Event, JSONObject
from waitbus.paths import resolve
from waitbus.sources import emitter
from waitbus.sources.base import Sink
from waitbus.sources.plugins import (
    GROUP,
    PROVENANCE_FILE,
    Plugin,
    PluginSource,
    Trust,
    publisher_of,
)
from waitbus.store.store import Store

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "waitbus-example-source"
PUBLISHER_A: dict[str, JSON] = {
    "kind": "GitHub", "repository": "example/hello", "workflow": "release.yml"}
PUBLISHER_B: dict[str, JSON] = {
    "kind": "GitHub", "repository": "someone-else/hello", "workflow": "release.yml"}


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """A directory on PYTHONPATH holding the example plugin as an installed distribution."""
    root = tmp_path / "site"
    shutil.copytree(EXAMPLE / "src" / "waitbus_example_source", root / "waitbus_example_source")
    project = tomllib.loads((EXAMPLE / "pyproject.toml").read_text())["project"]
    info = root / "waitbus_example_source-0.1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {project['name']}\nVersion: {project['version']}\n")
    points = project["entry-points"][GROUP]
    (info / "entry_points.txt").write_text(
        f"[{GROUP}]\n" + "".join(f"{k} = {v}\n" for k, v in points.items()))
    # A broken plugin beside it: importing it raises, which must not take the daemon down.
    (root / "broken_plugin.py").write_text("raise RuntimeError('broken on purpose')\n")
    broken = root / "broken_plugin-1.0.dist-info"
    broken.mkdir()
    (broken / "METADATA").write_text("Metadata-Version: 2.1\nName: broken-plugin\nVersion: 1.0\n")
    (broken / "entry_points.txt").write_text(f"[{GROUP}]\nbroken = broken_plugin:load\n")
    return root


def set_publisher(site: Path, publisher: dict[str, JSON] | None) -> None:
    path = site / "waitbus_example_source-0.1.0.dist-info" / PROVENANCE_FILE
    if publisher is None:
        path.unlink(missing_ok=True)
        return
    provenance = {"version": 1, "attestation_bundles": [
        {"publisher": publisher, "attestations": []}]}
    path.write_text(json.dumps(provenance))


def env_with(site: Path) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(site), "PYTHONUNBUFFERED": "1"}


def waitbus(state_dir: Path, site: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(processes.waitbus_argv(state_dir, *args), capture_output=True,
                          text=True, timeout=30, env=env_with(site), check=False)


def listed(state_dir: Path, site: Path) -> dict[str, dict[str, object]]:
    result = waitbus(state_dir, site, "sources", "--json")
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    return {row["name"]: row for row in rows}


@pytest.fixture
def serve(state_dir: Path, site: Path) -> Iterator[list[DaemonProcess]]:
    """Start daemons with the plugin site on PYTHONPATH; all stopped after the test."""
    started: list[DaemonProcess] = []
    yield started
    for daemon in started:
        if daemon.proc is not None and daemon.proc.poll() is None:
            daemon.stop()


def start(state_dir: Path, site: Path, started: list[DaemonProcess]) -> DaemonProcess:
    daemon = DaemonProcess(state_dir, extra_args=("--listen-port", "off"), env=env_with(site))
    started.append(daemon.start())
    return daemon


def wait_started(state_dir: Path, site: Path) -> subprocess.CompletedProcess[str]:
    return waitbus(state_dir, site, "wait", "--source", "hello", "--match", 'type="started"',
                   "--since", "0", "--timeout", "10s", "--json")


def test_daemon_starts_and_stops_the_example_plugin(
        state_dir: Path, site: Path, serve: list[DaemonProcess]) -> None:
    daemon = start(state_dir, site, serve)
    started = wait_started(state_dir, site)
    assert started.returncode == 0, started.stderr
    assert json.loads(started.stdout)["fields"]["pid"] == daemon.pid
    status = json.loads(waitbus(state_dir, site, "status", "--json").stdout)
    assert status["sources"]["hello"] == {"state": "running", "error": None}
    assert daemon.stop() == 0
    tail = waitbus(state_dir, site, "tail", "--source", "hello", "--json")
    assert [json.loads(line)["type"] for line in tail.stdout.splitlines()] == [
        "started", "stopped"]


def test_broken_plugin_is_left_out_and_the_daemon_keeps_serving(
        state_dir: Path, site: Path, serve: list[DaemonProcess]) -> None:
    start(state_dir, site, serve)
    assert wait_started(state_dir, site).returncode == 0
    status = json.loads(waitbus(state_dir, site, "status", "--json").stdout)
    assert status["sources"] == {"hello": {"state": "running", "error": None}}


def test_sources_lists_builtins_and_the_plugin_with_its_trust(
        state_dir: Path, site: Path, serve: list[DaemonProcess]) -> None:
    set_publisher(site, PUBLISHER_A)
    before = listed(state_dir, site)
    assert before["docker"]["kind"] == "builtin"
    assert before["hello"]["trust"] == "unpinned"
    assert before["hello"]["publisher"] == "GitHub example/hello release.yml"
    start(state_dir, site, serve)
    assert wait_started(state_dir, site).returncode == 0
    after = listed(state_dir, site)["hello"]
    assert (after["trust"], after["pinned_publisher"]) == (
        "pinned", "GitHub example/hello release.yml")
    pins = state_dir / "plugins.json"
    assert stat.S_IMODE(pins.stat().st_mode) == 0o600


def test_plugin_without_provenance_is_pinned_as_no_provenance(
        state_dir: Path, site: Path, serve: list[DaemonProcess]) -> None:
    start(state_dir, site, serve)
    assert wait_started(state_dir, site).returncode == 0
    text = waitbus(state_dir, site, "sources").stdout
    assert "hello" in text
    assert "pinned: no provenance" in text


def test_changed_publisher_refuses_loading_until_trusted_again(
        state_dir: Path, site: Path, serve: list[DaemonProcess]) -> None:
    set_publisher(site, PUBLISHER_A)
    first = start(state_dir, site, serve)
    assert wait_started(state_dir, site).returncode == 0
    first.stop()
    set_publisher(site, PUBLISHER_B)
    assert listed(state_dir, site)["hello"]["trust"] == "refused"
    text = waitbus(state_dir, site, "sources").stdout
    assert "waitbus sources --trust hello" in text
    second = start(state_dir, site, serve)
    status = json.loads(waitbus(state_dir, site, "status", "--json").stdout)
    assert "hello" not in status["sources"]
    second.stop()
    trusted = waitbus(state_dir, site, "sources", "--trust", "hello")
    assert trusted.returncode == 0
    assert "someone-else/hello" in trusted.stdout
    start(state_dir, site, serve)
    assert listed(state_dir, site)["hello"]["trust"] == "pinned"
    status = json.loads(waitbus(state_dir, site, "status", "--json").stdout)
    assert status["sources"]["hello"] == {"state": "running", "error": None}


def test_trusting_an_unknown_plugin_is_a_usage_error(state_dir: Path, site: Path) -> None:
    result = waitbus(state_dir, site, "sources", "--trust", "nope")
    assert result.returncode == 2
    assert "no installed plugin named 'nope'" in result.stderr


def test_publisher_of_names_every_bundle_publisher_once() -> None:
    provenance: JSONObject = {"version": 1, "attestation_bundles": [
        {"publisher": PUBLISHER_B}, {"publisher": PUBLISHER_A}, {"publisher": PUBLISHER_A}]}
    assert publisher_of(provenance) == (
        "GitHub example/hello release.yml + GitHub someone-else/hello release.yml")
    assert publisher_of({"version": 1}) is None


class AppendsOnTheLoop:
    """A version 1 plugin that calls the blocking `sink.append` from its coroutine, twice."""

    name = "v1"

    def __init__(self) -> None:
        self.stored: list[tuple[Event, bool]] = []
        self.done = asyncio.Event()

    async def run(self, sink: Sink) -> None:
        for n in range(2):
            self.stored.append(sink.append(emitter.draft("v1", "tick", fields={"n": n})))
        self.done.set()
        await asyncio.Event().wait()


def test_a_version_1_plugin_appending_on_the_loop_is_stored_and_told_to_commit(
        state_dir: Path, caplog: pytest.LogCaptureFixture) -> None:
    inner = AppendsOnTheLoop()
    plugin = Plugin("v1", "v1:load", "v1-dist", "1.0", None, None, Trust.UNPINNED)
    daemon = Daemon(Settings(paths=resolve(state_dir), listen_port=None),
                    [PluginSource(inner, plugin)])

    async def main() -> None:
        task = asyncio.create_task(daemon.serve())
        try:
            async with asyncio.timeout(30):
                await inner.done.wait()
        finally:
            daemon.stop()
            await task

    with caplog.at_level(logging.WARNING, "waitbus.sources.plugins"):
        asyncio.run(main())
    assert [(event.cursor, new) for event, new in inner.stored] == [(1, True), (2, True)]
    assert caplog.text.count("calls sink.append on the event loop") == 1
    with Store(resolve(state_dir), read_only=True) as store:
        assert [e.fields["n"] for e in store.read_after(0)] == [0, 1]
