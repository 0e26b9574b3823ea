"""The Engine API's multiplexed stream (an exec or attach without a TTY) as stdout and stderr."""

from __future__ import annotations

import struct

STDOUT, STDERR = 1, 2  # the stream numbers in a frame's header


def demultiplex(stream: bytes) -> tuple[bytes, bytes]:
    """(stdout, stderr) of the stream: frames of an 8-byte header (the stream's number, three zero
    bytes, the payload's length big-endian) and the payload. A frame cut short keeps what arrived."""
    out, err, at = bytearray(), bytearray(), 0
    while at + 8 <= len(stream):
        number, size = struct.unpack(">BxxxL", stream[at:at + 8])
        (err if number == STDERR else out).extend(stream[at + 8:at + 8 + size])
        at += 8 + size
    return bytes(out), bytes(err)
