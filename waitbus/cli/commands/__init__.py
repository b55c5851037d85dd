"""The commands: each a module with register(subparsers) and run(args) -> int.

COMMANDS is each command's one-line summary, the only copy: `waitbus --help` lists it without
importing the modules, and each module's register() passes it on through `command()`.
"""

from __future__ import annotations

# argparse for the type checker only: `waitbus hook-event` reads COMMANDS without a parser.
TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse

COMMANDS = {
    "init": "create the state directory (0700) and the event store",
    "serve": "run the daemon in the foreground",
    "stop": "stop the daemon serving this state directory (exit 69 when none does)",
    "emit": "commit one event and wake the daemon",
    "wait": "block until a matching event; exit 0 success, 1 failure, 124 timeout",
    "on": "run a command (no shell) for each matching event",
    "tail": "list recent events (and follow new ones)",
    "watch": "print one line per matching event (for Claude Code's Monitor tool)",
    "status": "show the daemon's state (exit 69 when it is down)",
    "events": "fetch one stored event, or query the store read-only",
    "prune": "delete old events now (the daemon also prunes as events arrive)",
    "stats": "waits served, wake latency, and the polling they avoided",
    "demo": "run a daemon in a temporary directory and wake real waits",
    "mcp": "serve MCP over stdio: wait, events, get_event, emit, status and resources",
    "swarm-demo": "N agent processes on one bus: a seed wakes all, a death is noticed",
    "top": "a live view of the bus: events per source and subject, rate, lag",
    "verify": "verify the installed waitbus against its signed release",
    "install-systemd": "verify waitbus, then install its user service",
    "uninstall-systemd": "remove the user service install-systemd wrote",
    "install-launchd": "verify waitbus, then install its LaunchAgent",
    "uninstall-launchd": "remove the LaunchAgent install-launchd wrote",
    "secret": "store a secret the daemon reads (webhook keys, tokens)",
    "sources": "list built-in sources and plugins with their trust status",
    "bridge": "link this bus to other hosts' through NATS JetStream",
    "hooks": "wire an agent client's hooks to emit its lifecycle events (install, status)",
    "hook-event": "record an agent client's hook call as a lifecycle event (exits 0)",
    "doctor": "check the set-up: daemon, state directory, extras, clients; says what to fix",
}


def command(sub: argparse._SubParsersAction[argparse.ArgumentParser], name: str, *,
            description: str | None = None, epilog: str | None = None,
            formatter_class: type[argparse.HelpFormatter] | None = None,
            ) -> argparse.ArgumentParser:
    """Add command `name`'s parser, its help the summary in COMMANDS.

    `waitbus NAME --help` opens with `description`, else with the summary as a sentence.
    """
    summary = COMMANDS[name]
    description = description or summary[:1].upper() + summary[1:] + "."
    if formatter_class is None:  # the parser's own default formatter
        return sub.add_parser(name, help=COMMANDS[name], description=description, epilog=epilog)
    return sub.add_parser(name, help=COMMANDS[name], description=description, epilog=epilog,
                          formatter_class=formatter_class)
