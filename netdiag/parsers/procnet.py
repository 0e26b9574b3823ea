"""/proc/<pid>/net/{tcp,tcp6,udp,udp6}: the sockets of one network namespace.

Read from the host (when the daemon is local) or through `docker exec cat` (when it is not):
this is how netdiag sees listeners in a container that has no netstat.
"""

from __future__ import annotations

import ipaddress
import socket
import struct

from netdiag.facts import Socket
from netdiag.vocab import Protocol

TCP_LISTEN = "0A"
UDP_UNCONNECTED = "07"

EMBEDDED_DNS = "127.0.0.11"


def decode_address(hex_addr: str) -> str:
    """The kernel's hex address (host byte order per 32-bit word) as text."""
    raw = bytes.fromhex(hex_addr)
    if len(raw) == 4:
        return socket.inet_ntop(socket.AF_INET, struct.pack("<I", struct.unpack(">I", raw)[0]))
    if len(raw) == 16:
        words = struct.unpack(">4I", raw)
        packed = struct.pack("<4I", *words)
        return str(ipaddress.IPv6Address(packed))
    raise ValueError(f"bad address {hex_addr!r}")


def parse_sockets(text: str, protocol: Protocol, family: int) -> list[tuple[Socket, str]]:
    """Every socket in one /proc/net file, with its state code (e.g. "0A" for LISTEN)."""
    out: list[tuple[Socket, str]] = []
    for line in text.splitlines():
        parts = line.split()
        if len(parts) < 10 or not parts[0].endswith(":") or parts[0] == "sl":
            continue
        local, state, inode = parts[1], parts[3], parts[9]
        try:
            addr_hex, port_hex = local.split(":")
            address = decode_address(addr_hex)
            port = int(port_hex, 16)
            inode_n = int(inode)
        except ValueError:
            continue
        if address.startswith("::ffff:") and "." in address:
            address = address[len("::ffff:"):]
        note = "Docker embedded DNS" if address == EMBEDDED_DNS else ""
        out.append((Socket(protocol, family, address, port, inode=inode_n, note=note), state))
    return out


def parse_listeners(text: str, protocol: Protocol, family: int) -> list[Socket]:
    """The listening sockets of one file: TCP in LISTEN, UDP bound and unconnected."""
    want = TCP_LISTEN if protocol == "tcp" else UDP_UNCONNECTED
    return [s for s, state in parse_sockets(text, protocol, family) if state == want]


PROC_NET_FILES = (("tcp", Protocol.TCP, 4), ("tcp6", Protocol.TCP, 6), ("udp", Protocol.UDP, 4),
                  ("udp6", Protocol.UDP, 6))


def listeners_from_files(files: dict[str, str]) -> list[Socket]:
    """All listeners from a {"tcp": text, "tcp6": text, ...} map of /proc/net files."""
    found: list[Socket] = []
    for name, protocol, family in PROC_NET_FILES:
        if name in files:
            found.extend(parse_listeners(files[name], protocol, family))
    found.sort(key=lambda s: (s.protocol, s.port, s.family, s.address))
    return found


def split_cat(stdout: str, paths: list[str], stderr: str = "") -> dict[str, str]:
    """`cat A B C` output split back into files: each /proc/net file starts with its header
    line ("sl local_address ..."); files cat could not open are named in stderr and skipped."""
    present = [p for p in paths if f"{p}'" not in stderr and f"{p}:" not in stderr]
    blocks: list[list[str]] = []
    for line in stdout.splitlines(keepends=True):
        if line.split()[:1] == ["sl"]:
            blocks.append([])
        if blocks:
            blocks[-1].append(line)
    return {p: "".join(b) for p, b in zip(present, blocks)}
