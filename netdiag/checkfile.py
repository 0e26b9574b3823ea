"""netdiag.yml: the expectations a CI pipeline declares, read with the line of each one.

    version: 1
    expect:
      - reachable: {container: web, port: 80}                    # from the host
      - reachable: {container: api, port: 8000, from: "container:web", to: "api:8000"}
      - not-published: {container: db, address: 0.0.0.0}         # nothing of db on 0.0.0.0
      - no-overlap: {}                                           # no Docker network vs host routes
      - on-network: {container: web, network: app}

Every expectation may carry `name:` (shown in reports). A bad file is one error naming its line.
The schema is docs/netdiag.schema.json.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from netdiag.errors import BadInput
from netdiag.vocab import ExpectationKind

KINDS: dict[str, tuple[set[str], set[str]]] = {
    # kind: (required keys, optional keys)
    ExpectationKind.REACHABLE: ({"container"}, {"port", "to", "from"}),
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
        if self.kind == ExpectationKind.NOT_PUBLISHED:
            return f"{p['container']} publishes nothing on {p.get('address', '0.0.0.0')}"
        if self.kind == ExpectationKind.ON_NETWORK:
            return f"{p['container']} is on network {p['network']}"
        return "no Docker network overlaps the host's routes or interfaces"


def _error(path: str, line: int, message: str) -> BadInput:
    return BadInput("bad-check-file", f"{path}:{line}: {message}")


def parse(text: str, path: str = "netdiag.yml") -> list[Expectation]:
    """The expectations of a check file, or one error that names the line (exit 2)."""
    import yaml

    try:
        root = yaml.compose(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        line = mark.line + 1 if mark else 1
        raise _error(path, line, f"not valid YAML: {getattr(e, 'problem', None) or e}")
    if root is None or not isinstance(root, yaml.MappingNode):
        raise _error(path, 1, "expected a mapping with `version: 1` and `expect:`")
    top = {k.value: v for k, v in root.value}
    version = top.get("version")
    if version is None or version.value != "1":
        raise _error(path, (version or root).start_mark.line + 1, "`version: 1` is required")
    unknown = set(top) - {"version", "expect"}
    if unknown:
        node = next(k for k, _ in root.value if k.value in unknown)
        raise _error(path, node.start_mark.line + 1, f"unknown key {node.value!r} (expected version, expect)")
    items = top.get("expect")
    if not isinstance(items, yaml.SequenceNode) or not items.value:
        raise _error(path, (items or root).start_mark.line + 1, "`expect:` must be a non-empty list")
    return [_expectation(node, path) for node in items.value]


def _expectation(node, path: str) -> Expectation:
    import yaml

    line = node.start_mark.line + 1
    if not isinstance(node, yaml.MappingNode):
        raise _error(path, line, "each expectation is a mapping, e.g. `- reachable: {container: web, port: 80}`")
    entries = {k.value: v for k, v in node.value}
    name = entries.pop("name", None)
    kinds = [k for k in entries if k in KINDS]
    others = [k for k in entries if k not in KINDS]
    if others:
        raise _error(path, line, f"unknown expectation {others[0]!r} (known: {', '.join(KINDS)})")
    if len(kinds) != 1:
        raise _error(path, line, "one expectation per list item")
    kind = kinds[0]
    body = entries[kind]
    params = {}
    if isinstance(body, yaml.MappingNode):
        params = {k.value: v.value for k, v in body.value}
        if any(not isinstance(v, yaml.ScalarNode) for _, v in body.value):
            raise _error(path, body.start_mark.line + 1, f"{kind}: values must be plain scalars")
    elif not (isinstance(body, yaml.ScalarNode) and body.value in ("", "null", "~")):
        raise _error(path, line, f"{kind}: expected a mapping of its parameters")
    required, optional = KINDS[kind]
    missing = required - set(params)
    if missing:
        raise _error(path, line, f"{kind}: missing {', '.join(sorted(missing))}")
    extra = set(params) - required - optional
    if extra:
        raise _error(path, line, f"{kind}: unknown parameter {sorted(extra)[0]!r}")
    if "port" in params:
        port = str(params["port"])
        if not port.isdigit() or not 0 < int(port) < 65536:
            raise _error(path, line, f"{kind}: port {port!r} is not a number from 1 to 65535")
        params["port"] = int(port)
    if "from" in params and params["from"] != "host" and not str(params["from"]).startswith("container:"):
        raise _error(path, line, f"{kind}: from must be host or container:NAME, not {params['from']!r}")
    return Expectation(ExpectationKind(kind), line, params, name.value if name is not None else "")
