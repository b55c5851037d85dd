"""What a webhook route sees and returns: a whole request in, a reply (and drafts) out."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from waitbus.event import Draft


@dataclass(frozen=True, slots=True)
class Request:
    """One complete HTTP request; header names are lowercase, repeated headers joined by ", "."""

    method: str
    path: str
    headers: Mapping[str, str]
    body: bytes


@dataclass(frozen=True, slots=True)
class Rejection:
    """Why a body was refused: an HTTP status and a message that says what to fix."""

    status: int
    message: str


@dataclass(frozen=True, slots=True)
class Reply:
    """A route's answer: the status to send and the drafts to commit first."""

    status: int
    message: str
    drafts: tuple[Draft, ...] = field(default=())

    @classmethod
    def refuse(cls, rejection: Rejection) -> Reply:
        return cls(rejection.status, rejection.message)
