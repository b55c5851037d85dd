"""Progress reports for long tool calls: rising values, a heartbeat, no error if the client left."""

from __future__ import annotations

import asyncio

from waitbus.mcp_server.progress import Progress


def test_heartbeat_reports_rising_values_until_the_body_ends() -> None:
    async def main() -> list[tuple[float, str]]:
        sent: list[tuple[float, str]] = []
        three = asyncio.Event()

        async def send(value: float, message: str) -> None:
            sent.append((value, message))
            if len(sent) == 3:
                three.set()

        progress = Progress(send)
        await progress.report("live")
        async with asyncio.timeout(5), progress.heartbeat(every_s=0.01):
            await three.wait()
        return sent

    sent = asyncio.run(main())
    values = [value for value, _ in sent]
    assert values == sorted(set(values))
    assert sent[0][1] == "live"
    assert all(message.startswith("still waiting after") for _, message in sent[1:])


def test_a_client_that_left_does_not_fail_the_call() -> None:
    async def gone(_value: float, _message: str) -> None:
        raise BrokenPipeError

    asyncio.run(Progress(gone).report("live"))
