"""A real `nats-server -js` on a free loopback port, and hosts (daemon + bridge) around it."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.conftest import DaemonProcess
from waitbus.demo import processes
from waitbus.event import Event
from waitbus.paths import resolve
from waitbus.store.store import Store


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class NatsServer:
    """nats-server with JetStream file storage under `root`; restartable on the same port."""

    root: Path
    config: str = ""
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[str] | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def start(self) -> NatsServer:
        binary = shutil.which("nats-server")
        assert binary is not None, ("nats-server is not installed: apt-get install nats-server "
                                    "(.ci/setup.d/50-bench.sh lists it)")
        conf = self.root / "nats.conf"
        conf.write_text(f'listen: "127.0.0.1:{self.port}"\n'
                        f'jetstream {{ store_dir: "{self.root / "js"}" }}\n{self.config}')
        self.proc = processes.start([binary, "-c", str(conf)], ready="Server is ready",
                                    stream="stderr")
        return self

    def stop(self) -> None:
        if self.proc is not None:
            processes.stop(self.proc)
            self.proc = None


@dataclass
class Host:
    """One workstation: its own state directory, daemon and bridge process."""

    name: str
    state_dir: Path
    daemon: DaemonProcess | None = None
    bridge: subprocess.Popen[str] | None = None

    def start(self) -> Host:
        self.daemon = DaemonProcess(self.state_dir).start()
        return self

    def start_bridge(self, url: str, *extra: str) -> subprocess.Popen[str]:
        argv = processes.waitbus_argv(self.state_dir, "-v", "bridge", "nats", "--url", url,
                                      "--host", self.name, *extra)
        self.bridge = processes.start(argv, ready="bridge connected", stream="stdout",
                                      env=child_env())
        return self.bridge

    def bridge_argv(self, url: str, *extra: str) -> list[str]:
        return processes.waitbus_argv(self.state_dir, "bridge", "nats", "--url", url,
                                      "--host", self.name, *extra)

    def stop_bridge(self) -> None:
        if self.bridge is not None:
            processes.stop(self.bridge)
            self.bridge = None

    def kill_bridge(self) -> None:
        assert self.bridge is not None
        self.bridge.kill()
        self.bridge.wait()
        processes.stop(self.bridge)
        self.bridge = None

    def stop(self) -> None:
        self.stop_bridge()
        if self.daemon is not None and self.daemon.proc is not None \
                and self.daemon.proc.poll() is None:
            self.daemon.stop()

    def events(self) -> list[Event]:
        with Store(resolve(self.state_dir), read_only=True) as store:
            out: list[Event] = []
            while batch := store.read_after(out[-1].cursor if out else 0, limit=5000):
                out += batch
            return out


def child_env() -> dict[str, str]:
    return {**os.environ, "PYTHONUNBUFFERED": "1"}


@pytest.fixture
def nats_server() -> Iterator[NatsServer]:
    """A JetStream server on a free loopback port, stopped by PID after the test."""
    root = Path(tempfile.mkdtemp(prefix="wbn-"))
    server = NatsServer(root).start()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def hosts() -> Iterator[tuple[Host, Host]]:
    """Hosts a and b, each with its own state directory and a running daemon."""
    root = Path(tempfile.mkdtemp(prefix="wbh-"))
    pair = (Host("a", root / "a").start(), Host("b", root / "b").start())
    try:
        yield pair
    finally:
        for host in pair:
            host.stop()
        shutil.rmtree(root, ignore_errors=True)


def nkey_pair() -> tuple[str, str]:
    """A fresh NATS user nkey: its seed (the secret) and its public key (for the server)."""
    import nkeys  # type: ignore[import-untyped]

    seed = nkeys.encode_seed(os.urandom(32), nkeys.PREFIX_BYTE_USER)
    public = nkeys.from_seed(bytearray(seed)).public_key.decode()
    return bytes(seed).decode(), public


def tls_files(root: Path) -> tuple[Path, Path, Path]:
    """A throwaway CA and a server certificate for 127.0.0.1: (ca.pem, server.pem, server.key)."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.UTC)
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "waitbus test CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
          .public_key(ca_key.public_key()).serial_number(1)
          .not_valid_before(now - datetime.timedelta(minutes=5))
          .not_valid_after(now + datetime.timedelta(hours=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .sign(ca_key, hashes.SHA256()))
    server = (x509.CertificateBuilder()
              .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
              .issuer_name(ca_name).public_key(key.public_key()).serial_number(2)
              .not_valid_before(now - datetime.timedelta(minutes=5))
              .not_valid_after(now + datetime.timedelta(hours=1))
              .add_extension(x509.SubjectAlternativeName(
                  [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
              .sign(ca_key, hashes.SHA256()))
    paths = (root / "ca.pem", root / "server.pem", root / "server.key")
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(server.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return paths
