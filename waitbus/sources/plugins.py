"""Third-party sources from the `waitbus.sources.v1` entry points, pinned to their publisher.

The interface, in full (docs/PLUGINS.md tells the story):

    [project.entry-points."waitbus.sources.v1"]
    hello = "waitbus_hello:load"

    def load(settings: waitbus.config.Settings) -> waitbus.sources.base.Source: ...

The daemon calls `load` once at start, runs `await source.run(sink)` as a task and cancels it
to stop it. Drafts must carry `source == source.name`. A plugin that fails to load or run is
logged and left out; the daemon keeps serving.
"""

from __future__ import annotations

import contextlib
import enum
import json
import logging
import os
import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, cast

from waitbus.config import Settings
from waitbus.record import record

if TYPE_CHECKING:
    from importlib import metadata
from waitbus.errors import UsageError
from waitbus.event import JSON, Draft, Event, JSONObject, dump_json
from waitbus.paths import StatePaths
from waitbus.sources.base import Sink, Source

GROUP = "waitbus.sources.v1"
# A PEP 740 provenance object saved beside the installed metadata (as the index serves it).
PROVENANCE_FILE = "provenance.json"
PINS_VERSION = 1

log = logging.getLogger(__name__)

Factory = Callable[[Settings], object]  # checked against Source when called


class Trust(enum.StrEnum):
    """Whether a plugin may load, judged against its pinned publisher."""

    UNPINNED = "unpinned"  # never loaded: its publisher is pinned on first load
    PINNED = "pinned"  # the publisher is the one pinned
    REFUSED = "refused"  # the publisher changed since it was pinned

    @property
    def loads(self) -> bool:
        return self is not Trust.REFUSED


@record
class Plugin:
    """One installed plugin and what its trust status is."""

    name: str
    value: str
    distribution: str
    version: str
    publisher: str | None  # None: the distribution carries no provenance
    pinned: str | None
    trust: Trust

    @property
    def provenance(self) -> str:
        return self.publisher if self.publisher is not None else "no provenance"

    @property
    def refusal(self) -> str:
        was = self.pinned if self.pinned is not None else "no provenance"
        return (
            f"plugin {self.name!r} ({self.distribution} {self.version}) is refused: its publisher "
            f"changed from {was!r} to {self.provenance!r}; check that the new publisher is "
            f"expected, then re-pin it with `waitbus sources --trust {self.name}`"
        )

    def to_json(self) -> JSONObject:
        return {"name": self.name, "kind": "plugin", "entry_point": self.value,
                "distribution": self.distribution, "version": self.version,
                "publisher": self.publisher, "pinned_publisher": self.pinned,
                "trust": str(self.trust)}


def discover(paths: StatePaths) -> list[Plugin]:
    """Every installed plugin with its trust status; pins nothing."""
    from importlib import metadata

    pins = read_pins(paths)
    found = []
    for entry in sorted(metadata.entry_points(group=GROUP), key=lambda e: e.name):
        found.append(_judge(entry, pins))
    return found


def load(settings: Settings) -> list[Source]:
    """Load every trusted plugin, pinning first-time publishers; failures are logged, skipped."""
    if not declared_anywhere():
        return []  # importlib.metadata costs the daemon about 3 MB of memory; skip it if we can
    try:
        plugins = discover(settings.paths)
    except (UsageError, OSError):
        log.exception("plugins not loaded")
        return []
    sources: list[Source] = []
    for plugin in plugins:
        if not plugin.trust.loads:
            log.error("%s", plugin.refusal)
            continue
        try:
            if plugin.trust is Trust.UNPINNED:
                pin(settings.paths, plugin)
            sources.append(_instantiate(plugin, settings))
        except Exception:
            log.exception("plugin %r failed to load; the daemon runs without it", plugin.name)
    return sources


def trust(paths: StatePaths, name: str) -> Plugin:
    """Pin `name` to the publisher it has now (after a person checked it); return it pinned."""
    for plugin in discover(paths):
        if plugin.name == name:
            pin(paths, plugin)
            return _judge(_entry(name), read_pins(paths))
    msg = f"no installed plugin named {name!r}; `waitbus sources` lists them"
    raise UsageError(msg)


def pin(paths: StatePaths, plugin: Plugin) -> None:
    """Record `plugin`'s current publisher as the one it must keep (state file, mode 0600)."""
    pins = read_pins(paths)
    pins[plugin.name] = {"distribution": plugin.distribution, "publisher": plugin.publisher,
                         "pinned_at": time.time_ns()}
    _write_pins(paths, pins)


def read_pins(paths: StatePaths) -> dict[str, JSONObject]:
    """The pins file as a mapping of plugin name to its pin; empty when there is none yet."""
    path = paths.root / "plugins.json"
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    try:
        doc = json.loads(text)
        pins = doc["plugins"]
        if not isinstance(pins, dict) or not all(isinstance(v, dict) for v in pins.values()):
            what = "plugins"
            raise TypeError(what)
    except (ValueError, KeyError, TypeError) as exc:
        msg = f"{path} is malformed ({exc}); fix it or remove it to pin plugins afresh"
        raise UsageError(msg) from exc
    return cast(dict[str, JSONObject], pins)


