"""Shell completion values that come from the daemon or the catalog, bounded so that a slow or
absent daemon never makes the shell wait: container names, rule IDs and cause codes."""

from __future__ import annotations

import threading

DAEMON_WAIT = 1.0  # seconds a completion may wait for the daemon before offering nothing


def container_names(incomplete: str, wait: float = DAEMON_WAIT) -> list[str]:
    """Names of the containers on the daemon the docker CLI would use that start with `incomplete`,
    or none when the daemon does not answer within `wait` seconds."""
    found: list[str] = []

    def ask() -> None:
        try:
            import docker

            from netdiag.engine_api import resolve_endpoint

            endpoint = resolve_endpoint()
            kwargs = {"base_url": endpoint.url, "timeout": wait, "version": "1.41"}
            if endpoint.tls:
                kwargs["tls"] = endpoint.tls
            api = docker.APIClient(**kwargs)
            for c in api.containers(all=True):
                found.extend(n.lstrip("/") for n in c.get("Names") or () if "/" not in n.lstrip("/"))
        except Exception:  # completion offers nothing rather than an error in the shell
            return

    t = threading.Thread(target=ask, daemon=True)
    t.start()
    t.join(wait)
    return sorted(n for n in list(found) if n.startswith(incomplete)) if not t.is_alive() else []


def rule_names(incomplete: str) -> list[str]:
    """Rule IDs and cause codes that start with `incomplete` (IDs match case-insensitively)."""
    from netdiag.rules import load_rules

    rules = load_rules()
    names = list(rules) + sorted({r.code for r in rules.values()})
    return [n for n in names if n.startswith(incomplete) or n.startswith(incomplete.upper())]
