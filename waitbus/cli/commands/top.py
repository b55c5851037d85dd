"""`waitbus top`: a live view of the bus, redrawn only when events arrive."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shutil
import signal
import sys
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING

from waitbus.cli.commands import command
from waitbus.cli.output import line, use_colour
from waitbus.cli.state import paths_from, reconnect_s
from waitbus.event import Event, dump_json
from waitbus.untrusted import escape

if TYPE_CHECKING:
    from waitbus.consumers.top import Snapshot, Watch

ENTER_SCREEN = "\x1b[?1049h\x1b[?25l"
LEAVE_SCREEN = "\x1b[?25h\x1b[?1049l"
HOME_CLEAR = "\x1b[H\x1b[2J"


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = command(
        sub, "top",
        description="On a terminal, a full-screen view redrawn whenever events arrive (q or "
        "Ctrl-C quits). Otherwise, or with --json, one line per new event.")
    p.add_argument("--json", action="store_true",
                   help="JSON lines: each new event with the rate and the daemon's state")
    p.add_argument("--backlog", type=int, default=50, metavar="N",
                   help="recent events to load from the store at start (default 50)")


def run(args: argparse.Namespace) -> int:
    from waitbus.consumers.top import TopView, Watch

    view = TopView()
    watch = Watch(paths_from(args), view, backlog=args.backlog, reconnect_s=reconnect_s())
    if args.json or not sys.stdout.isatty():
        asyncio.run(_stream(watch, as_json=args.json))
    else:
        asyncio.run(_screen(watch, str(paths_from(args).root)))
    return 0


async def _stream(watch: Watch, *, as_json: bool) -> None:
    async for batch in watch.batches():
        snap = watch.view.snapshot()
        for event in batch:
            print(_json_record(event, snap) if as_json else _stream_line(event, snap), flush=True)


def _stream_line(event: Event, snap: Snapshot) -> str:
    return f"{line(event)}  ({snap.rate_per_min:.0f}/min)"


def _json_record(event: Event, snap: Snapshot) -> str:
    daemon = snap.daemon
    return dump_json({
        "event": event.to_json(),
        "rate_per_min": snap.rate_per_min,
        "subscribers": None if daemon is None else len(daemon.subscribers),
        "max_lag": None if daemon is None else daemon.max_lag,
    })


async def _screen(watch: Watch, where: str) -> None:
    loop = asyncio.get_running_loop()
    colour = use_colour()
    drawn = False

    def draw() -> None:
        if drawn:  # nothing to show before the first batch: no status yet
            size = shutil.get_terminal_size()
            body = render(watch.view.snapshot(), where, size.columns, size.lines, colour)
            sys.stdout.write(HOME_CLEAR + "\r\n".join(body))
            sys.stdout.flush()

    async def follow() -> None:
        nonlocal drawn
        async for _batch in watch.batches():
            drawn = True
            draw()

    following = asyncio.ensure_future(follow())

    def on_key() -> None:
        if "q" in os.read(sys.stdin.fileno(), 64).decode(errors="replace").lower():
            following.cancel()

    with _terminal(), contextlib.ExitStack() as stack:
        loop.add_signal_handler(signal.SIGWINCH, draw)
        stack.callback(loop.remove_signal_handler, signal.SIGWINCH)
        if sys.stdin.isatty():
            loop.add_reader(sys.stdin.fileno(), on_key)
            stack.callback(loop.remove_reader, sys.stdin.fileno())
        with contextlib.suppress(asyncio.CancelledError):
            await following


@contextlib.contextmanager
def _terminal() -> Iterator[None]:
    """Alternate screen, hidden cursor and (when stdin is a terminal) single-key input."""
    saved = None
    if sys.stdin.isatty():
        import termios
        import tty

        saved = termios.tcgetattr(sys.stdin.fileno())
        tty.setcbreak(sys.stdin.fileno())
    sys.stdout.write(ENTER_SCREEN)
    sys.stdout.flush()
    try:
        yield
    finally:
        sys.stdout.write(LEAVE_SCREEN)
        sys.stdout.flush()
        if saved is not None:
            import termios

            termios.tcsetattr(sys.stdin.fileno(), termios.TCSADRAIN, saved)


def render(snap: Snapshot, where: str, width: int, height: int, colour: bool) -> list[str]:
    """The screen as lines, fitted to `width` x `height`."""
    rows_room = max(1, (height - 6) // 2)
    out = [_paint(_header(snap, where), "1", colour), "",
           _paint(f"{'SOURCE':<14} {'SUBJECT':<32} {'COUNT':>6}  {'LAST':<28} "
                  f"{'CURSOR':>8}  TIME", "4", colour)]
    for row in snap.rows[:rows_room]:
        last = row.last
        verdict = f" {last.conclusion}" if last.conclusion else ""
        text = (f"{escape(row.source):<14.14} {escape(row.subject or '-'):<32.32} "
                f"{row.count:>6}  {(escape(last.type) + verdict):<28.28} "
                f"{'#' + str(last.cursor):>8}  {_clock(last)}")
        out.append(_verdict_colour(text, last, colour))
    out += ["", _paint("recent events", "1", colour)]
    room = max(0, height - len(out) - 1)
    for event in snap.recent[-room:] if room else ():
        out.append(_verdict_colour(f"{_clock(event)} {event}", event, colour))
    out.append(_paint("q quits; redrawn on each event", "2", colour))
    return [_fit(text, width) for text in out[:height]]


def _header(snap: Snapshot, where: str) -> str:
    rate = f"{snap.rate_per_min:.0f} events/min, {snap.total} seen"
    if snap.daemon is None:
        return f"waitbus top  {where}  daemon: down ({snap.down})  {rate}"
    d = snap.daemon
    return (f"waitbus top  {where}  pid {d.pid}  head #{d.head}  subscribers {len(d.subscribers)}"
            f"  max lag {d.max_lag}  lagged {d.lagged}  {rate}")


def _clock(event: Event) -> str:
    return time.strftime("%H:%M:%S", time.localtime(event.received_at / 1e9))


def _verdict_colour(text: str, event: Event, colour: bool) -> str:
    if event.conclusion is None:
        return text
    return _paint(text, "31" if event.conclusion.failed else "32", colour)


def _paint(text: str, code: str, colour: bool) -> str:
    return f"\x1b[{code}m{text}\x1b[0m" if colour else text


def _fit(text: str, width: int) -> str:
    """Cut a line to `width` visible characters, keeping a trailing colour reset."""
    if text.startswith("\x1b["):
        start = text.index("m") + 1
        inner = text[start:-4][:width]
        return text[:start] + inner + "\x1b[0m"
    return text[:width]
