"""Which process is at the other end of a loopback TCP connection (Linux, from /proc).

A Runtime API answers only its own environment's processes: the client's socket is looked up
by its addresses (its inode, and the uid that owns it), then searched for among the open files
of the environment's processes. The lookup asks the kernel for that one socket over netlink
(sock_diag, ~25 us); /proc/net/tcp, which lists every socket of the machine (~8 ms with 1,600 of
them), is the fallback. The wire formats are pure functions, apart from the reads.
"""

from __future__ import annotations

import ipaddress
import os
import socket
import struct
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

Address = tuple[Any, ...]
"""(host, port), or (host, port, flowinfo, scope_id) for IPv6, as socketserver gives it."""


@dataclass(frozen=True)
class SocketEntry:
    """One line of /proc/net/tcp: the socket's inode and its owner's uid."""

    inode: int
    uid: int


def proc_net_address(address: Address) -> str:
    """An (ip, port) as /proc/net/tcp{,6} writes it: each 32-bit word of the address in host
    (little-endian) order, hexadecimal, then ``:`` and the port in hexadecimal."""
    ip = ipaddress.ip_address(str(address[0]).split("%", 1)[0])
    packed = ip.packed
    words = "".join(f"{int.from_bytes(packed[i:i + 4], 'little'):08X}"
                    for i in range(0, len(packed), 4))
    return f"{words}:{int(address[1]):04X}"


def find_socket(table: bytes, local: str, remote: str) -> SocketEntry | None:
    """The socket whose local and remote addresses are these, in a /proc/net/tcp table."""
    needle = f" {local} {remote} ".encode()
    at = table.find(needle)
    while at >= 0:
        end = table.find(b"\n", at)
        # local, remote, state, queues, timer, retransmits, uid, timeout, inode
        fields = table[at:end if end >= 0 else None].split()
        if int(fields[8]):  # inode 0: a TIME_WAIT leftover of an earlier use of the same ports
            return SocketEntry(inode=int(fields[8]), uid=int(fields[6]))
        at = table.find(needle, at + 1)
    return None


_SOCK_DIAG_BY_FAMILY = 20
_NLMSG_ERROR = 2
_NLM_F_REQUEST = 1
_NO_COOKIE = 0xFFFFFFFF
_NETLINK_SOCK_DIAG = 4


def diag_request(client: Address, server: Address) -> bytes:
    """A netlink sock_diag request for the one TCP socket whose local end is ``client`` and
    whose remote end is ``server`` (struct nlmsghdr + struct inet_diag_req_v2)."""
    family = socket.AF_INET6 if ":" in str(client[0]) else socket.AF_INET

    def packed(address: Address) -> bytes:
        raw = socket.inet_pton(family, str(address[0]).split("%", 1)[0])
        return raw + bytes(16 - len(raw))

    sockid = (struct.pack("!HH", int(client[1]), int(server[1])) + packed(client)
              + packed(server) + struct.pack("=III", 0, _NO_COOKIE, _NO_COOKIE))
    body = struct.pack("=BBBBI", family, socket.IPPROTO_TCP, 0, 0, 0xFFFFFFFF) + sockid
    return struct.pack("=IHHII", 16 + len(body), _SOCK_DIAG_BY_FAMILY, _NLM_F_REQUEST, 1,
                       0) + body


def parse_diag_reply(reply: bytes) -> SocketEntry | None:
    """The socket a sock_diag reply describes; None for an error reply (no such socket)."""
    if len(reply) < 16 + 72 or struct.unpack_from("=H", reply, 4)[0] != _SOCK_DIAG_BY_FAMILY:
        return None
    # struct inet_diag_msg: 4 bytes of state, a 48-byte inet_diag_sockid, expires, rqueue,
    # wqueue, then uid and inode.
    uid, inode = struct.unpack_from("=II", reply, 16 + 64)
    return SocketEntry(inode=inode, uid=uid)


def client_socket(client: Address, server: Address) -> SocketEntry | None:
    """The client's end of an accepted connection, seen from the server's side."""
    try:
        with socket.socket(socket.AF_NETLINK, socket.SOCK_DGRAM, _NETLINK_SOCK_DIAG) as link:
            link.settimeout(1.0)
            link.sendto(diag_request(client, server), (0, 0))
            return parse_diag_reply(link.recv(8192))
    except OSError:
        return _client_socket_from_table(client, server)  # no sock_diag here (a sandbox?)


def _client_socket_from_table(client: Address, server: Address) -> SocketEntry | None:
    table_path = "/proc/net/tcp6" if ":" in str(client[0]) else "/proc/net/tcp"
    try:
        with open(table_path, "rb") as table:
            data = table.read()
    except OSError:
        return None
    return find_socket(data, proc_net_address(client), proc_net_address(server))


def holds_socket(pid: int, inode: int) -> bool:
    """Whether process ``pid`` has the socket open (PermissionError if it cannot be seen)."""
    target = f"socket:[{inode}]"
    fd_dir = f"/proc/{pid}/fd"
    try:
        names = os.listdir(fd_dir)
    except FileNotFoundError:
        return False
    for name in names:
        try:
            if os.readlink(f"{fd_dir}/{name}") == target:
                return True
        except OSError:
            continue
    return False


def uid_of(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/status", "rb") as status:
            for line in status:
                if line.startswith(b"Uid:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return None


def connection_from(client: Address, server: Address, pids: Iterable[int]) -> bool:
    """Whether the client end of this connection belongs to one of ``pids``.

    Processes whose open files this process may not read (another user's, without privilege)
    count when the socket's owner is their user: the best that can be told about them.
    """
    entry = client_socket(client, server)
    if entry is None:
        return False
    unreadable: list[int] = []
    for pid in pids:
        try:
            if holds_socket(pid, entry.inode):
                return True
        except PermissionError:
            unreadable.append(pid)
    return any(uid_of(pid) == entry.uid for pid in unreadable)
