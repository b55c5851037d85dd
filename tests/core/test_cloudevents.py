"""The CloudEvents mapping, read back by the CloudEvents Python SDK."""

from __future__ import annotations

import datetime

import pytest
from cloudevents.core.formats.json import JSONFormat
from hypothesis import given
from hypothesis import strategies as st

from waitbus.cloudevents import (
    check_host,
    from_headers,
    parse_time,
    rfc3339,
    source_uri,
    to_cloudevent,
    to_headers,
)
from waitbus.errors import UsageError
from waitbus.event import Conclusion, Event, dump_json

RECEIVED_NS = 1_763_716_800_123_456_789


def _event(**changes: object) -> Event:
    base: dict[str, object] = {
        "cursor": 12, "delivery_id": "d-12", "source": "ci", "type": "build",
        "subject": "o/r", "conclusion": Conclusion.FAILURE, "received_at": RECEIVED_NS,
        "fields": {"exit_code": 1}}
    base.update(changes)
    return Event(**base)  # type: ignore[arg-type]


def test_sdk_reads_every_attribute_of_a_mapped_event() -> None:
    read = JSONFormat().read(None, dump_json(to_cloudevent(_event(), host="box")))
    assert read.get_specversion() == "1.0"
    assert read.get_id() == "d-12"
    assert read.get_source() == "waitbus://box/ci"
    assert read.get_type() == "build"
    assert read.get_subject() == "o/r"
    assert read.get_datacontenttype() == "application/json"
    assert read.get_time() == datetime.datetime(2025, 11, 21, 9, 20, 0, 123456,
                                                tzinfo=datetime.UTC)
    assert read.get_extension("waitbuscursor") == "12"
    assert read.get_extension("waitbusconclusion") == "failure"
    assert read.get_data() == {"fields": {"exit_code": 1}}


def test_absent_subject_and_conclusion_are_left_out_not_null() -> None:
    mapped = to_cloudevent(_event(subject=None, conclusion=None), host="box")
    assert "subject" not in mapped
    assert "waitbusconclusion" not in mapped
    JSONFormat().read(None, dump_json(mapped))


def test_payload_travels_in_data_beside_the_fields() -> None:
    mapped = to_cloudevent(_event(payload='{"raw": true}'), host="box")
    assert mapped["data"] == {"fields": {"exit_code": 1}, "payload": '{"raw": true}'}


def test_source_names_and_hosts_are_percent_encoded_into_a_valid_uri() -> None:
    assert source_uri("my source/x", host="Box.Local") == "waitbus://box.local/my%20source%2Fx"


def test_time_keeps_nanoseconds_in_utc() -> None:
    assert rfc3339(RECEIVED_NS) == "2025-11-21T09:20:00.123456789Z"
    assert rfc3339(0) == "1970-01-01T00:00:00.000000000Z"


EVENT = _event(delivery_id="gh-7f3a", source="github", type="workflow_run",
               subject="octo/repo", fields={"head_sha": "abc123", "run_id": 9},
               payload='{"raw": 1}')


def test_imported_event_keeps_its_first_host_and_id() -> None:
    imported = _event(cursor=40, delivery_id="hosta:gh-7f3a", source="github", subject=None,
                      conclusion=None, origin="hosta")
    mapped = to_cloudevent(imported, host="hostb")
    assert (mapped["id"], mapped["source"], mapped["waitbuscursor"]) == (
        "gh-7f3a", "waitbus://hosta/github", "40")


def test_binary_headers_round_trip_to_an_imported_draft() -> None:
    headers, body = to_headers(EVENT, host="hosta")
    assert headers["Content-Type"] == "application/json"
    assert headers["ce-source"] == "waitbus://hosta/github"
    assert headers["ce-waitbuscursor"] == "12"
    received = from_headers(headers, body)
    draft = received.draft
    assert (received.host, received.cursor) == ("hosta", 12)
    assert (draft.delivery_id, draft.origin) == ("hosta:gh-7f3a", "hosta")
    assert (draft.source, draft.type, draft.subject, draft.conclusion) == (
        "github", "workflow_run", "octo/repo", Conclusion.FAILURE)
    assert (draft.received_at, draft.fields, draft.payload) == (
        EVENT.received_at, EVENT.fields, EVENT.payload)


def test_sdk_reads_the_json_form_of_a_draft_read_back_from_headers() -> None:
    headers, body = to_headers(EVENT, host="hosta")
    draft = from_headers(headers, body).draft
    stored = Event(99, draft.delivery_id, draft.source, draft.type, draft.subject,
                   draft.conclusion, draft.received_at, draft.fields, draft.payload,
                   origin=draft.origin)
    read = JSONFormat().read(None, dump_json(to_cloudevent(stored, host="hostb")))
    assert (read.get_id(), read.get_source()) == ("gh-7f3a", "waitbus://hosta/github")


@given(text=st.text(min_size=1, max_size=50))
def test_any_subject_survives_a_header(text: str) -> None:
    event = _event(source="src.with:colon", type="t y p e", subject=text)
    headers, body = to_headers(event, host="h")
    assert all(" " not in v and "\r" not in v and "\n" not in v and v.isascii()
               for v in headers.values())
    draft = from_headers(headers, body).draft
    assert (draft.subject, draft.source, draft.type) == (text, "src.with:colon", "t y p e")


@pytest.mark.parametrize(("text", "ns"), [
    ("1970-01-01T00:00:01Z", 1_000_000_000),
    ("1970-01-01T00:00:00.5Z", 500_000_000),
    ("1970-01-01T01:00:00.000000001+01:00", 1),
])
def test_time_accepts_any_rfc3339_offset_and_precision(text: str, ns: int) -> None:
    assert parse_time(text) == ns


def test_time_round_trips_nanoseconds() -> None:
    assert parse_time(rfc3339(RECEIVED_NS)) == RECEIVED_NS


@pytest.mark.parametrize(("change", "says"), [
    ({"ce-specversion": "0.3"}, "not a CloudEvents 1.0"),
    ({"ce-source": "https://x/y"}, "is not waitbus://"),
    ({"ce-source": "waitbus://a.b/ci"}, "no dots"),
    ({"ce-time": "yesterday"}, "not an RFC 3339"),
    ({"ce-waitbusconclusion": "passed"}, "not one of success"),
    ({"ce-id": ""}, "no ce-id header"),
])
def test_malformed_message_is_refused_saying_why(change: dict[str, str], says: str) -> None:
    headers, body = to_headers(EVENT, host="hosta")
    with pytest.raises(UsageError, match=says):
        from_headers({**headers, **change}, body)


def test_body_that_is_not_ours_is_refused() -> None:
    headers, _ = to_headers(EVENT, host="hosta")
    with pytest.raises(UsageError, match="must be"):
        from_headers(headers, b'{"fields": 3}')
    with pytest.raises(UsageError, match="not valid JSON"):
        from_headers(headers, b"\xff")


@pytest.mark.parametrize("name", ["local", "a.b", "", "-x", "x" * 64, "h st"])
def test_unusable_host_names_are_refused(name: str) -> None:
    with pytest.raises(UsageError, match="host name"):
        check_host(name)


def test_host_names_are_lowercased() -> None:
    assert check_host("HostA") == "hosta"
