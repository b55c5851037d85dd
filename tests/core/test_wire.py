"""The sans-IO frame codec: chunking, limits and garbage."""

from __future__ import annotations

import contextlib
import json
import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from waitbus import wire
from waitbus.errors import ProtocolError, UsageError
from waitbus.event import Conclusion, Event, JSONObject, load_json_object
from waitbus.match import AnyOf, Match

EVENT = Event(5, "d-5", "ci", "build", "o/r", Conclusion.SUCCESS, 10, {"n": 1}, "raw")


def test_frames_survive_any_chunking() -> None:
    stream = b"".join(wire.encode(f) for f in (wire.EventFrame(EVENT), wire.Live(9),
                                               wire.Lagged(3), wire.ErrorFrame("no")))
    for size in (1, 2, 3, 7, len(stream)):
        decoder = wire.FrameDecoder(wire.MAX_REPLY_BYTES)
        frames = []
        for start in range(0, len(stream), size):
            frames += decoder.feed(stream[start : start + size])
        replies = [wire.parse_reply(f) for f in frames]
        assert replies == [wire.EventFrame(EVENT), wire.Live(9), wire.Lagged(3),
                           wire.ErrorFrame("no")]


def test_event_fast_path_matches_generic_encoding() -> None:
    assert wire.encode_event(EVENT) == wire.encode(wire.EventFrame(EVENT))


_TEXT = st.text(max_size=12)  # any code point, control characters and lone surrogates too
_EVENTS = st.builds(
    Event, cursor=st.integers(1, 2**63 - 1), delivery_id=_TEXT, source=_TEXT, type=_TEXT,
    subject=st.none() | _TEXT, conclusion=st.none() | st.sampled_from(Conclusion),
    received_at=st.integers(0, 2**63 - 1),
    fields=st.dictionaries(_TEXT, st.none() | st.booleans() | st.integers() | _TEXT
                           | st.floats(allow_nan=False, allow_infinity=False)
                           | st.lists(st.integers(), max_size=3), max_size=4),
    payload=st.none() | _TEXT, origin=st.just("local") | _TEXT)


@given(_EVENTS)
def test_event_fast_path_writes_the_generic_encodings_bytes(event: Event) -> None:
    assert wire.encode_event(event) == wire.encode(wire.EventFrame(event))


@given(_EVENTS)
def test_an_event_frame_reads_back_as_the_event_it_carries(event: Event) -> None:
    (obj,) = wire.FrameDecoder(wire.MAX_REPLY_BYTES).feed(wire.encode_event(event))
    assert wire.parse_event(obj) == event
    assert wire.parse_reply(obj) == wire.EventFrame(event)


@pytest.mark.parametrize("body", [b' {"t":"live","cursor":3} ', b'{"t":"live","cursor":3}\n'])
def test_a_frame_with_whitespace_around_its_object_still_decodes(body: bytes) -> None:
    (obj,) = wire.FrameDecoder(1024).feed(struct.pack(">I", len(body)) + body)
    assert wire.parse_reply(obj) == wire.Live(3)


@pytest.mark.parametrize(
    ("body", "says"),
    [(b'{"t":"live"} x', "not valid UTF-8 JSON"), (b'{"t":', "not valid UTF-8 JSON"),
     (b'"live"', "must be a JSON object"), (b"[" * 100_000, "not valid UTF-8 JSON")])
def test_a_reply_that_is_not_one_object_is_refused(body: bytes, says: str) -> None:
    with pytest.raises(ProtocolError, match=says):
        wire.FrameDecoder(len(body)).feed(struct.pack(">I", len(body)) + body)


@pytest.mark.parametrize(
    ("event", "says"),
    [("[1]", "must be a JSON object"), ('{"cursor":"1"}', "malformed event"),
     ('{"cursor":true,"received_at":1,"delivery_id":"d","source":"s","type":"t",'
      '"fields":{},"subject":null,"conclusion":null}', "True"),
     ('{"cursor":1,"received_at":1,"delivery_id":"d","source":"s","type":"t",'
      '"fields":{},"subject":null,"conclusion":"meh"}', "meh")])
def test_a_malformed_event_frame_is_a_protocol_error(event: str, says: str) -> None:
    body = f'{{"t":"event","event":{event}}}'.encode()
    (obj,) = wire.FrameDecoder(1024).feed(struct.pack(">I", len(body)) + body)
    for parse in (wire.parse_event, wire.parse_reply):
        with pytest.raises(ProtocolError, match=says):
            parse(obj)


def test_subscribe_request_round_trips() -> None:
    request = wire.Subscribe(AnyOf((Match.of(["fields.n>0"], source="ci"),)), since=4,
                             payload=True)
    (obj,) = wire.FrameDecoder(wire.MAX_REQUEST_BYTES).feed(wire.encode(request))
    assert wire.parse_request(obj) == request


def test_a_subscribe_carries_its_generation_and_stays_readable_by_a_v1_daemon() -> None:
    request = wire.Subscribe(AnyOf((Match.of([], source="ci"),)), since=9, generation="ab" * 8)
    (obj,) = wire.FrameDecoder(wire.MAX_REQUEST_BYTES).feed(wire.encode(request))
    assert wire.parse_request(obj) == request
    # The keys a v1 daemon reads keep their names and meaning; it ignores the rest.
    assert (obj["filter"], obj["since"], obj["payload"]) == (
        [{"source": "ci", "clauses": []}], 9, False)
    assert (obj["v"], obj["generation"]) == (2, "abababababababab")


def test_a_v1_subscribe_reads_as_version_1_without_a_generation() -> None:
    old = {"t": "subscribe", "v": 1, "filter": [{"source": "ci", "clauses": []}], "since": 3,
           "payload": False}
    parsed = wire.parse_request(json.loads(json.dumps(old)))
    assert isinstance(parsed, wire.Subscribe)
    assert (parsed.version, parsed.generation, parsed.since) == (1, None, 3)


