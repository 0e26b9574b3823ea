"""The rule catalog: one rule per failure, each a pure function of the facts.

A rule has a stable ID (retired, never reused), the cause code it reports (one of the contract's,
read from docs/contract.md), the hop of the path it breaks, the facts it needs, and a docstring
with fixed sections: Detects, Why it breaks, Evidence, Fix, Exceptions. `netdiag rules`,
docs/rules.md and the JSON all come from that one text.

A rule function takes the Context and yields `Found(summary, evidence, fix)`; the engine
(netdiag.reasoner) attaches the rule's ID, code, hop and port, and skips the rule, naming what is
missing, when a declared input could not be read. Registration refuses a malformed ID, a reused
or retired one, a hop or input outside the vocabularies, a code the contract does not list, and
a docstring without its sections.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from netdiag.rules.inputs import Need, describe
from netdiag.vocab import Direction, Fact, Hop

if TYPE_CHECKING:
    from netdiag.facts import Container

SECTIONS = ("Detects", "Why it breaks", "Evidence", "Fix", "Exceptions")
ID_FORMAT = re.compile(r"^ND\d{3}$")
# IDs of rules that were removed: a new rule never takes one (their meaning is in old reports)
RETIRED: frozenset[str] = frozenset()
# the public contract, shipped beside this package (a link to docs/contract.md in a checkout)
CONTRACT = Path(__file__).resolve().parent.parent / "contract.md"
CODE_ROW = re.compile(r"^\| `([a-z0-9-]+)` \|")


@dataclass(frozen=True)
class Found:
    """What a rule found: one sentence, the observed facts that prove it, the fix with real values."""

    summary: str
    evidence: Iterable[str] = ()
    fix: Iterable[str] = ()


# a rule reads a Context (attempts towards a container) or, with direction=OUTBOUND, an Outbound
RuleFn = Callable[[Any], Iterator[Found]]


@dataclass(frozen=True)
class Rule:
    id: str
    code: str
    hop: Hop | None  # None for error codes, which are raised before rules run
    fn: RuleFn | None
    per_port: bool = True
    needs: tuple[Need, ...] = ()  # without these the rule cannot decide: its hop becomes unknown
    uses: tuple[Fact, ...] = ()  # read for evidence when present; planned, never required
    direction: Direction = Direction.BOTH
    only_if: Callable[[Container], bool] | None = None  # the container facts under which it can fire
    doc_text: str = ""
    # the rule does not say a hop drops the attempt: it says the attempt goes to the wrong place
    # (an address, a name two containers share), or that only large packets are lost; an answer
    # does not contradict it (netdiag.reasoner.evidence)
    holds_when_answered: bool = False

    @property
    def doc(self) -> str:
        return inspect.cleandoc(self.doc_text)

    @property
    def title(self) -> str:
        return self.doc.splitlines()[0] if self.doc else ""

    def sections(self) -> dict[str, str]:
        """The docstring's fixed sections, by name."""
        found: dict[str, str] = {}
        current = None
        heading = re.compile(r"^({}):\s*(.*)$".format("|".join(re.escape(s) for s in SECTIONS)))
        for line in self.doc.splitlines()[1:]:
            m = heading.match(line)
            if m:
                current = m.group(1)
                found[current] = m.group(2).strip()
            elif current:
                found[current] = (found[current] + "\n" + line.strip()).strip()
        return found

    def needs_text(self) -> str:
        """The inputs as a person reads them: "the Docker networks; the client's routes or ..."."""
        return "; ".join(" or ".join(describe(f) for f in (n if isinstance(n, tuple) else (n,)))
                         for n in self.needs)

    def applies_to(self, container: Container) -> bool:
        return self.only_if is None or self.only_if(container)


class RuleError(ValueError):
    """A rule that cannot be registered: the message says what is wrong with it."""


@lru_cache(maxsize=1)
def contract_codes() -> frozenset[str]:
    """The cause codes of the public contract: the table under "## Cause codes" in docs/contract.md."""
    codes: set[str] = set()
    section = ""
    for line in CONTRACT.read_text(encoding="utf-8").splitlines():
        if line.startswith("## "):
            section = line[3:].strip()
        elif section == "Cause codes":
            m = CODE_ROW.match(line)
            if m:
                codes.add(m.group(1))
    if not codes:
        raise RuleError(f"{CONTRACT}: no cause codes under '## Cause codes'")
    return frozenset(codes)


REGISTRY: dict[str, Rule] = {}


