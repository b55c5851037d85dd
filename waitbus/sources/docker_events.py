"""Docker: one event per container end, followed from the engine's `/events` stream."""

from __future__ import annotations

import asyncio
import json
import logging
import time
import urllib.parse
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path

import h11

from waitbus.errors import ProtocolError, UsageError
from waitbus.event import JSON, Conclusion, Draft, JSONObject, dump_json, load_json_object
from waitbus.sources.base import Sink
from waitbus.sources.emitter import draft

log = logging.getLogger(__name__)

DEFAULT_SOCKET = Path("/var/run/docker.sock")
# Only what decides an end is asked for; the engine filters, so idle containers cost nothing.
FOLLOWED = ("start", "kill", "oom", "die", "destroy")
# Signals an engine `kill` sends to end a container (`docker stop`, `kill`, `restart`, `rm -f`);
# others (HUP, USR1...) are how people ask a live container to reload, not to end.
ENDING_SIGNALS = frozenset({"2", "3", "9", "15", "SIGINT", "SIGQUIT", "SIGKILL", "SIGTERM",
                            "INT", "QUIT", "KILL", "TERM"})
MAX_LINE_BYTES = 1024 * 1024
READ_BYTES = 64 * 1024


@dataclass
class ContainerEnds:
    """Sans-IO: engine event messages in, at most one draft per container end out.

    `docker stop` shows up as kill (SIGTERM), maybe kill (SIGKILL), die, then stop. The engine
    logs `kill` while holding the container's lock, which its exit handler also takes before
    logging `die`, so a kill is always seen before the die it caused: the die carries the verdict.
    """

    last_ns: int = 0
    signalled: dict[str, str] = field(default_factory=dict)
    oom: set[str] = field(default_factory=set)
    _keys_at_last: set[tuple[str, str]] = field(default_factory=set)

    def feed(self, message: JSONObject) -> Draft | None:
        """Take one decoded event message; return the draft for a container end, else None."""
        if message.get("Type") != "container":
            return None
        action, cid, when_ns = message.get("Action"), message.get("id"), message.get("timeNano")
        if not (isinstance(action, str) and isinstance(cid, str) and isinstance(when_ns, int)):
            return None
        if self._replayed(cid, action, when_ns):
            return None
        attrs = _attributes(message)
        if action == "start":
            self.signalled.pop(cid, None)
            self.oom.discard(cid)
        elif action == "kill":
            signal = str(attrs.get("signal", ""))
            if signal in ENDING_SIGNALS:
                self.signalled[cid] = signal
        elif action == "oom":
            self.oom.add(cid)
        elif action == "die":
            return self._end(cid, when_ns, attrs)
        elif action == "destroy":
            self.signalled.pop(cid, None)
            self.oom.discard(cid)
        return None

    def since(self) -> str | None:
        """The `since` to resume from: the last event seen (the engine replays it, inclusive)."""
        if not self.last_ns:
            return None
        return f"{self.last_ns // 1_000_000_000}.{self.last_ns % 1_000_000_000:09d}"

    def _replayed(self, cid: str, action: str, when_ns: int) -> bool:
        if when_ns < self.last_ns:
            return True
        key = (cid, action)
        if when_ns == self.last_ns:
            if key in self._keys_at_last:
                return True
            self._keys_at_last.add(key)
            return False
        self.last_ns = when_ns
        self._keys_at_last = {key}
        return False

    def _end(self, cid: str, when_ns: int, attrs: dict[str, str]) -> Draft:
        signal = self.signalled.pop(cid, None)
        oomed = cid in self.oom
        self.oom.discard(cid)
        exit_code = _int_or_none(attrs.get("exitCode"))
        if oomed:
            action, conclusion = "oom", Conclusion.FAILURE
        elif signal is not None:
            action, conclusion = "kill", Conclusion.CANCELLED
        else:
            action = "die"
            conclusion = Conclusion.SUCCESS if exit_code == 0 else Conclusion.FAILURE
        name = attrs.get("name", cid[:12])
        fields: dict[str, JSON] = {
            "id": cid, "name": name, "image": attrs.get("image", ""),
            "exit_code": exit_code, "action": action, "signal": signal,
        }
        # Attributes hold the container's labels too: they go in the payload, not in fields.
        return draft("docker", "container.exit", subject=name, conclusion=conclusion,
                     fields=fields, payload=dump_json(dict(attrs)),
                     delivery_id=f"docker:{cid}:{when_ns}", received_at=time.time_ns())


