"""Install each built distribution into a fresh venv and run what ships (stdlib only).

For the wheel and for the sdist: a new venv, the locked runtime closure and the distribution with
every extra installed hash-checked (`uv pip install --require-hashes --no-deps`, the sdist built
with the hash-pinned backend), then, from a folder outside the source tree:
`waitbus --version` (the distribution's version), `waitbus demo --repeats 1`,
`waitbus verify --help`, and the daemon's import closure: a real `waitbus serve` is started and
stopped, and every module it had loaded must be the standard library, waitbus or h11.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import tomllib
from pathlib import Path

EXPORT_ARGS = ("export", "--locked", "--all-extras", "--no-dev", "--no-emit-project",
               "--format", "requirements-txt", "--no-header", "--no-annotate", "--quiet")
DAEMON_MAY_IMPORT = frozenset({"__main__", "waitbus", "h11"})
TIMEOUT_S = 300.0
READY_TIMEOUT_S = 60.0


class SmokeFailed(Exception):
    """What was shipped does not install or run."""


def run(argv: list[str], *, cwd: Path | None = None, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=TIMEOUT_S, check=False)
    if done.returncode != 0:
        msg = f"`{' '.join(argv)}` exited {done.returncode}:\n{done.stdout}{done.stderr}"
        raise SmokeFailed(msg)
    return done.stdout


def install(dist: Path, root: Path, work: Path, base: str) -> Path:
    uv = os.environ.get("UV", "uv")
    locked = work / "locked.txt"
    locked.write_text(run([uv, *EXPORT_ARGS], cwd=root))
    extras = sorted(tomllib.loads((root / "pyproject.toml").read_text())["project"]
                    .get("optional-dependencies", {}))
    own = work / "waitbus.txt"
    digest = hashlib.sha256(dist.read_bytes()).hexdigest()
    own.write_text(f"waitbus[{','.join(extras)}] @ {dist.resolve().as_uri()} "
                   f"--hash=sha256:{digest}\n")
    venv = work / "venv"
    run([uv, "venv", "--quiet", "--python", base, str(venv)])
    python = venv / "bin" / "python"
    run([uv, "pip", "install", "--quiet", "--python", str(python), "--require-hashes",
         "--no-deps", "--build-constraints",
         str(root / "packaging" / "release" / "build-constraints.txt"),
         "-r", str(locked), "-r", str(own)])
    run([uv, "pip", "check", "--quiet", "--python", str(python)])
    return venv


# Runs the real CLI in-process and, when the daemon has stopped, writes sys.modules to argv[1].
PROBE = """
import atexit, json, sys
from waitbus.cli.main import main
atexit.register(lambda: open(sys.argv[1], "w").write(json.dumps(sorted(sys.modules))))
sys.exit(main(sys.argv[2:]))
"""


def daemon_closure(venv: Path, work: Path) -> set[str]:
    """Top-level modules a real `waitbus serve` had loaded when it stopped."""
    out = work / "modules.json"
    argv = [str(venv / "bin" / "python"), "-c", PROBE, str(out),
            "--state-dir", str(work / "s"), "serve", "--listen-port", "0"]
    proc = subprocess.Popen(argv, cwd=work, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    # A daemon that never says "serving" is killed after the bound, which ends the read.
    bound = threading.Timer(READY_TIMEOUT_S, proc.kill)
    bound.start()
    try:
        ready = _wait_for_line(proc, "serving")
    finally:
        bound.cancel()
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=READY_TIMEOUT_S)
    if not ready or not out.exists():
        msg = f"`waitbus serve` did not start and stop cleanly; its stderr:\n{stderr[-2000:]}"
        raise SmokeFailed(msg)
    return {name.split(".")[0] for name in json.loads(out.read_text())}


def _wait_for_line(proc: subprocess.Popen[str], word: str) -> bool:
    assert proc.stdout is not None
    # Ends at the word, or when the daemon exits (its output closes).
    return any(word in line for line in proc.stdout)


def smoke(dist: Path, root: Path, base: str, version: str) -> list[str]:
    with tempfile.TemporaryDirectory(prefix="waitbus-smoke-") as tmp:
        work = Path(tmp)
        venv = install(dist, root, work, base)
        waitbus = str(venv / "bin" / "waitbus")
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
        said = run([waitbus, "--version"], cwd=work, env=env).strip()
        if said != f"waitbus {version}":
            msg = f"{dist.name}: `waitbus --version` says {said!r}, not 'waitbus {version}'"
            raise SmokeFailed(msg)
        run([waitbus, "demo", "--repeats", "1"], cwd=work, env=env)
        if "--attestation" not in run([waitbus, "verify", "--help"], cwd=work, env=env):
            msg = f"{dist.name}: `waitbus verify --help` does not describe --attestation"
            raise SmokeFailed(msg)
        loaded = daemon_closure(venv, work)
        foreign = sorted(loaded - set(sys.stdlib_module_names) - DAEMON_MAY_IMPORT)
        if "waitbus" not in loaded or foreign:
            msg = (f"{dist.name}: the daemon imported {foreign or 'no waitbus at all'}; it may "
                   "import only the standard library, waitbus and h11")
            raise SmokeFailed(msg)
        return [said, "demo --repeats 1: all good", "verify --help: ok",
                f"daemon imported {len(loaded)} top-level modules: stdlib, waitbus, h11"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dist", type=Path, required=True, help="folder with wheel and sdist")
    parser.add_argument("--root", type=Path, default=Path.cwd(), help="project root (uv.lock)")
    parser.add_argument("--python", required=True, help="base interpreter of the fresh venvs")
    args = parser.parse_args(argv)
    version = tomllib.loads((args.root / "pyproject.toml").read_text())["project"]["version"]
    dists = sorted(args.dist.glob("*.whl")) + sorted(args.dist.glob("*.tar.gz"))
    if len(dists) != 2:
        print(f"smoke test: {args.dist} must hold one wheel and one sdist", file=sys.stderr)
        return 2
    try:
        for dist in dists:
            for line in smoke(dist, args.root.resolve(), args.python, version):
                print(f"ok: {dist.name}: {line}")
    except (SmokeFailed, subprocess.TimeoutExpired) as exc:
        print(f"smoke test FAILED: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
