"""Swarm agents on real frameworks, each woken by an event: Pydantic AI through waitbus's MCP
`wait` tool (its own MCP client, FastMCP with the tasks extension), LangGraph through a graph
node that awaits the Python API."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Coroutine
from typing import Any

from pydantic_ai.messages import ModelRequest, ToolCallPart, ToolReturnPart
from pydantic_ai.models import ModelRequestParameters
from pydantic_ai.models.function import AgentInfo

import waitbus
from tests.conftest import DaemonProcess
from waitbus.demo import agent
from waitbus.demo.agent import Agent
from waitbus.demo.langgraph_agent import GraphAgent
from waitbus.demo.pydantic_ai_agent import ToolAgent
from waitbus.event import Event
from waitbus.match import Match
from waitbus.paths import resolve
from waitbus.sources import emitter

# Pydantic AI starts a `waitbus mcp` server of its own; a busy machine takes seconds for it.
BOUND_S = 120.0
Serve = Callable[[Agent], Coroutine[Any, Any, int]]


def said(run: str, step: str) -> Match:
    return Match.of(['type="message"', f'fields.thread="{run}"', f'fields.kind="{step}"'],
                    source="agent")


def seed_then_stop(daemon: DaemonProcess, serve: Serve) -> tuple[Event, Event, int]:
    """Run one agent: wait until it is ready, emit a seed, await its reaction, then stop it."""
    paths = resolve(daemon.state_dir)
    run = uuid.uuid4().hex[:12]

    async def main() -> tuple[Event, Event, int]:
        async with asyncio.timeout(BOUND_S):
            serving = asyncio.create_task(serve(Agent(paths, run, "agent-1")))
            await waitbus.await_for(said(run, agent.READY), since=0, state_dir=paths.root)
            seed, _new = emitter.append(paths, agent.message(run, agent.SEED, "test", "wake up",
                                                             subject="swarm"))
            reaction = await waitbus.await_for(said(run, agent.REACTION), since=seed.cursor,
                                               state_dir=paths.root)
            emitter.append(paths, agent.message(run, agent.STOP, "test", "stop",
                                                subject="swarm"))
            return seed, reaction, await serving

    return asyncio.run(main())


def test_a_pydantic_ai_agent_is_woken_through_the_mcp_wait_tool(daemon: DaemonProcess) -> None:
    seed, reaction, status = seed_then_stop(daemon, lambda swarm: ToolAgent(swarm).serve())
    assert reaction.fields["seed"] == seed.cursor
    woke_ns = reaction.fields["woke_ns"]
    assert isinstance(woke_ns, int)
    assert woke_ns >= seed.received_at
    assert status == 0


def test_a_langgraph_node_is_woken_through_the_python_api(daemon: DaemonProcess) -> None:
    seed, reaction, status = seed_then_stop(daemon, lambda swarm: GraphAgent(swarm).serve())
    assert reaction.fields["seed"] == seed.cursor
    assert status == 0


def test_the_stand_in_model_calls_wait_again_with_the_cursor_when_it_is_pending(
        daemon: DaemonProcess) -> None:
    tool = ToolAgent(Agent(resolve(daemon.state_dir), "r1", "agent-1"))
    pending = ToolReturnPart("wait", {"outcome": "pending", "events": [], "cursor": "7",
                                      "waited_s": 45.0})
    info = AgentInfo(function_tools=[], allow_text_output=True, output_tools=[],
                     model_settings=None, model_request_parameters=ModelRequestParameters(),
                     instructions=None)
    response = tool.decide([ModelRequest(parts=[pending])], info)
    (call,) = response.parts
    assert isinstance(call, ToolCallPart)
    assert call.tool_name == "wait"
    args = call.args_as_dict()
    assert args["since"] == "7"
    assert args["source"] == "agent"
