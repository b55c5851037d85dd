"""`waitbus emit --batch`: JSON lines on stdin, committed together, bad lines said by number."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import run_cli
from waitbus.cli.exits import Exit
from waitbus.paths import resolve
from waitbus.store.store import Store


def _lines(*objects: object) -> str:
    return "".join(json.dumps(obj) + "\n" for obj in objects)


def test_batch_stores_every_line_in_order_and_prints_each(state_dir: Path) -> None:
    events = [{"source": "ci", "type": "step", "fields": {"n": n}} for n in range(200)]
    done = run_cli(state_dir, "emit", "--batch", "--json", input=_lines(*events))
    assert done.returncode == 0, done.stderr
    printed = [json.loads(text) for text in done.stdout.splitlines()]
    assert [p["fields"]["n"] for p in printed] == list(range(200))
    with Store(resolve(state_dir), read_only=True) as store:
        assert [e.fields["n"] for e in store.read_after(0, limit=500)] == list(range(200))


def test_batch_takes_every_event_key_and_a_last_line_without_newline(state_dir: Path) -> None:
    full = {"source": "ci", "type": "build", "subject": "me/repo", "conclusion": "failure",
            "fields": {"exit_code": 2}, "payload": "log", "delivery_id": "run-7"}
    done = run_cli(state_dir, "emit", "--batch", "--json",
                   input=_lines(full) + "\n  \n" + json.dumps({"source": "a", "type": "b"}))
    assert done.returncode == 0, done.stderr
    first, second = (json.loads(text) for text in done.stdout.splitlines())
    assert {k: first[k] for k in ("subject", "conclusion", "fields", "delivery_id")} == {
        "subject": "me/repo", "conclusion": "failure", "fields": {"exit_code": 2},
        "delivery_id": "run-7"}
    assert second["source"] == "a"
    with Store(resolve(state_dir), read_only=True) as store:
        stored = store.get(first["cursor"])
        assert stored is not None
        assert stored.payload == "log"


def test_a_bad_line_is_named_and_the_lines_before_it_stay_stored(state_dir: Path) -> None:
    text = _lines({"source": "a", "type": "ok"}, {"source": "a", "type": "ok"}) + "{oops\n" + \
        _lines({"source": "a", "type": "after"})
    done = run_cli(state_dir, "emit", "--batch", input=text)
    assert done.returncode == Exit.USAGE
    assert "stdin line 3" in done.stderr
    assert "Traceback" not in done.stderr
    with Store(resolve(state_dir), read_only=True) as store:
        assert [e.type for e in store.read_after(0)] == ["ok", "ok"]


def test_unknown_keys_and_wrong_types_are_refused_by_line(state_dir: Path) -> None:
    for bad, says in (({"source": "a", "type": "b", "colour": 1}, "unknown key 'colour'"),
                      ({"source": "a"}, '"source" and "type"'),
                      ({"source": "a", "type": "b", "fields": [1]}, "fields must be"),
                      ({"source": "a", "type": "b", "subject": 3}, "subject must be"),
                      ({"source": "a", "type": "b", "conclusion": "won"}, "one of success"),
                      ([1, 2], "must be a JSON object")):
        done = run_cli(state_dir, "emit", "--batch", input=_lines(bad))
        assert done.returncode == Exit.USAGE, bad
        assert "stdin line 1" in done.stderr
        assert says in done.stderr, done.stderr


def test_batch_refuses_single_event_flags(state_dir: Path) -> None:
    done = run_cli(state_dir, "emit", "--batch", "--source", "ci", "--to", "x",
                   input=_lines({"source": "a", "type": "b"}))
    assert done.returncode == Exit.USAGE
    assert "drop --source, --to" in done.stderr