def test_reset_and_live_with_a_generation_round_trip() -> None:
    for frame in (wire.Reset("0123456789abcdef", 7), wire.Live(5, "0123456789abcdef"),
                  wire.Live(5)):
        (obj,) = wire.FrameDecoder(wire.MAX_REPLY_BYTES).feed(wire.encode(frame))
        assert wire.parse_reply(obj) == frame
    assert "generation" not in json.loads(wire.encode(wire.Live(5))[4:])


def test_oversized_frame_is_refused_before_buffering_its_body() -> None:
    decoder = wire.FrameDecoder(1024)
    with pytest.raises(ProtocolError, match="over the 1024-byte limit"):
        decoder.feed(struct.pack(">I", 1025))


@pytest.mark.parametrize(
    ("body", "says"),
    [
        (b"\xff\xfe", "not valid UTF-8 JSON"),
        (b"[1,2]", "must be a JSON object"),
        (b'{"t":"subscribe","filter":[]}', "empty"),
        (b'{"t":"subscribe","filter":[{"clauses":["x=1"]}]}', "unknown key"),
        (b'{"t":"subscribe","filter":[{"source":"a"}],"since":"1"}', "integer cursor"),
        (b'{"t":"nope"}', "unknown request type"),
        (b'{"t":"subscribe","filter":[{"source":"a"}],"generation":7}', "generation must be"),
    ],
)
def test_bad_requests_raise_protocol_errors(body: bytes, says: str) -> None:
    def decode() -> None:
        decoder = wire.FrameDecoder(wire.MAX_REQUEST_BYTES)
        for obj in decoder.feed(struct.pack(">I", len(body)) + body):
            wire.parse_request(obj)

    with pytest.raises(ProtocolError, match=says):
        decode()


@given(st.binary(max_size=512))
def test_decoder_never_crashes_on_garbage(data: bytes) -> None:
    decoder = wire.FrameDecoder(256)
    try:
        for obj in decoder.feed(data):
            with contextlib.suppress(ProtocolError):
                wire.parse_request(obj)
    except ProtocolError:
        pass


@given(st.dictionaries(st.text(max_size=5), st.integers() | st.text(max_size=5), max_size=5))
def test_any_json_object_decodes_as_sent(obj: dict[str, int | str]) -> None:
    body = json.dumps(obj).encode()
    (decoded,) = wire.FrameDecoder(4096).feed(struct.pack(">I", len(body)) + body)
    assert decoded == obj


def test_imported_event_carries_its_origin_and_a_local_one_omits_it() -> None:
    imported = Event(6, "hostb:d-1", "ci", "build", None, None, 10, {}, origin="hostb")
    frames = wire.FrameDecoder(wire.MAX_REPLY_BYTES).feed(
        wire.encode(wire.EventFrame(EVENT)) + wire.encode(wire.EventFrame(imported)))
    assert "origin" not in frames[0]["event"]  # type: ignore[operator]
    assert [wire.parse_reply(f) for f in frames] == [wire.EventFrame(EVENT),
                                                       wire.EventFrame(imported)]


def test_status_frame_round_trips_with_each_source_state_as_data() -> None:
    info = wire.StatusInfo(
        pid=7, state_dir="/s", head=40, started_at=123, fanned_out=40,
        subscribers=(wire.SubscriberInfo(uid=1000, cursor=37, lag=3, live=False, lagged=2),),
        sources={"fs": wire.SourceInfo(wire.SourceState.RUNNING),
                 "docker": wire.SourceInfo(wire.SourceState.FAILED, "no engine at /x")},
        pending_commits=2, oldest_pending_s=12.5)
    (obj,) = wire.FrameDecoder(wire.MAX_REPLY_BYTES).feed(wire.encode(wire.Status(info)))
    assert json.loads(wire.encode(wire.Status(info))[4:])["info"]["sources"]["docker"] == {
        "state": "failed", "error": "no engine at /x"}
    assert wire.parse_reply(obj) == wire.Status(info)
    assert (info.max_lag, info.lagged) == (3, 2)


def test_status_frame_with_a_wrong_type_is_a_protocol_error() -> None:
    good = wire.StatusInfo(7, "/s", 1, 1, 1, (), {}).to_json()
    broken: list[JSONObject] = [{**good, "head": "1"},
                                {**good, "sources": {"fs": {"state": "dancing"}}},
                                {**good, "subscribers": [{"uid": 1}]},
                                {**good, "oldest_pending_s": -1}]
    for info in broken:
        with pytest.raises(ProtocolError, match="malformed status frame"):
            wire.parse_reply({"t": "status", "info": info})


@pytest.mark.parametrize(
    ("text", "says"),
    [('{"a": NaN}', "not valid JSON"), ("[1]", "must be a JSON object, got list"),
     ('{"a":1} x', "not valid JSON"), ('{"a":', "not valid JSON"),
     (b"\xff", "not valid JSON")])
def test_a_stored_object_that_is_not_one_json_object_is_refused(text: str | bytes,
                                                                  says: str) -> None:
    with pytest.raises(UsageError, match=says):
        load_json_object(text, "stored fields")


@pytest.mark.parametrize("text", ['{"b":[1,{"c":null}],"a":"\\u00e9"}',
                                  ' { "b" : [1, {"c": null}], "a": "é" } \n',
                                  b'{"b":[1,{"c":null}],"a":"\\u00e9"}'])
def test_a_stored_object_reads_back_whatever_its_spacing(text: str | bytes) -> None:
    assert load_json_object(text, "stored fields") == {"b": [1, {"c": None}], "a": "é"}
