"""Alertmanager webhooks: check the bearer token or basic-auth password, one draft per alert."""

from __future__ import annotations

from waitbus.errors import UsageError
from waitbus.event import Conclusion, Draft, JSONObject
from waitbus.sources.webhook import body
from waitbus.sources.webhook.exchange import Rejection, Reply, Request

SOURCE = "alertmanager"
SETUP_HELP = (
    "no Alertmanager token is set; set one with `waitbus secret set alertmanager-token` and "
    "put it in the receiver's http_config (authorization credentials or basic_auth password)"
)
# A firing alert means something is wrong now; its resolution is the all-clear.
CONCLUSIONS = {"firing": Conclusion.FAILURE, "resolved": Conclusion.SUCCESS}


def handle(request: Request, token: bytes | None, *, received_at: int) -> Reply:
    """Answer one notification to `POST /alertmanager`; drafts only with the right token."""
    if not token:
        return Reply(503, SETUP_HELP)
    if not authorized(request.headers.get("authorization"), token):
        return Reply(401, "missing or wrong Authorization; Alertmanager must send the token set "
                          "with `waitbus secret set alertmanager-token`")
    drafts = normalize(request.body, received_at=received_at)
    if isinstance(drafts, Rejection):
        return Reply.refuse(drafts)
    return Reply(200, f"recorded {len(drafts)} alerts", tuple(drafts))


def authorized(header: str | None, token: bytes) -> bool:
    """True for `Bearer <token>` or `Basic <user:token>`, compared in constant time."""
    if header is None:
        return False
    # Here, not above: hmac loads OpenSSL's libcrypto, over 3 MB of an idle daemon's memory.
    import base64
    import binascii
    import hmac

    scheme, _, value = header.strip().partition(" ")
    presented = value.strip().encode("utf-8", "surrogateescape")
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(presented, validate=True)
        except (binascii.Error, ValueError):
            return False
        presented = decoded.partition(b":")[2]
    elif scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(presented, token)


def normalize(payload: bytes, *, received_at: int) -> list[Draft] | Rejection:
    """One draft per alert in the notification's group, or why the body cannot be used."""
    parsed = body.parse(payload, "the Alertmanager notification body")
    if isinstance(parsed, Rejection):
        return parsed
    alerts = parsed.get("alerts")
    if not isinstance(alerts, list) or not all(isinstance(a, dict) for a in alerts):
        return Rejection(400, "an Alertmanager notification needs an 'alerts' list of objects")
    group: JSONObject = {"receiver": body.text(parsed, "receiver"),
                         "group_key": body.text(parsed, "groupKey")}
    return body.checked(
        lambda: [_draft(a, group, received_at) for a in alerts if isinstance(a, dict)])


def _draft(alert: JSONObject, group: JSONObject, received_at: int) -> Draft:
    labels = body.obj(alert, "labels")
    status = body.text(alert, "status")
    fingerprint = body.text(alert, "fingerprint")
    starts_at = body.text(alert, "startsAt")
    if status not in CONCLUSIONS or not fingerprint or not starts_at:
        msg = "every alert needs status firing or resolved, a fingerprint and startsAt"
        raise UsageError(msg)
    name = body.text(labels, "alertname")
    return Draft(
        source=SOURCE,
        type="alert",
        delivery_id=f"alertmanager:{fingerprint}:{status}:{starts_at}",
        received_at=received_at,
        subject=name,
        conclusion=CONCLUSIONS[status],
        fields={"alertname": name, "severity": body.text(labels, "severity"), "status": status,
                "labels": labels, "annotations": body.obj(alert, "annotations"),
                "fingerprint": fingerprint, "starts_at": starts_at,
                "ends_at": body.text(alert, "endsAt"), **group},
    )
