"""A swarm agent built on LangGraph: a graph (no model) whose `wait` node blocks on waitbus.

The graph is wait -> react -> wait ... -> END: the wait node awaits the next message of the run
through the Python API (`waitbus.await_for`), and the react node answers it like every agent.
"""

from __future__ import annotations

import time
from typing import TypedDict

from langchain_core.runnables import RunnableConfig
from langgraph.graph import END, START, StateGraph

import waitbus
from waitbus.consumers.since import NOW
from waitbus.demo.agent import Agent, run_match
from waitbus.event import Event

# Two steps per message, and a run of 64 agents has about 200 messages.
RECURSION_LIMIT = 10_000


class State(TypedDict, total=False):
    cursor: int
    event: Event
    woke_ns: int
    running: bool


class GraphAgent:
    """One swarm agent run as a LangGraph graph."""

    def __init__(self, swarm: Agent) -> None:
        self.swarm = swarm
        graph = StateGraph(State, input_schema=State, output_schema=State)
        graph.add_node("wait", self._wait)
        graph.add_node("react", self._react)
        graph.add_edge(START, "wait")
        graph.add_edge("wait", "react")
        graph.add_conditional_edges("react", lambda state: "wait" if state["running"] else END)
        self.graph = graph.compile()

    def __repr__(self) -> str:
        return f"<GraphAgent {self.swarm.name}>"

    async def serve(self) -> int:
        """Run the graph until the stop event; 0 then."""
        since = NOW.start(self.swarm.paths)
        self.swarm.ready(since)
        start: State = {"cursor": since}
        await self.graph.ainvoke(start, RunnableConfig(recursion_limit=RECURSION_LIMIT))
        return 0

    async def _wait(self, state: State) -> State:
        (match,) = run_match(self.swarm.run).matches_
        event = await waitbus.await_for(match, since=state["cursor"],
                                        state_dir=self.swarm.paths.root)
        return {"event": event, "cursor": event.cursor, "woke_ns": time.time_ns()}

    def _react(self, state: State) -> State:
        return {"running": self.swarm.react(state["event"], state["woke_ns"])}
