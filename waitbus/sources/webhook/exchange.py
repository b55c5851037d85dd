"""What a webhook route sees and returns: a whole request in, a reply (and drafts) out."""

from __future__ import annotations

from collections.abc import Mapping

from waitbus.event import Draft
from waitbus.record import field, record


@record
class Request:
    """One complete HTTP request; header names are lowercase, repeated headers joined by ", "."""

    method: str
    path: str
    headers: Mapping[str, str]
    body: bytes


@record
class Rejection:
    """Why a body was refused: an HTTP status and a message that says what to fix."""

    status: int
    message: str


@record
class Reply:
    """A route's answer: the status to send and the drafts to commit first."""

    status: int
    message: str
    drafts: tuple[Draft, ...] = field(default=())

    @classmethod
    def refuse(cls, rejection: Rejection) -> Reply:
        return cls(rejection.status, rejection.message)
