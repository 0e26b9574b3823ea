"""Scrubbing a bundle: IPs, MACs, host names and container/network names replaced consistently.

Addresses are mapped prefix-preservingly (each bit is flipped by a keyed hash of the bits before
it, in the manner of Crypto-PAn), so two addresses share a prefix after scrubbing exactly when
they did before: subnet membership, gateways and routes still line up, and the diagnosis of the
scrubbed bundle is the original's. The leading bits that make an address's class (loopback,
private, link-local, public) are kept, so a private address stays private. The raw source text
is dropped: it holds addresses in hex that a text substitution would miss.

The mapping goes to a separate file that stays with the customer.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import re
import secrets

KEEP_NAMES = {"bridge", "host", "none", "default"}

IPV4 = re.compile(r"(?<![\w.])(\d{1,3}(?:\.\d{1,3}){3})(/\d{1,2})?(?![\w.])")
IPV6 = re.compile(r"(?<![\w:.])([0-9a-fA-F]{0,4}(?::[0-9a-fA-F]{0,4}){2,7})(/\d{1,3})?(?![\w:])")
MAC = re.compile(r"(?<![\w:])((?:[0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2})(?![\w:])")
TOKEN = re.compile(r"[A-Za-z0-9_.-]+")


def _kept_bits_v4(ip: ipaddress.IPv4Address) -> int:
    """How many leading bits make this address's class; those are kept."""
    first = int(ip) >> 24
    if ip.is_unspecified or ip.is_loopback or first >= 224:
        return 32  # 0.0.0.0, 127/8, multicast and reserved stay as they are
    return {10: 8, 172: 12, 192: 16, 169: 16, 100: 10}.get(first, 8)


def _kept_bits_v6(ip: ipaddress.IPv6Address) -> int:
    if ip.is_unspecified or ip.is_loopback or ip.is_multicast:
        return 128
    if ip.is_link_local:
        return 10
    if ip.is_private:
        return 7
    return 3


class Scrubber:
    def __init__(self, key: bytes | None = None):
        self.key = key or secrets.token_bytes(32)
        self.ips: dict[str, str] = {}
        self.macs: dict[str, str] = {}
        self.names: dict[str, str] = {}

    # --- addresses ------------------------------------------------------------------------
    def _flip(self, bits: str) -> int:
        return hmac.new(self.key, bits.encode(), hashlib.sha256).digest()[0] & 1

    def _map_int(self, value: int, width: int, keep: int) -> int:
        bits = format(value, f"0{width}b")
        out = bits[:keep]
        for i in range(keep, width):
            out += str(int(bits[i]) ^ self._flip(bits[:i]))
        return int(out, 2)

    def ip(self, text: str) -> str:
        if text in self.ips:
            return self.ips[text]
        ip = ipaddress.ip_address(text)
        if ip.version == 4:
            mapped = str(ipaddress.IPv4Address(self._map_int(int(ip), 32, _kept_bits_v4(ip))))
        else:
            mapped = str(ipaddress.IPv6Address(self._map_int(int(ip), 128, _kept_bits_v6(ip))))
        if mapped != text:
            self.ips[text] = mapped
        return mapped

    def cidr(self, address: str, prefix: str) -> str:
        """An address with a prefix: a network stays a network (host bits zero), an interface keeps its host."""
        ip = ipaddress.ip_address(address)
        mapped = ipaddress.ip_address(self.ip(address))
        plen = int(prefix[1:])
        net = ipaddress.ip_network(f"{address}{prefix}", strict=False)
        if ip == net.network_address:
            return str(ipaddress.ip_network(f"{mapped}/{plen}", strict=False))
        return f"{mapped}/{plen}"

    def mac(self, text: str) -> str:
        key = text.lower()
        if key not in self.macs:
            digest = hmac.new(self.key, key.encode(), hashlib.sha256).digest()
            self.macs[key] = "02:00:" + ":".join(f"{b:02x}" for b in digest[:4])
        return self.macs[key]

    # --- names ----------------------------------------------------------------------------
    def add_name(self, name: str, kind: str) -> None:
        if name and name not in KEEP_NAMES and name not in self.names:
            self.names[name] = f"{kind}-{sum(1 for v in self.names.values() if v.startswith(kind + '-')) + 1}"

    def text(self, s: str) -> str:
        """A string with every address, MAC and known name in it replaced."""
        if s in self.names:
            return self.names[s]
        s = MAC.sub(lambda m: self.mac(m.group(1)), s)
        s = IPV4.sub(self._sub_ip, s)
        s = IPV6.sub(self._sub_ip, s)
        if self.names:
            s = TOKEN.sub(lambda m: self.names.get(m.group(0), m.group(0)), s)
        return s

    def _sub_ip(self, m: re.Match) -> str:
        address, prefix = m.group(1), m.group(2)
        try:
            ipaddress.ip_address(address)
        except ValueError:
            return m.group(0)
        if prefix:
            try:
                return self.cidr(address, prefix)
            except ValueError:
                return m.group(0)
        return self.ip(address)

    def walk(self, value):
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, list):
            return [self.walk(v) for v in value]
        if isinstance(value, dict):
            return {k: self.walk(v) for k, v in value.items()}
        return value

    def mapping(self) -> dict:
        return {"addresses": dict(sorted(self.ips.items())), "macs": dict(sorted(self.macs.items())),
                "names": dict(sorted(self.names.items()))}


def _drop_raw(value):
    if isinstance(value, dict):
        return {k: ({} if k == "raw" and isinstance(v, dict) else _drop_raw(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [_drop_raw(v) for v in value]
    return value


def scrub_document(doc: dict, scrubber: Scrubber | None = None) -> tuple[dict, dict]:
    """(scrubbed bundle document, mapping) for a bundle document that parses."""
    s = scrubber or Scrubber()
    snap = doc["snapshot"]
    for c in snap.get("containers", []):
        s.add_name(c.get("name", ""), "container")
        for ep in c.get("endpoints", []):
            for alias in ep.get("aliases", []):
                if not c.get("id", "").startswith(alias):
                    s.add_name(alias, "alias")
        s.add_name(c.get("image", ""), "image")
        c["labels"] = {k: f"label-value-{i}" for i, k in enumerate(sorted(c.get("labels", {})), 1)}
    for n in snap.get("networks", []):
        s.add_name(n.get("name", ""), "network")
    for host in (snap.get("client"), snap.get("docker_host")):
        if host:
            s.add_name(host.get("hostname", ""), "host")
    s.add_name(snap.get("engine", {}).get("daemon_name", ""), "host")
    out = dict(doc)
    out["snapshot"] = s.walk(_drop_raw(snap))
    out["attempts"] = s.walk(doc.get("attempts", []))
    out["scrubbed"] = True
    return out, s.mapping()
