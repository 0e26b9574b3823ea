"""Support bundles: one self-describing file with every fact the rules need, to explain offline.

A bundle is JSON (gzip-compressed when its name ends in .gz):

    {"netdiag_bundle": 1, "schema": 2, "netdiag_version": "...", "created": "...",
     "attempts": [{"container": ID, "port": null, "to": "", "origin": "host"}],
     "snapshot": { the Snapshot, raw source text included }}

Bundles of an older schema are upgraded when read (`upgrade_from_1`).

Secrets are masked while collecting (netdiag never reads environment values; command lines and
labels go through netdiag.redact). Loading checks everything and fails with one line.
"""

from __future__ import annotations

import dataclasses
import functools
import gzip
import ipaddress
import json
import re
import typing
import zlib
from dataclasses import dataclass

from netdiag.diagnosis import AttemptSpec
from netdiag.errors import BadInput
from netdiag.facts import SCHEMA_VERSION, SchemaError, Snapshot, from_dict, to_dict
from netdiag.untrusted import Unusable, port, quote, read_regular
from netdiag.vocab import Protocol

BUNDLE_FORMAT = 1
MAX_BYTES = 64 * 1024 * 1024  # a bundle larger than this (unpacked) is refused, not read
GZIP_MAGIC = b"\x1f\x8b"
LONE_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


@dataclass(frozen=True)
class Bundle:
    snapshot: Snapshot
    attempts: tuple[AttemptSpec, ...] = ()
    netdiag_version: str = ""
    created: str = ""


def to_document(bundle: Bundle) -> dict:
    return {"netdiag_bundle": BUNDLE_FORMAT, "schema": bundle.snapshot.schema,
            "netdiag_version": bundle.netdiag_version, "created": bundle.created,
            "attempts": [to_dict(a) for a in bundle.attempts], "snapshot": to_dict(bundle.snapshot)}


def write(bundle: Bundle, path: str) -> None:
    text = json.dumps(to_document(bundle), indent=1).encode()
    data = gzip.compress(text) if path.endswith(".gz") else text
    with open(path, "wb") as f:
        f.write(data)


def _bad(path: str, why: str) -> BadInput:
    return BadInput("bad-bundle", f"{path}: not a usable netdiag bundle: {why}")


def read_bytes(path: str) -> bytes:
    """A bundle file's bytes, unpacked: a regular file only, bounded before and after unpacking."""
    try:
        data = read_regular(path, MAX_BYTES)
    except Unusable as e:
        raise _bad(path, str(e))
    if data[:2] == GZIP_MAGIC:
        try:
            d = zlib.decompressobj(16 + zlib.MAX_WBITS)
            data = d.decompress(data, MAX_BYTES + 1)
            if len(data) > MAX_BYTES:
                raise _bad(path, f"it unpacks to more than {MAX_BYTES} bytes")
            if not d.eof:
                raise _bad(path, "the gzip stream is truncated")
        except zlib.error as e:
            raise _bad(path, f"broken gzip data ({e})")
    return data


@functools.lru_cache(maxsize=8192)
def _ip(v: str) -> None:
    ipaddress.ip_address(v)


@functools.lru_cache(maxsize=8192)
def _net(v: str) -> None:
    ipaddress.ip_network(v)  # strict: Docker and the kernel write networks without host bits


@functools.lru_cache(maxsize=8192)
def _iface(v: str) -> None:
    ipaddress.ip_interface(v)


def _port(v) -> None:
    if v is not None and not 0 <= v <= 65535:
        raise ValueError(f"{v} is not a port")


def _port_spec(v: str) -> None:
    """"5000/tcp", as Docker writes an exposed port."""
    number, _, proto = v.partition("/")
    port(number)
    Protocol(proto or "tcp")


# field name -> check of its value, for every record of the snapshot that has such a field
CHECKS = {
    "destination": _net, "subnets": _net, "gateways": _ip, "addresses": _iface, "container_ip": _ip,
    "gateway": _ip, "ipv4": _ip, "ipv6": _ip, "host_ip": _ip, "address": _ip, "responder": _ip,
    "host_address": _ip, "port": _port, "host_port": _port, "container_port": _port,
    "prefix_len": lambda v: _port(v if 0 <= v <= 128 else -1), "exposed": _port_spec,
}


def _records_in(hint) -> list:
    """The record types a type hint holds (itself, or inside tuples, dicts and unions)."""
    if dataclasses.is_dataclass(hint):
        return [hint]
    return [r for a in typing.get_args(hint) for r in _records_in(a)]


@functools.cache
def _worth_visiting(cls, seen: frozenset = frozenset()) -> bool:
    """Whether a record type, or one it holds, has a field with a check."""
    if cls in seen:
        return False
    hints = typing.get_type_hints(cls)
    return any(f.name in CHECKS and not _records_in(hints[f.name]) or
               any(_worth_visiting(r, seen | {cls}) for r in _records_in(hints[f.name]))
               for f in dataclasses.fields(cls))


def _holds_records(hint) -> bool:
    return any(_worth_visiting(r) for r in _records_in(hint))