def _check(r: Rule) -> None:
    if not ID_FORMAT.match(r.id):
        raise RuleError(f"rule id {r.id!r} is not of the form ND123")
    if r.id in RETIRED:
        raise RuleError(f"rule id {r.id} is retired: give the rule a new id")
    if r.id in REGISTRY:
        raise RuleError(f"rule id {r.id} is used twice")
    if r.code not in contract_codes():
        raise RuleError(f"{r.id}: cause code {r.code!r} is not in the contract (docs/contract.md)")
    if r.fn is not None and not isinstance(r.hop, Hop):
        raise RuleError(f"{r.id}: hop {r.hop!r} is not one of {', '.join(h.value for h in Hop)}")
    for need in r.needs:
        for fact in need if isinstance(need, tuple) else (need,):
            if not isinstance(fact, Fact):
                raise RuleError(f"{r.id}: input {fact!r} is not one of {', '.join(f.value for f in Fact)}")
    if not all(isinstance(f, Fact) for f in r.uses):
        raise RuleError(f"{r.id}: uses= takes inputs of netdiag.vocab.Fact")
    missing = [s for s in SECTIONS if not r.sections().get(s)]
    if missing:
        raise RuleError(f"{r.id}: its docstring lacks {', '.join(missing)}")


def register(r: Rule) -> Rule:
    _check(r)
    REGISTRY[r.id] = r
    return r


def rule(rule_id: str, code: str, hop: Hop, *, per_port: bool = True, needs: tuple[Need, ...] = (),
         uses: tuple[Fact, ...] = (), direction: Direction = Direction.BOTH,
         only_if: Callable[[Container], bool] | None = None,
         holds_when_answered: bool = False) -> Callable[[RuleFn], RuleFn]:
    """Register a rule function `fn(ctx) -> iterator of Found`.

    `per_port=False` runs it once per diagnosis instead of once per port in question;
    `holds_when_answered` marks a rule that an answer does not contradict: it says where the
    attempt wrongly goes, or that only large packets are lost, rather than which hop drops it."""

    def add(fn: RuleFn) -> RuleFn:
        register(Rule(rule_id, code, hop, fn, per_port, tuple(needs), tuple(uses), direction, only_if,
                      fn.__doc__ or "", holds_when_answered))
        return fn

    return add


register(Rule("ND001", "container-not-found", None, None, False, doc_text="""No container matches the name or id given.

    Detects: the CONTAINER argument matches no container by name, full id or id prefix, or an id
    prefix matches several (the candidates are listed).
    Why it breaks: netdiag cannot diagnose a container it cannot find; often the container was
    removed (`docker run --rm`), or the command runs against another daemon than the user thinks.
    Evidence: the name given, and for an ambiguous prefix each matching id with its name.
    Fix: `docker ps -a` to see the names; use a longer id prefix; check DOCKER_HOST and the docker
    context (`netdiag engine`).
    Exceptions: reported as an error, exit code 2, before any rule runs.
    """))
register(Rule("ND002", "daemon-unreachable", None, None, False, doc_text="""The Docker daemon cannot be reached.

    Detects: no answer at the endpoint the docker CLI would use (DOCKER_HOST, DOCKER_CONTEXT, the
    current context, or the local socket).
    Why it breaks: without the daemon there is nothing to inspect.
    Evidence: the endpoint, what chose it, and why the connection failed (no socket, permission
    denied, connection refused, timeout).
    Fix: start dockerd (`systemctl start docker`), add the user to the docker group, or point
    DOCKER_HOST / the context at the right daemon.
    Exceptions: reported as an error, exit code 3, before any rule runs.
    """))


def load_rules() -> dict[str, Rule]:
    """Import every rule module, so that all rules are registered; the catalog by ID."""
    from netdiag.rules import (  # noqa: F401
        addressing,
        forwarding,
        links,
        listening,
        namespaces,
        outbound,
        ports,
        state,
        swarm,
    )

    return dict(sorted(REGISTRY.items()))


@lru_cache(maxsize=2)
def rules_for(outbound: bool) -> tuple[Rule, ...]:
    """The rules an attempt can run: those about attempts out of a container (direction OUTBOUND),
    or all the others, which are about attempts towards one."""
    return tuple(r for r in load_rules().values()
                 if r.fn is not None and (r.direction == Direction.OUTBOUND) == outbound)


def planned_facts(container: Container) -> set[Fact]:
    """The inputs the rules that can fire for an attempt towards this container need or use: what
    to probe for it (an attempt out of a container plans its own, netdiag.observe_out)."""
    out: set[Fact] = set()
    for r in load_rules().values():
        if r.fn is None or not r.applies_to(container) or r.direction == Direction.OUTBOUND:
            continue
        for need in r.needs:
            out.update(need if isinstance(need, tuple) else (need,))
        out.update(r.uses)
    return out
