"""netdiag.yml: the expectations a CI pipeline declares, read with the line of each one.

    version: 1
    expect:
      - reachable: {container: web, port: 80}                    # from the host
      - reachable: {container: api, port: 8000, from: "container:web", to: "api:8000"}
      - reachable-from: {from: "container:web", to: "db.example.internal:5432"}   # out of web
      - not-published: {container: db, address: 0.0.0.0}         # nothing of db on 0.0.0.0
      - no-overlap: {}                                           # no Docker network vs host routes
      - on-network: {container: web, network: app}

Every expectation may carry `name:` (shown in reports). A bad file is one error naming its line.
The schema is docs/netdiag.schema.json.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from netdiag.errors import BadInput
from netdiag.untrusted import Unusable, one_line, port, quote
from netdiag.vocab import ExpectationKind

KINDS: dict[str, tuple[set[str], set[str]]] = {
    # kind: (required keys, optional keys)
    ExpectationKind.REACHABLE: ({"container"}, {"port", "to", "from"}),
    ExpectationKind.REACHABLE_FROM: ({"from", "to"}, {"port"}),
    ExpectationKind.NOT_PUBLISHED: ({"container"}, {"address"}),
    ExpectationKind.NO_OVERLAP: (set(), set()),
    ExpectationKind.ON_NETWORK: ({"container", "network"}, set()),
}


@dataclass(frozen=True)
class Expectation:
    kind: ExpectationKind
    line: int
    params: dict = field(default_factory=dict)
    name: str = ""

    @property
    def title(self) -> str:
        if self.name:
            return self.name
        p = self.params
        if self.kind == ExpectationKind.REACHABLE:
            how = f" via {p['to']}" if p.get("to") else ""
            port = f" port {p['port']}" if p.get("port") else ""
            return f"{p['container']}{port} reachable from {p.get('from', 'host')}{how}"
        if self.kind == ExpectationKind.REACHABLE_FROM:
            port = f" port {p['port']}" if p.get("port") else ""
            return f"{p['to']}{port} reachable from {p['from']}"
        if self.kind == ExpectationKind.NOT_PUBLISHED:
            return f"{p['container']} publishes nothing on {p.get('address', '0.0.0.0')}"
        if self.kind == ExpectationKind.ON_NETWORK:
            return f"{p['container']} is on network {p['network']}"
        return "no Docker network overlaps the host's routes or interfaces"


MAX_BYTES = 1024 * 1024  # a netdiag.yml larger than this is refused before it is parsed
MAX_DEPTH = 8  # no valid netdiag.yml nests deeper; a deeper one is refused


def _error(path: str, line: int, message: str) -> BadInput:
    return BadInput("bad-check-file", one_line(f"{path}:{line}: {message}"))


def _line(node: Any) -> int:
    return int(node.start_mark.line) + 1


def _depth_ok(root: Any) -> bool:
    stack = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            return False
        children = node.value if isinstance(node.value, list) else []
        for child in children:
            stack += [(c, depth + 1) for c in (child if isinstance(child, tuple) else (child,))]
    return True


def _scalar_keys(path: str, node: Any) -> dict[str, Any]:
    """A mapping node's entries by key, refusing keys that are not plain scalars or appear twice."""
    import yaml

    out: dict[str, Any] = {}
    for k, v in node.value:
        if not isinstance(k, yaml.ScalarNode):
            raise _error(path, _line(k), "keys must be plain words")
        if k.value in out:
            raise _error(path, _line(k), f"{quote(k.value)} appears twice")
        out[k.value] = v
    return out


