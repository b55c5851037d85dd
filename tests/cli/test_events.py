"""`events get`, `events query`, `tail --match` and `--format cloudevents`, through main()."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cloudevents.core.formats.json import JSONFormat

from waitbus.cli.exits import Exit
from waitbus.cli.main import main


@pytest.fixture
def bus(state_dir: Path, capsys: pytest.CaptureFixture[str]) -> list[str]:
    base = ["--state-dir", str(state_dir)]
    for argv in (["--source", "ci", "--type", "build", "--subject", "o/r", "--conclusion",
                  "failure", "--field", "exit_code=3", "--id", "build-1"],
                 ["--source", "pytest", "--type", "session", "--conclusion", "success"],
                 ["--source", "ci", "--type", "build", "--conclusion", "success",
                  "--field", "exit_code=0"]):
        assert main([*base, "emit", *argv]) == 0
    capsys.readouterr()
    return base


def _lines(capsys: pytest.CaptureFixture[str]) -> list[dict[str, object]]:
    return [json.loads(text) for text in capsys.readouterr().out.splitlines()]


def test_get_by_cursor_and_by_delivery_id_find_the_same_event(
        bus: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*bus, "events", "get", "1", "--json"]) == 0
    by_cursor = _lines(capsys)
    assert main([*bus, "events", "get", "build-1", "--json"]) == 0
    assert _lines(capsys) == by_cursor
    assert by_cursor[0]["fields"] == {"exit_code": 3}


def test_get_with_payload_prints_it(state_dir: Path, capsys: pytest.CaptureFixture[str],
                                    tmp_path: Path) -> None:
    body = tmp_path / "body.json"
    body.write_text('{"raw": 1}')
    base = ["--state-dir", str(state_dir)]
    assert main([*base, "emit", "--source", "gh", "--type", "push", "--payload",
                 f"@{body}"]) == 0
    capsys.readouterr()
    assert main([*base, "events", "get", "1", "--payload", "--json"]) == 0
    assert _lines(capsys)[0]["payload"] == '{"raw": 1}'
    assert main([*base, "events", "get", "1", "--json"]) == 0
    assert "payload" not in _lines(capsys)[0]


def test_get_an_unknown_key_says_how_to_list(bus: list[str],
                                             capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*bus, "events", "get", "99"]) == Exit.USAGE
    assert "waitbus tail" in capsys.readouterr().err


def test_get_as_cloudevent_is_read_by_the_sdk(bus: list[str],
                                              capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*bus, "events", "get", "build-1", "--format", "cloudevents"]) == 0
    read = JSONFormat().read(None, capsys.readouterr().out)
    assert read.get_id() == "build-1"
    assert read.get_source().endswith("/ci")
    assert read.get_extension("waitbuscursor") == "1"


def test_query_prints_rows_and_refuses_a_write(bus: list[str],
                                               capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*bus, "events", "query",
                 "SELECT source, count(*) AS n FROM events GROUP BY source ORDER BY source",
                 "--json"]) == 0
    assert _lines(capsys) == [{"source": "ci", "n": 2}, {"source": "pytest", "n": 1}]
    assert main([*bus, "events", "query", "DELETE FROM events"]) == Exit.USAGE
    assert "read-only: DELETE refused" in capsys.readouterr().err
    assert main([*bus, "events", "query", "SELECT count(*) FROM events"]) == 0
    assert capsys.readouterr().out.splitlines()[1] == "3"


def test_query_says_when_the_row_cap_cut_the_result(
        bus: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*bus, "events", "query", "SELECT cursor FROM events", "--max-rows", "1"]) == 0
    captured = capsys.readouterr()
    assert captured.out.splitlines() == ["cursor", "1"]
    assert "stopped at 1 rows" in captured.err


def test_tail_match_takes_the_full_grammar(bus: list[str],
                                           capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*bus, "tail", "--json", "--match", "fields.exit_code>0"]) == 0
    assert [e["cursor"] for e in _lines(capsys)] == [1]
    assert main([*bus, "tail", "--json", "--source", "ci", "--match", 'subject~"o/*"']) == 0
    assert [e["cursor"] for e in _lines(capsys)] == [1]
    assert main([*bus, "tail", "--json", "--any-of", 'pytest:type="session"',
                 "--any-of", 'ci:conclusion="success"']) == 0
    assert [e["cursor"] for e in _lines(capsys)] == [2, 3]
    assert main([*bus, "tail", "--json", "-n", "1", "--match", 'conclusion!="failure"']) == 0
    assert [e["cursor"] for e in _lines(capsys)] == [3]


def test_tail_with_a_bad_predicate_prints_nothing_and_exits_2(
        bus: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*bus, "tail", "--match", "exit_code>0"]) == Exit.USAGE
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "unknown key" in captured.err


def test_tail_as_cloudevents(bus: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*bus, "tail", "--format", "cloudevents"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [JSONFormat().read(None, text).get_extension("waitbuscursor") for text in lines] \
        == ["1", "2", "3"]
