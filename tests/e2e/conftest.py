"""Bridge fixtures for the end-to-end tests: a real JetStream server, and hosts with daemons."""

from tests.bridge.nats_server import hosts, nats_server

__all__ = ["hosts", "nats_server"]
