"""Who holds the other end of a loopback connection: the formats, then real sockets."""

from __future__ import annotations

import os
import socket
import struct
import subprocess
from collections.abc import Iterator

import pytest

from harness.lambda_.peers import (
    SocketEntry,
    _client_socket_from_table,
    client_socket,
    connection_from,
    find_socket,
    parse_diag_reply,
    proc_net_address,
)


def test_addresses_are_written_as_proc_net_tcp_writes_them():
    assert proc_net_address(("127.0.0.1", 8080)) == "0100007F:1F90"
    assert proc_net_address(("::1", 80, 0, 0)) == "00000000000000000000000001000000:0050"


def test_find_socket_skips_a_time_wait_leftover_of_the_same_ports():
    header = b"  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt" \
             b"   uid  timeout inode\n"
    old = b"   0: 0100007F:A000 0100007F:1F90 06 00000000:00000000 03:00000d2c 00000000" \
          b"     0        0 0 3 0000000000000000\n"
    live = b"   1: 0100007F:A000 0100007F:1F90 01 00000000:00000000 00:00000000 00000000" \
           b"  1000        0 4242 1 0000000000000000 20 4 30 10 -1\n"
    table = header + old + live
    assert find_socket(table, "0100007F:A000", "0100007F:1F90") == SocketEntry(4242, 1000)
    assert find_socket(table, "0100007F:1F90", "0100007F:A000") is None


def test_an_error_reply_names_no_socket():
    error = struct.pack("=IHHIIi", 36, 2, 0, 1, 0, -2) + bytes(16)  # NLMSG_ERROR, ENOENT
    assert parse_diag_reply(error) is None


@pytest.fixture
def connection() -> Iterator[tuple[socket.socket, tuple, tuple]]:
    """A client socket of this process, and the two addresses as the server sees them."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        with socket.create_connection(server.getsockname()) as client:
            accepted, peer = server.accept()
            with accepted:
                yield client, peer, server.getsockname()


def test_the_kernels_answer_and_the_tables_agree_on_the_clients_socket(connection):
    client, peer, server = connection
    entry = client_socket(peer, server)
    assert entry == SocketEntry(os.fstat(client.fileno()).st_ino, os.getuid())
    assert _client_socket_from_table(peer, server) == entry


def test_the_connection_is_this_process_and_not_another(connection):
    _client, peer, server = connection
    with subprocess.Popen(["sleep", "60"]) as other:
        try:
            assert connection_from(peer, server, [other.pid, os.getpid()])
            assert not connection_from(peer, server, [other.pid])
        finally:
            other.kill()


def test_a_closed_connection_belongs_to_nobody(connection):
    client, peer, server = connection
    client.close()
    assert not connection_from(peer, server, [os.getpid()])
