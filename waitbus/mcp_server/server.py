"""The MCP server over stdio: lowlevel handlers for the tools, resources and subscriptions."""

from __future__ import annotations

import asyncio
import contextlib
import importlib.metadata
import logging
from collections.abc import AsyncIterator
from typing import Any

# jsonschema comes with mcp (its client validates tool results) and ships no type hints.
import jsonschema  # type: ignore[import-untyped]
import mcp_types as types
from mcp.server.context import ServerRequestContext
from mcp.server.lowlevel import Server
from mcp.server.session import ServerSession
from mcp.server.stdio import stdio_server
from mcp.server.subscriptions import InMemorySubscriptionBus, ListenHandler, ResourceUpdated
from mcp.shared.exceptions import MCPError

from waitbus.consumers.since import NOW
from waitbus.errors import WaitbusError
from waitbus.mcp_server import resources, uris
from waitbus.mcp_server.fence import fenced
from waitbus.mcp_server.instructions import INSTRUCTIONS
from waitbus.mcp_server.progress import Progress
from waitbus.mcp_server.schemas import TASK_WAIT_S
from waitbus.mcp_server.state import Bus
from waitbus.mcp_server.tasks import EXTENSION, TaskParams, Tasks, UpdateParams
from waitbus.mcp_server.tools import TOOLS, ToolSpec
from waitbus.mcp_server.watch import Watcher
from waitbus.paths import StatePaths

log = logging.getLogger(__name__)
_BY_NAME = {spec.name: spec for spec in TOOLS}
# Built once: jsonschema.validate would check the schema itself again on every call.
_CHECKS = {spec.name: jsonschema.Draft202012Validator(spec.input_schema) for spec in TOOLS}
# The resources/read error code for an unknown resource, from the MCP specification.
RESOURCE_NOT_FOUND = -32002


class App:
    """Server-wide state: the bus, the one watcher, and who wants which latest views."""

    def __init__(self, bus: Bus, listeners: InMemorySubscriptionBus) -> None:
        self.bus = bus
        self.subscribed: set[str] = set()
        # stdio serves one connection per process, so one session is the whole audience.
        self.session: ServerSession | None = None
        # subscriptions/listen streams (protocol 2026-07-28 on); each filters by URI itself.
        self.listeners = listeners
        self.tasks = Tasks()
        self._watching: asyncio.Task[None] | None = None

    def __repr__(self) -> str:
        return f"<App subscribed={len(self.subscribed)} {self.bus!r}>"

    def watch(self) -> None:
        """Start the watcher from the store's head now, so every later event is seen."""
        if self._watching is None:
            self.bus.watcher = Watcher(self.bus.paths, self.notify,
                                       cursor=NOW.start(self.bus.paths),
                                       reconnect_s=self.bus.reconnect_s)
            self._watching = asyncio.create_task(self.bus.watcher.run())

    async def notify(self, uri: str) -> None:
        if uri in self.subscribed and self.session is not None:
            try:
                await self.session.send_resource_updated(uri)
            except Exception:  # the client left; the server ends with its stdin
                log.debug("could not send resources/updated for %s", uri, exc_info=True)
        await self.listeners.publish(ResourceUpdated(uri=uri))

    async def close(self) -> None:
        await self.tasks.close()
        if self._watching is not None:
            self._watching.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watching
        self.bus.close()


Context = ServerRequestContext[App, Any]


async def list_tools(ctx: Context, _params: types.PaginatedRequestParams | None,
                     ) -> types.ListToolsResult:
    return types.ListToolsResult(tools=[
        types.Tool(name=spec.name, description=spec.description,
                   input_schema=spec.input_schema, output_schema=spec.output_schema,
                   annotations=types.ToolAnnotations(
                       title=spec.name, read_only_hint=spec.read_only, destructive_hint=False,
                       idempotent_hint=spec.idempotent, open_world_hint=False))
        for spec in TOOLS])


async def call_tool(ctx: Context, params: types.CallToolRequestParams,
                    ) -> types.CallToolResult | dict[str, Any]:
    spec = _BY_NAME.get(params.name)
    if spec is None:
        return _failed(f"no tool {params.name!r}; the tools are {', '.join(_BY_NAME)}")
    args = params.arguments or {}
    try:
        _CHECKS[spec.name].validate(args)
    except jsonschema.ValidationError as exc:
        where = ".".join(str(p) for p in exc.absolute_path) or "arguments"
        return _failed(f"bad {spec.name} arguments: {where}: {exc.message}")
    app = ctx.lifespan_context
    if spec.task and app.tasks.negotiated(ctx):
        args = {"timeout_s": TASK_WAIT_S, **_pinned(app.bus, args)}
        # The spec carries no progress for a task: its client polls tasks/get instead.
        return app.tasks.start(_run(spec, app.bus, args, Progress(_unheard)),
                               timeout_s=float(args["timeout_s"]))

    async def send(value: float, message: str) -> None:
        await ctx.session.report_progress(value, None, message)

    progress = Progress(send)
    if ctx.meta is None or ctx.meta.get("progress_token") is None:
        return await _run(spec, app.bus, args, progress)
    async with progress.heartbeat():
        return await _run(spec, app.bus, args, progress)


def _pinned(bus: Bus, args: dict[str, Any]) -> dict[str, Any]:
    """Start a task's wait at the store's head when it is called, not when it first runs, so an
    event committed as soon as the client holds the task handle still counts."""
    if "since" in args or "sha" in args:  # a sha wait replays the whole store by design
        return args
    return {**args, "since": str(NOW.start(bus.paths))}


async def _unheard(_value: float, _message: str) -> None:
    return None


