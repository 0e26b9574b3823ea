"""Scrubbing a bundle: IPs, MACs, host names and container/network names replaced consistently.

Values are replaced by what their field means, walking the bundle along the facts' own types:
names where names live (containers, images, aliases, networks, host and daemon names, the docker
context, the user and host of the endpoint, label keys), addresses wherever they appear (in
address fields, and inside free text such as command lines, at sentence ends too; IPv4-mapped
IPv6 addresses stay valid), and never an enumerated field (a location, a VM kind, a protocol), so a
daemon named `docker-desktop` or a container named `tcp` changes nothing but itself. Interface
and bridge names (a firewall rule's -i and -o too), process names, ids and ports are kept: they
identify nothing of the customer's and the diagnosis speaks of them. Label values are replaced
whole, except those naming a Swarm service or task, a Compose project or service, replaced as
that name (the rules match them against the services and the names looked up); Swarm services,
nodes and tasks are named like containers.

Addresses are mapped prefix-preservingly (each bit is flipped by a keyed hash of the bits before
it, in the manner of Crypto-PAn), so two addresses share a prefix after scrubbing exactly when
they did before: subnet membership, gateways and routes still line up, and the diagnosis of the
scrubbed bundle is the original's. The leading bits that make an address's class (loopback,
private, link-local, public) are kept, so a private address stays private. The raw source text
is dropped: it holds addresses in hex that a text substitution would miss.

The mapping goes to a separate file that stays with the customer.
"""

from __future__ import annotations

import dataclasses
import enum
import hashlib
import hmac
import ipaddress
import re
import secrets
import types
import typing
from typing import Any
from urllib.parse import urlsplit

from netdiag import vocab
from netdiag.diagnosis import AttemptSpec
from netdiag.facts import Snapshot
from netdiag.vocab import Origin

# the names Docker gives its own networks, and the names every container's /etc/hosts holds: kept
KEEP_NAMES = {"bridge", "host", "none", "default", "ingress", "docker_gwbridge", "localhost", "ip6-localhost",
              "ip6-loopback", "ip6-localnet", "ip6-mcastprefix", "ip6-allnodes", "ip6-allrouters",
              "host.docker.internal", "gateway.docker.internal"}
# words that keep their meaning in free text whatever a container or host is called: the
# vocabularies' words (tcp, remote, docker-desktop ...) and localhost
TEXT_WORDS = {"localhost"} | {m.value for v in vars(vocab).values()
                              if isinstance(v, type) and issubclass(v, enum.Enum) for m in v}

# an IPv4 address (a full stop after it ends a sentence, it is not part of the address)
IPV4 = re.compile(r"(?<![\w.])(\d{1,3}(?:\.\d{1,3}){3})(/\d{1,2})?(?!\w|\.\d)")
IPV6 = re.compile(r"(?<![\w:.])([0-9a-fA-F]{0,4}(?::[0-9a-fA-F]{0,4}){2,7})(/\d{1,3})?(?![\w:.])")
MAPPED = re.compile(r"(?<![\w:])(::ffff:)(\d{1,3}(?:\.\d{1,3}){3})(?!\w|\.\d)", re.I)

# labels whose value is a name the diagnosis matches against others (a Swarm service's, a Compose
# project's or service's): replaced as that name; any other label value is replaced whole
NAMING_LABELS = {vocab.SWARM_SERVICE_LABEL, vocab.PROJECT_LABEL, vocab.SERVICE_LABEL}

# the fields whose value is a name, an address (or a CIDR), a docker endpoint URL
NAME_FIELDS = {"name", "image", "network", "aliases", "hostname", "daemon_name", "context", "names", "search"}
ADDRESS_FIELDS = {"ipv4", "ipv6", "gateway", "gateways", "host_ip", "address", "responder", "host_address",
                  "container_ip", "destination", "subnets", "addresses"}
KEPT_FIELDS = {"id", "network_id", "container_id", "process", "device", "bridge",
               "in_interface", "out_interface"}  # a firewall rule's -i and -o: interface names, kept