def publisher_of(provenance: JSONObject) -> str | None:
    """The publisher identity a PEP 740 provenance object names, or None if it names none."""
    bundles = provenance.get("attestation_bundles")
    names = set()
    for bundle in bundles if isinstance(bundles, list) else []:
        publisher = bundle.get("publisher") if isinstance(bundle, dict) else None
        if isinstance(publisher, dict):
            names.add(_identity(publisher))
    return " + ".join(sorted(names)) or None


class PluginSource:
    """A plugin's source as the daemon runs it: its drafts must carry its own name."""

    def __init__(self, inner: Source, plugin: Plugin) -> None:
        self.inner, self.plugin = inner, plugin
        self.name = inner.name

    def __repr__(self) -> str:
        return f"<PluginSource {self.name} from {self.plugin.distribution} {self.plugin.trust}>"

    async def run(self, sink: Sink) -> None:
        await self.inner.run(_NamedSink(sink, self.name))


class _NamedSink:
    def __init__(self, sink: Sink, name: str) -> None:
        self.sink, self.name = sink, name
        self.warned = False

    def report(self, source: str, problem: str | None) -> None:
        self.sink.report(self.name, problem)

    async def commit(self, draft: Draft) -> tuple[Event, bool]:
        return await self.sink.commit(self._own(draft))

    def append(self, draft: Draft) -> tuple[Event, bool]:
        if not self.warned and _on_a_loop():
            self.warned = True
            log.warning("plugin source %s calls sink.append on the event loop, which holds up "
                        "the daemon while the store is locked; it should `await sink.commit` "
                        "instead (docs/PLUGINS.md)", self.name)
        return self.sink.append(self._own(draft))

    def _own(self, draft: Draft) -> Draft:
        if draft.source != self.name:
            msg = f"plugin source {self.name!r} may only emit its own events, not {draft.source!r}"
            raise UsageError(msg)
        return draft


def _on_a_loop() -> bool:
    """Whether this thread is running an event loop (a plugin's coroutine, not a thread)."""
    # Here, not above: `waitbus serve` asks declared_anywhere() before it imports asyncio.
    import asyncio

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def declared_anywhere() -> bool:
    """Whether any installed distribution's entry_points.txt mentions our group at all.

    A cheap gate before importlib.metadata reads them properly; it may say yes wrongly (the
    text appears in a comment, say), never no wrongly.
    """
    needle = GROUP.encode()
    for folder in sys.path:
        if os.path.isfile(folder):
            return True  # a zip on sys.path: let importlib.metadata look inside
        try:
            names = os.listdir(folder or ".")
        except OSError:
            continue
        for name in names:
            if name.endswith((".dist-info", ".egg-info")):
                try:
                    with open(os.path.join(folder or ".", name, "entry_points.txt"), "rb") as f:
                        if needle in f.read():
                            return True
                except OSError:
                    continue
    return False


def _instantiate(plugin: Plugin, settings: Settings) -> Source:
    factory = cast(Factory, _entry(plugin.name).load())
    source = factory(settings)
    if not isinstance(source, Source):
        msg = f"plugin {plugin.name!r}: {plugin.value} returned {source!r}, not a Source"
        raise TypeError(msg)
    log.info("plugin %s loaded from %s %s (%s)", source.name, plugin.distribution,
             plugin.version, plugin.provenance)
    return PluginSource(source, plugin)


def _entry(name: str) -> metadata.EntryPoint:
    from importlib import metadata

    return next(iter(metadata.entry_points(group=GROUP, name=name)))


def _judge(entry: metadata.EntryPoint, pins: dict[str, JSONObject]) -> Plugin:
    dist = entry.dist
    publisher = _provenance_publisher(dist)
    pinned = pins.get(entry.name)
    pinned_publisher = pinned.get("publisher") if pinned is not None else None
    if pinned is None:
        status = Trust.UNPINNED
    elif pinned_publisher == publisher:
        status = Trust.PINNED
    else:
        status = Trust.REFUSED
    return Plugin(
        name=entry.name, value=entry.value,
        distribution=dist.name if dist is not None else "?",
        version=dist.version if dist is not None else "?",
        publisher=publisher,
        pinned=pinned_publisher if isinstance(pinned_publisher, str) else None,
        trust=status,
    )


def _provenance_publisher(dist: metadata.Distribution | None) -> str | None:
    text = dist.read_text(PROVENANCE_FILE) if dist is not None else None
    if text is None:
        return None
    try:
        doc = json.loads(text)
    except ValueError:
        return "unreadable provenance"  # pinned as such, so a later fix is a visible change
    return publisher_of(doc) if isinstance(doc, dict) else "unreadable provenance"


def _identity(publisher: dict[str, JSON]) -> str:
    parts = [str(publisher.get(key)) for key in ("kind", "repository", "email") if
             publisher.get(key)]
    workflow = publisher.get("workflow") or publisher.get("workflow_filepath")
    if workflow:
        parts.append(str(workflow))
    return " ".join(parts) if parts else dump_json(publisher)


def _write_pins(paths: StatePaths, pins: dict[str, JSONObject]) -> None:
    paths.ensure()
    path = paths.root / "plugins.json"
    tmp = path.with_name(f".plugins.json.{os.getpid()}")
    body = json.dumps({"version": PINS_VERSION, "plugins": pins}, indent=2, sort_keys=True)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(body + "\n")
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise
