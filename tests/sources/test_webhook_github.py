"""GitHub deliveries: signed fixture bodies to a real daemon; the normalizer on every fixture."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import run_cli, start_wait
from tests.sources.webhook_client import (
    SECRET,
    deliver,
    fixture,
    fixture_names,
    github_headers,
    listening_daemon,
    post,
    write_secret,
)
from waitbus.demo import processes
from waitbus.event import Conclusion, Event
from waitbus.paths import resolve
from waitbus.secrets import GITHUB_WEBHOOK
from waitbus.sources.webhook import github
from waitbus.sources.webhook.exchange import Rejection
from waitbus.store.store import Store


def _stored(state_dir: Path) -> list[Event]:
    with Store(resolve(state_dir), read_only=True) as store:
        return list(store.read_after(0))


def test_signed_failed_job_delivery_is_stored_and_fails_a_wait(state_dir: Path) -> None:
    write_secret(state_dir, GITHUB_WEBHOOK, SECRET)
    body = fixture("workflow_job.completed.failure.with-organization")
    with listening_daemon(state_dir) as (url, _proc):
        waiter = start_wait(state_dir, "--source", "github", "--match", 'type="workflow_job"',
                            "--timeout", "20s")
        answer = deliver(url, "workflow_job", "d-job-1", body)
        assert answer.status == 200
        assert waiter.wait(20) == 1
        processes.stop(waiter)
        with Store(resolve(state_dir), read_only=True) as store:
            (event,) = store.read_after(0, payload=True)
    assert event.delivery_id == "github:d-job-1"
    assert event.subject == "Codertocat/Hello-World"
    assert event.conclusion is Conclusion.FAILURE
    assert event.fields["job_name"] == "linters"
    assert event.fields["workflow_name"] == "CodeQL"
    assert event.fields["run_id"] == 2202229078
    assert event.fields["head_sha"] == "3484a3fb816e0859fd6e1cea078d76385ff50625"
    assert event.fields["attempt"] == 1
    assert event.payload == body.decode()


def test_redelivery_is_a_no_op_and_ping_is_recorded(state_dir: Path) -> None:
    write_secret(state_dir, GITHUB_WEBHOOK, SECRET)
    run = fixture("workflow_run.completed")
    with listening_daemon(state_dir) as (url, _proc):
        assert deliver(url, "workflow_run", "d-1", run).status == 200
        again = deliver(url, "workflow_run", "d-1", run)
        assert deliver(url, "ping", "d-ping", fixture("ping")).status == 200
        assert deliver(url, "push", "d-push", b'{"repository":{"full_name":"a/b"}}').status == 202
    assert again.status == 200
    assert "redelivery" in str(again.body["message"])
    events = _stored(state_dir)
    assert [(e.type, e.delivery_id) for e in events] == [
        ("workflow_run", "github:d-1"), ("ping", "github:d-ping"), ("push", "github:d-push")]


def test_wrong_or_missing_signature_gets_401_and_stores_nothing(state_dir: Path) -> None:
    write_secret(state_dir, GITHUB_WEBHOOK, SECRET)
    body = fixture("workflow_run.completed")
    wrong = github_headers("workflow_run", "d-1", body, secret=b"not the secret")
    missing = {k: v for k, v in wrong.items() if k != "X-Hub-Signature-256"}
    malformed = {**wrong, "X-Hub-Signature-256": "sha1=abc"}
    with listening_daemon(state_dir) as (url, _proc):
        for headers in (wrong, missing, malformed):
            assert post(url, "/github", body, headers).status == 401
        assert deliver(url, "workflow_run", "d-2", body).status == 200
    assert [e.delivery_id for e in _stored(state_dir)] == ["github:d-2"]


def test_a_bad_listen_port_is_a_usage_error(state_dir: Path) -> None:
    done = run_cli(state_dir, "serve", "--listen-port", "http")
    assert done.returncode == 2
    assert "--listen-port 'http'" in done.stderr


def test_no_secret_configured_answers_503_saying_how_to_set_it(state_dir: Path) -> None:
    body = fixture("ping")
    with listening_daemon(state_dir) as (url, _proc):
        answer = deliver(url, "ping", "d-1", body)
    assert answer.status == 503
    assert "waitbus secret set github-webhook" in str(answer.body["error"])


@pytest.mark.parametrize("name", fixture_names())
def test_every_fixture_normalizes_to_one_draft_with_the_common_fields(name: str) -> None:
    event = name.split(".")[0]
    body = fixture(name)
    drafts = github.normalize(event, "d", body, received_at=1)
    assert not isinstance(drafts, Rejection)
    (draft,) = drafts
    assert draft.type == event
    assert draft.fields["event"] == event
    parsed = json.loads(body)
    if event in github.CI_EVENTS:
        item = parsed[event]
        assert draft.fields["head_sha"] == item["head_sha"]
        assert draft.fields["status"] == item["status"]
        assert draft.subject == parsed["repository"]["full_name"]
        assert (draft.conclusion is None) == (item["status"] != "completed")


def test_workflow_run_name_falls_back_to_the_workflow_object() -> None:
    body = fixture("workflow_run.completed")
    assert json.loads(body)["workflow_run"]["name"] == ""
    drafts = github.normalize("workflow_run", "d", body, received_at=1)
    assert not isinstance(drafts, Rejection)
    assert drafts[0].fields["workflow_name"] == json.loads(body)["workflow"]["name"]
    assert drafts[0].fields["run_id"] == 289782451


@pytest.mark.parametrize(("raw", "expected"), [
    ("success", Conclusion.SUCCESS), ("neutral", Conclusion.SUCCESS),
    ("skipped", Conclusion.SUCCESS), ("failure", Conclusion.FAILURE),
    ("action_required", Conclusion.FAILURE), ("startup_failure", Conclusion.FAILURE),
    ("cancelled", Conclusion.CANCELLED), ("stale", Conclusion.CANCELLED),
    ("timed_out", Conclusion.TIMED_OUT), ("something new", None),
])
def test_github_conclusions_fold_into_the_event_model(raw: str,
                                                      expected: Conclusion | None) -> None:
    assert github.conclusion_of("completed", raw) is expected
    assert github.conclusion_of("in_progress", raw) is None


def test_a_ci_event_without_its_object_is_rejected() -> None:
    rejected = github.normalize("workflow_run", "d", b'{"action":"completed"}', received_at=1)
    assert isinstance(rejected, Rejection)
    assert rejected.status == 400