class DockerEvents:
    """The `docker` source: follows the engine and reconnects with backoff when it goes away."""

    name = "docker"

    def __init__(self, socket_path: Path = DEFAULT_SOCKET, *, max_backoff_s: float = 5.0) -> None:
        self.socket_path = socket_path
        self.max_backoff_s = max_backoff_s
        # Resume from when the daemon was set up, so a container ending while the first
        # connection is made is not missed.
        self.ends = ContainerEnds(last_ns=time.time_ns())
        self.connected = False

    def __repr__(self) -> str:
        state = "following" if self.connected else "reconnecting"
        return f"<DockerEvents {self.socket_path} {state} since={self.ends.since()}>"

    async def run(self, sink: Sink) -> None:
        """Follow the engine until cancelled; a lost engine is retried, never fatal, and said
        through `sink.report` (so serve and status show it) until it answers again."""
        backoff_s = 0.05
        while True:
            try:
                async for message in self.follow(lambda: sink.report(self.name, None)):
                    await self._commit(sink, message)
                log.info("docker: engine closed the event stream; reconnecting")
            except (OSError, ProtocolError, h11.ProtocolError) as exc:
                log.info("docker: %s; retrying in %.2f s", exc, backoff_s)
                sink.report(self.name, self._problem(exc))
            if self.connected:
                backoff_s = 0.05
            self.connected = False
            await asyncio.sleep(backoff_s)  # reconnect backoff, not a wait for an event
            backoff_s = min(backoff_s * 2, self.max_backoff_s)

    def _problem(self, exc: Exception) -> str:
        where = f"the Docker engine at {self.socket_path}"
        if isinstance(exc, FileNotFoundError | ConnectionRefusedError):
            return (f"cannot reach {where} ({exc.strerror}); start Docker, or give its socket "
                    "with `waitbus serve --docker SOCKET`; retrying")
        if isinstance(exc, PermissionError):
            return (f"no permission to use {where}; run the daemon as a user in the docker "
                    "group; retrying")
        return f"{where} failed: {exc}; retrying"

    async def _commit(self, sink: Sink, message: JSONObject) -> None:
        try:
            made = self.ends.feed(message)
        except UsageError as exc:  # an engine message we cannot store; the rest still flow
            log.warning("docker: skipped an event: %s", exc)
            return
        if made is not None:
            await sink.commit(made)

    async def follow(self, on_connected: Callable[[], None] = lambda: None,
                     ) -> AsyncGenerator[JSONObject, None]:
        """Yield decoded messages from one `/events` connection until the engine ends it;
        `on_connected` runs once the engine has accepted the subscription."""
        reader, writer = await asyncio.open_unix_connection(self.socket_path)
        try:
            lines = b""
            async for chunk in _get(reader, writer, self._target()):
                if not self.connected:
                    self.connected = True
                    log.info("docker: following events at %s since %s",
                             self.socket_path, self.ends.since())
                    on_connected()
                lines += chunk
                *complete, lines = lines.split(b"\n")
                if len(lines) > MAX_LINE_BYTES:
                    msg = f"engine sent an event line over {MAX_LINE_BYTES} bytes"
                    raise ProtocolError(msg)
                for line in complete:
                    if line.strip():
                        yield load_json_object(line, "an event from the engine",
                                               error=ProtocolError)
        finally:
            writer.close()

    def _target(self) -> str:
        filters = {"type": ["container"], "event": list(FOLLOWED)}
        query = {"filters": json.dumps(filters)}
        since = self.ends.since()
        if since is not None:
            query["since"] = since
        return "/events?" + urllib.parse.urlencode(query)


async def _get(reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
               target: str) -> AsyncIterator[bytes]:
    """One HTTP/1.1 GET over the socket; yields the body as it streams in."""
    conn = h11.Connection(h11.CLIENT)
    request = h11.Request(method="GET", target=target,
                          headers=[("Host", "docker"), ("Accept", "application/json")])
    writer.write(conn.send(request) + (conn.send(h11.EndOfMessage()) or b""))
    await writer.drain()
    status = 0
    error_body = b""
    while True:
        event = conn.next_event()
        if event is h11.NEED_DATA:
            conn.receive_data(await reader.read(READ_BYTES))
        elif isinstance(event, h11.Response):
            status = event.status_code
            # The engine sends the head only once the subscription is in place.
            if status == 200:
                yield b""
        elif isinstance(event, h11.Data):
            if status == 200:
                yield bytes(event.data)
            else:
                error_body += bytes(event.data)[:4096]
        elif isinstance(event, h11.EndOfMessage | h11.ConnectionClosed):
            break
    if status != 200:
        text = error_body.decode(errors="replace").strip()
        msg = f"engine answered {status} to GET /events: {text}"
        raise ProtocolError(msg)


def _attributes(message: JSONObject) -> dict[str, str]:
    actor = message.get("Actor")
    attrs = actor.get("Attributes") if isinstance(actor, dict) else None
    if not isinstance(attrs, dict):
        return {}
    return {k: v for k, v in attrs.items() if isinstance(v, str)}


def _int_or_none(text: str | None) -> int | None:
    try:
        return int(text) if text is not None else None
    except ValueError:
        return None
