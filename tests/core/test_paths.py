"""The state directory and the store's files are private, whatever the umask or the path holds."""

from __future__ import annotations

import ast
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from waitbus.errors import UsageError
from waitbus.paths import resolve
from waitbus.sources import emitter
from waitbus.store.store import Store


def mode(path: Path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


def test_a_symlink_planted_at_the_state_directory_is_refused_and_its_target_untouched(
        tmp_path: Path) -> None:
    target = tmp_path / "victim"
    target.mkdir(mode=0o755)
    target.chmod(0o755)
    planted = tmp_path / "state"
    planted.symlink_to(target)
    # Planted by another user, as in a shared /tmp (the link's owner does not matter here).
    os.lchown(planted, 65534, 65534)
    with pytest.raises(UsageError, match="is a symbolic link"):
        resolve(planted).ensure()
    assert mode(target) == 0o755
    assert list(target.iterdir()) == []


def test_parents_are_created_0700_even_under_umask_000(tmp_path: Path) -> None:
    root = tmp_path / "a" / "b" / "state"
    # A child process, so the umask of this test process (shared by other tests) is untouched.
    script = ("import os, sys; os.umask(0); from waitbus.paths import resolve; "
              "resolve(sys.argv[1]).ensure()")
    subprocess.run([sys.executable, "-c", script, str(root)], check=True, timeout=60)
    for made in (tmp_path / "a", tmp_path / "a" / "b", root):
        assert mode(made) == 0o700, made


def test_store_wal_and_shm_files_are_0600_even_under_umask_000(tmp_path: Path) -> None:
    root = tmp_path / "state"
    # The -wal and -shm files exist while a connection is open, so the child reports them.
    script = ("import os, stat, sys; os.umask(0); from waitbus.paths import resolve; "
              "from waitbus.store.store import Store; from waitbus.sources import emitter; "
              "s = Store(resolve(sys.argv[1])); s.append(emitter.draft('a', 'b')); "
              "print({n: oct(stat.S_IMODE(os.stat(os.path.join(sys.argv[1], n)).st_mode)) "
              "for n in sorted(os.listdir(sys.argv[1]))})")
    done = subprocess.run([sys.executable, "-c", script, str(root)], check=True, timeout=60,
                          capture_output=True, text=True)
    modes = ast.literal_eval(done.stdout)
    assert modes == {"events.db": "0o600", "events.db-shm": "0o600", "events.db-wal": "0o600",
                     "events.lock": "0o600"}


def test_opening_a_store_narrows_wal_and_shm_left_wide_by_an_older_version(
        tmp_path: Path) -> None:
    paths = resolve(tmp_path / "state")
    with Store(paths) as store:
        store.append(emitter.draft("a", "b"))
        for name in ("events.db-wal", "events.db-shm"):
            os.chmod(paths.root / name, 0o644)
        with Store(paths, read_only=True):
            pass
        for name in ("events.db-wal", "events.db-shm"):
            assert mode(paths.root / name) == 0o600, name
