"""A swarm agent built on Pydantic AI: its model calls waitbus's MCP `wait` tool to be woken.

The model is Pydantic AI's offline FunctionModel standing in for an LLM: it calls `wait` through
the agent's own MCP client (`MCPToolset`, FastMCP underneath) on a `waitbus mcp` server, calls it
again with the cursor when it comes back pending, and answers with the event once one arrives.
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any, cast

from fastmcp.client.transports import StdioTransport
from pydantic_ai import Agent as Framework
from pydantic_ai.mcp import MCPToolset
from pydantic_ai.messages import (
    ModelMessage,
    ModelRequest,
    ModelResponse,
    TextPart,
    ToolCallPart,
    ToolReturnPart,
)
from pydantic_ai.models.function import AgentInfo, FunctionModel

from waitbus.consumers.since import NOW
from waitbus.demo.agent import Agent
from waitbus.errors import WaitbusError
from waitbus.event import Event
from waitbus.sources import agents
from waitbus.store.store import Store

PROMPT = "Wait for the next message of the swarm run after cursor {cursor}, then report it."
# Starting `waitbus mcp` (Python, the MCP SDK) takes seconds on a busy machine, not the 5 s
# the toolset allows by default.
START_S = 60.0


class ToolAgent:
    """One swarm agent whose every wake-up is a Pydantic AI run ending in an MCP `wait` result."""

    def __init__(self, swarm: Agent) -> None:
        self.swarm = swarm
        self.cursor = 0
        self.woke_ns = 0
        server = [sys.executable, "-m", "waitbus", "--state-dir", str(swarm.paths.root), "mcp"]
        self.tools = MCPToolset(StdioTransport(command=server[0], args=server[1:],
                                               keep_alive=False), init_timeout=START_S)
        self.framework: Framework[None, str] = Framework(FunctionModel(self.decide),
                                                         toolsets=[self.tools])

    def __repr__(self) -> str:
        return f"<ToolAgent {self.swarm.name} cursor={self.cursor}>"

    async def serve(self) -> int:
        """Run until the stop event; 0 then."""
        self.cursor = NOW.start(self.swarm.paths)
        async with self.framework:  # starts `waitbus mcp` and connects to it
            self.swarm.ready(self.cursor)
            while True:
                result = await self.framework.run(PROMPT.format(cursor=self.cursor))
                event = self._stored(int(json.loads(result.output)["cursor"]))
                self.cursor = event.cursor
                if not self.swarm.react(event, self.woke_ns):
                    return 0

    def decide(self, messages: list[ModelMessage], _info: AgentInfo) -> ModelResponse:
        """The stand-in model: call `wait` until it returns an event, then answer with it."""
        last = messages[-1]
        returned = [p for p in last.parts if isinstance(p, ToolReturnPart)] if isinstance(
            last, ModelRequest) else []
        if not returned:
            return self._wait(self.cursor)
        content: object = returned[-1].content
        if not isinstance(content, dict) or content.get("outcome") not in (
                "matched", "failed", "pending"):
            msg = f"the wait tool answered {content!r}, not a wait result"
            raise WaitbusError(msg)
        data = cast(dict[str, Any], content)
        if data["outcome"] == "pending":
            return self._wait(int(data["cursor"]))
        self.woke_ns = time.time_ns()
        (event,) = data["events"]
        return ModelResponse(parts=[TextPart(json.dumps({"cursor": event["cursor"]}))])

    def _wait(self, cursor: int) -> ModelResponse:
        arguments: dict[str, Any] = {
            "source": agents.SOURCE, "since": str(cursor),
            "match": [f'type="{agents.TYPE}"', f"fields.thread={json.dumps(self.swarm.run)}"]}
        return ModelResponse(parts=[ToolCallPart("wait", arguments)])

    def _stored(self, cursor: int) -> Event:
        with Store(self.swarm.paths, read_only=True) as store:
            event = store.get(cursor, payload=False)
        if event is None:
            msg = f"event {cursor} that the wait returned is not in the store"
            raise WaitbusError(msg)
        return event