MAC = re.compile(r"(?<![\w:])((?:[0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2})(?![\w:])")
TOKEN = re.compile(r"[A-Za-z0-9_.-]+")
LABEL_SEGMENT = re.compile(r"[^./]+")  # label keys are dotted or slashed paths: com.example.<name>.rule


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

    def name(self, s: str) -> str:
        return self.names.get(s, s)

    def addresses(self, s: str) -> str:
        """Every address and MAC in a string replaced; nothing else."""
        s = MAC.sub(lambda m: self.mac(m.group(1)), s)
        s = MAPPED.sub(lambda m: m.group(1) + self.ip(m.group(2)), s)
        s = IPV4.sub(self._sub_ip, s)
        return IPV6.sub(self._sub_ip, s)

    def text(self, s: str) -> str:
        """Free text (a command line, a reason, a banner): addresses, MACs and known names replaced."""
        if s in self.names:
            return self.names[s]
        s = self.addresses(s)
        if self.names:
            s = TOKEN.sub(self._sub_name, s)
        return s

    def _sub_name(self, m: re.Match[str]) -> str:
        word = m.group(0)
        return word if word in TEXT_WORDS else self.names.get(word, word)

    def endpoint(self, url: str) -> str:
        """tcp://192.168.59.103:2375, ssh://deploy@build-07: the host (and user) replaced."""
        try:
            parts = urlsplit(url)
        except ValueError:
            return self.text(url)
        if not parts.hostname:
            return self.text(url)
        try:
            host = self.ip(parts.hostname)
        except ValueError:  # a host name
            self.add_name(parts.hostname, "host")
            host = self.name(parts.hostname)
        if parts.username:
            self.add_name(parts.username, "user")
        host = f"[{host}]" if ":" in host else host
        user = f"{self.name(parts.username)}@" if parts.username else ""
        port = f":{parts.port}" if parts.port else ""
        return parts._replace(netloc=f"{user}{host}{port}").geturl()

    def task(self, name: str) -> str:
        """A Swarm task's name, SERVICE.SLOT.ID: its service's name replaced, the rest kept."""
        service, dot, rest = name.partition(".")
        return self.name(service) + dot + rest

    def label_key(self, key: str) -> str:
        """A label key with the names in it replaced (traefik.http.routers.<container>.rule)."""
        return LABEL_SEGMENT.sub(self._sub_name, key) if self.names else key

    def origin(self, text: str) -> str:
        o = Origin.parse(text)
        return str(Origin(self.name(o.container))) if o.container else text

    def attempt_to(self, text: str) -> str:
        """--to as recorded: the host part is a name (replaced as a name) or an address; the port stays."""
        host, sep, port = text.rpartition(":") if text.count(":") == 1 else (text, "", "")
        return self.name(host) + sep + port if host in self.names else self.addresses(text)

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

    def walk(self, tp: Any, value: Any, field: str = "") -> Any:
        """A decoded document's value scrubbed by what its field means (`tp` is its type hint)."""
        origin = typing.get_origin(tp)
        if value is None or field in KEPT_FIELDS:
            return value
        if origin in (typing.Union, types.UnionType):
            inner = [a for a in typing.get_args(tp) if a is not type(None)]
            return self.walk(inner[0], value, field) if len(inner) == 1 else self._free(value, field)
        if origin is tuple:
            return [self.walk(typing.get_args(tp)[0], v, field) for v in value]
        if origin is dict:
            if field == "labels":
                return {self.label_key(k): self.name(v) if k in NAMING_LABELS else self.task(v)
                        if k == vocab.SWARM_TASK_LABEL else f"label-value-{i}"
                        for i, (k, v) in enumerate(sorted(value.items()), 1)}
            if field == "raw":
                return {}
            if field == "vips":  # a Swarm service's name -> its virtual IP
                return {self.name(k): self.addresses(v) for k, v in value.items()}
            return {k: self.walk(typing.get_args(tp)[1], v, field) for k, v in value.items()}
        if dataclasses.is_dataclass(tp) and tp is not Origin:
            hints = typing.get_type_hints(tp)
            return {f.name: self.walk(hints[f.name], value[f.name], f.name)
                    for f in dataclasses.fields(tp) if f.name in value}
        if tp is Origin:
            return self.origin(value)
        if isinstance(tp, type) and issubclass(tp, enum.Enum):
            return value  # a vocabulary word is never a name
        if isinstance(value, str):
            return self._free(value, field)
        return value

    def _free(self, value: Any, field: str) -> Any:
        if not isinstance(value, str):
            return value
        if field in NAME_FIELDS:
            return self.name(value)
        if field in ADDRESS_FIELDS:
            return self.addresses(value)
        if field == "endpoint":
            return self.endpoint(value)
        if field == "to":
            return self.attempt_to(value)
        if field in KEPT_FIELDS:
            return value
        return self.text(value)

    def mapping(self) -> dict:
        return {"addresses": dict(sorted(self.ips.items())), "macs": dict(sorted(self.macs.items())),
                "names": dict(sorted(self.names.items()))}


def scrub_document(doc: dict[str, Any], scrubber: Scrubber | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
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
    for n in snap.get("networks", []):
        s.add_name(n.get("name", ""), "network")
    ids = [c.get("id", "") for c in snap.get("containers", [])]
    for v in snap.get("source_views", []):  # the names a container knows: /etc/hosts, search domains
        for entry in v.get("hosts", []):
            for name in entry.get("names", []):
                if not any(i.startswith(name) for i in ids):  # a container's own hostname is its id
                    s.add_name(name, "host")
        for domain in v.get("search", []):
            s.add_name(domain, "domain")
    for lk in snap.get("lookups", []):  # the names looked up from inside a container
        s.add_name(lk.get("name", ""), "host")
    for svc in snap.get("services", []):  # Swarm services, their nodes, and their tasks' names on overlays
        s.add_name(svc.get("name", ""), "service")
    for node in snap.get("nodes", []):
        s.add_name(node.get("hostname", ""), "host")
    for c in snap.get("containers", []):  # Compose projects and services, Swarm services, named by labels
        labels = c.get("labels", {})
        s.add_name(labels.get(vocab.PROJECT_LABEL, ""), "project")
        s.add_name(labels.get(vocab.SERVICE_LABEL, ""), "service")
        s.add_name(labels.get(vocab.SWARM_SERVICE_LABEL, ""), "service")
    for n in snap.get("networks", []):
        for ep in n.get("overlay_endpoints", []):
            task = ep.get("name", "")
            if task and task not in s.names:
                s.names[task] = s.task(task)
    for host in (snap.get("client"), snap.get("docker_host")):
        if host:
            s.add_name(host.get("hostname", ""), "host")
    engine = snap.get("engine", {})
    s.add_name(engine.get("daemon_name", ""), "host")
    s.add_name(engine.get("context", ""), "context")
    s.endpoint(engine.get("endpoint", ""))  # its host and user become known names before the walk
    out = dict(doc)
    out["snapshot"] = s.walk(Snapshot, snap)
    out["attempts"] = [s.walk(AttemptSpec, a) for a in doc.get("attempts", [])]
    out["scrubbed"] = True
    return out, s.mapping()
