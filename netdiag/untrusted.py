"""Handling what netdiag did not write itself (a customer's bundle, a netdiag.yml, an argument):
files read only when regular and only up to a limit, numbers as ASCII decimal, values quoted short
in error lines, and control characters made visible before they reach a terminal. Pure but for
the file read."""

from __future__ import annotations

import dataclasses
import os
import re
import stat
from typing import Any

QUOTE_LIMIT = 80
# C0 controls but newline and tab, DEL, C1 controls, and the bidirectional overrides
CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


class Unusable(ValueError):
    """An input that cannot be used; the message says why, quoting at most QUOTE_LIMIT characters."""


def quote(value: Any, limit: int = QUOTE_LIMIT) -> str:
    """A value as an error line shows it: its repr (control characters escaped), cut to `limit`."""
    text = repr(value)
    return text if len(text) <= limit else text[:limit - 3] + "..."


def visible(text: str) -> str:
    """Text for a terminal: control characters (escape sequences, carriage returns) shown as \\x1b."""
    return CONTROL.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


def one_line(text: str) -> str:
    """An error message as one terminal line."""
    return visible(text.replace("\r", "\\r").replace("\n", "\\n"))


def visible_record(obj: Any) -> Any:
    """A record (dataclasses, tuples, dicts, strings) with every string made `visible`: what the
    text renderers print of a stranger's bundle cannot drive the terminal."""
    if isinstance(obj, str):
        return visible(obj) if CONTROL.search(obj) else obj
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        changes = {f.name: visible_record(getattr(obj, f.name)) for f in dataclasses.fields(obj) if f.init}
        return dataclasses.replace(obj, **changes)
    if isinstance(obj, tuple):
        return tuple(visible_record(v) for v in obj)
    if isinstance(obj, list):
        return [visible_record(v) for v in obj]
    if isinstance(obj, dict):
        return {visible_record(k): visible_record(v) for k, v in obj.items()}
    return obj


def port(text: str) -> int:
    """A port number written in ASCII decimal digits, 1 to 65535."""
    if not (isinstance(text, str) and 0 < len(text) <= 5 and text.isascii() and text.isdigit()) \
            or not 0 < int(text) < 65536:
        raise Unusable(f"{quote(text)} is not a port: give a number from 1 to 65535")
    return int(text)


def read_regular(path: str, limit: int) -> bytes:
    """A regular file's bytes, refusing anything else (a folder, a FIFO, a device such as
    /dev/zero) and anything larger than `limit`, before reading more than `limit` + 1 bytes."""
    try:
        info = os.stat(path)
    except OSError as e:
        raise Unusable(e.strerror or str(e)) from None
    if stat.S_ISDIR(info.st_mode):
        raise Unusable("it is a folder")
    if not stat.S_ISREG(info.st_mode):
        raise Unusable("not a regular file (a pipe, socket or device is never read)")
    if info.st_size > limit:
        raise Unusable(f"{info.st_size} bytes is more than the {limit} it may have")
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    except OSError as e:
        raise Unusable(e.strerror or str(e)) from None
    with os.fdopen(fd, "rb") as f:
        if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):  # replaced since the first look
            raise Unusable("not a regular file")
        data = f.read(limit + 1)
    if len(data) > limit:
        raise Unusable(f"more than the {limit} bytes it may have")
    return data
