"""Agent messages between real processes: inboxes, broadcast, request and respond."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

from tests.conftest import DaemonProcess, run_cli, start_wait
from waitbus import request
from waitbus.paths import resolve
from waitbus.store.store import Store

RESPONDER = textwrap.dedent("""\
    import sys
    from waitbus.messaging import receive, respond
    state_dir, since = sys.argv[1], int(sys.argv[2])
    asked = receive("bob", since=since, timeout_s=30, state_dir=state_dir)
    respond(asked, "pong:" + asked.fields["body"], state_dir=state_dir)
""")


def head(state_dir: Path) -> int:
    with Store(resolve(state_dir)) as store:
        return store.head()


def test_request_returns_the_reply_another_process_sends(daemon: DaemonProcess) -> None:
    state_dir = daemon.state_dir
    responder = subprocess.Popen([sys.executable, "-c", RESPONDER, str(state_dir),
                                  str(head(state_dir))], text=True, stderr=subprocess.PIPE)
    try:
        reply = request("bob", "ping", sender="alice", thread="t1", timeout_s=30,
                        state_dir=state_dir)
    finally:
        _, err = responder.communicate(timeout=30)
    assert responder.returncode == 0, err
    with Store(resolve(state_dir)) as store:
        asked = store.read_after(0)[0]
    assert reply.source == "agent"
    assert reply.type == "message"
    assert reply.fields["body"] == "pong:ping"
    assert (reply.fields["to"], reply.fields["from"]) == ("alice", "bob")
    assert reply.fields["thread"] == "t1"
    assert reply.fields["correlation"] == asked.fields["correlation"]
    assert reply.fields["reply_to"] == asked.delivery_id


def test_message_to_everyone_reaches_every_inbox(daemon: DaemonProcess) -> None:
    bob = start_wait(daemon.state_dir, "--inbox", "bob", "--json", "--timeout", "30s")
    carol = start_wait(daemon.state_dir, "--inbox", "carol", "--json", "--timeout", "30s")
    sent = run_cli(daemon.state_dir, "emit", "--to", "*", "--from", "alice", "--body", "hi all")
    assert sent.returncode == 0, sent.stderr
    for waiter in (bob, carol):
        out, _ = waiter.communicate(timeout=30)
        assert waiter.returncode == 0
        assert json.loads(out)["fields"]["body"] == "hi all"


def test_inbox_skips_messages_for_someone_else(daemon: DaemonProcess) -> None:
    carol = start_wait(daemon.state_dir, "--inbox", "carol", "--json", "--timeout", "30s")
    for to, body in (("bob", "for bob"), ("carol", "for carol")):
        assert run_cli(daemon.state_dir, "emit", "--to", to, "--body", body).returncode == 0
    out, _ = carol.communicate(timeout=30)
    assert json.loads(out)["fields"]["body"] == "for carol"


def test_emit_reply_to_answers_the_sender_and_wakes_its_correlation_wait(
        daemon: DaemonProcess) -> None:
    state_dir = daemon.state_dir
    asked = run_cli(state_dir, "emit", "--to", "bob", "--from", "alice", "--body", "ready?",
                    "--thread", "t9", "--correlation", "c9", "--json")
    asked_event = json.loads(asked.stdout)
    waiter = start_wait(state_dir, "--correlation", "c9", "--since",
                        str(asked_event["cursor"]), "--json", "--timeout", "30s")
    answered = run_cli(state_dir, "emit", "--reply-to", str(asked_event["cursor"]),
                       "--from", "bob", "--body", "yes", "--conclusion", "success")
    assert answered.returncode == 0, answered.stderr
    out, _ = waiter.communicate(timeout=30)
    assert waiter.returncode == 0
    fields = json.loads(out)["fields"]
    assert fields == {"to": "alice", "from": "bob", "body": "yes", "thread": "t9",
                      "correlation": "c9", "reply_to": asked_event["delivery_id"]}


def test_emit_needs_source_and_type_unless_it_is_a_message(state_dir: Path) -> None:
    missing = run_cli(state_dir, "emit", "--source", "ci")
    assert missing.returncode == 2
    assert "give --source and --type" in missing.stderr
    mixed = run_cli(state_dir, "emit", "--source", "ci", "--to", "bob")
    assert mixed.returncode == 2
    assert "drop --source/--type" in mixed.stderr
    unknown = run_cli(state_dir, "emit", "--reply-to", "999", "--body", "x")
    assert unknown.returncode == 2
    assert "no event with that cursor" in unknown.stderr
    assert "Traceback" not in missing.stderr + mixed.stderr + unknown.stderr
    assert head(state_dir) == 0


def test_wait_inbox_refuses_all_of(state_dir: Path) -> None:
    result = run_cli(state_dir, "wait", "--inbox", "bob", "--all-of", 'type="x"')
    assert result.returncode == 2
    assert "inbox and correlation wait for agent messages" in result.stderr
