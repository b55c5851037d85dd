"""Bad input to the listener: each gets its 4xx or a disconnect, nothing is stored, others go on."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import urlsplit

from tests.sources.webhook_client import SECRET, fixture, github_headers, write_secret
from waitbus.bus.daemon import Daemon
from waitbus.config import Settings
from waitbus.paths import resolve
from waitbus.secrets import GITHUB_WEBHOOK
from waitbus.sources.webhook.routes import listener
from waitbus.store.store import Store

TIMEOUT_S = 1.5
MAX_BODY = 8192
BODY = fixture("ping")


@asynccontextmanager
async def serving(state_dir: Path) -> AsyncIterator[tuple[str, int]]:
    """A daemon in this process with only the listener, on a free port with tight limits."""
    write_secret(state_dir, GITHUB_WEBHOOK, SECRET)
    settings = Settings(paths=resolve(state_dir), listen_port=0, webhook_max_body_bytes=MAX_BODY,
                        webhook_request_timeout_s=TIMEOUT_S)
    source = listener(settings, 0)
    bound = asyncio.Event()
    source.on_listening = lambda _url: bound.set()
    daemon = Daemon(settings, [source])
    task = asyncio.create_task(daemon.serve())
    try:
        async with asyncio.timeout(10):
            await bound.wait()
        assert source.url is not None
        where = urlsplit(source.url)
        assert where.hostname is not None
        assert where.port is not None
        yield where.hostname, where.port
    finally:
        daemon.stop()
        await task


def request(body: bytes, headers: dict[str, str], *, length: int | None = None) -> bytes:
    lines = [b"POST /github HTTP/1.1", b"Host: localhost"]
    lines += [f"{k}: {v}".encode() for k, v in headers.items()]
    lines.append(f"Content-Length: {len(body) if length is None else length}".encode())
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


def good(delivery: str, *, close: bool = True) -> bytes:
    extra = {"Connection": "close"} if close else {}
    return request(BODY, {**github_headers("ping", delivery, BODY), **extra})


async def exchange(address: tuple[str, int], data: bytes, *, half_close: bool = False) -> int:
    """Send `data`, read until the server closes; the status of the first response (0: none)."""
    reader, writer = await asyncio.open_connection(*address)
    try:
        writer.write(data)
        if half_close:
            writer.write_eof()
        async with asyncio.timeout(TIMEOUT_S + 5):
            answer = await reader.read()
    finally:
        writer.close()
    return int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/1.1 ") else 0


def stored(state_dir: Path) -> list[str]:
    with Store(resolve(state_dir), read_only=True) as store:
        return [e.delivery_id for e in store.read_after(0)]


def test_bad_requests_get_their_4xx_and_store_nothing(state_dir: Path) -> None:
    signed = github_headers("ping", "d-bad", BODY)
    bad_json = b'{"zen": '
    cases = [
        (request(BODY, github_headers("ping", "d", BODY, secret=b"wrong")), 401),
        (request(BODY, {k: v for k, v in signed.items() if "Signature" not in k}), 401),
        (request(BODY, {**signed, "X-Hub-Signature-256": "sha256=zz"}), 401),
        (request(bad_json, github_headers("ping", "d", bad_json)), 400),
        (request(BODY, {**signed, "Content-Type": "application/x-www-form-urlencoded"}), 415),
        (request(b"x" * (MAX_BODY + 1), signed), 413),
        (request(b"", signed, length=10 * MAX_BODY), 413),
        (request(b"", {**signed, "Transfer-Encoding": "chunked"}).replace(
            b"Content-Length: 0\r\n", b"") + b"%x\r\n" % (MAX_BODY + 1)
         + b"x" * (MAX_BODY + 1) + b"\r\n0\r\n\r\n", 413),
        (request(BODY, {**signed, "X-Big": "a" * 20000}), 431),
        (b"GARBAGE\r\n\r\n", 400),
        (b'{"zen": 1}\r\n\r\n', 400),
        (request(BODY, signed).replace(b"/github", b"/nowhere"), 404),
        (request(BODY, signed).replace(b"POST", b"PUT"), 405),
    ]

    async def scenario() -> list[int]:
        async with serving(state_dir) as address:
            got = [await exchange(address, data) for data, _ in cases]
            got.append(await exchange(address, good("d-after")))
        return got

    assert asyncio.run(scenario()) == [status for _, status in cases] + [200]
    assert stored(state_dir) == ["github:d-after"]


def test_a_truncated_body_gets_400_on_close_or_408_when_the_client_stalls(
        state_dir: Path) -> None:
    short = request(BODY[:20], github_headers("ping", "d", BODY), length=len(BODY))

    async def scenario() -> tuple[int, int]:
        async with serving(state_dir) as address:
            closed = await exchange(address, short, half_close=True)
            stalled = await exchange(address, short)
        return closed, stalled

    assert asyncio.run(scenario()) == (400, 408)
    assert not stored(state_dir)


def test_a_client_sending_a_byte_a_second_is_cut_off_while_others_are_served(
        state_dir: Path) -> None:
    data = good("d-slow")

    async def slow_client(address: tuple[str, int]) -> tuple[bytes, float]:
        reader, writer = await asyncio.open_connection(*address)
        started = time.monotonic()
        try:
            for byte in data:
                writer.write(bytes([byte]))
                await writer.drain()
                # Not a wait for an event: pacing is the behaviour under test.
                done = await _readable_within(reader, 1.0)
                if done is not None:
                    return done, time.monotonic() - started
        except ConnectionError:
            pass
        finally:
            writer.close()
        return b"", time.monotonic() - started

    async def scenario() -> tuple[bytes, float, list[int]]:
        async with serving(state_dir) as address:
            slow = asyncio.create_task(slow_client(address))
            others = [await exchange(address, good(f"d-{i}")) for i in range(3)]
            answer, took_s = await slow
        return answer, took_s, others

    answer, took_s, others = asyncio.run(scenario())
    assert others == [200, 200, 200]
    assert answer.startswith(b"HTTP/1.1 408") or answer == b""
    assert took_s < TIMEOUT_S + 1.5
    assert stored(state_dir) == ["github:d-0", "github:d-1", "github:d-2"]


async def _readable_within(reader: asyncio.StreamReader, seconds: float) -> bytes | None:
    try:
        async with asyncio.timeout(seconds):
            return await reader.read()
    except TimeoutError:
        return None


def test_keep_alive_serves_requests_in_turn_on_one_connection(state_dir: Path) -> None:
    async def scenario() -> bytes:
        async with serving(state_dir) as address:
            reader, writer = await asyncio.open_connection(*address)
            writer.write(good("k-1", close=False) + good("k-2", close=False))
            writer.write_eof()
            async with asyncio.timeout(5):
                answer = await reader.read()
            writer.close()
        return answer

    assert asyncio.run(scenario()).count(b"HTTP/1.1 200 OK") == 2
    assert stored(state_dir) == ["github:k-1", "github:k-2"]
