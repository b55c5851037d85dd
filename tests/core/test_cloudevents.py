"""The CloudEvents mapping, read back by the CloudEvents Python SDK."""

from __future__ import annotations

import datetime

from cloudevents.core.formats.json import JSONFormat

from waitbus.cloudevents import rfc3339, source_uri, to_cloudevent
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
