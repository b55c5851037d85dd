"""Property tests: any bytes to the listener and any body to a normalizer, and nothing crashes."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.sources.webhook_client import SECRET, TOKEN, fixture, signature, write_secret
from waitbus.event import Draft, Event
from waitbus.paths import resolve
from waitbus.secrets import ALERTMANAGER_TOKEN, GITHUB_WEBHOOK
from waitbus.sources.webhook import alertmanager, github
from waitbus.sources.webhook.exchange import Rejection, Reply, Request
from waitbus.sources.webhook.http import Limits, Listener
from waitbus.sources.webhook.routes import routes
from waitbus.store.store import Store

QUICK = settings(max_examples=100, deadline=None, database=None,
                 suppress_health_check=[HealthCheck.function_scoped_fixture])
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20)
events = st.sampled_from([*github.CI_EVENTS, "ping", "push"]) | st.text()
ci_shaped = st.fixed_dictionaries({
    "action": json_values, "repository": json_values,
    "workflow_run": st.dictionaries(st.sampled_from(
        ["id", "name", "status", "conclusion", "head_sha", "head_branch", "run_attempt"]),
        json_values)})


def _outcome_is_clean(result: list[Draft] | Rejection) -> None:
    if isinstance(result, Rejection):
        assert 400 <= result.status < 500
        assert result.message
    else:
        assert all(isinstance(d, Draft) for d in result)


@QUICK
@given(event=events, delivery=st.text(), payload=st.binary())
def test_github_normalizer_never_crashes_on_bytes(event: str, delivery: str,
                                                  payload: bytes) -> None:
    _outcome_is_clean(github.normalize(event, delivery, payload, received_at=1))


@QUICK
@given(event=events, delivery=st.text(min_size=1), obj=json_values | ci_shaped)
def test_github_normalizer_never_crashes_on_json(event: str, delivery: str, obj: object) -> None:
    payload = json.dumps(obj).encode()
    _outcome_is_clean(github.normalize(event, delivery, payload, received_at=1))
    _outcome_is_clean(github.normalize("workflow_run", delivery, payload, received_at=1))


@QUICK
@given(headers=st.dictionaries(st.sampled_from(
    ["x-github-event", "x-github-delivery", "x-hub-signature-256", "content-type"]), st.text()),
    payload=st.binary())
def test_github_handler_answers_every_request(headers: dict[str, str], payload: bytes) -> None:
    signed = {**headers, "x-hub-signature-256": signature(payload)}
    for variant in (headers, signed):
        reply = github.handle(Request("POST", "/github", variant, payload), SECRET,
                              received_at=1)
        assert isinstance(reply, Reply)
        assert reply.status in (200, 202, 400, 401)
        assert not reply.drafts or reply.status < 300


@QUICK
@given(payload=st.binary() | st.builds(lambda o: json.dumps(o).encode(), json_values))
def test_alertmanager_normalizer_never_crashes(payload: bytes) -> None:
    _outcome_is_clean(alertmanager.normalize(payload, received_at=1))


@QUICK
@given(alerts=st.lists(st.dictionaries(st.sampled_from(
    ["status", "fingerprint", "startsAt", "endsAt", "labels", "annotations"]),
    json_values | st.sampled_from(["firing", "resolved"])), max_size=5))
def test_alertmanager_normalizer_never_crashes_on_alert_lists(alerts: list[object]) -> None:
    payload = json.dumps({"alerts": alerts}).encode()
    _outcome_is_clean(alertmanager.normalize(payload, received_at=1))


@QUICK
@given(header=st.text() | st.builds(lambda b: "Basic " + b.hex(), st.binary()))
def test_alertmanager_auth_never_crashes(header: str) -> None:
    assert alertmanager.authorized(header, TOKEN) in (True, False)


class StoreSink:
    """The daemon's sink without the daemon: commit straight to the store."""

    def __init__(self, store: Store) -> None:
        self.store = store

    async def commit(self, draft: Draft) -> tuple[Event, bool]:
        return self.store.append(draft)

    def append(self, draft: Draft) -> tuple[Event, bool]:
        return self.store.append(draft)

    def report(self, source: str, problem: str | None) -> None:
        raise AssertionError(problem)  # the listener fails loudly instead of reporting


@pytest.fixture(scope="module")
def listening(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int]]:
    """A real listener on a real socket, its own loop in a thread, committing to a real store."""
    state = Path(tmp_path_factory.mktemp("wb")) / "s"
    write_secret(state, GITHUB_WEBHOOK, SECRET)
    write_secret(state, ALERTMANAGER_TOKEN, TOKEN)
    paths = resolve(state).ensure()
    store = Store(paths)
    listener = Listener(0, routes(paths), Limits(max_body_bytes=4096, request_timeout_s=2.0))
    loop = asyncio.new_event_loop()
    bound = threading.Event()
    listener.on_listening = lambda _url: bound.set()

    async def serve() -> None:
        with contextlib.suppress(asyncio.CancelledError):
            await listener.run(StoreSink(store))

    task = loop.create_task(serve())
    thread = threading.Thread(target=loop.run_until_complete, args=(task,), daemon=True)
    thread.start()
    assert bound.wait(10)
    assert listener.url is not None
    host, port = listener.url.removeprefix("http://").split(":")
    try:
        yield host, int(port)
    finally:
        loop.call_soon_threadsafe(task.cancel)
        thread.join(10)
        loop.close()
        assert store.count() == 0, "random requests must never store anything"
        store.close()


request_bytes = st.binary(max_size=2048) | st.builds(
    lambda method, path, headers, body, length: (
        f"{method} {path} HTTP/1.1\r\nHost: x\r\n".encode()
        + b"".join(f"{k}: {v}\r\n".encode() for k, v in headers.items())
        + (f"Content-Length: {length}\r\n" if length is not None else "").encode()
        + b"\r\n" + body),
    st.sampled_from(["POST", "GET", "PUT", "P O S T"]),
    st.sampled_from(["/github", "/alertmanager", "/", "/github?x=1", "*"]),
    st.dictionaries(st.sampled_from(["Content-Type", "X-GitHub-Event", "Authorization",
                                     "Transfer-Encoding", "X-Hub-Signature-256"]),
                    st.sampled_from(["application/json", "chunked", "ping", "Bearer x", ""])),
    st.binary(max_size=512) | st.just(fixture("ping")),
    st.none() | st.integers(min_value=0, max_value=10_000))


@settings(max_examples=200, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=request_bytes)
def test_any_bytes_get_an_http_answer_or_a_close(listening: tuple[str, int], data: bytes) -> None:
    with socket.create_connection(listening, timeout=10) as conn:
        conn.sendall(data)
        conn.shutdown(socket.SHUT_WR)
        answer = b""
        while chunk := conn.recv(65536):
            answer += chunk
    if answer:
        assert answer.startswith(b"HTTP/1.1 ")
        # Every route's secret is set, so a 5xx other than h11's 501 (a transfer coding it
        # does not implement) could only be a route that crashed.
        status = int(answer.split(b" ", 2)[1])
        assert 100 <= status < 500 or status == 501
