"""The MCP tasks extension (io.modelcontextprotocol/tasks, 2026-07-28): a tool call as a task.

Where a client declares the extension on its request, `tools/call` answers at once with a task
handle and the client polls `tasks/get` until the result is there, so no request timeout of the
client's is in play. Clients without it keep the synchronous call.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import logging
import time
import uuid
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any

import mcp_types as types
from mcp.server.context import ServerRequestContext
from mcp.shared.exceptions import MCPError
from mcp_types.version import MODERN_PROTOCOL_VERSIONS
from pydantic import Field

log = logging.getLogger(__name__)

EXTENSION = "io.modelcontextprotocol/tasks"
# How often a client should poll tasks/get: the most a woken wait lags behind its event. The
# extension has no push a client must accept, so polling is the signal; a poll is one small
# JSON-RPC round trip over the client's own pipe.
POLL_INTERVAL_MS = 250
# How long a finished task's result stays readable after its wait could have ended.
KEEP_S = 600.0

Wire = dict[str, Any]
Job = Coroutine[Any, Any, types.CallToolResult]


class TaskParams(types.RequestParams):
    """tasks/get and tasks/cancel: which task."""

    task_id: str = Field(alias="taskId")


class UpdateParams(TaskParams):
    """tasks/update: answers to input requests (a wait never asks for any)."""

    input_responses: dict[str, Any] = Field(alias="inputResponses", default_factory=dict)


@dataclass
class _Task:
    task_id: str
    job: asyncio.Task[types.CallToolResult]
    created_ns: int
    ttl_ms: int
    updated_ns: int
    cancelled: bool = False
    done_at: float | None = None

    def wire(self) -> Wire:
        """The task as tasks/get shows it: its status, and its result once there is one."""
        body: Wire = {"taskId": self.task_id, "createdAt": _iso(self.created_ns),
                      "lastUpdatedAt": _iso(self.updated_ns), "ttlMs": self.ttl_ms,
                      "pollIntervalMs": POLL_INTERVAL_MS}
        if not self.job.done():
            return {**body, "status": "working"}
        if self.cancelled or self.job.cancelled():
            return {**body, "status": "cancelled", "statusMessage": "cancelled by tasks/cancel"}
        error = self.job.exception()
        if error is not None:
            return {**body, "status": "failed", "statusMessage": f"the call failed: {error}",
                    "error": {"code": types.INTERNAL_ERROR, "message": str(error)}}
        result = self.job.result().model_dump(by_alias=True, mode="json", exclude_none=True)
        return {**body, "status": "completed", "result": {"resultType": "complete", **result}}


class Tasks:
    """The tasks this server runs for its client, each owned here until it is dropped."""

    def __init__(self) -> None:
        self._tasks: dict[str, _Task] = {}

    def __repr__(self) -> str:
        working = sum(not t.job.done() for t in self._tasks.values())
        return f"<Tasks {len(self._tasks)} held, {working} working>"

    @staticmethod
    def negotiated(ctx: ServerRequestContext[Any, Any]) -> bool:
        """Whether this request's client declared the extension, on a protocol that has it."""
        if ctx.protocol_version not in MODERN_PROTOCOL_VERSIONS:
            return False
        capabilities = ctx.session.client_capabilities
        extensions = capabilities.extensions if capabilities is not None else None
        return bool(extensions is not None and EXTENSION in extensions)

    def start(self, job: Job, *, timeout_s: float) -> Wire:
        """Run `job` as a task and return its CreateTaskResult."""
        self._drop_expired()
        now = time.time_ns()
        task = _Task(task_id=str(uuid.uuid4()), job=asyncio.create_task(job), created_ns=now,
                     ttl_ms=int((timeout_s + KEEP_S) * 1000), updated_ns=now)
        task.job.add_done_callback(lambda _job: self._finished(task))
        self._tasks[task.task_id] = task
        log.info("task %s started", task.task_id)
        return {"resultType": "task", **task.wire(),
                "statusMessage": "waiting; poll tasks/get for the result"}

    async def get(self, ctx: ServerRequestContext[Any, Any], params: TaskParams) -> Wire:
        return self._find(ctx, params.task_id).wire()

    async def cancel(self, ctx: ServerRequestContext[Any, Any], params: TaskParams) -> Wire:
        task = self._find(ctx, params.task_id)
        if not task.job.done():
            task.cancelled = True
            task.job.cancel()
        return {}

    async def update(self, ctx: ServerRequestContext[Any, Any], params: UpdateParams) -> Wire:
        # A wait never asks for input, so every response is for no outstanding request: ignored.
        self._find(ctx, params.task_id)
        return {}

    async def close(self) -> None:
        """Cancel every task still working."""
        jobs = [t.job for t in self._tasks.values() if not t.job.done()]
        for job in jobs:
            job.cancel()
        for job in jobs:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await job
        self._tasks.clear()

    def _find(self, ctx: ServerRequestContext[Any, Any], task_id: str) -> _Task:
        if not self.negotiated(ctx):
            msg = f"tasks/* needs the {EXTENSION} extension declared in the request's capabilities"
            raise MCPError(types.MISSING_REQUIRED_CLIENT_CAPABILITY, msg,
                           {"requiredCapabilities": {"extensions": {EXTENSION: {}}}})
        self._drop_expired()
        task = self._tasks.get(task_id)
        if task is None:
            msg = (f"no task {task_id!r}: it never existed or ended more than {KEEP_S:g} s ago; "
                   "call wait again with since set to the last cursor you have")
            raise MCPError(types.INVALID_PARAMS, msg)
        return task

    def _finished(self, task: _Task) -> None:
        task.updated_ns = time.time_ns()
        task.done_at = time.monotonic()
        log.info("task %s %s", task.task_id, task.wire()["status"])

    def _drop_expired(self) -> None:
        now = time.monotonic()
        for task_id, task in list(self._tasks.items()):
            if task.done_at is not None and now - task.done_at > KEEP_S:
                del self._tasks[task_id]


def _iso(ns: int) -> str:
    moment = datetime.datetime.fromtimestamp(ns / 1e9, tz=datetime.UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