def parse(text: str, path: str = "netdiag.yml") -> list[Expectation]:
    """The expectations of a check file, or one error that names the line (exit 2)."""
    import yaml

    if len(text) > MAX_BYTES:
        raise _error(path, 1, f"more than the {MAX_BYTES} characters a netdiag.yml may have")
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None) or getattr(e, "context_mark", None)
        line = mark.line + 1 if mark else 1
        raise _error(path, line, f"not valid YAML: {getattr(e, 'problem', None) or getattr(e, 'reason', None) or e}")
    except RecursionError:
        raise _error(path, 1, "nested too deeply")
    if root is None or not isinstance(root, yaml.MappingNode):
        raise _error(path, 1, "expected a mapping with `version: 1` and `expect:`")
    if not _depth_ok(root):
        raise _error(path, 1, f"nested more than {MAX_DEPTH} levels deep")
    top = _scalar_keys(path, root)
    version = top.get("version")
    if not isinstance(version, yaml.ScalarNode) or version.tag != "tag:yaml.org,2002:int" or version.value != "1":
        raise _error(path, _line(version or root), "`version: 1` (the number) is required")
    unknown = [k for k in top if k not in ("version", "expect")]
    if unknown:
        raise _error(path, _line(top[unknown[0]]), f"unknown key {quote(unknown[0])} (expected version, expect)")
    items = top.get("expect")
    if not isinstance(items, yaml.SequenceNode) or not items.value:
        raise _error(path, _line(items or root), "`expect:` must be a non-empty list")
    return [_expectation(node, path) for node in items.value]


def _expectation(node: Any, path: str) -> Expectation:
    import yaml

    line = _line(node)
    if not isinstance(node, yaml.MappingNode):
        raise _error(path, line, "each expectation is a mapping, e.g. `- reachable: {container: web, port: 80}`")
    entries = _scalar_keys(path, node)
    name = entries.pop("name", None)
    if name is not None and not isinstance(name, yaml.ScalarNode):
        raise _error(path, _line(name), "name: a plain text is expected")
    kinds = [k for k in entries if k in KINDS]
    others = [k for k in entries if k not in KINDS]
    if others:
        raise _error(path, line, f"unknown expectation {quote(others[0])} (known: {', '.join(KINDS)})")
    if len(kinds) != 1:
        raise _error(path, line, "one expectation per list item")
    kind = kinds[0]
    body = entries[kind]
    params: dict[str, Any] = {}
    if isinstance(body, yaml.MappingNode):
        values = _scalar_keys(path, body)
        if any(not isinstance(v, yaml.ScalarNode) for v in values.values()):
            raise _error(path, _line(body), f"{kind}: values must be plain scalars")
        params = {k: v.value for k, v in values.items()}
    elif not (isinstance(body, yaml.ScalarNode) and body.value in ("", "null", "~")):
        raise _error(path, line, f"{kind}: expected a mapping of its parameters")
    required, optional = KINDS[kind]
    missing = required - set(params)
    if missing:
        raise _error(path, line, f"{kind}: missing {', '.join(sorted(missing))}")
    extra = set(params) - required - optional
    if extra:
        raise _error(path, line, f"{kind}: unknown parameter {quote(sorted(extra)[0])}")
    try:
        _check_values(params)
    except (Unusable, BadInput, ValueError) as e:
        raise _error(path, line, f"{kind}: {e.message if isinstance(e, BadInput) else e}")
    return Expectation(ExpectationKind(kind), line, params, name.value if name is not None else "")


def _check_values(params: dict[str, Any]) -> None:
    """Each parameter's value as its meaning requires; `port` becomes a number."""
    import ipaddress

    from netdiag.reasoner.attempt import parse_to
    from netdiag.vocab import Origin

    for key in ("container", "network"):
        if key in params and not params[key]:
            raise ValueError(f"{key} is empty")
    if "port" in params:
        params["port"] = port(str(params["port"]))
    if "from" in params:
        try:
            origin = Origin.parse(params["from"])
        except ValueError:
            raise ValueError(f"from must be host or container:NAME, not {quote(params['from'])}") from None
        if "container" not in params and origin.is_host:
            raise ValueError("from must name the container the attempt starts in: container:NAME")
    if "to" in params:
        parse_to(params["to"])
    if "address" in params:
        try:
            ipaddress.ip_address(params["address"])
        except ValueError:
            raise ValueError(f"address {quote(params['address'])} is not an IP address") from None
