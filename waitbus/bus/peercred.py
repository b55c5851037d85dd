"""The connecting peer's UID, as the kernel reports it."""

from __future__ import annotations

# The C module under `socket`, whose import builds enums of every constant: a `waitbus wait`
# checks its daemon's UID without paying for them. socket.socket is a _socket.socket.
import _socket
import struct
import sys

# macOS: SOL_LOCAL and LOCAL_PEERCRED from <sys/un.h>; the reply is a struct xucred.
_SOL_LOCAL = 0
_LOCAL_PEERCRED = 0x001
_XUCRED = struct.Struct("=IIh16I")


def peer_uid(sock: _socket.socket) -> int:
    """UID of the process at the other end of an AF_UNIX stream socket."""
    platform: str = sys.platform  # a plain str, so both branches are type-checked here
    if platform == "linux":
        creds = sock.getsockopt(_socket.SOL_SOCKET, _socket.SO_PEERCRED, struct.calcsize("3i"))
        _pid, uid, _gid = struct.unpack("3i", creds)
        return int(uid)
    if platform == "darwin":
        raw = sock.getsockopt(_SOL_LOCAL, _LOCAL_PEERCRED, _XUCRED.size)
        _version, uid, *_groups = _XUCRED.unpack(raw[: _XUCRED.size])
        return int(uid)
    msg = f"peer credentials are not supported on {sys.platform}"
    raise OSError(msg)