async def _run(spec: ToolSpec, bus: Bus, args: dict[str, Any],
               progress: Progress) -> types.CallToolResult:
    try:
        reply = await spec.run(bus, args, progress.report)
    except WaitbusError as exc:
        return _failed(str(exc))
    except Exception as exc:
        # Every expected failure is a WaitbusError raised at an edge; this is a bug. The model
        # gets a tool error it can report, and the log keeps the traceback.
        log.exception("tool %s failed", spec.name)
        return _failed(f"internal error in the {spec.name} tool ({type(exc).__name__}); this "
                       "is a bug in waitbus: see the server's log and report it")
    return types.CallToolResult(
        content=[types.TextContent(type="text", text=fenced(reply.summary, reply.data))],
        structured_content=reply.data)


def _failed(message: str) -> types.CallToolResult:
    text = types.TextContent(type="text", text=f"waitbus: {message}")
    return types.CallToolResult(content=[text], is_error=True)


async def list_resources(ctx: Context, _params: types.PaginatedRequestParams | None,
                         ) -> types.ListResourcesResult:
    return types.ListResourcesResult(resources=[
        types.Resource(name=name, uri=uri, mime_type=resources.JSON_MIME)
        for uri, name in resources.listed(ctx.lifespan_context.bus)])


async def list_templates(_ctx: Context, _params: types.PaginatedRequestParams | None,
                         ) -> types.ListResourceTemplatesResult:
    return types.ListResourceTemplatesResult(resource_templates=[
        types.ResourceTemplate(uri_template=t.uri_template, name=t.name,
                               description=t.description, mime_type=t.mime_type)
        for t in resources.TEMPLATES])


async def read_resource(ctx: Context, params: types.ReadResourceRequestParams,
                        ) -> types.ReadResourceResult:
    try:
        found = resources.read(ctx.lifespan_context.bus, params.uri)
    except WaitbusError as exc:
        raise MCPError(RESOURCE_NOT_FOUND, str(exc)) from None
    except Exception as exc:
        log.exception("reading %s failed", params.uri[:200])
        msg = (f"internal error reading the resource ({type(exc).__name__}); this is a bug in "
               "waitbus: see the server's log and report it")
        raise MCPError(types.INTERNAL_ERROR, msg) from None
    return types.ReadResourceResult(contents=[types.TextResourceContents(
        uri=found.uri, mime_type=found.mime_type, text=found.text)])


async def subscribe(ctx: Context, params: types.SubscribeRequestParams) -> types.EmptyResult:
    try:
        ref = uris.parse(params.uri)
    except WaitbusError as exc:
        raise MCPError(types.INVALID_PARAMS, str(exc)) from None
    if not isinstance(ref, uris.LatestRef):
        msg = f"{params.uri} never changes; subscribe to a {uris.LATEST_SOURCE_TEMPLATE} view"
        raise MCPError(types.INVALID_PARAMS, msg)
    app = ctx.lifespan_context
    app.session = ctx.session
    app.subscribed.add(params.uri)
    app.watch()
    return types.EmptyResult()


async def unsubscribe(ctx: Context, params: types.UnsubscribeRequestParams) -> types.EmptyResult:
    ctx.lifespan_context.subscribed.discard(params.uri)
    return types.EmptyResult()


def build(paths: StatePaths, *, reconnect_s: float) -> Server[App]:
    """The server, its handlers registered; `serve` runs it."""

    listeners = InMemorySubscriptionBus()
    listen = ListenHandler(listeners)

    @contextlib.asynccontextmanager
    async def lifespan(_server: Server[App]) -> AsyncIterator[App]:
        app = App(Bus(paths, reconnect_s=reconnect_s), listeners)
        try:
            yield app
        finally:
            await app.close()

    async def on_listen(ctx: Context, params: types.SubscriptionsListenRequestParams,
                        ) -> types.SubscriptionsListenResult:
        ctx.lifespan_context.watch()
        return await listen(ctx, params)

    server: Server[App] = Server(
        "waitbus", version=importlib.metadata.version("waitbus"), instructions=INSTRUCTIONS,
        lifespan=lifespan, on_list_tools=list_tools,
        on_list_resources=list_resources, on_list_resource_templates=list_templates,
        on_read_resource=read_resource, on_subscribe_resource=subscribe,
        on_unsubscribe_resource=unsubscribe, on_subscriptions_listen=on_listen)
    # Registered by method, not on_call_tool=, since a tool call may answer with a task handle.
    server.add_request_handler("tools/call", types.CallToolRequestParams, call_tool)
    server.add_request_handler("tasks/get", TaskParams, _task_get)
    server.add_request_handler("tasks/cancel", TaskParams, _task_cancel)
    server.add_request_handler("tasks/update", UpdateParams, _task_update)
    server.extensions[EXTENSION] = {}
    return server


async def _task_get(ctx: Context, params: TaskParams) -> dict[str, Any]:
    return await ctx.lifespan_context.tasks.get(ctx, params)


async def _task_cancel(ctx: Context, params: TaskParams) -> dict[str, Any]:
    return await ctx.lifespan_context.tasks.cancel(ctx, params)


async def _task_update(ctx: Context, params: UpdateParams) -> dict[str, Any]:
    return await ctx.lifespan_context.tasks.update(ctx, params)


async def serve(paths: StatePaths, *, reconnect_s: float) -> None:
    """Serve MCP on this process's stdin and stdout until the client closes stdin."""
    server = build(paths, reconnect_s=reconnect_s)
    async with stdio_server() as (read, write):
        await server.run(read, write, server.create_initialization_options())
