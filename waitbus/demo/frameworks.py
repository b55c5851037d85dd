"""Swarm agents on real agent frameworks (Pydantic AI, LangGraph), where they are installed.

`python -m waitbus.demo.frameworks --framework NAME ...` is one such agent; only the swarm demo
starts it. The frameworks are development dependencies, never waitbus's own.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib.metadata
import importlib.util
import sys
from collections.abc import Sequence

from waitbus.demo.agent import Agent, add_arguments
from waitbus.paths import resolve

# name -> (the modules it needs, the distribution whose version names it)
FRAMEWORKS = {
    "pydantic-ai": (("pydantic_ai", "fastmcp"), "pydantic-ai-slim"),
    "langgraph": (("langgraph",), "langgraph"),
}


def installed() -> dict[str, str]:
    """Each framework this interpreter can import, with its version."""
    found: dict[str, str] = {}
    for name, (modules, distribution) in FRAMEWORKS.items():
        if any(importlib.util.find_spec(module) is None for module in modules):
            continue
        with contextlib.suppress(importlib.metadata.PackageNotFoundError):
            found[name] = importlib.metadata.version(distribution)
    return found


async def serve(framework: str, swarm: Agent) -> int:
    """Run one swarm agent on `framework` until the stop event."""
    if framework == "pydantic-ai":
        from waitbus.demo.pydantic_ai_agent import ToolAgent

        return await ToolAgent(swarm).serve()
    from waitbus.demo.langgraph_agent import GraphAgent

    return await GraphAgent(swarm).serve()


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `python -m waitbus.demo.frameworks`."""
    parser = argparse.ArgumentParser(prog="python -m waitbus.demo.frameworks")
    parser.add_argument("--framework", required=True, choices=sorted(FRAMEWORKS))
    add_arguments(parser)
    args = parser.parse_args(argv)
    swarm = Agent(resolve(args.state_dir), args.run, args.name)

    async def bounded() -> int:
        try:
            async with asyncio.timeout(args.lifetime):
                return await serve(args.framework, swarm)
        except TimeoutError:
            return 1

    with contextlib.suppress(KeyboardInterrupt):
        return asyncio.run(bounded())
    return 130


if __name__ == "__main__":
    sys.exit(main())
