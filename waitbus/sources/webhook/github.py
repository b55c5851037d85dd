"""GitHub webhooks: check the signature, then turn a delivery into drafts."""

from __future__ import annotations

import re

from waitbus.event import JSON, Conclusion, Draft, JSONObject
from waitbus.sources.webhook import body
from waitbus.sources.webhook.exchange import Rejection, Reply, Request

SOURCE = "github"
SETUP_HELP = (
    "no GitHub webhook secret is set; set one with `waitbus secret set github-webhook` "
    "and give the repository's webhook the same secret"
)
# The events whose workflow facts are normalized into fields; the key names their object.
CI_EVENTS = ("workflow_run", "workflow_job", "check_suite")
_SIGNATURE = re.compile(r"sha256=([0-9a-fA-F]{64})")
# GitHub's conclusions, folded into the four the event model knows. neutral and skipped did
# not fail; action_required is a run that cannot pass without a person; stale is a run GitHub
# gave up on because it was superseded, which is what cancelled means here.
CONCLUSIONS = {
    "success": Conclusion.SUCCESS,
    "neutral": Conclusion.SUCCESS,
    "skipped": Conclusion.SUCCESS,
    "failure": Conclusion.FAILURE,
    "startup_failure": Conclusion.FAILURE,
    "action_required": Conclusion.FAILURE,
    "cancelled": Conclusion.CANCELLED,
    "stale": Conclusion.CANCELLED,
    "timed_out": Conclusion.TIMED_OUT,
}


def handle(request: Request, secret: bytes | None, *, received_at: int) -> Reply:
    """Answer one delivery to `POST /github`; drafts only come with a valid signature."""
    if not secret:
        return Reply(503, SETUP_HELP)
    if not signature_valid(secret, request.body, request.headers.get("x-hub-signature-256")):
        return Reply(401, "missing, malformed or wrong X-Hub-Signature-256; check that the "
                          "webhook's secret matches `waitbus secret set github-webhook`")
    event = request.headers.get("x-github-event")
    delivery = request.headers.get("x-github-delivery")
    if not event or not delivery:
        return Reply(400, "a GitHub delivery needs X-GitHub-Event and X-GitHub-Delivery headers")
    drafts = normalize(event, delivery, request.body, received_at=received_at)
    if isinstance(drafts, Rejection):
        return Reply.refuse(drafts)
    status = 200 if event in (*CI_EVENTS, "ping") else 202
    return Reply(status, f"recorded {event}", tuple(drafts))


def signature_valid(secret: bytes, payload: bytes, header: str | None) -> bool:
    """True when `header` is `sha256=<hex>` of the HMAC-SHA256 of `payload`, in constant time."""
    if header is None:
        return False
    found = _SIGNATURE.fullmatch(header.strip())
    if found is None:
        return False
    # Here, not above: hmac loads OpenSSL's libcrypto, over 3 MB of an idle daemon's memory.
    import hashlib
    import hmac

    expected = hmac.new(secret, payload, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, found.group(1).lower())


def normalize(event: str, delivery: str, payload: bytes, *,
              received_at: int) -> list[Draft] | Rejection:
    """Drafts for one verified delivery of `event`, or why its body cannot be used."""
    parsed = body.parse(payload, f"the {event} delivery body")
    if isinstance(parsed, Rejection):
        return parsed
    if event in CI_EVENTS and not isinstance(parsed.get(event), dict):
        return Rejection(400, f"a {event} delivery needs a {event!r} object")
    text = payload.decode("utf-8")
    return body.checked(lambda: [Draft(
        source=SOURCE,
        type=event,
        delivery_id=f"github:{delivery}",
        received_at=received_at,
        subject=_subject(parsed),
        conclusion=_verdict(event, parsed),
        fields=fields_of(event, parsed),
        payload=text,
    )])


def conclusion_of(status: str | None, conclusion: str | None) -> Conclusion | None:
    """The event's conclusion: set only once GitHub says the thing has completed."""
    if status != "completed" or conclusion is None:
        return None
    return CONCLUSIONS.get(conclusion)


def fields_of(event: str, parsed: JSONObject) -> JSONObject:
    """The matchable facts of a delivery: the common ones, plus workflow facts for CI events."""
    fields: JSONObject = {
        "event": event,
        "action": body.text(parsed, "action"),
        "repo": _subject(parsed),
        "sender": body.text(body.obj(parsed, "sender"), "login"),
    }
    if event == "ping":
        fields["zen"] = body.text(parsed, "zen")
        fields["hook_id"] = body.integer(parsed, "hook_id")
    elif event in CI_EVENTS:
        fields.update(_ci_fields(event, parsed))
    return fields


def _ci_fields(event: str, parsed: JSONObject) -> dict[str, JSON]:
    item = body.obj(parsed, event)
    common: dict[str, JSON] = {
        "branch": body.text(item, "head_branch"),
        "head_sha": body.text(item, "head_sha"),
        "status": body.text(item, "status"),
        "conclusion": body.text(item, "conclusion"),
    }
    if event == "workflow_run":
        name = body.text(item, "name") or body.text(body.obj(parsed, "workflow"), "name")
        return {**common, "run_id": body.integer(item, "id"), "workflow_name": name,
                "job_name": None, "attempt": body.integer(item, "run_attempt"),
                "check_suite_id": body.integer(item, "check_suite_id")}
    if event == "workflow_job":
        return {**common, "run_id": body.integer(item, "run_id"),
                "workflow_name": body.text(item, "workflow_name"),
                "job_name": body.text(item, "name"), "job_id": body.integer(item, "id"),
                "attempt": body.integer(item, "run_attempt")}
    return {**common, "run_id": None, "workflow_name": None, "job_name": None, "attempt": None,
            "suite_id": body.integer(item, "id"),
            "app": body.text(body.obj(item, "app"), "slug")}


def _verdict(event: str, parsed: JSONObject) -> Conclusion | None:
    if event not in CI_EVENTS:
        return None
    item = body.obj(parsed, event)
    return conclusion_of(body.text(item, "status"), body.text(item, "conclusion"))


def _subject(parsed: JSONObject) -> str | None:
    repo = body.text(body.obj(parsed, "repository"), "full_name")
    return repo if repo is not None else body.text(body.obj(parsed, "organization"), "login")
