"""The blocking API refuses to run inside an event loop and names the asyncio twin."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from waitbus import UsageError, subscribe, wait_for


def test_wait_for_inside_a_loop_points_at_await_for(state_dir: Path) -> None:
    async def inside() -> None:
        with pytest.raises(UsageError, match="await await_for"):
            wait_for(source="x", timeout_s=0.1, state_dir=state_dir)

    asyncio.run(inside())


def test_subscribe_inside_a_loop_points_at_asubscribe(state_dir: Path) -> None:
    async def inside() -> None:
        with pytest.raises(UsageError, match="async for event in asubscribe"):
            next(subscribe(source="x", state_dir=state_dir))

    asyncio.run(inside())