@functools.cache
def _plan(cls) -> tuple[tuple[str, object, bool], ...]:
    """The fields of a record worth visiting: (name, the check of its scalar values or None,
    whether it holds records). A check applies to scalar fields only: a record-valued field of
    the same name (a firewall rule's `destination`) is visited instead."""
    hints = typing.get_type_hints(cls)
    out = []
    for f in dataclasses.fields(cls):
        records = _holds_records(hints[f.name])
        check = None if records else CHECKS.get(f.name)
        if check is not None or records:
            out.append((f.name, check, records))
    return tuple(out)


def validate(obj, where: str = "snapshot") -> None:
    """Values that have the right type but cannot be what they claim (an address that is not one)."""
    if isinstance(obj, tuple):
        for i, v in enumerate(obj):
            validate(v, f"{where}[{i}]")
        return
    if obj is None:
        return
    for name, check, records in _plan(type(obj)):
        value = getattr(obj, name)
        if check is not None:
            for v in (value if isinstance(value, tuple) else (value,)):
                if v in ("", None):
                    continue
                try:
                    check(v)
                except (ValueError, TypeError) as e:
                    raise SchemaError(f"{where}.{name}: {quote(v)} is not valid ({quote(str(e))[1:-1]})")
        elif records and value is not None:
            validate(value, f"{where}.{name}")


def parse(data: bytes, path: str = "bundle") -> Bundle:
    """A Bundle from a file's bytes, or a bad-bundle error that says what is wrong."""
    try:
        doc = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise _bad(path, "not text (UTF-8)")
    except json.JSONDecodeError as e:
        at_end = e.pos >= len(data.rstrip()) - 1 or e.msg.startswith("Unterminated string")
        what = "truncated" if at_end and data.lstrip()[:1] in (b"{", b"[") else "not JSON"
        raise _bad(path, f"{what} (line {e.lineno}, column {e.colno}: {e.msg})")
    except RecursionError:
        raise _bad(path, "nested too deeply")
    except ValueError as e:  # a number Python will not read (thousands of digits)
        raise _bad(path, f"not JSON netdiag can read ({quote(str(e))[1:-1]})")
    if LONE_SURROGATE_ESCAPE.search(data):  # only an escape can carry one: check the decoded strings then
        try:
            json.dumps(doc, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            raise _bad(path, "a string holds a lone surrogate, which no terminal or file can show")
    if not isinstance(doc, dict) or "netdiag_bundle" not in doc:
        raise _bad(path, "no netdiag_bundle header: this is JSON, but not a bundle netdiag wrote")
    schema = doc.get("schema")
    if not isinstance(schema, int) or isinstance(schema, bool):
        raise _bad(path, f"schema {schema!r} is not a version number")
    if schema > SCHEMA_VERSION:
        raise _bad(path, f"it was written with facts schema {schema}; this netdiag reads up to {SCHEMA_VERSION}: "
                         "upgrade netdiag")
    if schema < 1:
        raise _bad(path, f"unknown schema {schema}")
    for key in ("snapshot", "attempts"):
        if key not in doc:
            raise _bad(path, f"the {key!r} section is missing")
    if schema == 1:
        doc = dict(doc, snapshot=upgrade_from_1(doc["snapshot"]))
        schema = SCHEMA_VERSION
    try:
        snapshot = from_dict(Snapshot, doc["snapshot"], "snapshot")
        attempts = from_dict(tuple[AttemptSpec, ...], doc["attempts"], "attempts")
        validate(snapshot)
        validate(attempts, "attempts")
    except SchemaError as e:
        raise _bad(path, str(e))
    except RecursionError:
        raise _bad(path, "nested too deeply")
    if snapshot.schema != schema:
        raise _bad(path, f"header schema {schema} and snapshot schema {snapshot.schema} differ")
    return Bundle(snapshot, attempts, str(doc.get("netdiag_version", "")), str(doc.get("created", "")))


def upgrade_from_1(snapshot: object) -> object:
    """A schema 1 snapshot as schema 2 has it: `Reach.source` is `origin`, `Engine.source` is
    `chosen_by`, and each firewall rule, a line of iptables-save text in 1, is its parsed record.
    What does not fit is left for the decoder to report."""
    from netdiag.parsers.iptables import parse_rule

    if not isinstance(snapshot, dict):
        return snapshot
    out = dict(snapshot, schema=SCHEMA_VERSION)
    if isinstance(out.get("engine"), dict) and "source" in out["engine"]:
        engine = dict(out["engine"])
        engine["chosen_by"] = engine.pop("source")
        out["engine"] = engine
    if isinstance(out.get("reach"), list):
        out["reach"] = [{("origin" if k == "source" else k): v for k, v in r.items()} if isinstance(r, dict) else r
                        for r in out["reach"]]
    fw = out.get("firewall")
    if isinstance(fw, dict) and isinstance(fw.get("chains"), list):
        out["firewall"] = dict(fw, chains=[
            dict(c, rules=[to_dict(parse_rule(r)) if isinstance(r, str) else r for r in c["rules"]])
            if isinstance(c, dict) and isinstance(c.get("rules"), list) else c for c in fw["chains"]])
    return out


def load(path: str) -> Bundle:
    return parse(read_bytes(path), path)
