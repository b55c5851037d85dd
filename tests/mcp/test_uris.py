"""The waitbus:// resource URIs round-trip, and unknown ones are refused with the known forms."""

from __future__ import annotations

import pytest

from waitbus.errors import UsageError
from waitbus.mcp_server import uris


def test_latest_views_round_trip_subjects_with_slashes_and_spaces() -> None:
    uri = uris.latest("github", "owner/repo name")
    assert uri == "waitbus://latest/github/owner%2Frepo%20name"
    assert uris.parse(uri) == uris.LatestRef("github", "owner/repo name")
    assert uris.parse(uris.latest("agent")) == uris.LatestRef("agent")


def test_event_and_raw_uris_parse_to_their_cursor() -> None:
    assert uris.parse(uris.event(42)) == uris.EventRef(42)
    assert uris.parse(uris.raw(42)) == uris.EventRef(42, raw=True)


@pytest.mark.parametrize("uri", ["waitbus://events/x", "waitbus://nope", "file:///etc/passwd",
                                 "waitbus://latest/", "waitbus://events/1/raw/more"])
def test_unknown_uris_are_refused_with_the_forms_that_exist(uri: str) -> None:
    with pytest.raises(UsageError, match="waitbus://latest/"):
        uris.parse(uri)
